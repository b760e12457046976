#include "ops/status.hpp"

#include "format/chunk.hpp"
#include "repo/datasets.hpp"
#include "dsm/error.hpp"
#include "format/format.hpp"
#include "util/interrupt.hpp"
#include "repo/known_objects.hpp"
#include "repo/leftovers.hpp"
#include "repo/referenced.hpp"
#include "repo/repository.hpp"
#include "repo/statcache.hpp"
#include "git/git.hpp"
#include "repo/data_listing.hpp"
#include "format/file_hash.hpp"
#include "util/walk.hpp"
#include "util/file.hpp"
#include "util/sha256.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <future>
#include <optional>
#include <sys/stat.h>
#include <unordered_map>
#include <unordered_set>

namespace dsm {

StatusReport status(const Repository& repo) {
  // Three independent reads overlap: HEAD's tree (libgit2, used by that
  // thread alone until get()), the manifest and stat cache, and the listing
  // of the data dir (itself spread over the cores). On 10,000 datasets each
  // costs about the same; in sequence they were most of status's time.
  const std::string data_rel = repo.data_dir_relative();
  struct Head {
    std::unordered_map<std::string, std::array<uint8_t, 20>> files; // path -> blob id
    std::optional<std::string> manifest;
  };
  std::future<Head> head_future = std::async(std::launch::async, [&repo, &data_rel] {
    Head h;
    for (auto& f : repo.git().head_files_under(data_rel)) {
      h.files.emplace(std::move(f.path), f.oid);
    }
    h.manifest = repo.git().read_head_file(data_rel + "/" + k_manifest_name);
    return h;
  });
  std::future<StatCache> cache_future =
      std::async(std::launch::async, [&repo] { return StatCache::load(repo.statcache_path()); });
  std::vector<util::ListedEntry> listing;
  bool listed = false;
  std::error_code ec;
  if (fs::is_directory(repo.data_dir(), ec)) {
    try {
      listing = list_data_dir(repo, SidecarStats::yes);
      listed = true;
    } catch (const Error&) {
      // An unreadable directory: payloads are looked up one by one below,
      // and the listing of extra files ends (as `git status` does).
    }
  }
  StatusReport r;
  LazyReferenced referenced(repo);
  Manifest manifest = load_manifest(repo);
  StatCache cache = cache_future.get();
  r.payloads = manifest.size();
  auto exists = [&](const std::string& rel) {
    return listed ? util::find_listed(listing, rel) != nullptr : fs::exists(repo.data_dir() / rel, ec);
  };
  for (const auto& [rel, sha] : manifest.map()) {
    fs::path p = repo.data_dir() / rel;
    util::FileStat st;
    if (int err = stat_listed(listed ? &listing : nullptr, rel, p, st); err != 0) {
      if (err == ENOENT) {
        r.missing.push_back(p);
        continue;
      }
      throw Error("cannot stat " + quote(p.string()) + ": " + util::errno_message(err));
    }
    if (!S_ISREG(st.mode)) {
      r.changed.push_back(p);
      continue;
    }
    StatFacts facts = facts_of(st);
    if (auto h = cache.trusted_hash(rel, facts)) {
      if (*h != sha) {
        r.changed.push_back(p);
      }
      continue;
    }
    std::optional<StatCache::Entry> entry = cache.find(rel);
    if (entry && !(entry->facts == facts)) {
      // Known state, and it moved: changed, without hashing.
      r.changed.push_back(p);
      continue;
    }
    // No trusted state (fresh clone, or racily clean): hash once.
    std::string h = sha256_file(p);
    ++r.hashed;
    if (h == sha) {
      cache.record(rel, facts, sha);
    } else {
      r.changed.push_back(p);
    }
  }
  // Files the manifest does not explain.
  for (const util::ListedEntry& e : listing) {
    if (e.type == util::EntryType::directory) {
      continue;
    }
    size_t slash = e.rel.rfind('/');
    std::string fname = slash == std::string::npos ? e.rel : e.rel.substr(slash + 1);
    if (is_temp_path(e.rel)) {
      r.temp.push_back(repo.data_dir() / e.rel);
    } else if (repo.config().is_payload_name(fname) && !manifest.find(e.rel)) {
      fs::path p = repo.data_dir() / e.rel;
      const Referenced& refs = referenced.get();
      std::string sidecar_rel = e.rel;
      if (auto dir = chunk_dir_of(repo, e.rel, p)) {
        sidecar_rel = repo.data_relative(*dir).value_or(e.rel);
      }
      if (std::optional<std::string> from = refs.source(e.rel)) {
        r.referenced.emplace_back(p, *from);
      } else if (refs.sidecar_tracked(sidecar_rel)) {
        r.referenced.emplace_back(p, "a committed sidecar (no manifest line: run 'dsm resolve')");
      } else {
        r.untracked.push_back(p);
      }
    }
  }
  // What repair set aside stays visible until someone removes it.
  fs::path orphans = repo.local_dir() / "orphans";
  if (fs::is_directory(orphans, ec)) {
    for (fs::recursive_directory_iterator it(orphans, ec), end; !ec && it != end; it.increment(ec)) {
      if (!it->is_directory(ec)) {
        r.set_aside.push_back(it->path());
      }
    }
  }
  // Sidecars and the manifest as committed: compare with HEAD's tree.
  Head head = head_future.get();
  std::unordered_set<std::string> seen;
  std::vector<git::HeadFile> committed_sidecars;
  for (const auto& [rel, sha] : manifest.map()) {
    std::string srel = rel + k_sidecar_suffix;
    // A chunk (`dsm add --chunk-size`) is described by its directory's
    // sidecar, one for all the chunks.
    if (!exists(srel)) {
      size_t slash = rel.rfind('/');
      if (slash == std::string::npos || !is_chunk_file_name(rel.substr(slash + 1))) {
        continue;
      }
      srel = rel.substr(0, slash) + k_sidecar_suffix;
      if (!exists(srel)) {
        continue;
      }
    }
    if (!seen.insert(srel).second) {
      continue;
    }
    std::string path = data_rel + "/" + srel;
    auto in_head = head.files.find(path);
    if (in_head == head.files.end()) {
      r.uncommitted.push_back(repo.data_dir() / srel);
    } else {
      committed_sidecars.push_back({std::move(path), in_head->second});
    }
  }
  // Committed sidecars edited since (by hand, or by a tool): decided from
  // git's index stat data as `git status` does, so unchanged ones are not read.
  // The listing has their stat facts (no lstat per sidecar).
  const std::string data_prefix = data_rel + "/";
  auto stat_of = [&](const std::string& path, struct stat& st) {
    util::FileStat f;
    if (!path.starts_with(data_prefix) ||
        stat_listed(listed ? &listing : nullptr, path.substr(data_prefix.size()), repo.root() / path, f) != 0) {
      return false;
    }
    st = {};
    st.st_mode = f.mode;
    st.st_size = static_cast<off_t>(f.size);
    st.st_ino = f.inode;
    st.st_mtim.tv_sec = f.mtime_ns / 1000000000;
    st.st_mtim.tv_nsec = f.mtime_ns % 1000000000;
    st.st_ctim.tv_sec = f.ctime_ns / 1000000000;
    st.st_ctim.tv_nsec = f.ctime_ns % 1000000000;
    return true;
  };
  for (const std::string& path : repo.git().differ_from_head(committed_sidecars, stat_of)) {
    r.uncommitted.push_back(repo.root() / path);
  }
  const bool manifest_committed = head.manifest && *head.manifest == manifest.serialize();
  if (!manifest_committed) {
    if (!(manifest.empty() && !head.manifest && !fs::exists(repo.manifest_path(), ec))) {
      r.uncommitted.push_back(repo.manifest_path());
    }
  }
  // Committed versions whose only known copy is here.
  std::optional<Manifest> head_parsed;
  if (head.manifest && !manifest_committed) {
    try {
      head_parsed = Manifest::parse(*head.manifest, "HEAD:" + data_rel + "/" + k_manifest_name);
    } catch (const Error&) {
      // HEAD's manifest unreadable (conflict markers committed): doctor says so
    }
  }
  const Manifest* committed = manifest_committed ? &manifest : (head_parsed ? &*head_parsed : nullptr);
  if (committed != nullptr) {
    r.no_remote = repo.config().remotes.empty();
    KnownObjects known = KnownObjects::load_all(repo);
    for (const auto& [rel, sha] : committed->map()) {
      if (!known.contains(sha) && exists(rel)) {
        r.unpushed.push_back(repo.data_dir() / rel);
      }
    }
  }
  if (cache.dirty()) {
    cache.save(repo.statcache_path());
  }
  std::sort(r.referenced.begin(), r.referenced.end());
  for (auto* v : {&r.untracked, &r.missing, &r.changed, &r.uncommitted, &r.temp, &r.set_aside, &r.unpushed}) {
    std::sort(v->begin(), v->end());
  }
  return r;
}

nlohmann::json to_json(const StatusReport& r) {
  auto list = [](const std::vector<fs::path>& v) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& p : v) {
      a.push_back(p.string());
    }
    return a;
  };
  nlohmann::json refs = nlohmann::json::array();
  for (const auto& [p, from] : r.referenced) {
    refs.push_back({{"path", p.string()}, {"from", from}});
  }
  return {{"clean", r.clean()},         {"payloads", r.payloads},      {"hashed", r.hashed},
          {"untracked", list(r.untracked)}, {"missing", list(r.missing)}, {"changed", list(r.changed)},
          {"uncommitted", list(r.uncommitted)}, {"temp", list(r.temp)}, {"referenced", refs},
          {"set_aside", list(r.set_aside)}, {"unpushed", list(r.unpushed)}, {"no_remote", r.no_remote}};
}

} // namespace dsm

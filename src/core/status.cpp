#include "dsm/status.hpp"

#include "core/chunk.hpp"
#include "dsm/datasets.hpp"
#include "dsm/error.hpp"
#include "dsm/format.hpp"
#include "dsm/interrupt.hpp"
#include "dsm/repair.hpp"
#include "dsm/repository.hpp"
#include "dsm/statcache.hpp"
#include "git/git.hpp"
#include "util/walk.hpp"
#include "util/file.hpp"
#include "util/sha256.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <sys/stat.h>
#include <unordered_set>

namespace dsm {

namespace {

std::string hash_file(const fs::path& path) {
  util::Fd fd = util::open_read(path);
  util::Sha256 h;
  std::vector<uint8_t> buf(1 << 20);
  while (true) {
    check_interrupted();
    size_t n = util::read_some(fd.get(), buf.data(), buf.size(), path);
    if (n == 0) {
      break;
    }
    h.update(buf.data(), n);
  }
  return h.hex_digest();
}

} // namespace

StatusReport status(const Repository& repo) {
  StatusReport r;
  Manifest manifest = load_manifest(repo);
  StatCache cache = StatCache::load(repo.statcache_path());
  r.payloads = manifest.size();
  for (const auto& [rel, sha] : manifest.map()) {
    fs::path p = repo.data_dir() / rel;
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) {
      if (errno == ENOENT) {
        r.missing.push_back(p);
        continue;
      }
      throw Error("cannot stat " + quote(p.string()) + ": " + util::errno_message(errno));
    }
    if (!S_ISREG(st.st_mode)) {
      r.changed.push_back(p);
      continue;
    }
    StatFacts facts = StatFacts::from(st);
    if (auto h = cache.trusted_hash(rel, facts)) {
      if (*h != sha) {
        r.changed.push_back(p);
      }
      continue;
    }
    const auto* entry = cache.find(rel);
    if (entry && !(entry->first == facts)) {
      // Known state, and it moved: changed, without hashing.
      r.changed.push_back(p);
      continue;
    }
    // No trusted state (fresh clone, or racily clean): hash once.
    std::string h = hash_file(p);
    ++r.hashed;
    if (h == sha) {
      cache.record(rel, facts, sha);
    } else {
      r.changed.push_back(p);
    }
  }
  // Files the manifest does not explain.
  std::error_code ec;
  if (fs::is_directory(repo.data_dir(), ec)) {
    try {
      util::walk_tree(repo.data_dir(), [&](const std::string& rel, util::EntryType type) {
        if (type == util::EntryType::directory) {
          return;
        }
        size_t slash = rel.rfind('/');
        std::string_view fname = slash == std::string::npos ? std::string_view(rel) : std::string_view(rel).substr(slash + 1);
        if (is_temp_path(rel)) {
          r.temp.push_back(repo.data_dir() / rel);
        } else if (repo.config().is_payload_name(std::string(fname)) && !manifest.find(rel)) {
          r.untracked.push_back(repo.data_dir() / rel);
        }
      });
    } catch (const Error&) {
      // As before: an unreadable directory ends the listing of extra files;
      // the payloads themselves were checked above.
    }
  }
  // Sidecars and the manifest as committed: compare with HEAD's tree.
  std::string data_rel = repo.data_dir_relative();
  std::unordered_set<std::string> in_head;
  for (auto& path : repo.git().head_paths_under(data_rel)) {
    in_head.insert(std::move(path));
  }
  std::unordered_set<std::string> seen;
  for (const auto& [rel, sha] : manifest.map()) {
    std::string srel = rel + k_sidecar_suffix;
    // A chunk (`dsm add --chunk-size`) is described by its directory's
    // sidecar, one for all the chunks.
    if (!fs::exists(repo.data_dir() / srel, ec)) {
      size_t slash = rel.rfind('/');
      if (slash == std::string::npos || !is_chunk_file_name(rel.substr(slash + 1))) {
        continue;
      }
      srel = rel.substr(0, slash) + k_sidecar_suffix;
      if (!fs::exists(repo.data_dir() / srel, ec)) {
        continue;
      }
    }
    if (!seen.insert(srel).second) {
      continue;
    }
    if (!in_head.count(data_rel + "/" + srel)) {
      r.uncommitted.push_back(repo.data_dir() / srel);
    }
  }
  std::string manifest_rel = data_rel + "/" + k_manifest_name;
  std::optional<std::string> committed = repo.git().read_head_file(manifest_rel);
  if (!committed || *committed != manifest.serialize()) {
    if (!(manifest.empty() && !committed && !fs::exists(repo.manifest_path(), ec))) {
      r.uncommitted.push_back(repo.manifest_path());
    }
  }
  if (cache.dirty()) {
    cache.save(repo.statcache_path());
  }
  for (auto* v : {&r.untracked, &r.missing, &r.changed, &r.uncommitted, &r.temp}) {
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
  return {{"clean", r.clean()},         {"payloads", r.payloads},      {"hashed", r.hashed},
          {"untracked", list(r.untracked)}, {"missing", list(r.missing)}, {"changed", list(r.changed)},
          {"uncommitted", list(r.uncommitted)}, {"temp", list(r.temp)}};
}

} // namespace dsm

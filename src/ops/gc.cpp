// `dsm gc`: see gc.hpp.
#include "ops/gc.hpp"

#include "dsm/error.hpp"
#include "format/file_hash.hpp"
#include "ops/sync.hpp"
#include "remote/store.hpp"
#include "repo/data_listing.hpp"
#include "repo/datasets.hpp"
#include "repo/dropped.hpp"
#include "repo/leftovers.hpp"
#include "repo/lock.hpp"
#include "repo/manifest.hpp"
#include "repo/naming.hpp"
#include "repo/referenced.hpp"
#include "repo/repository.hpp"
#include "util/crash.hpp"
#include "util/file.hpp"
#include "util/interrupt.hpp"

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <map>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace dsm {

namespace {

// A file that may go, and what else must go with it.
struct Candidate {
  fs::path path;
  std::optional<fs::path> sidecar; // an untracked sidecar deleted first
  std::string why;
  std::set<std::string> needs_remote; // --history: hashes the remote must hold first
};

double age_days(const struct stat& st, std::time_t now) {
  std::time_t newest = std::max(st.st_mtim.tv_sec, st.st_ctim.tv_sec);
  return static_cast<double>(now - newest) / 86400.0;
}

uint64_t freed_by(const struct stat& st) {
  return st.st_nlink <= 1 ? static_cast<uint64_t>(st.st_size) : 0;
}

std::string days_text(double d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", d);
  return buf;
}

void unlink_or_throw(const fs::path& p) {
  if (::unlink(p.c_str()) != 0 && errno != ENOENT) {
    throw Error("cannot delete " + quote(p.string()) + ": " + util::errno_message(errno));
  }
}

// What the local gc would delete (report.deleted, and `go` with what goes
// along) and keeps (report.kept). The caller holds the activity lock.
struct Plan {
  GcReport report;
  std::vector<Candidate> go;
  Manifest manifest;
  Referenced refs;
  History history;
};

Plan plan_local(const Repository& repo, const GcOptions& o) {
  if (o.grace_days < 0) {
    throw Error("--grace must be 0 or more days");
  }
  const std::time_t now = std::time(nullptr);
  Plan plan{{}, {}, load_manifest(repo), Referenced::load(repo), History::load(repo)};
  const Manifest& manifest = plan.manifest;
  const Referenced& refs = plan.refs;
  const History& history = plan.history;
  std::set<std::string> listed_hashes;
  for (const auto& [rel, sha] : manifest.map()) {
    listed_hashes.insert(sha);
  }
  GcReport& report = plan.report;
  std::vector<Candidate> candidates;
  auto keep = [&](const fs::path& p, std::string why) { report.kept.push_back({p, 0, std::move(why)}); };
  // Old enough to go? Otherwise kept, saying when it may.
  auto old_enough = [&](const fs::path& p, const struct stat& st) {
    double age = age_days(st, now);
    if (age < o.grace_days) {
      keep(p, "unreferenced, but changed " + days_text(age) + " days ago (grace period " +
                  days_text(o.grace_days) + " days; --grace 0 for now)");
      return false;
    }
    return true;
  };

  // 1. The data dir.
  std::error_code ec;
  std::vector<util::ListedEntry> listing;
  if (fs::is_directory(repo.data_dir(), ec)) {
    listing = list_data_dir(repo, SidecarStats::no);
  }
  std::set<std::string> all_rels;
  for (const util::ListedEntry& e : listing) {
    all_rels.insert(e.rel);
  }
  for (const util::ListedEntry& e : listing) {
    check_interrupted();
    if (e.type == util::EntryType::directory) {
      continue;
    }
    fs::path p = repo.data_dir() / e.rel;
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) {
      continue;
    }
    if (is_temp_path(e.rel)) {
      if (old_enough(p, st)) {
        candidates.push_back({p, std::nullopt, "leftover temporary file of an interrupted write", {}});
      }
      continue;
    }
    const std::string fname = p.filename().string();
    if (!repo.config().is_payload_name(fname) || manifest.find(e.rel)) {
      continue;
    }
    fs::path sidecar_of = p;
    if (auto dir = chunk_dir_of(repo, e.rel, p)) {
      sidecar_of = *dir;
    }
    std::string sidecar_rel = repo.data_relative(sidecar_of).value_or(e.rel);
    if (std::optional<std::string> from = refs.source(e.rel)) {
      keep(p, "a version from " + *from);
      continue;
    }
    if (refs.sidecar_tracked(sidecar_rel)) {
      keep(p, "git tracks its sidecar (run 'dsm resolve')");
      continue;
    }
    Leftover kind = classify_leftover(repo, p);
    if (kind == Leftover::foreign || kind == Leftover::not_regular) {
      keep(p, "not stored by 'dsm add': left alone");
      continue;
    }
    fs::path sidecar = Repository::sidecar_path(sidecar_of);
    std::optional<fs::path> with_sidecar;
    if (all_rels.count(sidecar_rel + k_sidecar_suffix) && sidecar_of == p) {
      with_sidecar = sidecar;
    }
    if (history.lists_path(e.rel)) {
      if (!o.history) {
        keep(p, "only older commits list it ('dsm gc --history' deletes it once a remote holds it)");
        continue;
      }
      candidates.push_back(
          {p, with_sidecar, "only older commits list it; the remote holds it", history.hashes_at(e.rel)});
      continue;
    }
    if (kind == Leftover::unfinished_add) {
      // As `dsm repair`: an unfinished add whose source no longer holds the
      // bytes is the only copy of that array, never garbage.
      std::optional<Sidecar> sc =
          sidecar_of == p ? matching_sidecar(repo, p) : matching_chunk_sidecar(repo, sidecar_of);
      if (!sc || !source_still_holds(*sc)) {
        keep(p, "an unfinished 'dsm add' whose source is gone or changed: the only copy ('dsm repair' "
                "completes it)");
        continue;
      }
    }
    if (old_enough(p, st)) {
      candidates.push_back({p, with_sidecar, "no commit, ref, stash or index lists it", {}});
    }
  }

  // 2. What `dsm repair` set aside, and temp files of local state.
  fs::path orphans = repo.local_dir() / "orphans";
  if (fs::is_directory(orphans, ec)) {
    for (fs::recursive_directory_iterator it(orphans, ec), end; !ec && it != end; it.increment(ec)) {
      struct stat st {};
      if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
        continue;
      }
      std::string sha = sha256_file(it->path());
      bool committed = history.lists_hash(sha) || refs.hash_listed_elsewhere(sha) || listed_hashes.count(sha);
      if (committed && !o.history) {
        keep(it->path(),
             "set aside by 'dsm repair'; a commit lists its content ('dsm gc --history' deletes it "
             "once a remote holds it)");
        continue;
      }
      if (committed) {
        candidates.push_back(
            {it->path(), std::nullopt, "set aside by 'dsm repair'; the remote holds its content", {sha}});
      } else if (old_enough(it->path(), st)) {
        candidates.push_back(
            {it->path(), std::nullopt, "set aside by 'dsm repair'; no commit lists its content", {}});
      }
    }
  }
  for (fs::directory_iterator it(repo.local_dir(), ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    struct stat st {};
    if ((name.starts_with(util::k_temp_prefix) || name.starts_with(".verify-")) &&
        ::lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode) && old_enough(it->path(), st)) {
      candidates.push_back({it->path(), std::nullopt, "leftover temporary file of an interrupted write", {}});
    }
  }

  // 3. --history: the default remote must verifiably hold every hash.
  std::map<std::string, uint64_t> sizes;
  for (const Candidate& c : candidates) {
    for (const std::string& sha : c.needs_remote) {
      struct stat st {};
      uint64_t size = ::lstat(c.path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
      // The size the remote's object must have: this file's, when it holds
      // that content (its name says it does; verified below by hash).
      sizes.emplace(sha, size);
    }
  }
  RemoteCopies copies;
  std::string no_remote;
  if (!sizes.empty()) {
    try {
      copies = verify_remote_copies(repo, "", sizes, o.jobs);
    } catch (const Error& e) {
      if (e.exit_code() == k_exit_interrupted) {
        throw;
      }
      no_remote = e.what();
    }
  }
  std::vector<Candidate>& go = plan.go;
  for (Candidate& c : candidates) {
    std::string missing;
    for (const std::string& sha : c.needs_remote) {
      if (!copies.verified.count(sha)) {
        missing = !no_remote.empty()          ? no_remote
                  : copies.why_not.count(sha) ? copies.why_not.at(sha)
                                              : "not verified";
      }
    }
    if (!missing.empty()) {
      keep(c.path, "only older commits list it, and no remote verifiably holds it: " + missing);
      continue;
    }
    go.push_back(std::move(c));
  }

  for (const Candidate& c : go) {
    struct stat st {};
    uint64_t bytes = ::lstat(c.path.c_str(), &st) == 0 ? freed_by(st) : 0;
    report.deleted.push_back({c.path, bytes, c.why});
    report.bytes += bytes;
  }
  return plan;
}

} // namespace

GcReport gc_preview(const Repository& repo, const GcOptions& o) {
  GcOptions dry = o;
  dry.dry_run = true;
  return plan_local(repo, dry).report;
}

GcReport gc_local(const Repository& repo, const GcOptions& o) {
  repo.ensure_local_dir();
  // Exclusive: no add, pull, rm or drop is running, so a temp file or an
  // unlisted payload belongs to no live process.
  ActivityLock activity(repo, ActivityLock::Mode::exclusive, lock_timeout_from_env());
  Plan plan = plan_local(repo, o);
  if (o.dry_run) {
    return plan.report;
  }
  const Manifest& manifest = plan.manifest;
  const Referenced& refs = plan.refs;
  const History& history = plan.history;
  std::error_code ec;
  // Delete: a sidecar before its payload.
  std::set<fs::path> dirs;
  for (const Candidate& c : plan.go) {
    check_interrupted();
    if (c.sidecar) {
      unlink_or_throw(*c.sidecar);
      crash_point("gc-sidecar");
    }
    unlink_or_throw(c.path);
    crash_point("gc-payload");
    dirs.insert(c.path.parent_path());
  }
  // Chunked versions never committed: their directory and its sidecar,
  // once no part is left.
  for (const fs::path& d : dirs) {
    util::fsync_dir(d);
    std::optional<std::string> rel = repo.data_relative(d);
    if (!rel || rel->empty() || !fs::is_empty(d, ec) || manifest.find(*rel)) {
      continue;
    }
    auto [name, stem] = split_data_rel(*rel);
    if (!name.empty() && name_ok(name) && match_seq(repo.config(), name, stem) &&
        !refs.sidecar_tracked(*rel) && !history.lists_path(*rel)) {
      unlink_or_throw(Repository::sidecar_path(d));
      if (::rmdir(d.c_str()) == 0) {
        util::fsync_dir(d.parent_path());
      }
    }
  }
  return plan.report;
}

RemoteGcReport gc_remote(const Repository& repo, const RemoteGcOptions& o) {
  if (o.grace_days < 0) {
    throw Error("--grace must be 0 or more days");
  }
  if (o.remote.empty()) {
    throw Error("dsm gc --remote needs a remote name");
  }
  const RemoteConfig& rc = choose_remote(repo, o.remote);
  std::unique_ptr<remote::ObjectStore> store = open_remote(repo, rc, RemoteAccess::write);
  store->check_access();
  RemoteGcReport report;
  report.store = store->describe();
  report.deleted = o.yes;

  // What must stay: every hash any reachable commit, the stash, the index,
  // the working manifest or the record of dropped payloads lists.
  std::set<std::string> keep = History::load(repo).hashes();
  const Manifest manifest = load_manifest(repo);
  for (const auto& [rel, sha] : manifest.map()) {
    keep.insert(sha);
  }
  const DroppedRecord dropped = DroppedRecord::load(repo);
  for (const auto& [sha, remote] : dropped.entries()) {
    keep.insert(sha);
  }
  std::unordered_map<std::string, uint64_t> objects = store->list();
  report.objects = objects.size();
  std::vector<std::pair<std::string, uint64_t>> unreferenced;
  for (const auto& [sha, size] : objects) {
    if (keep.count(sha)) {
      ++report.referenced;
    } else {
      unreferenced.emplace_back(sha, size);
    }
  }
  std::sort(unreferenced.begin(), unreferenced.end());
  const std::time_t now = std::time(nullptr);
  for (const auto& [sha, size] : unreferenced) {
    check_interrupted();
    std::optional<int64_t> when = store->modified(sha);
    if (!when) {
      continue; // gone meanwhile
    }
    if (static_cast<double>(now - *when) / 86400.0 < o.grace_days) {
      ++report.young;
      continue;
    }
    report.deletable.push_back({sha, size});
    report.bytes += size;
  }
  if (!o.yes) {
    return report;
  }
  for (const RemoteGcObject& obj : report.deletable) {
    check_interrupted();
    store->remove(obj.sha256);
    crash_point("gc-remote-object");
  }
  return report;
}

} // namespace dsm

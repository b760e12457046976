// `dsm drop`: see drop.hpp.
#include "ops/drop.hpp"

#include "dsm/error.hpp"
#include "ops/sync.hpp"
#include "repo/datasets.hpp"
#include "repo/dropped.hpp"
#include "repo/lock.hpp"
#include "repo/manifest.hpp"
#include "repo/repository.hpp"
#include "repo/statcache.hpp"
#include "util/beneath.hpp"
#include "util/crash.hpp"
#include "util/file.hpp"

#include <cerrno>
#include <map>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace dsm {

DropReport drop(const Repository& repo, const DropOptions& o) {
  if (o.targets.empty() && !o.all) {
    throw Error("nothing to drop: name versions (NAME, NAME@N, a path) or use --all");
  }
  if (!o.targets.empty() && o.all) {
    throw Error("--all drops every payload: give it no TARGET");
  }
  repo.ensure_local_dir();
  ActivityLock activity(repo, ActivityLock::Mode::shared, lock_timeout_from_env());
  Manifest manifest = load_manifest(repo);
  std::vector<std::string> rels = resolve_targets(repo, manifest, o.work_dir, o.targets);

  DropReport report;
  std::vector<DroppedPayload> here;
  std::vector<std::string> here_rels;
  std::map<std::string, uint64_t> sizes; // sha -> size
  for (const std::string& rel : rels) {
    std::optional<struct stat> st = util::lstat_beneath(repo.data_dir(), rel);
    if (!st) {
      ++report.absent;
      continue;
    }
    fs::path p = repo.data_dir() / rel;
    if (!S_ISREG(st->st_mode)) {
      throw Error("cannot drop " + quote(p.string()) + ": not a regular file (see 'dsm verify')");
    }
    DroppedPayload d;
    d.path = p;
    d.sha256 = *manifest.find(rel);
    d.size = static_cast<uint64_t>(st->st_size);
    sizes.emplace(d.sha256, d.size);
    here.push_back(std::move(d));
    here_rels.push_back(rel);
  }
  if (here.empty()) {
    return report;
  }

  // What the remote verifiably holds. Without --force, a remote that cannot
  // be asked is an error: nothing may be deleted on a guess.
  RemoteCopies copies;
  try {
    copies = verify_remote_copies(repo, o.remote, sizes, o.jobs);
  } catch (const Error& e) {
    if (!o.force || e.exit_code() == k_exit_interrupted) {
      throw Error("cannot drop: " + std::string(e.what()) + "; nothing was deleted", e.exit_code());
    }
    for (const auto& [sha, size] : sizes) {
      copies.why_not[sha] = e.what();
    }
  }
  report.remote = copies.remote;
  report.store = copies.store;
  std::vector<std::string> lost;
  for (DroppedPayload& d : here) {
    d.verified = copies.verified.count(d.sha256) > 0;
    if (!d.verified) {
      d.why_not = copies.why_not.count(d.sha256) ? copies.why_not.at(d.sha256) : "not verified";
      lost.push_back(d.path.string() + ": " + d.why_not);
    }
  }
  if (!lost.empty() && !o.force) {
    size_t n = lost.size();
    throw Error("refusing to drop: " + std::to_string(n) + (n == 1 ? " payload has" : " payloads have") +
                    " no verified copy on " + (copies.store.empty() ? "the remote" : copies.store) +
                    " and would be lost (push first, or --force to delete anyway); nothing was deleted",
                k_exit_problems, std::move(lost));
  }
  for (size_t i = 0; i < here.size(); ++i) {
    struct stat st {};
    if (::lstat(here[i].path.c_str(), &st) == 0 && st.st_nlink == 1) {
      report.bytes += here[i].size;
    }
  }
  report.dropped = here;
  if (o.dry_run) {
    return report;
  }

  // 1. Recorded first, under the lock that orders writes of local state.
  RepoLock lock(repo.lock_path(), lock_timeout_from_env());
  DroppedRecord record = DroppedRecord::load(repo);
  bool recorded = false;
  for (const DroppedPayload& d : here) {
    if (d.verified) {
      record.add(d.sha256, copies.remote);
      recorded = true;
    }
  }
  if (recorded) {
    record.save(repo);
  }
  crash_point("drop-recorded");

  // 2. The local copies.
  std::set<fs::path> dirs;
  StatCache cache = StatCache::load(repo.statcache_path());
  for (size_t i = 0; i < here.size(); ++i) {
    if (::unlink(here[i].path.c_str()) != 0 && errno != ENOENT) {
      throw Error("cannot delete " + quote(here[i].path.string()) + ": " + util::errno_message(errno));
    }
    crash_point("drop-payload");
    dirs.insert(here[i].path.parent_path());
    cache.forget(here_rels[i]);
  }
  for (const fs::path& d : dirs) {
    util::fsync_dir(d);
  }
  if (cache.dirty()) {
    cache.save(repo.statcache_path());
  }
  return report;
}

} // namespace dsm

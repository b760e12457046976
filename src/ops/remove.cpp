// `dsm rm`: see remove.hpp.
#include "ops/remove.hpp"

#include "dsm/error.hpp"
#include "git/git.hpp"
#include "git/references.hpp"
#include "repo/datasets.hpp"
#include "repo/lock.hpp"
#include "repo/manifest.hpp"
#include "repo/repository.hpp"
#include "repo/statcache.hpp"
#include "util/crash.hpp"
#include "util/file.hpp"

#include <cerrno>
#include <map>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace dsm {

namespace {

// The versions TARGETs select, keyed by their manifest path (a chunked
// version: its directory), in manifest order.
std::map<std::string, RemovedVersion> select_versions(const Repository& repo, const Manifest& manifest,
                                                      const RemoveOptions& o) {
  DatasetIndex index = index_datasets(repo, manifest);
  std::map<std::string, const DatasetVersion*> version_of; // manifest path -> its version
  for (const auto& [name, list] : index.by_name) {
    for (const DatasetVersion& dv : list) {
      if (dv.parts.empty()) {
        version_of[dv.rel] = &dv;
      }
      for (const std::string& part : dv.parts) {
        version_of[part] = &dv;
      }
    }
  }
  std::map<std::string, RemovedVersion> out;
  for (const std::string& target : o.targets) {
    std::map<std::string, RemovedVersion> chosen;
    for (const std::string& rel : resolve_target(repo, manifest, index, o.work_dir, target, Versions::all)) {
      auto it = version_of.find(rel);
      if (it == version_of.end()) {
        // A line that is no version (a file added by hand): itself.
        RemovedVersion& v = chosen[rel];
        v.label = rel;
        v.lines = {rel};
        v.payload = repo.data_dir() / rel;
        continue;
      }
      const DatasetVersion& dv = *it->second;
      RemovedVersion& v = chosen[dv.rel];
      v.label = dv.name + "@" + std::to_string(dv.seq);
      v.lines = dv.parts.empty() ? std::vector<std::string>{dv.rel} : dv.parts;
      v.payload = dv.path;
    }
    if (chosen.size() > 1 && !o.all) {
      throw Error(quote(target) + " names " + std::to_string(chosen.size()) +
                  " versions: remove one with NAME@N, or all of them with 'dsm rm " + target + " --all'");
    }
    for (auto& [key, v] : chosen) {
      out.emplace(key, std::move(v));
    }
  }
  return out;
}

bool exists_nofollow(const fs::path& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0;
}

} // namespace

RemoveReport remove_versions(const Repository& repo, const RemoveOptions& o) {
  if (o.targets.empty()) {
    throw Error("nothing to remove: name versions (NAME@N) or a dataset with --all");
  }
  RemoveReport report;
  repo.ensure_local_dir();
  ActivityLock activity(repo, ActivityLock::Mode::shared, lock_timeout_from_env());
  RepoLock lock(repo.lock_path(), lock_timeout_from_env());
  Manifest manifest = load_manifest(repo);
  std::map<std::string, RemovedVersion> chosen = select_versions(repo, manifest, o);
  for (auto& [key, v] : chosen) {
    v.payload_present = exists_nofollow(v.payload);
    v.sidecar_deleted = exists_nofollow(Repository::sidecar_path(v.payload));
    report.removed.push_back(v);
  }
  if (o.dry_run) {
    return report;
  }

  // 1. The commit point: the manifest without the lines.
  for (const RemovedVersion& v : report.removed) {
    for (const std::string& rel : v.lines) {
      manifest.erase(rel);
    }
  }
  util::write_file_atomic(repo.manifest_path(), manifest.serialize());
  crash_point("rm-manifest");

  // 2. Sidecars: `git rm` deletes the file too.
  std::vector<std::string> git_paths;
  const std::string data_rel = repo.data_dir_relative();
  for (const RemovedVersion& v : report.removed) {
    if (!v.sidecar_deleted) {
      continue;
    }
    fs::path sidecar = Repository::sidecar_path(v.payload);
    if (::unlink(sidecar.c_str()) != 0 && errno != ENOENT) {
      throw Error("cannot delete sidecar " + quote(sidecar.string()) + ": " + util::errno_message(errno));
    }
    git_paths.push_back(data_rel + "/" + *repo.data_relative(sidecar));
  }
  std::set<fs::path> dirs;
  for (const RemovedVersion& v : report.removed) {
    if (v.sidecar_deleted) {
      dirs.insert(v.payload.parent_path());
    }
  }
  for (const fs::path& d : dirs) {
    util::fsync_dir(d);
  }

  // 3. The index: sidecars unstaged where git tracked them, and the index's
  // manifest without the same lines (nothing else of the working one).
  std::vector<std::string> tracked;
  for (const std::string& p : git_paths) {
    if (repo.git().index_oid(p)) {
      tracked.push_back(p);
    }
  }
  if (!tracked.empty()) {
    git::stage_paths(repo.git(), tracked);
    report.staged = true;
  }
  const std::string manifest_git = data_rel + "/" + k_manifest_name;
  if (std::optional<std::string> oid = repo.git().index_oid(manifest_git)) {
    Manifest staged = Manifest::parse(repo.git().read_blob(*oid), manifest_git + " (the index)");
    bool changed = false;
    for (const RemovedVersion& v : report.removed) {
      for (const std::string& rel : v.lines) {
        changed = staged.erase(rel) || changed;
      }
    }
    if (changed) {
      git::stage_content(repo.git(), manifest_git, staged.serialize());
      report.staged = true;
    }
  }
  return report;
}

} // namespace dsm

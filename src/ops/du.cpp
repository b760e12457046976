// `dsm du`: see du.hpp.
#include "ops/du.hpp"

#include "dsm/error.hpp"
#include "ops/gc.hpp"
#include "ops/sync.hpp"
#include "repo/datasets.hpp"
#include "repo/leftovers.hpp"
#include "repo/lock.hpp"
#include "repo/manifest.hpp"
#include "repo/repository.hpp"
#include "util/beneath.hpp"

#include <map>
#include <set>
#include <sys/stat.h>
#include <utility>

namespace dsm {

DuReport disk_usage(const Repository& repo, const DuOptions& o) {
  repo.ensure_local_dir();
  ActivityLock activity(repo, ActivityLock::Mode::shared, lock_timeout_from_env());
  Manifest manifest = load_manifest(repo);
  DatasetIndex index = index_datasets(repo, manifest);
  std::vector<std::string> rels = resolve_targets(repo, manifest, o.work_dir, o.targets);
  std::set<std::string> chosen(rels.begin(), rels.end());

  // Each selected manifest path -> its dataset, and the versions counted.
  std::map<std::string, std::string> name_of;
  std::map<std::string, DuEntry> by_name;
  for (const auto& [name, list] : index.by_name) {
    for (const DatasetVersion& dv : list) {
      std::vector<std::string> parts = dv.parts.empty() ? std::vector<std::string>{dv.rel} : dv.parts;
      bool selected = false;
      for (const std::string& p : parts) {
        if (chosen.count(p)) {
          name_of[p] = name;
          selected = true;
        }
      }
      if (selected) {
        DuEntry& e = by_name[name];
        e.name = name;
        ++e.versions;
      }
    }
  }
  for (const std::string& rel : rels) {
    if (!name_of.count(rel)) {
      name_of[rel] = ""; // a line of no dataset (a file added by hand)
      DuEntry& e = by_name[""];
      ++e.versions;
    }
  }

  // What is here, each inode once.
  struct Here {
    std::string rel;
    std::string sha;
    uint64_t size;
    bool counts; // the first name of its inode in its dataset
  };
  std::vector<Here> here;
  std::map<std::string, std::set<std::pair<dev_t, ino_t>>> seen; // per dataset
  std::set<std::pair<dev_t, ino_t>> seen_total;
  std::set<std::string> shas;
  for (const std::string& rel : rels) {
    std::optional<struct stat> st;
    try {
      st = util::lstat_beneath(repo.data_dir(), rel);
    } catch (const Error&) {
      continue; // a symlinked directory: nothing of ours is there
    }
    if (!st || !S_ISREG(st->st_mode)) {
      continue;
    }
    const std::string& name = name_of[rel];
    auto inode = std::make_pair(st->st_dev, st->st_ino);
    bool first = seen[name].insert(inode).second;
    bool first_total = seen_total.insert(inode).second;
    uint64_t size = static_cast<uint64_t>(st->st_size);
    DuEntry& e = by_name[name];
    ++e.present;
    if (first) {
      e.bytes_here += size;
    }
    if (first_total) {
      here.push_back({rel, *manifest.find(rel), size, true});
      shas.insert(*manifest.find(rel));
    }
  }

  // Which remotes hold what: every remote for "only here", the drop remote
  // (default or --remote) for what drop frees.
  DuReport report;
  std::set<std::string> anywhere;
  std::set<std::string> on_drop_remote;
  bool unknown = false;
  std::vector<std::string> sha_list(shas.begin(), shas.end());
  if (!o.offline && !sha_list.empty()) {
    const RemoteConfig* drop_rc = nullptr;
    if (!o.remote.empty()) {
      drop_rc = &choose_remote(repo, o.remote);
    } else {
      drop_rc = repo.config().default_remote();
    }
    report.drop_remote = drop_rc ? drop_rc->name : "";
    for (const RemoteConfig& rc : repo.config().remotes) {
      std::optional<RemoteAvailability> av = remote_availability(repo, rc.name, sha_list);
      if (!av) {
        continue;
      }
      if (!av->error.empty()) {
        unknown = true;
        report.notes.push_back("could not ask remote " + quote(rc.name) + ": " + av->error);
        continue;
      }
      anywhere.insert(av->present.begin(), av->present.end());
      if (drop_rc && drop_rc->name == rc.name) {
        on_drop_remote = av->present;
      }
    }
  } else if (o.offline) {
    unknown = !repo.config().remotes.empty();
  }
  std::map<std::string, uint64_t> only_here;
  std::map<std::string, std::set<std::pair<dev_t, ino_t>>> seen_again;
  for (const std::string& rel : rels) {
    std::optional<struct stat> st;
    try {
      st = util::lstat_beneath(repo.data_dir(), rel);
    } catch (const Error&) {
      continue;
    }
    if (!st || !S_ISREG(st->st_mode)) {
      continue;
    }
    const std::string& name = name_of[rel];
    if (!seen_again[name].insert({st->st_dev, st->st_ino}).second) {
      continue;
    }
    const std::string& sha = *manifest.find(rel);
    uint64_t size = static_cast<uint64_t>(st->st_size);
    if (!anywhere.count(sha)) {
      only_here[name] += size;
    }
    if (on_drop_remote.count(sha)) {
      by_name[name].drop_frees += size;
    }
  }

  // What gc would free (default grace, no --history), per dataset.
  GcOptions go;
  GcReport gc = gc_preview(repo, go);
  for (const GcItem& item : gc.deleted) {
    report.total.gc_frees += item.bytes;
    std::optional<std::string> rel = repo.data_relative(item.path);
    if (!rel) {
      continue; // set aside or local state: the total only
    }
    std::string dir = split_data_rel(*rel).first;
    if (auto cdir = chunk_dir_of(repo, *rel, item.path)) {
      dir = split_data_rel(*repo.data_relative(*cdir)).first;
    }
    if (auto it = by_name.find(dir); it != by_name.end()) {
      it->second.gc_frees += item.bytes;
    }
  }

  report.total.name = "total";
  report.total.bytes_only_here = unknown ? std::nullopt : std::optional<uint64_t>(0);
  for (auto& [name, e] : by_name) {
    e.bytes_only_here = unknown ? std::nullopt : std::optional<uint64_t>(only_here[name]);
    report.total.versions += e.versions;
    report.total.present += e.present;
    report.total.drop_frees += e.drop_frees;
    if (report.total.bytes_only_here) {
      *report.total.bytes_only_here += *e.bytes_only_here;
    }
    report.datasets.push_back(e);
  }
  for (const Here& h : here) {
    report.total.bytes_here += h.size;
  }
  return report;
}

} // namespace dsm

// dsm doctor (see dsm/doctor.hpp and docs/hooks.md).
#include "ops/doctor.hpp"
#include "git/references.hpp"
#include "repo/datasets.hpp"
#include "repo/dropped.hpp"
#include "repo/gitattributes.hpp"
#include "repo/known_objects.hpp"
#include "ops/sync.hpp"
#include "util/beneath.hpp"

#include "format/chunk.hpp"
#include "repo/payload_check.hpp"
#include "repo/config.hpp"
#include "dsm/error.hpp"
#include "repo/gitignore.hpp"
#include "git/hook_install.hpp"
#include "ops/hook_check.hpp"
#include "repo/manifest.hpp"
#include "repo/repository.hpp"
#include "format/sniff.hpp"
#include "git/git.hpp"
#include "util/file.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>
#include <sys/stat.h>

namespace dsm {

namespace {

constexpr size_t k_max_listed = 20; // per check; the rest is summarised

void add(DoctorCheck& c, std::string path, std::string message) {
  if (c.findings.size() == k_max_listed) {
    c.findings.push_back({"", "(more findings not listed; fix these and run 'dsm doctor' again)"});
  }
  if (c.findings.size() > k_max_listed) {
    return;
  }
  c.findings.push_back({std::move(path), std::move(message)});
}

// "hook" checks the pre-commit hook, "push_hook" the pre-push hook.
DoctorCheck check_hook(const git::Repo& git, Hook which) {
  const std::string name = hook_name(which);
  DoctorCheck c{which == Hook::pre_push ? "push_hook" : "hook", "", false, {}};
  HookStatus s = hook_status(git, which);
  std::string hook = quote(s.hook_path.string());
  switch (s.state) {
  case HookStatus::State::current:
    c.summary = name + " hook " + hook + " installed, version " + std::to_string(s.version) +
                (s.chained ? " (chains the previous hook)" : "");
    break;
  case HookStatus::State::missing:
    c.summary = name + " hook";
    add(c, "", "no " + name + " hook at " + hook + "; run 'dsm hook install'");
    break;
  case HookStatus::State::outdated:
    c.summary = name + " hook";
    add(c, "", "the " + name + " hook " + hook + " is dsm's version " + std::to_string(s.version) + ", not " +
                   std::to_string(current_hook_version(which)) + "; run 'dsm hook install' to upgrade it");
    break;
  case HookStatus::State::not_executable:
    c.summary = name + " hook";
    add(c, "", "the " + name + " hook " + hook + " is not executable, so git skips it; run 'dsm hook install'");
    break;
  case HookStatus::State::foreign: {
    // Projects using the pre-commit framework run dsm through it.
    std::string text;
    std::string config;
    try {
      text = util::read_file(s.hook_path, 1u << 20);
      config = util::read_file(git.work_tree() / ".pre-commit-config.yaml", 1u << 20);
    } catch (const Error&) {
    }
    const std::string command = "dsm hook " + name;
    if (text.find("pre-commit") != std::string::npos && config.find(command) != std::string::npos) {
      c.summary = name + " hook " + hook + " is the pre-commit framework's, which runs '" + command + "'";
    } else if (which == Hook::pre_commit && text.find("pre-commit") != std::string::npos &&
               config.find("dsm-check") != std::string::npos) {
      c.summary = name + " hook " + hook + " is the pre-commit framework's, which runs dsm-check";
    } else {
      c.summary = name + " hook";
      add(c, "", "the " + name + " hook " + hook +
                     " belongs to another tool and does not run dsm; run 'dsm hook install' to chain it");
    }
  }
  }
  return c;
}

DoctorCheck check_index(const git::Repo& git, const Config& config, std::set<std::string>& reported) {
  DoctorCheck c{"index", "", false, {}};
  auto entries = git.index_entries();
  c.summary = "no array payload or oversized file among " + std::to_string(entries.size()) + " tracked files";
  // An entry HEAD holds as it is is committed, not staged: the advice differs.
  // Mid-merge (conflicts in the index) git cannot compare the index with
  // HEAD; every entry is then judged as staged, as before.
  std::set<std::string> staged;
  bool compared = true;
  try {
    for (const auto& change : git.staged_changes()) {
      staged.insert(change.path);
    }
  } catch (const Error&) {
    compared = false;
  }
  for (const auto& e : entries) {
    std::vector<HookFinding> found;
    check_blob(git, config, e.path, e.oid, e.mode, found, {},
               !compared || staged.count(e.path) != 0 ? BlobState::staged : BlobState::committed);
    for (auto& f : found) {
      reported.insert(e.oid);
      add(c, f.path, f.message);
    }
  }
  return c;
}

DoctorCheck check_history(const git::Repo& git, const Config& config, size_t commits,
                          const std::set<std::string>& reported) {
  DoctorCheck c{"history", "", false, {}};
  auto blobs = git.history_blobs(commits);
  size_t walked = std::min(commits, git.history(commits).size());
  c.summary = "no array payload in the last " + std::to_string(walked) + " commits (" +
              std::to_string(blobs.size()) + " distinct files)";
  auto where = [](const git::HistoryBlob& b) { return "'" + b.path + "' (commit " + b.commit.substr(0, 10) + ")"; };
  const std::string fix =
    "it stays in every clone's history; remove it from history (e.g. git filter-repo --invert-paths --path PATH) "
    "if it must go, and keep arrays in dsm";
  for (const auto& b : blobs) {
    if (b.mode == 0160000 || b.mode == 0120000 || reported.count(b.oid) || git.pathspec_matches(config.allow, b.path)) {
      continue; // a link, reported above, or a fixture the configuration allows
    }
    if (is_payload_extension(config, b.path)) {
      add(c, b.path, where(b) + ": an array payload is in git history; " + fix);
      continue;
    }
    // Content only for blobs small enough to be let in by the hook: larger
    // ones are not arrays the hook could have missed.
    uint64_t size = git.blob_size(b.oid);
    if (size > config.max_git_file_size) {
      continue;
    }
    git::BlobWindow w = git.blob_window(b.oid, k_sniff_head_bytes, k_sniff_tail_bytes);
    if (looks_like_array_window(w.head, w.tail, w.size)) {
      add(c, b.path, where(b) + ": holds NumPy array data in git history; " + fix);
    }
  }
  return c;
}

// `<data>/<NAME>/<stem>.yaml` beside a chunk directory `<stem>/` whose
// chunks the manifest lists: the sidecar of a chunked version.
bool lists_chunks_under(const Manifest& manifest, const std::string& dir_rel) {
  std::string prefix = dir_rel + "/";
  auto it = manifest.map().lower_bound(prefix);
  return it != manifest.map().end() && it->first.compare(0, prefix.size(), prefix) == 0 &&
         is_chunk_file_name(it->first.substr(prefix.size()));
}

DoctorCheck check_data_dir(const Repository& repo) {
  DoctorCheck c{"data_dir", "data directory " + quote(repo.data_dir().string()) + " present, no source code in it",
                false, {}};
  std::error_code ec;
  if (!fs::is_directory(repo.data_dir(), ec)) {
    add(c, repo.data_dir_relative(),
        "the data directory " + quote(repo.data_dir().string()) + " is missing; run 'dsm init' to create it");
    return c;
  }
  std::string data_rel = repo.data_dir_relative();
  std::string manifest_rel = data_rel + "/" + k_manifest_name;
  Manifest manifest;
  try {
    manifest = Manifest::parse(util::read_file(repo.manifest_path()), manifest_rel);
  } catch (const Error&) {
    // A missing or malformed manifest is the consistency check's finding.
  }
  for (const auto& path : repo.git().tracked_under(data_rel)) {
    if (path == manifest_rel || path == data_rel + "/.gitignore" || path == data_rel + "/.gitattributes") {
      continue;
    }
    auto payload = Repository::payload_of_sidecar(path);
    if (payload && is_payload_extension(repo.config(), payload->string())) {
      continue;
    }
    if (payload && payload->string().size() > data_rel.size() + 1 &&
        lists_chunks_under(manifest, payload->string().substr(data_rel.size() + 1))) {
      continue;
    }
    if (is_payload_extension(repo.config(), path)) {
      continue; // reported by the index check
    }
    add(c, path, "'" + path + "': tracked file in the data directory, which should hold only datasets; move it "
                 "out ('git mv') or choose another data_dir in .dsm/config.yaml");
  }
  return c;
}

DoctorCheck check_gitignore(const Repository& repo) {
  DoctorCheck c{"gitignore", "managed block in '.gitignore' intact", false, {}};
  switch (gitignore::check(repo)) {
  case gitignore::BlockState::intact:
    break;
  case gitignore::BlockState::missing:
    add(c, ".gitignore", "'.gitignore': the dsm managed block is missing; run 'dsm init' to restore it");
    break;
  case gitignore::BlockState::modified:
    add(c, ".gitignore", "'.gitignore': the dsm managed block was edited; run 'dsm init' to repair it");
    break;
  }
  return c;
}

// A chunked version's sidecar against the manifest lines of its chunks and
// their sizes on disk; marks the chunks `seen`.
void check_chunked_sidecar(DoctorCheck& c, const Repository& repo, const Manifest& manifest,
                           const DroppedRecord& dropped, const fs::path& sidecar,
                           const fs::path& dir, std::set<std::string>& seen) {
  std::string data_rel = repo.data_dir_relative();
  std::string manifest_rel = data_rel + "/" + k_manifest_name;
  std::string dir_rel = *repo.data_relative(dir);
  std::string sidecar_rel = data_rel + "/" + dir_rel + k_sidecar_suffix;
  SidecarFacts facts;
  try {
    facts = parse_sidecar_facts(util::read_file(sidecar, 16u << 20), sidecar_rel);
  } catch (const Error& e) {
    add(c, sidecar_rel, std::string(e.what()) + "; restore it ('git restore " + sidecar_rel +
                            "') or store the array again with 'dsm add'");
    return;
  }
  for (const auto& ch : facts.chunks) {
    std::string rel = dir_rel + "/" + ch.file;
    std::string payload_rel = data_rel + "/" + rel;
    seen.insert(rel);
    const std::string* sha = manifest.find(rel);
    if (!sha) {
      add(c, sidecar_rel, "'" + sidecar_rel + "': its chunk '" + payload_rel + "' has no line in '" + manifest_rel +
                              "'; run 'dsm verify' (restore the manifest with 'git restore " + manifest_rel + "')");
    } else if (*sha != ch.sha256) {
      add(c, sidecar_rel, "'" + sidecar_rel + "': records sha256 " + ch.sha256.substr(0, 12) + "... for '" +
                              payload_rel + "', the manifest has " + sha->substr(0, 12) + "...; run 'dsm verify'");
    }
    struct stat st {};
    fs::path path = dir / ch.file;
    if (::stat(path.c_str(), &st) != 0) {
      if (sha && dropped.remote_of(*sha)) {
        continue; // `dsm drop` deleted it once a remote held it: not a problem
      }
      add(c, payload_rel, "'" + payload_rel + "': described by '" + sidecar_rel +
                              "' but missing from the work tree; restore it (e.g. 'dsm pull'); see 'dsm verify'");
    } else if (static_cast<uint64_t>(st.st_size) != ch.size) {
      add(c, payload_rel, "'" + payload_rel + "': is " + std::to_string(st.st_size) + " bytes, the sidecar says " +
                              std::to_string(ch.size) + "; run 'dsm verify'");
    }
  }
}

// Git's own state around the data: .gitattributes and the merge driver
// (what makes merges of the manifest work), and a merge in progress.
DoctorCheck check_branches(const Repository& repo) {
  DoctorCheck c{"branches", "manifest merges with dsm's driver; no merge waiting for 'dsm resolve'", false, {}};
  if (!gitattributes::intact(repo)) {
    add(c, ".gitattributes",
        "'.gitattributes': the dsm managed block is missing or edited (the manifest would merge as text and "
        "convert line endings); run 'dsm init'");
  }
  if (!gitattributes::driver_configured(repo)) {
    add(c, ".git/config",
        "merge.dsm.driver is not set (git does not clone .git/config); run 'dsm init' in this clone");
  }
  const std::string prefix = repo.data_dir_relative() + "/";
  for (const git::IndexConflict& conflict : git::index_conflicts(repo.git())) {
    if (conflict.path.starts_with(prefix)) {
      add(c, conflict.path,
          quote(conflict.path) + ": unmerged (a merge, rebase or stash pop in progress); run 'dsm resolve', "
                                 "then 'git commit' (or 'git merge --abort' to start over)");
    }
  }
  Manifest manifest;
  try {
    manifest = load_manifest(repo);
  } catch (const Error&) {
    return c; // the consistency check reports it
  }
  DatasetIndex index = index_datasets(repo, manifest); // the groups point into it
  for (const auto& group : duplicate_versions(index)) {
    std::string at = group[1]->name + "@" + std::to_string(group[1]->seq);
    add(c, prefix + group[1]->rel,
        quote(at) + " is claimed by " + std::to_string(group.size()) + " payloads (" + quote(group[0]->rel) +
          " and " + quote(group[1]->rel) + "); run 'dsm resolve' to renumber");
  }
  return c;
}

// Committed versions (HEAD's manifest) whose payload is here and which no
// remote holds: the default remote is asked (what it holds is recorded for
// `dsm status`); other remotes count by their records. With no remote
// configured the summary says how many exist only here, without a finding:
// a repository need not have a remote.
DoctorCheck check_pushed(const Repository& repo) {
  DoctorCheck c{"pushed", "", false, {}};
  const std::string data_rel = repo.data_dir_relative();
  const std::string manifest_rel = data_rel + "/" + k_manifest_name;
  Manifest committed;
  try {
    std::optional<std::string> text = repo.git().read_head_file(manifest_rel);
    if (!text) {
      c.summary = "no committed manifest yet";
      return c;
    }
    committed = Manifest::parse(*text, "HEAD:" + manifest_rel);
  } catch (const Error& e) {
    c.summary = "skipped: HEAD's manifest cannot be read (" + std::string(e.what()) + ")";
    c.skipped = true;
    return c;
  }
  std::vector<std::pair<std::string, std::string>> here; // rel, sha
  for (const auto& [rel, sha] : committed.map()) {
    try {
      if (util::lstat_beneath(repo.data_dir(), rel)) {
        here.emplace_back(rel, sha);
      }
    } catch (const Error&) {
      // a symlinked parent: the consistency check reports it
    }
  }
  if (here.empty()) {
    c.summary = "no committed version has its payload here: nothing to push";
    return c;
  }
  if (repo.config().remotes.empty()) {
    c.summary = std::to_string(here.size()) + " committed version" + (here.size() == 1 ? "" : "s") +
                " here, and no remote is configured: their only copy is this clone (dsm remote add NAME URL)";
    return c;
  }
  std::vector<std::string> shas;
  for (const auto& e : here) {
    shas.push_back(e.second);
  }
  std::optional<RemoteAvailability> asked = remote_availability(repo, "", shas);
  const bool reached = asked && asked->error.empty();
  // What the other remotes are known to hold (the one asked answers itself).
  std::vector<std::string> other_shas;
  for (const RemoteConfig& rc : repo.config().remotes) {
    if (!reached || rc.name != asked->remote) {
      KnownObjects k = KnownObjects::load(repo, rc.name);
      for (const auto& e : here) {
        if (k.contains(e.second)) {
          other_shas.push_back(e.second);
        }
      }
    }
  }
  std::sort(other_shas.begin(), other_shas.end());
  size_t unpushed = 0;
  for (const auto& [rel, sha] : here) {
    if ((reached && asked->present.count(sha) != 0) || std::binary_search(other_shas.begin(), other_shas.end(), sha)) {
      continue;
    }
    ++unpushed;
    add(c, data_rel + "/" + rel,
        quote(data_rel + "/" + rel) + ": a committed version no remote holds (its only copy may be here); run "
                                      "'dsm push'");
  }
  c.summary = std::to_string(here.size()) + " committed version" + (here.size() == 1 ? "" : "s") + " here";
  if (reached) {
    c.summary += ", asked remote " + quote(asked->remote);
  } else if (asked) {
    c.summary += "; could not ask remote " + quote(asked->remote) + " (" + asked->error +
                 "): judged from what this clone saw it hold";
  } else {
    c.summary += "; no default remote to ask: judged from what this clone saw the remotes hold";
  }
  if (unpushed == 0) {
    c.summary += ": all on a remote";
  }
  return c;
}

// The advice for a file git cannot restore while it is unmerged.
std::string restore_advice(const Repository& repo, const std::string& path) {
  for (const git::IndexConflict& conflict : git::index_conflicts(repo.git())) {
    if (conflict.path == path) {
      return "it is unmerged: run 'dsm resolve'";
    }
  }
  return "restore it ('git restore " + path + "')";
}

DoctorCheck check_consistency(const Repository& repo) {
  DoctorCheck c{"consistency", "", false, {}};
  std::string data_rel = repo.data_dir_relative();
  std::string manifest_rel = data_rel + "/" + k_manifest_name;
  Manifest manifest;
  std::error_code ec;
  if (fs::exists(repo.manifest_path(), ec)) {
    try {
      manifest = Manifest::parse(util::read_file(repo.manifest_path()), manifest_rel);
    } catch (const Error& e) {
      c.summary = "manifest and sidecars";
      add(c, manifest_rel, std::string(e.what()) + "; " + restore_advice(repo, manifest_rel) + " and run 'dsm verify'");
      return c;
    }
  }
  size_t sidecars = 0;
  std::set<std::string> seen;
  const DroppedRecord dropped = DroppedRecord::load(repo);
  if (fs::is_directory(repo.data_dir(), ec)) {
    for (auto it = fs::recursive_directory_iterator(repo.data_dir(), ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      if (!it->is_regular_file(ec)) {
        continue;
      }
      auto payload = Repository::payload_of_sidecar(it->path());
      if (payload && !is_payload_extension(repo.config(), payload->string()) &&
          lists_chunks_under(manifest, repo.data_relative(*payload).value_or(""))) {
        ++sidecars;
        check_chunked_sidecar(c, repo, manifest, dropped, it->path(), *payload, seen);
        continue;
      }
      if (!payload || !is_payload_extension(repo.config(), payload->string())) {
        continue;
      }
      ++sidecars;
      std::string rel = *repo.data_relative(*payload);
      std::string sidecar_rel = data_rel + "/" + rel + k_sidecar_suffix;
      std::string payload_rel = data_rel + "/" + rel;
      seen.insert(rel);
      SidecarFacts facts;
      try {
        facts = parse_sidecar_facts(util::read_file(it->path(), 16u << 20), sidecar_rel);
      } catch (const Error& e) {
        add(c, sidecar_rel, std::string(e.what()) + "; " + restore_advice(repo, sidecar_rel) +
                                " or store the payload again with 'dsm add'");
        continue;
      }
      const std::string* sha = manifest.find(rel);
      if (!sha) {
        add(c, sidecar_rel, "'" + sidecar_rel + "': its payload has no line in '" + manifest_rel +
                                "'; run 'dsm verify' (restore the manifest with 'git restore " + manifest_rel + "')");
      } else if (*sha != facts.sha256) {
        add(c, sidecar_rel, "'" + sidecar_rel + "': records sha256 " + facts.sha256.substr(0, 12) +
                                "..., the manifest has " + sha->substr(0, 12) + "...; run 'dsm verify'");
      }
      struct stat st {};
      if (::stat(payload->c_str(), &st) != 0) {
        if (sha && dropped.remote_of(*sha)) {
          continue; // `dsm drop` deleted it once a remote held it: not a problem
        }
        add(c, payload_rel, "'" + payload_rel + "': described by '" + sidecar_rel +
                                "' but missing from the work tree; restore it (e.g. 'dsm pull') or remove the "
                                "dataset; see 'dsm verify'");
      } else if (facts.size && static_cast<uint64_t>(st.st_size) != *facts.size) {
        add(c, payload_rel, "'" + payload_rel + "': is " + std::to_string(st.st_size) + " bytes, the sidecar says " +
                                std::to_string(*facts.size) + "; run 'dsm verify'");
      }
    }
  }
  for (const auto& [rel, sha] : manifest.map()) {
    if (!seen.count(rel)) {
      std::string sidecar_rel = data_rel + "/" + rel + k_sidecar_suffix;
      add(c, sidecar_rel, "'" + sidecar_rel + "': listed in '" + manifest_rel +
                              "' but missing; restore it ('git restore " + sidecar_rel + "'), see 'dsm verify'");
    }
  }
  c.summary = std::to_string(manifest.size()) + " manifest lines and " + std::to_string(sidecars) +
              " sidecars agree (hashes are 'dsm verify''s job)";
  return c;
}

} // namespace

size_t DoctorReport::problems() const {
  size_t n = 0;
  for (const auto& c : checks) {
    n += c.findings.size();
  }
  return n;
}

DoctorReport run_doctor(const fs::path& start, const DoctorOptions& options) {
  git::Repo git = git::Repo::discover(start);
  DoctorReport report;
  report.root = git.work_tree();
  std::error_code ec;
  if (!fs::exists(report.root / k_config_file, ec)) {
    throw Error("not a dsm repository: " + quote(report.root.string()) + " has no " + k_config_file +
                " (run 'dsm init')");
  }
  std::unique_ptr<Repository> repo;
  DoctorCheck config{"config", "'" + std::string(k_config_file) + "' valid", false, {}};
  try {
    repo = Repository::open(report.root);
  } catch (const Error& e) {
    add(config, k_config_file, std::string(e.what()) + "; fix it (see docs) or restore it with 'git restore " +
                                   k_config_file + "'");
  }
  report.checks.push_back(std::move(config));
  Config fallback;
  const Config& cfg = repo ? repo->config() : fallback;
  auto skipped = [](const char* name) {
    return DoctorCheck{name, "skipped: the configuration is invalid", true, {}};
  };
  report.checks.push_back(repo ? check_data_dir(*repo) : skipped("data_dir"));
  report.checks.push_back(repo ? check_gitignore(*repo) : skipped("gitignore"));
  report.checks.push_back(check_hook(git, Hook::pre_commit));
  report.checks.push_back(check_hook(git, Hook::pre_push));
  std::set<std::string> reported;
  report.checks.push_back(check_index(git, cfg, reported));
  report.checks.push_back(check_history(git, cfg, options.history, reported));
  report.checks.push_back(repo ? check_consistency(*repo) : skipped("consistency"));
  report.checks.push_back(repo ? check_branches(*repo) : skipped("branches"));
  report.checks.push_back(repo ? check_pushed(*repo) : skipped("pushed"));
  return report;
}

nlohmann::json to_json(const DoctorReport& report) {
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& c : report.checks) {
    nlohmann::json findings = nlohmann::json::array();
    for (const auto& f : c.findings) {
      findings.push_back({{"path", f.path}, {"message", f.message}});
    }
    checks.push_back({{"name", c.name},
                      {"ok", c.findings.empty() && !c.skipped},
                      {"skipped", c.skipped},
                      {"summary", c.summary},
                      {"findings", findings}});
  }
  return {{"root", report.root.string()}, {"ok", report.problems() == 0}, {"problems", report.problems()},
          {"checks", checks}};
}

} // namespace dsm

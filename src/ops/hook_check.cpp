// The pre-commit checks (see dsm/hook_check.hpp and docs/hooks.md).
#include "ops/hook_check.hpp"
#include "repo/referenced.hpp"

#include "dsm/error.hpp"
#include "format/chunk.hpp"
#include "format/sniff.hpp"
#include "git/git.hpp"
#include "git/references.hpp"
#include "repo/config.hpp"
#include "repo/datasets.hpp"
#include "repo/gitignore.hpp"
#include "repo/manifest.hpp"
#include "repo/payload_check.hpp"
#include "repo/repository.hpp"
#include "repo/sidecar_facts_cache.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <sys/stat.h>

namespace dsm {

namespace {

constexpr uint32_t k_mode_symlink = 0120000;
constexpr uint32_t k_mode_gitlink = 0160000;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string basename(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// A sidecar and a manifest that record different hashes for one payload.
HookFinding sha_disagrees(const std::string& sidecar_rel, const std::string& recorded,
                          const std::string& manifest, const std::string& manifest_sha,
                          const std::string& payload_rel) {
  return {sidecar_rel, "'" + sidecar_rel + "': records sha256 " + recorded.substr(0, 12) + "..., " +
                           manifest + " has " + manifest_sha.substr(0, 12) + "... for '" + payload_rel +
                           "'; run 'dsm verify' to see which is right"};
}

// A sidecar whose `file:` is not the payload (or version directory) it sits beside.
HookFinding names_other_payload(const std::string& sidecar_rel, const std::string& file,
                                const std::string& beside) {
  return {sidecar_rel, "'" + sidecar_rel + "': names payload '" + file + "', but sits beside '" + beside +
                           "'; restore it with 'git restore --staged --worktree " + sidecar_rel + "'"};
}

// "12.5 MiB" style sizes for messages.
std::string size_for_message(uint64_t bytes) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) {
    return std::to_string(bytes) + " bytes";
  }
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

std::string unstage_fix(const std::string& path) {
  return "unstage it with 'git rm --cached " + path + "'";
}

// Everything check_staged needs to know about the staged state, gathered
// once: the changed paths, and lazily the staged manifest.
class StagedCheck {
public:
  StagedCheck(const Repository& repo, std::vector<git::StagedChange> changes)
      : m_repo(repo), m_git(repo.git()), m_changes(std::move(changes)), m_data_rel(repo.data_dir_relative()),
        m_manifest_rel(m_data_rel + "/" + k_manifest_name), m_payloads(repo),
        m_facts_cache(SidecarFactsCache::load(SidecarFactsCache::path_in(repo))) {
    for (const auto& c : m_changes) {
      m_by_path.emplace(c.path, &c);
    }
  }

  void run(std::vector<HookFinding>& out) {
    check_gitignore(out);
    for (const auto& c : m_changes) {
      if (c.kind == git::StagedChange::Kind::deleted) {
        continue;
      }
      if (c.path == m_manifest_rel) {
        check_manifest_change(c, out);
      } else if (is_staged_sidecar(c.path)) {
        check_sidecar(c, out);
      } else if (is_chunked_sidecar(c.path, out)) {
        check_chunked_sidecar(c, out);
      }
    }
    save_facts_cache();
  }

private:
  // `path` as the commit will record it: the staged blob when the commit
  // changes it, else HEAD's; nullopt when absent.
  std::optional<std::string> committed_text(const std::string& path) {
    auto it = m_by_path.find(path);
    if (it != m_by_path.end()) {
      if (it->second->kind == git::StagedChange::Kind::deleted) {
        return std::nullopt;
      }
      return m_git.read_blob(it->second->oid, 64u << 20);
    }
    return m_git.read_head_file(path);
  }

  // The facts of the sidecar at `path` as the commit will record it (the
  // staged blob when the commit changes it, else HEAD's); nullptr when
  // absent, an empty optional (with a finding) when it does not parse.
  const std::optional<SidecarFacts>* committed_facts(const std::string& path, std::vector<HookFinding>& out) {
    auto it = m_by_path.find(path);
    if (it != m_by_path.end()) {
      return it->second->kind == git::StagedChange::Kind::deleted ? nullptr : &staged_facts(*it->second, out);
    }
    std::optional<std::string> text = m_git.read_head_file(path);
    return text ? &parse_sidecar(*text, path, out) : nullptr;
  }

  // A staged sidecar's facts: from the cache when its blob id is listed
  // there (neither read nor parsed), else parsed and then cached.
  const std::optional<SidecarFacts>& staged_facts(const git::StagedChange& c, std::vector<HookFinding>& out) {
    if (auto known = m_parsed_sidecars.find(c.path); known != m_parsed_sidecars.end()) {
      return known->second;
    }
    if (const SidecarFacts* cached = m_facts_cache.find(c.oid)) {
      return m_parsed_sidecars[c.path] = *cached;
    }
    const std::optional<SidecarFacts>& facts = parse_sidecar(m_git.read_blob(c.oid, 64u << 20), c.path, out);
    if (facts) {
      m_facts_cache.record(c.oid, *facts);
    }
    return facts;
  }

  // Keeps what this commit stages (a refused commit is retried with the
  // same blobs); what was committed or unstaged since goes.
  void save_facts_cache() {
    std::set<std::string> staged;
    for (const auto& c : m_changes) {
      if (c.kind != git::StagedChange::Kind::deleted && m_facts_cache.find(c.oid) != nullptr) {
        staged.insert(c.oid);
      }
    }
    if (m_facts_cache.dirty() || staged.size() != m_facts_cache.size()) {
      m_facts_cache.save(SidecarFactsCache::path_in(m_repo),
                         [&staged](const std::string& id) { return staged.count(id) != 0; });
    }
  }

  bool is_staged_sidecar(const std::string& path) const {
    if (path.size() <= m_data_rel.size() + 1 ||
        path.compare(0, m_data_rel.size() + 1, m_data_rel + "/") != 0) {
      return false;
    }
    auto payload = Repository::payload_of_sidecar(path);
    return payload && is_payload_extension(m_repo.config(), payload->string());
  }

  // The sidecar of a chunked version sits beside its chunk directory
  // (<stem>.yaml beside <stem>/part-0001.npy ...): a .yaml under the data
  // dir whose name without it is a directory, or a prefix of manifest lines.
  bool is_chunked_sidecar(const std::string& path, std::vector<HookFinding>& out) {
    if (path.size() <= m_data_rel.size() + 1 ||
        path.compare(0, m_data_rel.size() + 1, m_data_rel + "/") != 0) {
      return false;
    }
    auto dir = Repository::payload_of_sidecar(path);
    if (!dir || is_payload_extension(m_repo.config(), dir->string())) {
      return false;
    }
    std::error_code ec;
    if (fs::is_directory(m_repo.root() / *dir, ec)) {
      return true;
    }
    const Manifest* staged = staged_manifest(out);
    if (!staged) {
      return false;
    }
    std::string prefix = dir->string().substr(m_data_rel.size() + 1) + "/";
    auto it = staged->map().lower_bound(prefix);
    return it != staged->map().end() && it->first.compare(0, prefix.size(), prefix) == 0;
  }

  void check_gitignore(std::vector<HookFinding>& out) {
    std::string block = gitignore::render_block(m_repo);
    auto say = [&](gitignore::BlockState state, const std::string& where) {
      if (state == gitignore::BlockState::intact) {
        return;
      }
      std::string what = state == gitignore::BlockState::missing ? "is missing" : "was edited";
      out.push_back({".gitignore", "'.gitignore': the dsm managed block " + what + where +
                                       "; run 'dsm init' to repair it" +
                                       (where.empty() ? "" : " and 'git add .gitignore'")});
    };
    say(gitignore::check(m_repo), "");
    auto it = m_by_path.find(".gitignore");
    if (it != m_by_path.end() && it->second->kind != git::StagedChange::Kind::deleted) {
      say(gitignore::check_block(m_git.read_blob(it->second->oid), block), " in the staged version");
    } else if (it != m_by_path.end()) {
      out.push_back({".gitignore", "'.gitignore': the commit deletes it, and with it the dsm managed block; "
                                   "restore it with 'git restore --staged .gitignore' or run 'dsm init'"});
    }
  }

  // The staged manifest, parsed once; nullopt (with a finding) if malformed.
  const Manifest* staged_manifest(std::vector<HookFinding>& out) {
    if (!m_manifest_loaded) {
      m_manifest_loaded = true;
      auto text = committed_text(m_manifest_rel);
      try {
        m_manifest = Manifest::parse(text.value_or(""), m_manifest_rel);
      } catch (const Error& e) {
        out.push_back({m_manifest_rel,
                       "'" + m_manifest_rel + "': the staged manifest is malformed (" + e.what() + "); " +
                           malformed_advice(m_manifest_rel, "restore it with 'git restore --staged "
                                                            "--worktree " +
                                                                m_manifest_rel + "' and run 'dsm verify'")});
      }
    }
    return m_manifest ? &*m_manifest : nullptr;
  }

  void check_manifest_change(const git::StagedChange& c, std::vector<HookFinding>& out) {
    const Manifest* staged = staged_manifest(out);
    if (!staged) {
      return;
    }
    Manifest old;
    if (!c.old_oid.empty()) {
      try {
        old = Manifest::parse(m_git.read_blob(c.old_oid, 64u << 20), "HEAD:" + m_manifest_rel);
      } catch (const Error&) {
        // HEAD's manifest was broken: every staged line counts as new.
      }
    }
    for (const auto& [rel, sha] : staged->map()) {
      const std::string* before = old.find(rel);
      if (before && *before == sha) {
        continue;
      }
      std::string payload_rel = m_data_rel + "/" + rel;
      std::string sidecar_rel = payload_rel + k_sidecar_suffix;
      const std::optional<SidecarFacts>* facts = committed_facts(sidecar_rel, out);
      if (!facts && is_chunk_file_name(basename(rel))) {
        // A chunk: described by its directory's sidecar.
        sidecar_rel = payload_rel.substr(0, payload_rel.rfind('/')) + k_sidecar_suffix;
        facts = committed_facts(sidecar_rel, out);
        if (facts) {
          if (*facts) {
            check_chunk_line(**facts, sidecar_rel, payload_rel, sha, out);
          }
          continue;
        }
      }
      if (!facts) {
        out.push_back({payload_rel, "'" + payload_rel + "': listed in the manifest, but its sidecar '" +
                                        sidecar_rel + "' is not staged; run 'git add " + sidecar_rel +
                                        "' (see 'dsm verify')"});
        check_payload_once(payload_rel, std::nullopt, sha, "the manifest", out);
        continue;
      }
      const std::optional<SidecarFacts>& sc = *facts;
      if (!sc) {
        continue;
      }
      if (sc->sha256 != sha) {
        out.push_back(sha_disagrees(sidecar_rel, sc->sha256, "the manifest", sha, payload_rel));
      }
      check_payload_once(payload_rel, sc->size, sha, "the manifest", out);
    }
  }

  void check_sidecar(const git::StagedChange& c, std::vector<HookFinding>& out) {
    const auto& sc = staged_facts(c, out);
    if (!sc) {
      return;
    }
    std::string payload_rel = Repository::payload_of_sidecar(c.path)->string();
    if (!sc->file.empty() && sc->file != basename(payload_rel)) {
      out.push_back(names_other_payload(c.path, sc->file, basename(payload_rel)));
    }
    const Manifest* staged = staged_manifest(out);
    if (staged) {
      const std::string* sha = staged->find(payload_rel.substr(m_data_rel.size() + 1));
      if (!sha) {
        out.push_back({c.path, "'" + c.path + "': its payload '" + payload_rel +
                                   "' has no line in the staged manifest; run 'git add " + m_manifest_rel +
                                   "' (see 'dsm verify')"});
      } else if (*sha != sc->sha256) {
        out.push_back(sha_disagrees(c.path, sc->sha256, "the staged manifest", *sha, payload_rel));
      }
    }
    check_payload_once(payload_rel, sc->size, sc->sha256, "'" + c.path + "'", out);
  }

  // One manifest line of a chunk against its version's sidecar.
  void check_chunk_line(const SidecarFacts& sc, const std::string& sidecar_rel,
                        const std::string& payload_rel, const std::string& sha,
                        std::vector<HookFinding>& out) {
    std::string file = basename(payload_rel);
    auto rec = std::find_if(sc.chunks.begin(), sc.chunks.end(),
                            [&file](const SidecarFacts::Chunk& ch) { return ch.file == file; });
    if (rec == sc.chunks.end()) {
      out.push_back({payload_rel, "'" + payload_rel +
                                      "': listed in the manifest, but its version's sidecar '" + sidecar_rel +
                                      "' does not list it; run 'dsm verify'"});
      check_payload_once(payload_rel, std::nullopt, sha, "the manifest", out);
      return;
    }
    if (rec->sha256 != sha) {
      out.push_back(sha_disagrees(sidecar_rel, rec->sha256, "the manifest", sha, payload_rel));
    }
    check_payload_once(payload_rel, rec->size, sha, "the manifest", out);
  }

  // A chunked version's sidecar: every chunk it lists has its manifest line
  // and its bytes in the work tree.
  void check_chunked_sidecar(const git::StagedChange& c, std::vector<HookFinding>& out) {
    const auto& sc = staged_facts(c, out);
    if (!sc) {
      return;
    }
    std::string dir_rel = Repository::payload_of_sidecar(c.path)->string();
    if (!sc->file.empty() && sc->file != basename(dir_rel)) {
      out.push_back(names_other_payload(c.path, sc->file, basename(dir_rel)));
    }
    const Manifest* staged = staged_manifest(out);
    for (const auto& ch : sc->chunks) {
      std::string payload_rel = dir_rel + "/" + ch.file;
      if (staged) {
        const std::string* sha = staged->find(payload_rel.substr(m_data_rel.size() + 1));
        if (!sha) {
          out.push_back({c.path, "'" + c.path + "': its chunk '" + payload_rel +
                                     "' has no line in the staged manifest; run 'git add " + m_manifest_rel +
                                     "' (see 'dsm verify')"});
        } else if (*sha != ch.sha256) {
          out.push_back(sha_disagrees(c.path, ch.sha256, "the staged manifest", *sha, payload_rel));
        }
      }
      check_payload_once(payload_rel, ch.size, ch.sha256, "'" + c.path + "'", out);
    }
  }

  // A staged sidecar is parsed once however many staged paths lead to it
  // (its own change, its manifest line, each chunk line), and a bad one is
  // reported once.
  const std::optional<SidecarFacts>& parse_sidecar(const std::string& text, const std::string& rel,
                                                   std::vector<HookFinding>& out) {
    auto known = m_parsed_sidecars.find(rel);
    if (known != m_parsed_sidecars.end()) {
      return known->second;
    }
    std::optional<SidecarFacts>& facts = m_parsed_sidecars[rel];
    try {
      facts = parse_sidecar_facts(text, rel);
    } catch (const Error& e) {
      out.push_back(
          {rel, "'" + rel + "': not a valid sidecar (" + e.what() + "); " +
                    malformed_advice(rel, "restore it with 'git restore --staged --worktree " + rel +
                                              "' or store the payload again with 'dsm add'")});
    }
    return facts;
  }

  // How to fix a staged manifest or sidecar that does not parse. While a
  // merge (rebase, cherry-pick, stash pop) is in progress it most likely
  // holds the conflict markers git wrote, staged by 'git add': restoring
  // it from the index or HEAD would drop the other side's version, so the
  // advice brings the conflict back for 'dsm resolve' instead.
  std::string malformed_advice(const std::string& rel, const std::string& otherwise) const {
    if (git::operation_in_progress(m_git)) {
      // The manifest too: 'dsm resolve' renumbers from its unmerged stages
      // (checkout -m of a path that was not in conflict rewrites it from
      // the index, which 'git add' made equal to the work tree).
      std::string paths = rel == m_manifest_rel ? rel : m_manifest_rel + " " + rel;
      return "a merge is in progress and it may hold git's conflict markers: bring the conflicts back with "
             "'git checkout -m " +
             paths + "', then run 'dsm resolve' (it keeps both sides' versions) and 'git commit'";
    }
    return otherwise;
  }

  void check_payload_once(const std::string& payload_rel, std::optional<uint64_t> size,
                          const std::string& sha, const std::string& described_by,
                          std::vector<HookFinding>& out) {
    if (!m_checked_payloads.insert(payload_rel).second) {
      return;
    }
    auto problem = m_payloads.check(m_repo.root() / payload_rel, size, sha);
    if (!problem) {
      return;
    }
    std::string fix;
    switch (problem->kind) {
    case PayloadProblem::Kind::missing:
      // A teammate's or another branch's version (a merge being
      // committed): its bytes are theirs to push, 'dsm pull' brings them.
      if (m_referenced.get().hash_listed_elsewhere(sha)) {
        return;
      }
      fix = "run 'dsm pull' if a teammate added it, else restore the payload (or unstage what describes it "
            "with "
            "'git rm --cached')";
      break;
    case PayloadProblem::Kind::changed:
      fix = "restore the original bytes, or store the new content with 'dsm add'; 'dsm verify' shows the "
            "details";
      break;
    case PayloadProblem::Kind::unreadable:
      fix = "check its permissions, then run 'dsm verify'";
      break;
    }
    out.push_back({payload_rel, "'" + payload_rel + "': " + problem->what + " (described by " + described_by +
                                    "); " + fix});
  }

  const Repository& m_repo;
  git::Repo& m_git;
  std::vector<git::StagedChange> m_changes;
  std::map<std::string, const git::StagedChange*> m_by_path;
  std::string m_data_rel;
  std::string m_manifest_rel;
  PayloadChecker m_payloads;
  SidecarFactsCache m_facts_cache;
  LazyReferenced m_referenced{m_repo};
  bool m_manifest_loaded = false;
  std::optional<Manifest> m_manifest;
  std::set<std::string> m_checked_payloads;
  std::map<std::string, std::optional<SidecarFacts>> m_parsed_sidecars;
};

void check_blobs(const git::Repo& git, const Config& config, const std::vector<git::StagedChange>& changes,
                 std::vector<HookFinding>& out, const StoredVersionOf& stored_version = {}) {
  for (const auto& c : changes) {
    if (c.kind != git::StagedChange::Kind::deleted) {
      check_blob(git, config, c.path, c.oid, c.mode, out, stored_version);
    }
  }
}

// The stored versions by payload size, built on the first staged array:
// only a blob as large as some payload is hashed (SHA-256, streamed) and
// compared with the manifest. Plain payloads only: a compressed or chunked
// version holds other bytes than the array that was added.
class StoredVersions {
public:
  StoredVersions(const Repository& repo, const git::Repo& git) : m_repo(repo), m_git(git) {}

  std::optional<std::string> find(const std::string& oid, uint64_t size) {
    if (!m_loaded) {
      load();
    }
    auto [first, last] = m_by_size.equal_range(size);
    if (first == last) {
      return std::nullopt;
    }
    std::string sha = m_git.blob_sha256(oid);
    for (auto it = first; it != last; ++it) {
      if (it->second.first == sha) {
        return it->second.second;
      }
    }
    return std::nullopt;
  }

private:
  void load() {
    m_loaded = true;
    Manifest manifest = load_manifest(m_repo);
    DatasetIndex index = index_datasets(m_repo, manifest);
    for (const auto& entry : index.by_name) {
      for (const DatasetVersion& v : entry.second) {
        struct stat st {};
        if (v.parts.empty() && ::stat(v.path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
          m_by_size.emplace(static_cast<uint64_t>(st.st_size),
                            std::make_pair(v.sha256, v.name + "@" + std::to_string(v.seq)));
        }
      }
    }
  }

  const Repository& m_repo;
  const git::Repo& m_git;
  bool m_loaded = false;
  std::multimap<uint64_t, std::pair<std::string, std::string>> m_by_size; // size -> (sha256, NAME@N)
};

// A staged copy of a stored version needs no commit: say which version it
// is and what to do with the file.
std::string stored_copy_message(const std::string& path, const std::string& version) {
  return "'" + path + "': the same bytes as " + version +
         ", which dsm stores already, so it needs no commit: delete it ('git rm --cached " + path +
         " && rm " + path + "'), or keep it and ignore it (unstage it with 'git rm --cached " + path +
         "', then add it to .gitignore)";
}

} // namespace

bool is_payload_extension(const Config& config, const std::string& path) {
  std::string name = lower(basename(path));
  for (const auto& ext : config.extensions) {
    std::string e = lower(ext);
    if (name.size() > e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0) {
      return true;
    }
  }
  return false;
}

void check_blob(const git::Repo& git, const Config& config, const std::string& path, const std::string& oid,
                uint32_t mode, std::vector<HookFinding>& out, const StoredVersionOf& stored_version,
                BlobState state) {
  if (mode == k_mode_gitlink || mode == k_mode_symlink) {
    return; // a submodule commit or a link target: no data in either
  }
  if (git.pathspec_matches(config.allow, path)) {
    return; // a fixture the configuration allows in git
  }
  if (state == BlobState::committed) {
    // Committed before the hook ran (or with --no-verify): doctor says so,
    // and how to keep it or take it out of git.
    uint64_t size = git.blob_size(oid);
    bool array = is_payload_extension(config, path);
    if (!array) {
      git::BlobWindow w = git.blob_window(oid, k_sniff_head_bytes, k_sniff_tail_bytes);
      array = sniff_window(w.head, w.tail, w.size) != ArrayKind::none;
    }
    if (array || size > config.max_git_file_size) {
      out.push_back(
          {path, "'" + path + "': " +
                     (array ? std::string("an array is committed in git")
                            : size_for_message(size) + " over max_git_file_size is committed in git") +
                     "; a test fixture that belongs there: list it under 'allow:' in .dsm/config.yaml; "
                     "otherwise remove it with 'git rm --cached " +
                     path + "', commit, and store it with 'dsm add'"});
    }
    return;
  }
  auto stored_copy = [&]() -> bool {
    if (!stored_version) {
      return false;
    }
    std::optional<std::string> version = stored_version(oid, git.blob_size(oid));
    if (version) {
      out.push_back({path, stored_copy_message(path, *version)});
    }
    return version.has_value();
  };
  if (is_payload_extension(config, path)) {
    if (stored_copy()) {
      return;
    }
    out.push_back(
        {path, "'" + path + "': an array payload is staged for commit; " + unstage_fix(path) +
                   " and store it with 'dsm add' (a test fixture that belongs in git: list it under "
                   "'allow:' in .dsm/config.yaml)"});
    return;
  }
  uint64_t size = git.blob_size(oid);
  if (size > config.max_git_file_size) {
    out.push_back({path, "'" + path + "': " + size_for_message(size) + " is over max_git_file_size (" +
                             size_for_message(config.max_git_file_size) + "); " + unstage_fix(path) +
                             " (store arrays with 'dsm add'; the limit is in .dsm/config.yaml)"});
    return;
  }
  git::BlobWindow w = git.blob_window(oid, k_sniff_head_bytes, k_sniff_tail_bytes);
  ArrayKind kind = sniff_window(w.head, w.tail, w.size);
  if (kind != ArrayKind::none) {
    if (stored_copy()) {
      return;
    }
    std::string what = kind == ArrayKind::npy ? ".npy data" : "an .npz archive";
    out.push_back({path, "'" + path + "': holds NumPy array data (" + what + ") under another name; " +
                             unstage_fix(path) + ", give it its .npy/.npz name and store it with 'dsm add'"});
  }
}

std::vector<HookFinding> check_staged(const Repository& repo) {
  std::vector<HookFinding> out;
  auto changes = repo.git().staged_changes();
  StoredVersions stored(repo, repo.git());
  check_blobs(repo.git(), repo.config(), changes, out,
              [&stored](const std::string& oid, uint64_t size) { return stored.find(oid, size); });
  StagedCheck(repo, std::move(changes)).run(out);
  return out;
}

std::vector<HookFinding> check_staged(const fs::path& start) {
  git::Repo git = git::Repo::discover(start);
  std::error_code ec;
  if (fs::exists(git.work_tree() / k_config_file, ec)) {
    return check_staged(*Repository::open(git.work_tree()));
  }
  // Not a dsm repository (yet): still keep arrays and big files out.
  std::vector<HookFinding> out;
  check_blobs(git, Config{}, git.staged_changes(), out);
  return out;
}

} // namespace dsm

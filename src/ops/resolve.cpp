#include "ops/resolve.hpp"

#include "dsm/error.hpp"
#include "format/chunk.hpp"
#include "format/file_hash.hpp"
#include "git/git.hpp"
#include "git/references.hpp"
#include "ops/merge.hpp"
#include "repo/datasets.hpp"
#include "repo/dedupe.hpp"
#include "repo/leftovers.hpp"
#include "repo/lock.hpp"
#include "repo/naming.hpp"
#include "repo/referenced.hpp"
#include "repo/repository.hpp"
#include "repo/sidecar.hpp"
#include "util/file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <map>
#include <set>
#include <system_error>
#include <tuple>

namespace dsm {

namespace {

class Resolver {
public:
  explicit Resolver(const Repository& repo)
      : m_repo(repo), m_data_rel(repo.data_dir_relative()),
        m_manifest_rel(m_data_rel + "/" + k_manifest_name) {}

  ResolveReport run() {
    for (git::IndexConflict& c : git::index_conflicts(m_repo.git())) {
      std::string path = c.path;
      m_conflicts.emplace(std::move(path), std::move(c));
    }
    std::vector<PathConflict> path_conflicts = load_manifest_state();
    restore_tracked_lines();
    std::set<std::string> chunk_dirs; // chunked versions: one renumbering per directory
    for (const PathConflict& pc : path_conflicts) {
      if (std::optional<std::string> dir = chunk_dir(pc.path)) {
        if (chunk_dirs.insert(*dir).second) {
          renumber_theirs_chunked(*dir);
        }
      } else {
        renumber_theirs(pc);
      }
    }
    renumber_duplicates();
    relocate_local_payloads();
    // What is still unmerged under the data dir and not ours to decide.
    for (const auto& [path, c] : m_conflicts) {
      if (path.starts_with(m_data_rel + "/") && !m_resolved.count(path)) {
        m_report.manual.push_back(path);
      }
    }
    if (m_manifest_changed) {
      util::write_file_atomic(m_repo.manifest_path(), m_manifest.serialize(), 0644);
      touch(m_manifest_rel);
    }
    if (!m_touched.empty()) {
      std::vector<std::string> paths(m_touched.begin(), m_touched.end());
      git::stage_paths(m_repo.git(), paths);
      m_report.staged = std::move(paths);
    }
    return std::move(m_report);
  }

private:
  std::string read(const std::optional<std::string>& oid) const {
    return oid ? m_repo.git().read_blob(*oid) : std::string();
  }

  // The working manifest, merged from git's stages when it is unmerged;
  // and the manifest "ours" had before the merge, which decides who keeps a
  // number.
  std::vector<PathConflict> load_manifest_state() {
    auto it = m_conflicts.find(m_manifest_rel);
    if (it != m_conflicts.end()) {
      const git::IndexConflict& c = it->second;
      Manifest base = Manifest::parse(read(c.ancestor), m_manifest_rel + " (common ancestor)");
      Manifest ours = Manifest::parse(read(c.ours), m_manifest_rel + " (ours)");
      Manifest theirs = Manifest::parse(read(c.theirs), m_manifest_rel + " (theirs)");
      ManifestMerge m = merge_manifests(base, ours, theirs);
      m_manifest = std::move(m.merged);
      m_ours = std::move(ours);
      m_manifest_changed = true;
      m_resolved.insert(m_manifest_rel);
      m_report.done.push_back("merged " + quote(m_manifest_rel) + " by path (both sides' versions kept)");
      return m.conflicts;
    }
    try {
      m_manifest = load_manifest(m_repo);
    } catch (const Error& e) {
      throw Error(std::string(e.what()) +
                  " (conflict markers? the manifest is no longer unmerged in git's index: "
                  "'git checkout -m " +
                  m_manifest_rel +
                  "' restores the conflict, then run "
                  "'dsm resolve' again)");
    }
    // Mid-operation, ours is HEAD; after a merge commit, its first parent.
    const char* rev = git::operation_in_progress(m_repo.git())               ? "HEAD"
                      : git::blob_at(m_repo.git(), "HEAD^2", m_manifest_rel) ? "HEAD^1"
                                                                             : nullptr;
    if (rev) {
      if (auto oid = git::blob_at(m_repo.git(), rev, m_manifest_rel)) {
        try {
          m_ours = Manifest::parse(read(oid), m_manifest_rel + " (" + rev + ")");
        } catch (const Error&) {
          m_ours.reset();
        }
      }
    }
    return {};
  }

  // Tracked sidecars whose payload lost its manifest line (a conflict
  // resolved with 'git checkout --theirs'): the line comes back.
  void restore_tracked_lines() {
    const std::string prefix = m_data_rel + "/";
    for (const std::string& path : m_repo.git().tracked_under(m_data_rel)) {
      std::optional<fs::path> payload = Repository::payload_of_sidecar(m_repo.root() / path);
      if (!payload || !m_repo.config().is_payload_name(payload->filename().string())) {
        continue;
      }
      std::string rel =
          path.substr(prefix.size(), path.size() - prefix.size() - std::string(k_sidecar_suffix).size());
      if (m_manifest.find(rel)) {
        continue;
      }
      Sidecar sc;
      try {
        sc = Sidecar::load(m_repo.root() / path);
      } catch (const Error&) {
        continue; // verify reports it
      }
      auto [name, file] = split_data_rel(rel);
      if (sc.format == "chunks" || sc.name != name || sc.file != file || sc.sha256.size() != 64) {
        continue;
      }
      m_manifest.set(rel, sc.sha256);
      m_manifest_changed = true;
      m_report.done.push_back("restored the manifest line of " + quote(rel) + " from its committed sidecar");
    }
  }

  // The next number no version of `name` uses: not in the manifest, not in
  // any manifest of the history (a number `dsm rm` removed), not on disk
  // (payloads and sidecars, listed or not), not given out already.
  uint64_t next_free(const std::string& name) {
    auto it = m_next.find(name);
    if (it == m_next.end()) {
      if (!m_history) {
        m_history = HistorySeq::load(m_repo);
      }
      uint64_t top = m_history->max_seq(name);
      for (const auto& [rel, sha] : m_manifest.map()) {
        auto [n, file] = split_data_rel(rel);
        if (n == name) {
          top = std::max(top, match_seq(m_repo.config(), name, file).value_or(0));
        }
      }
      std::error_code ec;
      for (fs::directory_iterator d(m_repo.data_dir() / name, ec), end; !ec && d != end; d.increment(ec)) {
        top = std::max(top, match_seq(m_repo.config(), name, d->path().filename().string()).value_or(0));
      }
      it = m_next.emplace(name, top + 1).first;
    }
    return it->second++;
  }

  // Moves version `old_rel` (hash `sha`, described by `sidecar_text`) to the
  // next free number of its name. keep_old: the old path stays (ours holds
  // it), else its line and sidecar go.
  void renumber(const std::string& old_rel, const std::string& sha, const std::string& sidecar_text,
                bool keep_old) {
    auto [name, old_file] = split_data_rel(old_rel);
    Sidecar sc = Sidecar::parse(sidecar_text, m_data_rel + "/" + old_rel + k_sidecar_suffix);
    if (sc.format == "chunks" && keep_old) {
      // Reached only for a sidecar whose chunk lines did not conflict (a
      // version sharing its directory with a plain payload's name): rare
      // enough to leave to a person.
      throw Error(quote(old_rel) + " is a chunked version that collides with another: renumber it by hand "
                                   "(rename its directory and sidecar, then edit the manifest)");
    }
    uint64_t seq = next_free(name);
    std::string date = sc.created.size() >= 10
                           ? sc.created.substr(0, 4) + sc.created.substr(5, 2) + sc.created.substr(8, 2)
                           : utc_date(std::time(nullptr));
    if (sc.format == "chunks") {
      renumber_chunked(old_rel, sc, payload_stem(m_repo.config(), name, date, seq), seq);
      return;
    }
    std::string new_file =
        payload_stem(m_repo.config(), name, date, seq) + fs::path(old_file).extension().string();
    std::string new_rel = name + "/" + new_file;
    uint64_t old_seq = sc.version;
    sc.version = seq;
    sc.file = new_file;
    fs::path old_payload = m_repo.data_dir() / old_rel;
    fs::path new_payload = m_repo.data_dir() / new_rel;
    util::write_file_atomic(Repository::sidecar_path(new_payload), sc.to_yaml(), 0644);
    touch(m_data_rel + "/" + new_rel + k_sidecar_suffix);
    // The local payload moves with it when it is this version's bytes.
    std::error_code ec;
    if (fs::is_regular_file(old_payload, ec) && sha256_file(old_payload) == sha) {
      if (::rename(old_payload.c_str(), new_payload.c_str()) != 0) {
        throw Error("cannot move " + quote(old_payload.string()) + " to " + quote(new_payload.string()) +
                    ": " + util::errno_message(errno));
      }
      util::fsync_dir(new_payload.parent_path());
    }
    // Not here, but the same bytes are (another version, a name merged in
    // from another branch): stored once, as a link (repo/dedupe.hpp).
    if (!fs::exists(new_payload, ec)) {
      IdenticalFinder finder(m_repo, m_manifest);
      if (std::optional<IdenticalPayload> same = finder.find(sha)) {
        if (link_payload(same->fd, new_payload) == LinkResult::linked) {
          m_report.done.push_back("stored " + quote(new_rel) + " once: a hard link to " + quote(same->rel) +
                                  " (identical bytes)");
        }
      }
    }
    if (!keep_old) {
      m_manifest.erase(old_rel);
      fs::path old_sidecar = Repository::sidecar_path(old_payload);
      if (::unlink(old_sidecar.c_str()) != 0 && errno != ENOENT) {
        throw Error("cannot remove " + quote(old_sidecar.string()) + ": " + util::errno_message(errno));
      }
      touch(m_data_rel + "/" + old_rel + k_sidecar_suffix);
    }
    m_manifest.set(new_rel, sha);
    m_manifest_changed = true;
    m_report.done.push_back("renumbered " + quote(name + "@" + std::to_string(old_seq)) + " (" +
                            quote(old_rel) + ", sha256 " + sha.substr(0, 12) + "...) to " +
                            quote(name + "@" + std::to_string(seq)) + " (" + quote(new_rel) + ")");
  }

  // A chunked version (`dsm add --chunk-size`: a directory of chunks, one
  // sidecar beside it) that lost its number to another version on another
  // day: the directory takes the new name with its sidecar and every chunk
  // line (same hashes); the local chunks move with the directory.
  void renumber_chunked(const std::string& old_rel, Sidecar sc, const std::string& new_dir, uint64_t seq) {
    const std::string name = split_data_rel(old_rel).first;
    const std::string new_rel = name + "/" + new_dir;
    const uint64_t old_seq = sc.version;
    sc.version = seq;
    sc.file = new_dir;
    fs::path old_path = m_repo.data_dir() / old_rel;
    fs::path new_path = m_repo.data_dir() / new_rel;
    std::error_code ec;
    if (fs::exists(fs::symlink_status(new_path, ec))) {
      throw Error("cannot renumber " + quote(old_rel) + ": " + quote(new_path.string()) + " already exists");
    }
    util::write_file_atomic(Repository::sidecar_path(new_path), sc.to_yaml(), 0644);
    touch(m_data_rel + "/" + new_rel + k_sidecar_suffix);
    if (fs::symlink_status(old_path, ec).type() == fs::file_type::directory) {
      if (::rename(old_path.c_str(), new_path.c_str()) != 0) {
        throw Error("cannot move " + quote(old_path.string()) + " to " + quote(new_path.string()) + ": " +
                    util::errno_message(errno));
      }
      util::fsync_dir(new_path.parent_path());
    }
    const std::string prefix = old_rel + "/";
    std::vector<std::pair<std::string, std::string>> moved;
    for (const auto& [rel, sha] : m_manifest.map()) {
      if (rel.starts_with(prefix)) {
        moved.emplace_back(rel, sha);
      }
    }
    for (const auto& [rel, sha] : moved) {
      m_manifest.erase(rel);
      m_manifest.set(new_rel + "/" + rel.substr(prefix.size()), sha);
    }
    fs::path old_sidecar = Repository::sidecar_path(old_path);
    if (::unlink(old_sidecar.c_str()) != 0 && errno != ENOENT) {
      throw Error("cannot remove " + quote(old_sidecar.string()) + ": " + util::errno_message(errno));
    }
    touch(m_data_rel + "/" + old_rel + k_sidecar_suffix);
    m_manifest_changed = true;
    m_report.done.push_back("renumbered " + quote(name + "@" + std::to_string(old_seq)) + " (" +
                            quote(old_rel) + ", " + std::to_string(moved.size()) + " chunks) to " +
                            quote(name + "@" + std::to_string(sc.version)) + " (" + quote(new_rel) + ")");
  }

  // The version directory of a chunk path (`<name>/<stem>/part-NNNN.npy`
  // with <stem> a version of <name>), or nullopt.
  std::optional<std::string> chunk_dir(const std::string& rel) const {
    size_t slash = rel.rfind('/');
    if (slash == std::string::npos || !is_chunk_file_name(rel.substr(slash + 1))) {
      return std::nullopt;
    }
    std::string dir = rel.substr(0, slash);
    auto [name, stem] = split_data_rel(dir);
    if (name.empty() || !match_seq(m_repo.config(), name, stem)) {
      return std::nullopt;
    }
    return dir;
  }

  // Two chunked versions in one directory (the same NAME on the same day on
  // two branches): the merged manifest mixes their chunk lines. Ours keeps
  // the directory with exactly its chunks (from its sidecar); theirs takes
  // the next free number with its sidecar (git's stage 3) and its chunk
  // lines; a local chunk holding their bytes moves with it.
  void renumber_theirs_chunked(const std::string& dir_rel) {
    const std::string sidecar_rel = m_data_rel + "/" + dir_rel + k_sidecar_suffix;
    std::optional<std::pair<std::string, std::string>> sides = unmerged_sides(sidecar_rel);
    if (!sides) {
      throw Error("cannot renumber the chunked version " + quote(dir_rel) + ": its sidecar " +
                  quote(sidecar_rel) + " is not unmerged in git's index (run 'git checkout -m " +
                  m_manifest_rel + " " + sidecar_rel + "' to bring the conflict back)");
    }
    const auto& [ours_text, theirs_text] = *sides;
    Sidecar ours = Sidecar::parse(ours_text, sidecar_rel + " (ours)");
    Sidecar theirs = Sidecar::parse(theirs_text, sidecar_rel + " (theirs)");
    if (ours.format != "chunks" || theirs.format != "chunks") {
      throw Error(quote(dir_rel) + " is a chunked version on one side only: renumber it by hand");
    }
    const std::string name = split_data_rel(dir_rel).first;
    const uint64_t seq = next_free(name);
    std::string date =
        theirs.created.size() >= 10
            ? theirs.created.substr(0, 4) + theirs.created.substr(5, 2) + theirs.created.substr(8, 2)
            : utc_date(std::time(nullptr));
    const std::string new_dir = payload_stem(m_repo.config(), name, date, seq);
    const std::string new_rel = name + "/" + new_dir;
    const uint64_t old_seq = theirs.version;
    theirs.version = seq;
    theirs.file = new_dir;
    fs::path old_path = m_repo.data_dir() / dir_rel;
    fs::path new_path = m_repo.data_dir() / new_rel;
    util::write_file_atomic(Repository::sidecar_path(new_path), theirs.to_yaml(), 0644);
    touch(m_data_rel + "/" + new_rel + k_sidecar_suffix);
    // The manifest: ours' chunks at the directory, theirs' at the new one.
    std::vector<std::string> stale;
    for (const auto& [rel, sha] : m_manifest.map()) {
      if (rel.starts_with(dir_rel + "/")) {
        stale.push_back(rel);
      }
    }
    for (const std::string& rel : stale) {
      m_manifest.erase(rel);
    }
    std::map<std::string, std::string> ours_by_file;
    for (const Sidecar::Chunk& c : ours.chunks) {
      m_manifest.set(dir_rel + "/" + c.file, c.sha256);
      ours_by_file.emplace(c.file, c.sha256);
    }
    for (const Sidecar::Chunk& c : theirs.chunks) {
      m_manifest.set(new_rel + "/" + c.file, c.sha256);
      // A local chunk with their bytes (not ours') moves with the version.
      fs::path local = old_path / c.file;
      std::error_code ec;
      if (!fs::is_regular_file(fs::symlink_status(local, ec))) {
        continue;
      }
      auto mine = ours_by_file.find(c.file);
      std::string digest = sha256_file(local);
      if (digest == c.sha256 && (mine == ours_by_file.end() || mine->second != digest)) {
        util::make_dirs_below(m_repo.data_dir(), new_path);
        fs::path to = new_path / c.file;
        if (::rename(local.c_str(), to.c_str()) != 0) {
          throw Error("cannot move " + quote(local.string()) + " to " + quote(to.string()) + ": " +
                      util::errno_message(errno));
        }
        util::fsync_dir(new_path);
      }
    }
    util::write_file_atomic(Repository::sidecar_path(old_path), ours_text, 0644);
    touch(sidecar_rel);
    m_resolved.insert(sidecar_rel);
    m_manifest_changed = true;
    m_report.done.push_back("renumbered " + quote(name + "@" + std::to_string(old_seq)) + " (their " +
                            quote(dir_rel) + ", " + std::to_string(theirs.chunks.size()) + " chunks) to " +
                            quote(name + "@" + std::to_string(seq)) + " (" + quote(new_rel) + ")");
  }

  // Both sides of a sidecar git left unmerged (stages 2 and 3), if it did.
  std::optional<std::pair<std::string, std::string>> unmerged_sides(const std::string& sidecar_rel) {
    auto it = m_conflicts.find(sidecar_rel);
    if (it == m_conflicts.end() || !it->second.ours || !it->second.theirs) {
      return std::nullopt;
    }
    return std::pair{read(it->second.ours), read(it->second.theirs)};
  }

  // The same path with two payloads: ours stays, theirs moves.
  void renumber_theirs(const PathConflict& pc) {
    std::string sidecar_rel = m_data_rel + "/" + pc.path + k_sidecar_suffix;
    std::string ours_text;
    std::string theirs_text;
    if (auto sides = unmerged_sides(sidecar_rel)) {
      std::tie(ours_text, theirs_text) = std::move(*sides);
    } else {
      for (const char* head : git::operation_heads()) {
        if (auto oid = git::blob_at(m_repo.git(), head, sidecar_rel)) {
          theirs_text = read(oid);
          break;
        }
      }
      if (theirs_text.empty()) {
        throw Error("cannot find their sidecar " + quote(sidecar_rel) + " for " + quote(pc.path) +
                    " (neither unmerged in the index nor at MERGE_HEAD)");
      }
    }
    renumber(pc.path, pc.theirs, theirs_text, true);
    if (!ours_text.empty()) {
      util::write_file_atomic(m_repo.data_dir() / (pc.path + k_sidecar_suffix), ours_text, 0644);
      touch(sidecar_rel);
      m_resolved.insert(sidecar_rel);
    }
  }

  // One NAME@N at two paths (different days): the one ours had keeps it,
  // else the older one.
  void renumber_duplicates() {
    DatasetIndex index = index_datasets(m_repo, m_manifest);
    for (const auto& group : duplicate_versions(index)) {
      std::vector<const DatasetVersion*> order(group.begin(), group.end());
      auto created = [&](const DatasetVersion* dv) {
        try {
          return Sidecar::load(Repository::sidecar_path(dv->path)).created;
        } catch (const Error&) {
          return std::string("~"); // unreadable: sorts last
        }
      };
      std::stable_sort(order.begin(), order.end(), [&](const DatasetVersion* a, const DatasetVersion* b) {
        bool oa = m_ours && m_ours->find(a->rel);
        bool ob = m_ours && m_ours->find(b->rel);
        if (oa != ob) {
          return oa;
        }
        std::string ca = created(a);
        std::string cb = created(b);
        return ca != cb ? ca < cb : a->rel < b->rel;
      });
      for (size_t k = 1; k < order.size(); ++k) {
        const DatasetVersion* dv = order[k];
        fs::path sidecar = Repository::sidecar_path(dv->path);
        renumber(dv->rel, dv->sha256, util::read_file(sidecar, 16u << 20), false);
      }
    }
  }

  // After pulling a merge that renumbered versions elsewhere, a local
  // payload sits at its old number: it moves to the path the manifest now
  // lists for its bytes, when that path is free. Hashes only files whose
  // name has no payload there or the wrong one, and only when a listed
  // payload is missing.
  void relocate_local_payloads() {
    std::map<std::string, std::vector<std::string>> missing_by_name; // name -> missing rels
    std::error_code ec;
    for (const auto& [rel, sha] : m_manifest.map()) {
      if (fs::symlink_status(m_repo.data_dir() / rel, ec).type() == fs::file_type::not_found) {
        std::optional<std::string> dir = chunk_dir(rel);
        missing_by_name[split_data_rel(dir ? *dir : rel).first].push_back(rel);
      }
    }
    for (const auto& [name, missing] : missing_by_name) {
      if (name.empty()) {
        continue;
      }
      std::map<std::string, std::string> wanted; // hash -> missing rel
      for (const std::string& rel : missing) {
        wanted.emplace(*m_manifest.find(rel), rel);
      }
      // Payloads of the name, and chunks in its versions' directories.
      std::vector<std::string> candidates; // data-relative
      for (fs::directory_iterator d(m_repo.data_dir() / name, ec), end; !ec && d != end; d.increment(ec)) {
        std::string file = d->path().filename().string();
        std::error_code ec2;
        if (d->is_directory(ec2) && !d->is_symlink(ec2) && match_seq(m_repo.config(), name, file)) {
          for (fs::directory_iterator c(d->path(), ec2), cend; !ec2 && c != cend; c.increment(ec2)) {
            std::string chunk = c->path().filename().string();
            if (is_chunk_file_name(chunk)) {
              candidates.push_back(name + "/" + file + "/" + chunk);
            }
          }
        } else if (m_repo.config().is_payload_name(file)) {
          candidates.push_back(name + "/" + file);
        }
      }
      for (const std::string& rel : candidates) {
        fs::path from = m_repo.data_dir() / rel;
        if (!fs::is_regular_file(fs::symlink_status(from, ec))) {
          continue;
        }
        std::string digest = sha256_file(from);
        const std::string* listed = m_manifest.find(rel);
        auto it = wanted.find(digest);
        if ((listed && *listed == digest) || it == wanted.end()) {
          continue;
        }
        fs::path to = m_repo.data_dir() / it->second;
        util::make_dirs_below(m_repo.data_dir(), to.parent_path());
        if (::rename(from.c_str(), to.c_str()) != 0) {
          throw Error("cannot move " + quote(from.string()) + " to " + quote(to.string()) + ": " +
                      util::errno_message(errno));
        }
        util::fsync_dir(to.parent_path());
        m_report.done.push_back("moved the local payload " + quote(rel) + " to " + quote(it->second) +
                                " (its version was renumbered)");
        wanted.erase(it);
      }
    }
  }

  void touch(const std::string& path) { m_touched.insert(path); }

  const Repository& m_repo;
  const std::string m_data_rel;
  const std::string m_manifest_rel;
  std::map<std::string, git::IndexConflict> m_conflicts;
  std::set<std::string> m_resolved; // unmerged paths this run settled
  Manifest m_manifest;
  std::optional<Manifest> m_ours;
  bool m_manifest_changed = false;
  std::map<std::string, uint64_t> m_next;
  std::optional<HistorySeq> m_history; // loaded when a number is first needed
  std::set<std::string> m_touched;
  ResolveReport m_report;
};

} // namespace

ResolveReport resolve(const Repository& repo, const ResolveOptions& options) {
  RepoLock lock(repo.lock_path(), options.timeout);
  return Resolver(repo).run();
}

} // namespace dsm

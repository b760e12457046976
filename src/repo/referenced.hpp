// Referenced means kept: the payload paths that the manifest lists at any
// ref tip (branches, tags, remote-tracking), in any stash entry, in the
// index or at HEAD, and the sidecars git tracks. A payload on disk that the
// working manifest lacks but one of these lists is a version from another
// branch (after a checkout, a stash, a merge in progress), never an
// unfinished add: verify and status report where it is from, repair leaves
// it alone, and a sidecar git tracks is never deleted.
//
// Cost: one tree lookup per ref and one parse per distinct manifest blob
// (refs mostly share them); no history walk. Callers load it only when the
// data dir holds a payload the working manifest lacks, so the common case
// (status, verify --fast, the hook on 10,000 datasets) pays nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace dsm {

class Repository;

class Referenced {
public:
  static Referenced load(const Repository& repo);
  // For a data-relative payload path: where git holds a manifest line for it
  // ("branch 'main'", "stash@{0}", "the index", ...), or nullopt.
  std::optional<std::string> source(const std::string& rel) const;
  // True when git tracks the sidecar `<rel>.yaml` (staged, committed or in
  // conflict): committed data, never deleted.
  bool sidecar_tracked(const std::string& rel) const;
  // True when a manifest at a ref other than HEAD and the index lists a
  // payload with this hash: a teammate's or another branch's version
  // ('dsm pull' fetches it), not something this checkout lost.
  bool hash_listed_elsewhere(const std::string& sha256) const { return m_elsewhere.count(sha256) > 0; }

private:
  std::unordered_map<std::string, std::string> m_source; // data-relative path -> first source
  std::unordered_set<std::string> m_tracked;             // data-relative tracked files
  std::unordered_set<std::string> m_elsewhere;           // hashes other refs list
};

// What the manifests of the whole history list: every commit reachable
// from any ref (git::blobs_in_history), HEAD and the index. `dsm gc` keeps a
// payload any of them lists (unless --history and a remote holds it); `dsm
// gc --remote` keeps every object they list; `dsm add` numbers after the
// highest sequence number they hold, so a number `dsm rm` removed is never
// used again. Cost: one tree lookup per commit, one parse per distinct
// manifest blob.
class History {
public:
  static History load(const Repository& repo);
  bool lists_path(const std::string& rel) const { return m_paths.count(rel) > 0; }
  bool lists_hash(const std::string& sha256) const { return m_hashes.count(sha256) > 0; }
  const std::set<std::string>& hashes() const { return m_hashes; }
  // Every hash a manifest in history lists at `rel` (normally one: a
  // version's name is never reused).
  std::set<std::string> hashes_at(const std::string& rel) const;
  // The highest sequence number of dataset `name` any of these manifests
  // lists (a payload or a chunked version's part), 0 when none.
  uint64_t max_seq(const Repository& repo, const std::string& name) const;

private:
  std::set<std::string> m_paths;                      // data-relative payload paths
  std::set<std::string> m_hashes;
  std::set<std::pair<std::string, std::string>> m_path_hash; // (path, a hash listed there)
};

// How verify, status and repair describe a payload only older commits list.
inline constexpr const char* k_removed_note =
  "removed by a commit ('dsm rm'), kept until 'dsm gc --history' finds a remote holding it";

// Loads on first use (see the cost note above).
class LazyReferenced {
public:
  explicit LazyReferenced(const Repository& repo) : m_repo(repo) {}
  const Referenced& get();
  // The whole history (History above), loaded on first use: only for a
  // payload no tip lists, which an older commit may (a version `dsm rm`
  // removed and a commit forgot, kept until `dsm gc --history`).
  const History& history();

private:
  const Repository& m_repo;
  std::optional<Referenced> m_value;
  std::optional<History> m_history;
};

} // namespace dsm

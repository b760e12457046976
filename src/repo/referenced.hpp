// Referenced means kept: the payload paths that the manifest lists at any
// ref tip (branches, tags, remote-tracking), in any stash entry, in the
// index or at HEAD, and the sidecars git tracks. A payload on disk that the
// working manifest lacks but one of these lists is a version from another
// branch (after a checkout, a stash, a merge in progress), never an
// unfinished add: verify and status report where it is from, repair leaves
// it alone, and a sidecar git tracks is never deleted.
//
// Cost: one tree lookup per ref; then, when the manifest blob each ref
// holds is what the last load saw (the cache in .dsm/local/referenced,
// keyed by those blob ids), one read of the cached result, else one parse
// per distinct manifest blob (refs mostly share them); no history walk.
// Callers load it only when the data dir holds a payload the working
// manifest lacks, so the common case (status, verify --fast, the hook on
// 10,000 datasets) pays nothing.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace dsm {

class Repository;
namespace git {
struct RefBlob;
}

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
  // The cache (referenced.cpp documents its format): false when absent,
  // stale (another key) or unreadable.
  bool load_cache(const std::filesystem::path& path, const std::string& key, const std::vector<git::RefBlob>& blobs);
  void save_cache(const Repository& repo, const std::filesystem::path& path, const std::string& key,
                  const std::vector<git::RefBlob>& blobs) const;

  std::unordered_map<std::string, std::string> m_source; // data-relative path -> first source
  std::unordered_set<std::string> m_tracked;             // data-relative tracked files
  std::unordered_set<std::string> m_elsewhere;           // hashes other refs list
};

// What the manifests of the whole history list: every commit reachable
// from any ref (git::blobs_in_history), HEAD and the index. `dsm gc` keeps a
// payload any of them lists (unless --history and a remote holds it); `dsm
// gc --remote` keeps every object they list. Cost: one tree lookup per
// commit, one parse per distinct manifest blob (seconds for thousands of
// commits of a manifest of 10,000 lines): for gc and for the rare status or
// verify that meets a payload no tip lists, never for every add.
class History {
public:
  // Cached::yes (verify, status, repair: views that only keep more when
  // they know more) remembers what each manifest blob listed in
  // .dsm/local/history and reads only blobs new since; Cached::no reads
  // every manifest afresh and touches no cache: what gc and gc --remote use,
  // because a command that deletes trusts no cache.
  enum class Cached { no, yes };
  static History load(const Repository& repo, Cached cached = Cached::no);
  bool lists_path(const std::string& rel) const { return m_paths.count(rel) > 0; }
  bool lists_hash(const std::string& sha256) const { return m_hashes.count(sha256) > 0; }
  const std::set<std::string>& hashes() const { return m_hashes; }
  // Every hash a manifest in history lists at `rel` (normally one: a
  // version's name is never reused).
  std::set<std::string> hashes_at(const std::string& rel) const;
private:
  std::set<std::string> m_paths;                      // data-relative payload paths
  std::set<std::string> m_hashes;
  std::set<std::pair<std::string, std::string>> m_path_hash; // (path, a hash listed there)
};

// The highest sequence number each dataset name has in any manifest of the
// history (the commits History reads): `dsm add` and `dsm resolve` number
// after it, so a number `dsm rm` removed and a commit forgot is never used
// again. A manifest blob never changes, so what each one holds is
// remembered in .dsm/local/seqcache ("dsm seqcache 1", the naming pattern,
// then "blob <oid>" and "seq <n> <name>" lines): an add reads only the
// manifests committed since the last one (the walk itself is one tree
// lookup per commit). A damaged or missing cache is rebuilt, never trusted.
class HistorySeq {
public:
  static HistorySeq load(const Repository& repo);
  // 0 when no manifest in history lists a version of `name`.
  uint64_t max_seq(const std::string& name) const;

private:
  std::map<std::string, uint64_t> m_max; // name -> highest number
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

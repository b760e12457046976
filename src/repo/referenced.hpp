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

#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

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

// Loads on first use (see the cost note above).
class LazyReferenced {
public:
  explicit LazyReferenced(const Repository& repo) : m_repo(repo) {}
  const Referenced& get();

private:
  const Repository& m_repo;
  std::optional<Referenced> m_value;
};

} // namespace dsm

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

#include <filesystem>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
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

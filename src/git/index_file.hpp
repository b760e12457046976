// A minimal reader of git's index file (versions 2, 3 and 4), for the hook's
// fast path. libgit2's git_index_read costs ~20 ms of CPU on a 10,000-entry
// index (it validates every path and checksums the file); the hook needs only
// paths, ids and modes, plus the cache-tree (the TREE extension), which tells
// which directories are unchanged since their tree was last written.
//
// Format: Documentation/gitformat-index.txt in git's sources. What this does
// not handle (split index "link", sparse-index "sdir" directory entries,
// SHA-256 object ids) makes read_index_file return nullopt, and the caller
// falls back to libgit2. The trailing checksum is not verified: git itself
// skips it with index.skipHash, and a torn index fails git commit first.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dsm::git {

using RawOid = std::array<uint8_t, 20>;

struct IndexFileEntry {
  std::string path;
  RawOid oid{};
  uint32_t mode = 0;
  uint32_t size = 0;         // work-tree size (truncated to 32 bits by git)
  // The rest of the stat data git recorded (32-bit, as in the file); git
  // trusts an entry whose file still has these and is not racily clean.
  uint32_t ctime_s = 0;
  uint32_t ctime_ns = 0;
  uint32_t mtime_s = 0;
  uint32_t mtime_ns = 0;
  uint32_t ino = 0;
  uint8_t stage = 0;         // 0 normally; 1-3 for conflicts
  bool intent_to_add = false; // `git add -N`: not part of the next commit
};

// One directory of the cache-tree. `valid` is false when git invalidated it
// (something under it changed since the tree was written).
struct CacheTreeNode {
  bool valid = false;
  RawOid oid{};
  std::map<std::string, std::unique_ptr<CacheTreeNode>, std::less<>> children;
};

struct IndexFile {
  uint32_t version = 0;
  std::vector<IndexFileEntry> entries; // sorted by path, as git writes them
  std::unique_ptr<CacheTreeNode> cache_tree; // null when the index has none
};

// nullopt when the file is missing (an empty index), unsupported or malformed
// (then use libgit2, which reports errors properly).
std::optional<IndexFile> read_index_file(const std::filesystem::path& path);

// Just the id of the root of the cache-tree, when the index has a valid one:
// the tree `git commit` is about to record. Skips the entries without
// building them, so it costs a read of the file and a scan for NULs. nullopt
// when there is none, it is invalid, or the index is unsupported.
std::optional<RawOid> read_index_root_tree(const std::filesystem::path& path);

} // namespace dsm::git

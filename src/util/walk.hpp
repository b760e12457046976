// A directory-tree listing that costs what the kernel must do and no more:
// openat(parent fd) + getdents64 + close per directory, the entry type from
// d_type, names as plain strings, lstat facts by fstatat on the open
// directory, the subtrees shared out among threads. std::filesystem's recursive iterator
// spends an fstat and two fcntl per directory and builds a path (a list of
// components) per entry: most of `dsm status` on 10,000 datasets.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

struct stat;

namespace dsm::util {

enum class EntryType { directory, regular, symlink, other };

// What lstat() says about a file, in the fields dsm uses.
struct FileStat {
  uint32_t mode = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  uint64_t inode = 0;
};

// The FileStat of an lstat() result.
FileStat file_stat_of(const struct ::stat& st);

struct ListedEntry {
  std::string rel;
  EntryType type = EntryType::other;
  bool has_stat = false; // regular files for which want_stat said yes
  FileStat stat;
};

// Every entry below root, sorted by rel (byte order, like the manifest).
// Regular files whose name want_stat accepts also get their lstat facts,
// taken with fstatat() on the already-open directory (no path lookup from
// the root). Root's subdirectories are shared out among `threads` threads
// (the calling one included): on a data dir of 10,000 datasets the listing
// is 10,000 openat + 20,000 getdents64, kernel time that scales with cores.
// Errors as walk_tree's (the first one met).
std::vector<ListedEntry> list_tree(const std::filesystem::path& root, unsigned threads,
                                   const std::function<bool(std::string_view name)>& want_stat);

// The entry for rel in a list_tree() result, or nullptr.
const ListedEntry* find_listed(const std::vector<ListedEntry>& listing, std::string_view rel);

} // namespace dsm::util

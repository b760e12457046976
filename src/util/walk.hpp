// A directory-tree walk that costs what the kernel must do and no more:
// openat(parent fd) + getdents64 + close per directory, the entry type from
// d_type, names as plain strings. std::filesystem's recursive iterator
// spends an fstat and two fcntl per directory and builds a path (a list of
// components) per entry: most of `dsm status` on 10,000 datasets.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

namespace dsm::util {

enum class EntryType { directory, regular, symlink, other };

// Calls fn(rel, type) for every entry below root (not root itself), rel being
// the '/'-joined path relative to root. Directories are reported, then
// descended; symlinks are never followed. Throws dsm::Error "cannot scan
// 'dir': ..." when a directory cannot be opened or read.
void walk_tree(const std::filesystem::path& root, const std::function<void(const std::string& rel, EntryType type)>& fn);

} // namespace dsm::util

// One way to open a path inside a directory dsm does not fully trust: the
// repository's data directory, its .dsm/, a directory remote. A cloned
// repository or a tampered remote can hold symlinks (to /etc, to another
// user's files, to /dev/zero) and FIFOs; dsm must never follow the first
// nor block on the second.
//
// The rule: below an opened base directory, no symlink is followed, no
// component may leave the base, and a file read as data must be a regular
// file, found out without blocking (opened O_NONBLOCK, then fstat). On
// Linux 5.6+ this is one openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)
// call; older kernels (ENOSYS) walk the components with
// openat(O_NOFOLLOW | O_DIRECTORY). The base itself is opened as given: it
// is the user's choice (a data directory on another disk, a mounted share).
#pragma once

#include "util/file.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <sys/stat.h>

namespace dsm::util {

namespace fs = std::filesystem;

// openat2(dirfd, rel, {flags, mode, RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS}),
// or its fallback. Returns the descriptor, or -1 with errno: ELOOP when a
// component is a symlink, EXDEV when `rel` would leave dirfd (absolute,
// `..`), and what open(2) says otherwise. O_CLOEXEC is always added.
int openat_beneath(int dirfd, const std::string& rel, int flags, unsigned mode = 0);

// Opens directory `dir` (following symlinks: the caller trusts it).
Fd open_directory(const fs::path& dir);

// A regular file opened for reading, and its stat.
struct RegularFile {
  Fd fd;
  struct stat st {};
};

// Opens `base`/`rel` for reading under the rule above: nullopt when it does
// not exist; throws Error naming the path when a component is a symlink,
// when it is not a regular file (FIFO, device, directory: refused without
// blocking), or when it cannot be opened.
std::optional<RegularFile> open_regular_beneath(const fs::path& base, const std::string& rel);
// The same below an already opened directory; `name` is the path for messages.
std::optional<RegularFile> open_regular_beneath(int dirfd, const std::string& rel, const fs::path& name);

// lstat of `base`/`rel` without following any symlink on the way: nullopt
// when it (or a parent) does not exist; throws when a parent directory is a
// symlink. The final component may be a symlink (S_ISLNK in the result).
std::optional<struct stat> lstat_beneath(const fs::path& base, const std::string& rel);
std::optional<struct stat> lstat_beneath(int dirfd, const std::string& rel, const fs::path& name);

// Opens a file the user named on the command line (symlinks followed: the
// user chose it) for reading without blocking on a FIFO: throws unless it
// is a regular file. `what` starts the message ("cannot add").
RegularFile open_regular(const fs::path& path, const std::string& what);

// Tests: false makes every later call take the openat(O_NOFOLLOW) walk, as
// on a kernel without openat2, so both paths are tested on any kernel.
void use_openat2(bool enabled);

// The message for a path refused because a component is a symlink.
std::string symlink_refusal(const fs::path& path);

} // namespace dsm::util

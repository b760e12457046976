#include "util/beneath.hpp"

#include "dsm/error.hpp"

#include <atomic>
#include <cerrno>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

namespace dsm::util {

namespace {

// Set once openat2 answered ENOSYS (kernel older than 5.6, or a seccomp
// filter that does not know it): every later call walks instead.
std::atomic<bool> g_no_openat2{false};

// The components of `rel`, or nullopt when it is absolute or has `..`.
std::optional<std::vector<std::string>> components(const std::string& rel) {
  if (rel.empty() || rel.front() == '/') {
    return std::nullopt;
  }
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= rel.size()) {
    size_t slash = rel.find('/', start);
    if (slash == std::string::npos) {
      slash = rel.size();
    }
    std::string part = rel.substr(start, slash - start);
    if (part == "..") {
      return std::nullopt;
    }
    if (!part.empty() && part != ".") {
      out.push_back(std::move(part));
    }
    start = slash + 1;
  }
  return out;
}

// After a failed openat: ENOTDIR on a component that is a symlink (what
// O_DIRECTORY | O_NOFOLLOW answers) becomes ELOOP, so callers see one errno.
void symlink_is_eloop(int at, const std::string& name) {
  int err = errno;
  struct stat st {};
  if (err == ENOTDIR && ::fstatat(at, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
    err = ELOOP;
  }
  errno = err;
}

int walk_beneath(int dirfd, const std::string& rel, int flags, unsigned mode) {
  std::optional<std::vector<std::string>> parts = components(rel);
  if (!parts) {
    errno = EXDEV;
    return -1;
  }
  if (parts->empty()) {
    return ::openat(dirfd, ".", flags, mode);
  }
  Fd cur;
  int at = dirfd;
  for (size_t i = 0; i + 1 < parts->size(); ++i) {
    int next = ::openat(at, (*parts)[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) {
      symlink_is_eloop(at, (*parts)[i]);
      return -1;
    }
    cur = Fd(next);
    at = cur.get();
  }
  // O_NOFOLLOW: a symlink as the last component is ELOOP, except with
  // O_DIRECTORY (ENOTDIR) or O_PATH (the link itself is opened): both are
  // turned into ELOOP, as openat2 answers.
  int fd = ::openat(at, parts->back().c_str(), flags | O_NOFOLLOW, mode);
  if (fd < 0) {
    symlink_is_eloop(at, parts->back());
    return -1;
  }
  if ((flags & O_PATH) != 0) {
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISLNK(st.st_mode)) {
      ::close(fd);
      errno = ELOOP;
      return -1;
    }
  }
  return fd;
}

std::string base_name(const fs::path& base, const std::string& rel) { return (base / rel).string(); }

} // namespace

int openat_beneath(int dirfd, const std::string& rel, int flags, unsigned mode) {
  flags |= O_CLOEXEC;
  if (!g_no_openat2.load(std::memory_order_relaxed)) {
    struct open_how how {};
    how.flags = static_cast<uint64_t>(flags);
    how.mode = (flags & (O_CREAT | O_TMPFILE)) != 0 ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;
    while (true) {
      long fd = ::syscall(SYS_openat2, dirfd, rel.c_str(), &how, sizeof how);
      if (fd >= 0) {
        return static_cast<int>(fd);
      }
      if (errno == EINTR || errno == EAGAIN) {
        continue; // EAGAIN: a concurrent rename; the kernel asks to retry
      }
      if (errno != ENOSYS) {
        return -1;
      }
      g_no_openat2.store(true, std::memory_order_relaxed);
      break;
    }
  }
  return walk_beneath(dirfd, rel, flags, mode);
}

void use_openat2(bool enabled) { g_no_openat2.store(!enabled, std::memory_order_relaxed); }

Fd open_directory(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    throw Error("cannot open directory " + quote(dir.string()) + ": " + errno_message(errno));
  }
  return Fd(fd);
}

std::string symlink_refusal(const fs::path& path) {
  return "refusing " + quote(path.string()) +
         ": it is or lies below a symlink, and dsm never follows symlinks inside the repository or a remote";
}

std::optional<RegularFile> open_regular_beneath(int dirfd, const std::string& rel, const fs::path& name) {
  int fd = openat_beneath(dirfd, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) {
      return std::nullopt;
    }
    if (err == ELOOP || err == EXDEV) {
      throw Error(symlink_refusal(name));
    }
    if (err == ENXIO) { // a FIFO with no writer, opened for writing only; or a socket
      throw Error("refusing " + quote(name.string()) + ": not a regular file");
    }
    throw Error("cannot open " + quote(name.string()) + ": " + errno_message(err));
  }
  RegularFile out;
  out.fd = Fd(fd);
  if (::fstat(fd, &out.st) != 0) {
    throw Error("cannot stat " + quote(name.string()) + ": " + errno_message(errno));
  }
  if (!S_ISREG(out.st.st_mode)) {
    throw Error("refusing " + quote(name.string()) + ": not a regular file" +
                (S_ISFIFO(out.st.st_mode) ? " (a FIFO)" : S_ISDIR(out.st.st_mode) ? " (a directory)" : ""));
  }
  // Regular files never block; clear the flag so reads behave as usual.
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return out;
}

std::optional<RegularFile> open_regular_beneath(const fs::path& base, const std::string& rel) {
  Fd dir;
  {
    int fd = ::open(base.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) {
        return std::nullopt;
      }
      throw Error("cannot open directory " + quote(base.string()) + ": " + errno_message(errno));
    }
    dir = Fd(fd);
  }
  return open_regular_beneath(dir.get(), rel, base_name(base, rel));
}

std::optional<struct stat> lstat_beneath(int dirfd, const std::string& rel, const fs::path& name) {
  std::string parent;
  std::string leaf = rel;
  if (size_t slash = rel.find_last_of('/'); slash != std::string::npos) {
    parent = rel.substr(0, slash);
    leaf = rel.substr(slash + 1);
  }
  if (leaf.empty() || leaf == "..") {
    throw Error(symlink_refusal(name));
  }
  Fd pfd;
  int at = dirfd;
  if (!parent.empty()) {
    int fd = openat_beneath(dirfd, parent, O_PATH | O_DIRECTORY);
    if (fd < 0) {
      int err = errno;
      if (err == ENOENT || err == ENOTDIR) {
        return std::nullopt;
      }
      if (err == ELOOP || err == EXDEV) {
        throw Error(symlink_refusal(name));
      }
      throw Error("cannot open " + quote(fs::path(name).parent_path().string()) + ": " + errno_message(err));
    }
    pfd = Fd(fd);
    at = pfd.get();
  }
  struct stat st {};
  if (::fstatat(at, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return std::nullopt;
    }
    throw Error("cannot stat " + quote(name.string()) + ": " + errno_message(errno));
  }
  return st;
}

std::optional<struct stat> lstat_beneath(const fs::path& base, const std::string& rel) {
  int fd = ::open(base.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return std::nullopt;
    }
    throw Error("cannot open directory " + quote(base.string()) + ": " + errno_message(errno));
  }
  Fd dir(fd);
  return lstat_beneath(dir.get(), rel, base_name(base, rel));
}

RegularFile open_regular(const fs::path& path, const std::string& what) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    throw Error(what + " " + quote(path.string()) + ": " + errno_message(errno));
  }
  RegularFile out;
  out.fd = Fd(fd);
  if (::fstat(fd, &out.st) != 0) {
    throw Error("cannot stat " + quote(path.string()) + ": " + errno_message(errno));
  }
  if (!S_ISREG(out.st.st_mode)) {
    throw Error(what + " " + quote(path.string()) + ": not a regular file" +
                (S_ISFIFO(out.st.st_mode) ? " (a FIFO)" : S_ISDIR(out.st.st_mode) ? " (a directory)" : ""));
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return out;
}

} // namespace dsm::util

#include "util/walk.hpp"

#include "dsm/error.hpp"
#include "util/file.hpp"

#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

namespace dsm::util {

namespace {

[[noreturn]] void fail(const std::filesystem::path& root, const std::string& rel, int err) {
  std::filesystem::path where = rel.empty() ? root : root / rel;
  throw Error("cannot scan " + quote(where.string()) + ": " + errno_message(err));
}

EntryType type_of(int dir_fd, const char* name, unsigned char d_type) {
  switch (d_type) {
  case DT_DIR:
    return EntryType::directory;
  case DT_REG:
    return EntryType::regular;
  case DT_LNK:
    return EntryType::symlink;
  case DT_UNKNOWN:
    break;
  default:
    return EntryType::other;
  }
  // Filesystems that do not fill d_type.
  struct stat st {};
  if (::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return EntryType::other;
  }
  if (S_ISDIR(st.st_mode)) {
    return EntryType::directory;
  }
  if (S_ISREG(st.st_mode)) {
    return EntryType::regular;
  }
  return S_ISLNK(st.st_mode) ? EntryType::symlink : EntryType::other;
}

void walk_dir(int dir_fd, const std::filesystem::path& root, const std::string& prefix,
              const std::function<void(const std::string&, EntryType)>& fn) {
  std::vector<char> buf(32u << 10);
  while (true) {
    long n = ::syscall(SYS_getdents64, dir_fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      fail(root, prefix, errno);
    }
    if (n == 0) {
      return;
    }
    for (long at = 0; at < n;) {
      // glibc's dirent64 has the layout of the kernel's linux_dirent64;
      // records are 8-byte aligned within the buffer.
      const auto* d = reinterpret_cast<const struct dirent64*>(buf.data() + at);
      at += d->d_reclen;
      const char* name = d->d_name;
      if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0) {
        continue;
      }
      std::string rel = prefix.empty() ? std::string(name) : prefix + "/" + name;
      EntryType type = type_of(dir_fd, name, d->d_type);
      fn(rel, type);
      if (type == EntryType::directory) {
        int sub = ::openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0) {
          fail(root, rel, errno);
        }
        Fd guard(sub);
        walk_dir(sub, root, rel, fn);
      }
    }
  }
}

} // namespace

void walk_tree(const std::filesystem::path& root, const std::function<void(const std::string& rel, EntryType type)>& fn) {
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    fail(root, "", errno);
  }
  Fd guard(fd);
  walk_dir(fd, root, "", fn);
}

} // namespace dsm::util

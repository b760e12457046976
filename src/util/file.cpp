#include "util/file.hpp"

#include "dsm/error.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <random>
#include <sys/stat.h>
#include <unistd.h>

namespace dsm {

std::string quote(const std::string& s) { return "'" + s + "'"; }

} // namespace dsm

namespace dsm::util {

std::string errno_message(int err) { return std::strerror(err); }

Fd::~Fd() {
  if (m_fd >= 0) {
    ::close(m_fd);
  }
}

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
    m_fd = o.release();
  }
  return *this;
}

Fd open_read(const fs::path& path) {
  // Non-blocking, then fstat: a FIFO or a device (planted where a payload or
  // a sidecar belongs) is refused at once, never waited on or read forever.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    throw Error("cannot open " + quote(path.string()) + ": " + errno_message(errno));
  }
  Fd out(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    throw Error("cannot stat " + quote(path.string()) + ": " + errno_message(errno));
  }
  if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISSOCK(st.st_mode)) {
    throw Error("cannot read " + quote(path.string()) + ": not a regular file");
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return out;
}

void write_all(int fd, const void* data, size_t size, const fs::path& path) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw Error("cannot write " + quote(path.string()) + ": " + errno_message(errno));
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
}

size_t read_some(int fd, void* data, size_t size, const fs::path& path) {
  size_t total = 0;
  char* p = static_cast<char*>(data);
  while (total < size) {
    ssize_t n = ::read(fd, p + total, size - total);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw Error("cannot read " + quote(path.string()) + ": " + errno_message(errno));
    }
    if (n == 0) {
      break;
    }
    total += static_cast<size_t>(n);
  }
  return total;
}

std::vector<fs::path> make_dirs_below(const fs::path& base, const fs::path& dir) {
  std::vector<fs::path> changed;
  std::error_code ec;
  fs::create_directories(base, ec);
  if (ec) {
    throw Error("cannot create directory " + quote(base.string()) + ": " + ec.message());
  }
  fs::path rel = dir.lexically_relative(base);
  if (rel.empty() || *rel.begin() == "..") {
    throw Error("internal error: " + quote(dir.string()) + " is not below " + quote(base.string()));
  }
  fs::path at = base;
  for (const fs::path& part : rel) {
    if (part == ".") {
      continue;
    }
    fs::path parent = at;
    at /= part;
    if (::mkdir(at.c_str(), 0755) == 0) {
      changed.push_back(parent);
      continue;
    }
    int err = errno;
    struct stat st {};
    if (err != EEXIST || ::lstat(at.c_str(), &st) != 0) {
      throw Error("cannot create directory " + quote(at.string()) + ": " + errno_message(err));
    }
    if (S_ISLNK(st.st_mode)) {
      throw Error("refusing to write through " + quote(at.string()) +
                  ": it is a symlink, and dsm never follows symlinks inside the data directory for writes "
                  "(replace it with a real directory)");
    }
    if (!S_ISDIR(st.st_mode)) {
      throw Error("cannot create directory " + quote(at.string()) + ": a file of that name exists");
    }
  }
  return changed;
}

void fsync_dir(const fs::path& dir) {
  fs::path d = dir.empty() ? fs::path(".") : dir;
  int fd = ::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    throw Error("cannot open directory " + quote(d.string()) + ": " + errno_message(errno));
  }
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0 && err != EINVAL) { // some filesystems cannot fsync directories
    throw Error("cannot sync directory " + quote(d.string()) + ": " + errno_message(err));
  }
}

namespace {

std::string random_suffix() {
  static thread_local std::mt19937_64 rng{std::random_device{}() ^
                                          (static_cast<uint64_t>(::getpid()) << 32)};
  static const char k_chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string s;
  for (int i = 0; i < 10; ++i) {
    s += k_chars[rng() % (sizeof(k_chars) - 1)];
  }
  return s;
}

} // namespace

AtomicFile::AtomicFile(fs::path target, unsigned mode) : m_target(std::move(target)), m_mode(mode) {
  fs::path dir = m_target.parent_path();
  for (int attempt = 0; attempt < 100; ++attempt) {
    m_temp = dir / (std::string(k_temp_prefix) + m_target.filename().string() + "." + random_suffix());
    m_fd = ::open(m_temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (m_fd >= 0) {
      return;
    }
    if (errno != EEXIST) {
      throw Error("cannot create " + quote(m_temp.string()) + ": " + errno_message(errno));
    }
  }
  throw Error("cannot create a temporary file beside " + quote(m_target.string()));
}

AtomicFile::~AtomicFile() {
  if (m_fd >= 0) {
    ::close(m_fd);
  }
  if (!m_committed) {
    ::unlink(m_temp.c_str());
  }
}

void AtomicFile::write(const void* data, size_t size) {
  write_all(m_fd, data, size, m_temp);
  m_written += size;
}

void AtomicFile::commit(Replace replace, Sync sync) {
  if (::fchmod(m_fd, m_mode) != 0) {
    throw Error("cannot set permissions of " + quote(m_temp.string()) + ": " + errno_message(errno));
  }
  if (sync == Sync::yes && ::fsync(m_fd) != 0) {
    throw Error("cannot sync " + quote(m_temp.string()) + ": " + errno_message(errno));
  }
  // Close, then rename: a failed close (NFS) must not leave a renamed file
  // whose content never reached the server.
  int fd = m_fd;
  m_fd = -1;
  if (::close(fd) != 0) {
    throw Error("cannot close " + quote(m_temp.string()) + ": " + errno_message(errno));
  }
  if (replace == Replace::yes) {
    if (::rename(m_temp.c_str(), m_target.c_str()) != 0) {
      throw Error("cannot rename " + quote(m_temp.string()) + " to " + quote(m_target.string()) + ": " +
                  errno_message(errno));
    }
  } else {
    // link() fails with EEXIST instead of replacing; portable to every
    // local filesystem we target (renameat2 needs glibc 2.28 + fs support).
    if (::link(m_temp.c_str(), m_target.c_str()) != 0) {
      int err = errno;
      throw Error("cannot create " + quote(m_target.string()) + ": " + errno_message(err));
    }
    ::unlink(m_temp.c_str());
  }
  m_committed = true;
  if (sync == Sync::yes) {
    fsync_dir(m_target.parent_path());
  }
}

std::string read_user_file(const fs::path& path, uint64_t max_size) {
  int raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (raw < 0) {
    throw Error("cannot open " + quote(path.string()) + ": " + errno_message(errno));
  }
  Fd fd(raw);
  std::string out;
  std::string buf(64 * 1024, '\0');
  while (size_t n = read_some(fd.get(), buf.data(), buf.size(), path)) {
    if (out.size() + n > max_size) {
      throw Error("cannot read " + quote(path.string()) + ": file too large (more than " + std::to_string(max_size) +
                  " bytes)");
    }
    out.append(buf.data(), n);
  }
  return out;
}

std::string read_file(const fs::path& path, uint64_t max_size) {
  // Non-blocking open, then fstat: a FIFO (or device) where a small file
  // belongs is refused at once instead of waiting for a writer forever.
  int raw = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (raw < 0) {
    throw Error("cannot open " + quote(path.string()) + ": " + errno_message(errno));
  }
  Fd fd(raw);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    throw Error("cannot stat " + quote(path.string()) + ": " + errno_message(errno));
  }
  if (S_ISDIR(st.st_mode)) {
    throw Error("cannot read " + quote(path.string()) + ": is a directory");
  }
  if (!S_ISREG(st.st_mode)) {
    throw Error("cannot read " + quote(path.string()) + ": not a regular file");
  }
  ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
  if (static_cast<uint64_t>(st.st_size) > max_size) {
    throw Error("cannot read " + quote(path.string()) + ": file too large (" + std::to_string(st.st_size) +
                " bytes)");
  }
  std::string out;
  out.resize(static_cast<size_t>(st.st_size));
  size_t n = read_some(fd.get(), out.data(), out.size(), path);
  out.resize(n);
  return out;
}

void write_file_atomic(const fs::path& path, std::string_view content, unsigned mode) {
  AtomicFile f(path, mode);
  f.write(content);
  f.commit();
}

void write_cache_atomic(const fs::path& path, std::string_view content) {
  AtomicFile f(path, 0644);
  f.write(content);
  f.commit(AtomicFile::Replace::yes, AtomicFile::Sync::no);
}

} // namespace dsm::util

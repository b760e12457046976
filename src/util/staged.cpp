#include "util/staged.hpp"

#include "dsm/error.hpp"
#include "util/file.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <random>
#include <utility>
#include <sys/stat.h>
#include <unistd.h>

namespace dsm {

namespace {

std::string random_suffix() {
  static thread_local std::mt19937_64 rng{std::random_device{}() ^ (static_cast<uint64_t>(::getpid()) << 32)};
  static const char k_chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string s;
  for (int i = 0; i < 10; ++i) {
    s += k_chars[rng() % (sizeof(k_chars) - 1)];
  }
  return s;
}

std::string temp_name(const fs::path& dir, const std::string& hint) {
  return (dir / (std::string(util::k_temp_prefix) + hint + "." + random_suffix())).string();
}

// Threshold above which one syncfs beats an fsync per file (each fsync of a
// fresh file costs a journal commit on ext4).
} // namespace

StagedFile::StagedFile(const fs::path& dir, const std::string& hint) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    m_temp = temp_name(dir, hint);
    m_fd = ::open(m_temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (m_fd >= 0) {
      return;
    }
    if (errno != EEXIST) {
      throw Error("cannot create " + quote(m_temp) + ": " + util::errno_message(errno));
    }
  }
  throw Error("cannot create a temporary file in " + quote(dir.string()));
}

std::unique_ptr<StagedFile> StagedFile::link_from(const fs::path& source, const fs::path& dir,
                                                  const std::string& hint) {
  std::unique_ptr<StagedFile> f(new StagedFile());
  for (int attempt = 0; attempt < 100; ++attempt) {
    f->m_temp = temp_name(dir, hint);
    if (::link(source.c_str(), f->m_temp.c_str()) == 0) {
      f->m_fd = ::open(f->m_temp.c_str(), O_RDONLY | O_CLOEXEC);
      if (f->m_fd < 0) {
        throw Error("cannot open " + quote(f->m_temp) + ": " + util::errno_message(errno));
      }
      return f;
    }
    if (errno == EXDEV || errno == EPERM || errno == EMLINK || errno == ENOTSUP) {
      f->m_temp.clear();
      return nullptr;
    }
    if (errno != EEXIST) {
      int err = errno;
      f->m_temp.clear();
      throw Error("cannot link " + quote(source.string()) + " into " + quote(dir.string()) + ": " +
                  util::errno_message(err));
    }
  }
  f->m_temp.clear();
  throw Error("cannot create a temporary file in " + quote(dir.string()));
}

StagedFile::~StagedFile() {
  if (m_fd >= 0) {
    ::close(m_fd);
  }
  if (!m_published && !m_temp.empty()) {
    ::unlink(m_temp.c_str());
  }
}

void StagedFile::write(const void* data, size_t size) { util::write_all(m_fd, data, size, fs::path(m_temp)); }

util::Fd StagedFile::reopen() const {
  int fd = ::open(m_temp.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    throw Error("cannot open " + quote(m_temp) + ": " + util::errno_message(errno));
  }
  return util::Fd(fd);
}

void StagedFile::chmod(unsigned mode) {
  util::Fd reopened;
  int fd = m_fd;
  if (fd < 0) {
    reopened = reopen();
    fd = reopened.get();
  }
  if (::fchmod(fd, mode) != 0) {
    throw Error("cannot set permissions of " + quote(m_temp) + ": " + util::errno_message(errno));
  }
}

void StagedFile::fsync() {
  util::Fd reopened;
  int fd = m_fd;
  if (fd < 0 && !m_published && !m_temp.empty()) {
    reopened = reopen();
    fd = reopened.get();
  }
  if (fd >= 0 && ::fsync(fd) != 0) {
    throw Error("cannot sync " + quote(m_temp) + ": " + util::errno_message(errno));
  }
}

void StagedFile::close() {
  if (m_fd < 0) {
    return;
  }
  int fd = m_fd;
  m_fd = -1;
  if (::close(fd) != 0) {
    throw Error("cannot close " + quote(m_temp) + ": " + util::errno_message(errno));
  }
}

bool StagedFile::publish_noreplace(const fs::path& target) {
  m_published = dsm::publish_noreplace(m_temp, target);
  return m_published;
}

bool publish_noreplace(const fs::path& temp, const fs::path& target) {
  // link() fails with EEXIST instead of replacing, on every local
  // filesystem; the temp name is then removed.
  if (::link(temp.c_str(), target.c_str()) != 0) {
    if (errno == EEXIST) {
      return false;
    }
    throw Error("cannot create " + quote(target.string()) + ": " + util::errno_message(errno));
  }
  ::unlink(temp.c_str());
  return true;
}

std::string temp_token() { return random_suffix(); }

void FilesToSync::add(const fs::path& file, int fd) {
  if (m_few.size() + 1 < k_syncfs_threshold && m_per_fs.empty()) {
    m_few.push_back(file);
    return;
  }
  // Many: one directory per filesystem from now on, the few so far too.
  for (const auto& f : std::exchange(m_few, {})) {
    util::Fd reopened(::open(f.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (reopened.get() < 0) {
      throw Error("cannot open " + quote(f.string()) + ": " + util::errno_message(errno));
    }
    add_filesystem(f, reopened.get());
  }
  add_filesystem(file, fd);
}

void FilesToSync::add_filesystem(const fs::path& file, int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    throw Error("cannot stat " + quote(file.string()) + ": " + util::errno_message(errno));
  }
  for (const auto& [dev, dir] : m_per_fs) {
    if (dev == st.st_dev) {
      return;
    }
  }
  m_per_fs.emplace_back(st.st_dev, file.parent_path());
}

void FilesToSync::sync() const {
  for (const auto& f : m_few) {
    util::Fd fd(::open(f.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0 || ::fsync(fd.get()) != 0) {
      throw Error("cannot sync " + quote(f.string()) + ": " + util::errno_message(errno));
    }
  }
  for (const auto& [dev, dir] : m_per_fs) {
    util::Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0) {
      throw Error("cannot open directory " + quote(dir.string()) + ": " + util::errno_message(errno));
    }
    if (::syncfs(fd.get()) != 0) {
      throw Error("cannot sync the filesystem of " + quote(dir.string()) + ": " + util::errno_message(errno));
    }
  }
}

void sync_staged(const std::vector<StagedFile*>& files) {
  if (files.size() < k_syncfs_threshold) {
    for (StagedFile* f : files) {
      f->fsync();
    }
    return;
  }
  // One syncfs per distinct filesystem.
  std::vector<dev_t> done;
  // A file closed early (dsm add of many files keeps no descriptor per
  // file) is reopened, one at a time, for its device.
  for (StagedFile* f : files) {
    util::Fd reopened;
    int fd = f->fd();
    if (fd < 0) {
      reopened = f->reopen();
      fd = reopened.get();
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      f->fsync();
      continue;
    }
    if (std::find(done.begin(), done.end(), st.st_dev) != done.end()) {
      continue;
    }
    done.push_back(st.st_dev);
    if (::syncfs(fd) != 0) {
      throw Error("cannot sync the filesystem of " + quote(f->temp_path().string()) + ": " +
                  util::errno_message(errno));
    }
  }
}

void sync_dirs(const std::vector<fs::path>& dirs) {
  DirsToSync to_sync;
  for (const auto& d : dirs) {
    to_sync.add(d);
  }
  to_sync.sync();
}

void DirsToSync::add(const fs::path& dir) {
  if (!m_many) {
    if (std::find(m_few.begin(), m_few.end(), dir) != m_few.end()) {
      return;
    }
    m_few.push_back(dir);
    if (m_few.size() < k_syncfs_threshold) {
      return;
    }
    m_many = true;
    std::vector<fs::path> few = std::move(m_few);
    m_few.clear();
    for (const auto& d : few) {
      add(d);
    }
    return;
  }
  // Many directories (`dsm add` of 100,000 new datasets): an fsync each is
  // a journal commit each, minutes of waiting on the disk; syncfs commits
  // every new directory entry of the filesystem at once.
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    util::fsync_dir(dir); // says what is wrong with it
    return;
  }
  for (const auto& [dev, path] : m_per_fs) {
    if (dev == st.st_dev) {
      return;
    }
  }
  m_per_fs.emplace_back(st.st_dev, dir);
}

void DirsToSync::sync() const {
  for (const auto& d : m_few) {
    util::fsync_dir(d);
  }
  for (const auto& [dev, d] : m_per_fs) {
    util::Fd fd(::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0) {
      throw Error("cannot open directory " + quote(d.string()) + ": " + util::errno_message(errno));
    }
    if (::syncfs(fd.get()) != 0) {
      throw Error("cannot sync the filesystem of " + quote(d.string()) + ": " + util::errno_message(errno));
    }
  }
}

} // namespace dsm

// File helpers: atomic writes, whole-file reads of small files, fsync.
// No dsm ideas here; everything throws dsm::Error with the path quoted.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace dsm::util {

namespace fs = std::filesystem;

// Writes a file atomically: a hidden temp file in the target's directory,
// check byte counts, fsync, close, rename, fsync the directory. Nothing is
// visible at the target until commit(); the temp file is removed if the
// object is destroyed without commit() (error, exception, early return).
class AtomicFile {
public:
  // mode: permission bits of the final file (e.g. 0444 for payloads).
  explicit AtomicFile(fs::path target, unsigned mode = 0644);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t size);
  void write(std::string_view s) { write(s.data(), s.size()); }
  int fd() const { return m_fd; }
  const fs::path& temp_path() const { return m_temp; }
  uint64_t bytes_written() const { return m_written; }

  // fsync + rename into place. With Replace::no the rename fails (EEXIST) if
  // the target exists, using renameat2(RENAME_NOREPLACE) or link()+unlink().
  enum class Replace { yes, no };
  // Sync::no skips both fsyncs: for caches only (write_cache_atomic).
  enum class Sync { yes, no };
  void commit(Replace replace = Replace::yes, Sync sync = Sync::yes);

private:
  fs::path m_target;
  fs::path m_temp;
  int m_fd = -1;
  unsigned m_mode;
  uint64_t m_written = 0;
  bool m_committed = false;
};

// Prefix of every temp file dsm creates; `dsm repair` and verify know it.
inline constexpr std::string_view k_temp_prefix = ".dsm-tmp-";

// Reads a whole (small) file. Throws if larger than max_size, and if it is
// not a regular file: a FIFO or device is refused at once (opened
// non-blocking), never waited on. For files of the repository.
std::string read_file(const fs::path& path, uint64_t max_size = 256u << 20);
// The same for a file the user named (--meta FILE, ~/.aws/credentials):
// a pipe (--meta <(...)) is read to its end.
std::string read_user_file(const fs::path& path, uint64_t max_size);
// Writes a small file atomically (AtomicFile + commit).
void write_file_atomic(const fs::path& path, std::string_view content, unsigned mode = 0644);
// The same for a cache that is rebuilt when lost (.dsm/local/statcache):
// renamed into place whole, without fsync. After a crash it holds the old or
// the new content, or (on a filesystem without rename ordering) lines that
// no longer parse, which the reader skips; never a mix it would trust.
void write_cache_atomic(const fs::path& path, std::string_view content);
void fsync_dir(const fs::path& dir);
// Creates `dir` and any missing parents up to `base` (created too when
// missing), never following a symlink below `base`: an existing component
// that is a symlink or not a directory is refused with an error naming it.
// dsm writes into the data directory through this, so a symlink planted in
// it can never redirect a write outside the repository. `base` itself may
// be a symlink (a data directory kept on another disk). Returns the
// directories that gained an entry (the parent of each one created): what a
// caller fsyncs to make the new directories durable.
std::vector<fs::path> make_dirs_below(const fs::path& base, const fs::path& dir);
// Writes all bytes to fd, retrying on EINTR/short writes. Throws naming path.
void write_all(int fd, const void* data, size_t size, const fs::path& path_for_errors);
// Reads up to size bytes, retrying on EINTR; returns bytes read (0 = EOF).
size_t read_some(int fd, void* data, size_t size, const fs::path& path_for_errors);
// strerror(errno) as std::string.
std::string errno_message(int err);

// RAII file descriptor.
class Fd {
public:
  Fd() = default;
  explicit Fd(int fd) : m_fd(fd) {}
  ~Fd();
  Fd(Fd&& o) noexcept : m_fd(o.release()) {}
  Fd& operator=(Fd&& o) noexcept;
  int get() const { return m_fd; }
  int release() { int f = m_fd; m_fd = -1; return f; }
  explicit operator bool() const { return m_fd >= 0; }

private:
  int m_fd = -1;
};

// Opens for reading; throws "cannot open 'p': ...", and refuses a FIFO, device or
// socket at once (opened non-blocking, then fstat), so nothing hangs on one.
Fd open_read(const fs::path& path);

} // namespace dsm::util

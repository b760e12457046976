// A file written under a hidden temp name in its final directory, published
// later under a name chosen at publish time. Unlike util::AtomicFile it
// leaves syncing to the caller, so `dsm add` can batch the syncs of many
// files into one (sync_staged) instead of paying an fsync per file.
#pragma once

#include "util/file.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace dsm {

namespace fs = std::filesystem;

// From this many files on, sync_staged makes them durable with one syncfs
// per filesystem (one journal commit instead of N), and a caller may close
// each file as soon as it is written.
inline constexpr size_t k_syncfs_threshold = 4;

class StagedFile {
public:
  // Creates `<dir>/.dsm-tmp-<hint>.<random>` (O_EXCL, mode 0600).
  StagedFile(const fs::path& dir, const std::string& hint);
  // A hard link to `source` under a temp name in `dir`; null when the
  // two are on different filesystems (EXDEV) or linking is not permitted.
  static std::unique_ptr<StagedFile> link_from(const fs::path& source, const fs::path& dir, const std::string& hint);
  ~StagedFile(); // removes the temp unless published
  StagedFile(const StagedFile&) = delete;
  StagedFile& operator=(const StagedFile&) = delete;

  void write(const void* data, size_t size);
  void write(const std::string& s) { write(s.data(), s.size()); }
  int fd() const { return m_fd; }
  fs::path temp_path() const { return m_temp; }
  // chmod, fsync and sync_staged work on a closed file too (reopened by its
  // temp name, never through a symlink), so `dsm add` of many files can
  // close each as soon as it is written and hold a bounded number of
  // descriptors however many files it takes.
  void chmod(unsigned mode);
  // fsync now (for one file; many files use sync_staged).
  void fsync();
  // Closes the descriptor, checking for deferred write errors.
  void close();
  // Gives the file its final name without replacing anything: false when
  // `target` exists (the caller picks another name).
  bool publish_noreplace(const fs::path& target);
  bool published() const { return m_published; }

  // The temp file opened again for reading (O_NOFOLLOW).
  util::Fd reopen() const;

private:
  StagedFile() = default;
  // A string, not an fs::path: a path also holds a list of its components,
  // and `dsm add` of 100,000 files holds one StagedFile per file.
  std::string m_temp;
  int m_fd = -1;
  bool m_published = false;
};

// Makes the data of all files durable: fsync each when few, one syncfs(2)
// of their filesystem when many (one journal commit instead of N).
void sync_staged(const std::vector<StagedFile*>& files);

// 10 random characters of [a-z0-9]: what makes a temp name unique.
std::string temp_token();

// Gives the file `temp` the name `target` without replacing anything (link,
// then unlink the temp): false when `target` exists.
bool publish_noreplace(const fs::path& temp, const fs::path& target);

// Files written one after another and made durable together, the way
// sync_staged does for StagedFiles: fsync each when few; from
// k_syncfs_threshold on, one syncfs per filesystem, keeping only one
// directory per filesystem (`dsm add` of 100,000 files keeps no name each).
class FilesToSync {
public:
  // `fd` is the file, open; `file` its name, valid until sync().
  void add(const fs::path& file, int fd);
  void sync() const;

private:
  void add_filesystem(const fs::path& file, int fd);
  std::vector<fs::path> m_few;
  std::vector<std::pair<dev_t, fs::path>> m_per_fs; // a directory of each filesystem
};

// Makes the entries of each distinct directory durable: fsync each when
// few, one syncfs(2) per filesystem when many.
void sync_dirs(const std::vector<fs::path>& dirs);

// The same, for directories named one at a time: holds the first few, and
// from k_syncfs_threshold distinct ones on only one per filesystem (`dsm add`
// of 100,000 new datasets would otherwise hold 100,000 paths to syncfs one
// filesystem).
class DirsToSync {
public:
  void add(const fs::path& dir);
  void sync() const;

private:
  std::vector<fs::path> m_few;                        // until the threshold
  std::vector<std::pair<dev_t, fs::path>> m_per_fs;   // from then on
  bool m_many = false;
};

} // namespace dsm

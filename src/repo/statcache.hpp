// The stat cache, `.dsm/local/statcache` (local, gitignored): for each
// payload, the stat facts it had when dsm last hashed it and found the hash
// right. `verify --fast`, `status` and the pre-commit hook trust a payload
// whose facts still match instead of re-hashing it.
//
// Format (text, LF):
//   dsm-statcache 1
//   <sha256> <size> <mtime_ns> <ctime_ns> <inode> <path>
// path is relative to the data dir, percent-encoded like the manifest.
// Lines that do not parse are dropped (it is a cache: losing an entry only
// costs a re-hash). Another version is ignored entirely.
//
// Racily clean entries (git's index rule): a file modified in the same
// timestamp tick as the cache was written could have changed after it was
// hashed without its mtime moving. So an entry is trusted only when its
// mtime is strictly older than the cache file's own mtime at load time.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct stat;

namespace dsm {

class Repository;
namespace fs = std::filesystem;

struct StatFacts {
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  uint64_t inode = 0;
  static StatFacts from(const struct stat& st);
  bool operator==(const StatFacts&) const = default;
};

class StatCache {
public:
  struct Entry {
    StatFacts facts;
    std::string sha256;
  };

  StatCache() = default;
  // Move-only: it can be large, and a copy is never what a caller means.
  StatCache(StatCache&&) = default;
  StatCache& operator=(StatCache&&) = default;
  StatCache(const StatCache&) = delete;
  StatCache& operator=(const StatCache&) = delete;

  // A missing or unreadable cache is empty, never an error.
  static StatCache load(const fs::path& file);
  // Atomic rewrite (temp + rename), entries sorted by path. Errors are
  // swallowed: the cache is an optimisation and must never fail a command.
  void save(const fs::path& file) const;
  // save() with the entries `more` yields recorded on the way: `more` fills
  // its argument with the next one, in increasing order of path, and returns
  // false after the last (views valid until the next call). `dsm add` of
  // 100,000 files records its payloads this way, without a node each, and
  // the text goes out in pieces, never whole.
  struct Recorded {
    std::string_view rel;
    StatFacts facts;
    std::string_view sha256;
  };
  void save_with(const fs::path& file, const std::function<bool(Recorded&)>& more) const;

  // The hash recorded for `rel` if `facts` match and the entry is not racy.
  std::optional<std::string> trusted_hash(std::string_view rel, const StatFacts& facts) const;
  // The entry (even racy) for `rel`.
  std::optional<Entry> find(std::string_view rel) const;
  void record(const std::string& rel, const StatFacts& facts, const std::string& sha256);
  void forget(const std::string& rel);
  bool dirty() const { return m_dirty; }

private:
  // As loaded: a sorted table of fixed-size rows (binary hash and facts)
  // and one buffer of their paths. The file is read in blocks and not kept:
  // at 100,000 datasets it is about 50 MB of text, and holding it with a
  // table of views into it was most of `dsm status`'s memory. Changes
  // since go to m_changes (nullopt: forgotten).
  struct Row {
    uint32_t rel_offset = 0; // into m_paths
    uint32_t rel_size = 0;
    StatFacts facts;
    std::array<uint8_t, 32> sha256{};
  };
  std::string_view rel_of(const Row& r) const { return {m_paths.data() + r.rel_offset, r.rel_size}; }
  const Row* loaded(std::string_view rel) const;
  bool parse_line(std::string_view line);

  std::string m_paths;
  std::vector<Row> m_rows;
  std::map<std::string, std::optional<Entry>, std::less<>> m_changes;
  int64_t m_written_ns = 0; // cache file mtime at load; 0 = nothing trusted
  bool m_dirty = false;
};

// For the pre-commit hook and others: true when the payload at `abs` (inside
// repo's data dir) has stat facts matching a non-racy cache entry whose
// hash equals `expected_sha256`. Never throws; false means "hash it".
bool is_verified_unchanged(const Repository& repo, const fs::path& abs, const std::string& expected_sha256);

} // namespace dsm

#include "repo/statcache.hpp"

#include "dsm/error.hpp"
#include "repo/manifest.hpp"
#include "repo/repository.hpp"
#include "util/file.hpp"
#include "util/sha256.hpp"

#include <algorithm>
#include <charconv>
#include <fcntl.h>
#include <sys/stat.h>
#include <vector>

namespace dsm {

namespace {

constexpr std::string_view k_header = "dsm-statcache 1\n";

int64_t ns(const struct timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

template <typename T> bool parse_num(std::string_view& s, T& out) {
  auto res = std::from_chars(s.data(), s.data() + s.size(), out);
  if (res.ec != std::errc() || res.ptr == s.data() + s.size() || *res.ptr != ' ') {
    return false;
  }
  s.remove_prefix(static_cast<size_t>(res.ptr - s.data()) + 1);
  return true;
}

} // namespace

StatFacts StatFacts::from(const struct stat& st) {
  StatFacts f;
  f.size = static_cast<uint64_t>(st.st_size);
  f.mtime_ns = ns(st.st_mtim);
  f.ctime_ns = ns(st.st_ctim);
  f.inode = static_cast<uint64_t>(st.st_ino);
  return f;
}

// One line: `<sha256> <size> <mtime_ns> <ctime_ns> <inode> <path>`. A line
// that does not parse is dropped (false).
bool StatCache::parse_line(std::string_view line) {
  if (line.size() < 66 || line[64] != ' ') {
    return false;
  }
  Row row;
  if (!util::sha256_from_hex(line.substr(0, 64), row.sha256)) {
    return false;
  }
  line.remove_prefix(65);
  if (!parse_num(line, row.facts.size) || !parse_num(line, row.facts.mtime_ns) ||
      !parse_num(line, row.facts.ctime_ns) || !parse_num(line, row.facts.inode) || line.empty()) {
    return false;
  }
  std::optional<std::string> decoded;
  if (line.find('%') != std::string_view::npos) {
    decoded = manifest_decode_path(std::string(line));
    if (!decoded) {
      return false;
    }
    line = *decoded;
  }
  if (m_paths.size() + line.size() > UINT32_MAX) {
    return false; // beyond what a row can address: those entries are re-hashed
  }
  row.rel_offset = static_cast<uint32_t>(m_paths.size());
  row.rel_size = static_cast<uint32_t>(line.size());
  m_paths += line;
  m_rows.push_back(row);
  return true;
}

StatCache StatCache::load(const fs::path& file) {
  StatCache c;
  struct stat st {};
  try {
    // Only a regular file, never through a symlink, never blocking on a
    // FIFO: the cache is an optimisation, anything else is no cache.
    int raw = ::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (raw < 0) {
      return c;
    }
    util::Fd fd(raw);
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
      return StatCache();
    }
    // A line is 140 to 160 bytes (64 for the hash, four numbers, a path):
    // reserving for 128 never grows the table, whose doubling would hold
    // two copies at once.
    const auto expected = static_cast<size_t>(st.st_size) / 128 + 1;
    c.m_rows.reserve(expected);
    c.m_paths.reserve(expected * 40);
    constexpr size_t k_block = 1 << 20;
    constexpr size_t k_max_line = 1 << 16; // longer: not a line dsm wrote
    std::vector<char> block(k_block);
    std::string carry; // a line cut by the block's end
    bool header = false;
    bool skipping = false; // inside an over-long line
    while (true) {
      size_t n = util::read_some(fd.get(), block.data(), block.size(), file);
      if (n == 0) {
        break; // a torn last line (no newline) stays in `carry`: dropped
      }
      std::string_view rest(block.data(), n);
      while (!rest.empty()) {
        size_t nl = rest.find('\n');
        if (nl == std::string_view::npos) {
          if (!skipping && carry.size() + rest.size() <= k_max_line) {
            carry.append(rest);
          } else {
            carry.clear();
            skipping = true;
          }
          break;
        }
        std::string_view line = rest.substr(0, nl);
        rest.remove_prefix(nl + 1);
        if (skipping || carry.size() + line.size() > k_max_line) {
          skipping = false;
          carry.clear();
          continue;
        }
        if (!carry.empty()) {
          carry.append(line);
          line = carry;
        }
        if (!header) {
          if (line != k_header.substr(0, k_header.size() - 1)) {
            return StatCache(); // another version, or not a stat cache
          }
          header = true;
        } else {
          c.parse_line(line);
        }
        carry.clear();
      }
    }
    if (!header) {
      return StatCache();
    }
  } catch (const Error&) {
    return StatCache();
  }
  c.m_written_ns = ns(st.st_mtim);
  auto less = [&c](const Row& x, const Row& y) { return c.rel_of(x) < c.rel_of(y); };
  if (!std::is_sorted(c.m_rows.begin(), c.m_rows.end(), less)) {
    std::stable_sort(c.m_rows.begin(), c.m_rows.end(), less);
  }
  // A path listed twice (a hand-edited file): the last line wins, as it did
  // when lines were inserted into a map one by one.
  auto same = [&c](const Row& x, const Row& y) { return c.rel_of(x) == c.rel_of(y); };
  if (std::adjacent_find(c.m_rows.begin(), c.m_rows.end(), same) != c.m_rows.end()) {
    std::vector<Row> unique;
    for (size_t i = 0; i < c.m_rows.size(); ++i) {
      if (i + 1 < c.m_rows.size() && same(c.m_rows[i + 1], c.m_rows[i])) {
        continue;
      }
      unique.push_back(c.m_rows[i]);
    }
    c.m_rows = std::move(unique);
  }
  return c;
}

const StatCache::Row* StatCache::loaded(std::string_view rel) const {
  auto it = std::lower_bound(m_rows.begin(), m_rows.end(), rel,
                             [this](const Row& r, std::string_view v) { return rel_of(r) < v; });
  return it != m_rows.end() && rel_of(*it) == rel ? &*it : nullptr;
}

void StatCache::save(const fs::path& file) const { save_with(file, nullptr); }

void StatCache::save_with(const fs::path& file, const std::function<bool(Recorded&)>& more) const {
  try {
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    util::AtomicFile f(file, 0644);
    constexpr size_t k_piece = 64 << 10;
    std::string out(k_header);
    out.reserve(k_piece + 4096);
    // A line: 64 hex, four numbers, the path.
    auto line = [&](std::string_view rel, const StatFacts& facts, std::string_view sha) {
      out += sha;
      out += ' ' + std::to_string(facts.size) + ' ' + std::to_string(facts.mtime_ns) + ' ' +
             std::to_string(facts.ctime_ns) + ' ' + std::to_string(facts.inode) + ' ';
      out += manifest_encode_path(std::string(rel));
      out += '\n';
      if (out.size() >= k_piece) {
        f.write(out);
        out.clear();
      }
    };
    Recorded next;
    bool have = more && more(next);
    // An entry as loaded or changed, after the recorded ones that sort
    // before it; a recorded entry of the same path replaces it.
    auto kept = [&](std::string_view rel, const StatFacts& facts, std::string_view sha) {
      while (have && next.rel <= rel) {
        bool same = next.rel == rel;
        line(next.rel, next.facts, next.sha256);
        have = more(next);
        if (same) {
          return;
        }
      }
      line(rel, facts, sha);
    };
    // Merge the loaded rows and the changes, both sorted by path.
    auto row = m_rows.begin();
    auto change = m_changes.begin();
    while (row != m_rows.end() || change != m_changes.end()) {
      if (change == m_changes.end() || (row != m_rows.end() && rel_of(*row) < change->first)) {
        kept(rel_of(*row), row->facts, util::to_hex(row->sha256.data(), row->sha256.size()));
        ++row;
        continue;
      }
      if (row != m_rows.end() && rel_of(*row) == change->first) {
        ++row; // replaced or forgotten
      }
      if (change->second) {
        kept(change->first, change->second->facts, change->second->sha256);
      }
      ++change;
    }
    while (have) {
      line(next.rel, next.facts, next.sha256);
      have = more(next);
    }
    f.write(out);
    f.commit(util::AtomicFile::Replace::yes, util::AtomicFile::Sync::no);
  } catch (const Error&) {
    // A cache that cannot be written costs re-hashing next time, nothing more.
  }
}

std::optional<StatCache::Entry> StatCache::find(std::string_view rel) const {
  if (auto it = m_changes.find(rel); it != m_changes.end()) {
    return it->second;
  }
  if (const Row* r = loaded(rel)) {
    return Entry{r->facts, util::to_hex(r->sha256.data(), r->sha256.size())};
  }
  return std::nullopt;
}

std::optional<std::string> StatCache::trusted_hash(std::string_view rel, const StatFacts& facts) const {
  if (facts.mtime_ns >= m_written_ns || facts.ctime_ns >= m_written_ns) {
    return std::nullopt; // racily clean (or nothing loaded): cannot tell
  }
  std::optional<Entry> e = find(rel);
  if (!e || !(e->facts == facts)) {
    return std::nullopt;
  }
  return std::move(e->sha256);
}

// record and forget compare in place (verify calls record three times per
// dataset; a copied Entry each time was an allocation per call).
void StatCache::record(const std::string& rel, const StatFacts& facts, const std::string& sha256) {
  if (auto it = m_changes.find(rel); it != m_changes.end()) {
    if (it->second && it->second->facts == facts && it->second->sha256 == sha256) {
      return;
    }
    it->second = Entry{facts, sha256};
  } else {
    const Row* row = loaded(rel);
    std::array<uint8_t, 32> binary{};
    if (row != nullptr && row->facts == facts && util::sha256_from_hex(sha256, binary) &&
        binary == row->sha256) {
      return;
    }
    m_changes.emplace(rel, Entry{facts, sha256});
  }
  m_dirty = true;
}

void StatCache::forget(const std::string& rel) {
  if (auto it = m_changes.find(rel); it != m_changes.end()) {
    if (it->second) {
      it->second.reset();
      m_dirty = true;
    }
  } else if (loaded(rel) != nullptr) {
    m_changes.emplace(rel, std::nullopt);
    m_dirty = true;
  }
}

bool is_verified_unchanged(const Repository& repo, const fs::path& abs, const std::string& expected_sha256) {
  try {
    std::optional<std::string> rel = repo.data_relative(abs);
    struct stat st {};
    if (!rel || ::lstat(abs.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      return false;
    }
    // One load per process: the hook asks about many paths.
    static const fs::path* cached_for = nullptr;
    static StatCache cache;
    static fs::path cached_path;
    if (!cached_for || cached_path != repo.statcache_path()) {
      cached_path = repo.statcache_path();
      cache = StatCache::load(cached_path);
      cached_for = &cached_path;
    }
    std::optional<std::string> h = cache.trusted_hash(*rel, StatFacts::from(st));
    return h && *h == expected_sha256;
  } catch (...) {
    return false;
  }
}

} // namespace dsm

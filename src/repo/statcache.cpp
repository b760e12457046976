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

int64_t ns(const struct timespec& ts) { return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec; }

template <typename T>
bool parse_num(std::string_view& s, T& out) {
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
    c.m_text.resize(static_cast<size_t>(st.st_size));
    c.m_text.resize(util::read_some(fd.get(), c.m_text.data(), c.m_text.size(), file));
  } catch (const Error&) {
    return StatCache();
  }
  std::string_view rest(c.m_text.data(), c.m_text.size());
  if (!rest.starts_with(k_header)) {
    return StatCache();
  }
  c.m_written_ns = ns(st.st_mtim);
  rest.remove_prefix(k_header.size());
  c.m_rows.reserve(rest.size() / 128 + 1);
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) {
      break; // torn last line
    }
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
    if (line.size() < 66 || line[64] != ' ') {
      continue;
    }
    Row row;
    row.sha256 = line.substr(0, 64);
    line.remove_prefix(65);
    if (!parse_num(line, row.facts.size) || !parse_num(line, row.facts.mtime_ns) ||
        !parse_num(line, row.facts.ctime_ns) || !parse_num(line, row.facts.inode) || line.empty() ||
        !util::is_sha256_hex(row.sha256)) {
      continue;
    }
    if (line.find('%') == std::string_view::npos) {
      row.rel = line;
    } else {
      std::optional<std::string> path = manifest_decode_path(std::string(line));
      if (!path) {
        continue;
      }
      row.rel = c.m_decoded.emplace_back(std::move(*path));
    }
    c.m_rows.push_back(row);
  }
  auto less = [](const Row& x, const Row& y) { return x.rel < y.rel; };
  if (!std::is_sorted(c.m_rows.begin(), c.m_rows.end(), less)) {
    std::stable_sort(c.m_rows.begin(), c.m_rows.end(), less);
  }
  // A path listed twice (a hand-edited file): the last line wins, as it did
  // when lines were inserted into a map one by one.
  auto same = [](const Row& x, const Row& y) { return x.rel == y.rel; };
  if (std::adjacent_find(c.m_rows.begin(), c.m_rows.end(), same) != c.m_rows.end()) {
    std::vector<Row> unique;
    for (size_t i = 0; i < c.m_rows.size(); ++i) {
      if (i + 1 < c.m_rows.size() && c.m_rows[i + 1].rel == c.m_rows[i].rel) {
        continue;
      }
      unique.push_back(c.m_rows[i]);
    }
    c.m_rows = std::move(unique);
  }
  return c;
}

const StatCache::Row* StatCache::loaded(std::string_view rel) const {
  auto it = std::lower_bound(m_rows.begin(), m_rows.end(), rel, [](const Row& r, std::string_view v) { return r.rel < v; });
  return it != m_rows.end() && it->rel == rel ? &*it : nullptr;
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
      if (change == m_changes.end() || (row != m_rows.end() && row->rel < change->first)) {
        kept(row->rel, row->facts, row->sha256);
        ++row;
        continue;
      }
      if (row != m_rows.end() && row->rel == change->first) {
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
    return Entry{r->facts, std::string(r->sha256)};
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
    if (row != nullptr && row->facts == facts && row->sha256 == sha256) {
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

#include "dsm/statcache.hpp"

#include "dsm/error.hpp"
#include "dsm/manifest.hpp"
#include "dsm/repository.hpp"
#include "util/file.hpp"
#include "util/sha256.hpp"

#include <algorithm>
#include <charconv>
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
  std::string text;
  struct stat st {};
  try {
    util::Fd fd = util::open_read(file);
    if (::fstat(fd.get(), &st) != 0) {
      return c;
    }
    text.resize(static_cast<size_t>(st.st_size));
    text.resize(util::read_some(fd.get(), text.data(), text.size(), file));
  } catch (const Error&) {
    return c;
  }
  if (!std::string_view(text).starts_with(k_header)) {
    return c;
  }
  c.m_written_ns = ns(st.st_mtim);
  std::string_view rest(text);
  rest.remove_prefix(k_header.size());
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
    std::string sha(line.substr(0, 64));
    line.remove_prefix(65);
    StatFacts f;
    if (!parse_num(line, f.size) || !parse_num(line, f.mtime_ns) || !parse_num(line, f.ctime_ns) ||
        !parse_num(line, f.inode) || line.empty()) {
      continue;
    }
    std::optional<std::string> path = manifest_decode_path(std::string(line));
    if (!path || !util::is_sha256_hex(sha)) {
      continue;
    }
    c.m_entries[*path] = {f, std::move(sha)};
  }
  return c;
}

void StatCache::save(const fs::path& file) const {
  std::vector<const std::pair<const std::string, std::pair<StatFacts, std::string>>*> sorted;
  sorted.reserve(m_entries.size());
  for (const auto& e : m_entries) {
    sorted.push_back(&e);
  }
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->first < b->first; });
  std::string out(k_header);
  out.reserve(sorted.size() * 140);
  for (const auto* e : sorted) {
    const StatFacts& f = e->second.first;
    out += e->second.second;
    out += ' ' + std::to_string(f.size) + ' ' + std::to_string(f.mtime_ns) + ' ' + std::to_string(f.ctime_ns) +
           ' ' + std::to_string(f.inode) + ' ';
    out += manifest_encode_path(e->first);
    out += '\n';
  }
  try {
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    util::write_file_atomic(file, out, 0644);
  } catch (const Error&) {
    // A cache that cannot be written costs re-hashing next time, nothing more.
  }
}

std::optional<std::string> StatCache::trusted_hash(const std::string& rel, const StatFacts& facts) const {
  auto it = m_entries.find(rel);
  if (it == m_entries.end() || !(it->second.first == facts)) {
    return std::nullopt;
  }
  if (facts.mtime_ns >= m_written_ns || facts.ctime_ns >= m_written_ns) {
    return std::nullopt; // racily clean: cannot tell
  }
  return it->second.second;
}

const std::pair<StatFacts, std::string>* StatCache::find(const std::string& rel) const {
  auto it = m_entries.find(rel);
  return it == m_entries.end() ? nullptr : &it->second;
}

void StatCache::record(const std::string& rel, const StatFacts& facts, const std::string& sha256) {
  auto& slot = m_entries[rel];
  if (!(slot.first == facts) || slot.second != sha256) {
    slot = {facts, sha256};
    m_dirty = true;
  }
}

void StatCache::forget(const std::string& rel) {
  if (m_entries.erase(rel) > 0) {
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

#include "repo/sidecar_facts_cache.hpp"

#include "dsm/error.hpp"
#include "git/git.hpp"
#include "repo/manifest.hpp"
#include "repo/repository.hpp"
#include "util/file.hpp"
#include "util/sha256.hpp"

#include <algorithm>
#include <charconv>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dsm {

namespace {

constexpr std::string_view k_header = "dsm-sidecar-facts 1";
constexpr uint64_t k_max_file = 64u << 20; // about 400,000 entries

// SHA-1, which is what libgit2 1.5 repositories use.
bool is_blob_id(std::string_view s) {
  return util::is_lower_hex(s, 40);
}

std::string_view next_field(std::string_view& line) {
  size_t space = line.find(' ');
  std::string_view field = line.substr(0, space);
  line.remove_prefix(space == std::string_view::npos ? line.size() : space + 1);
  return field;
}

} // namespace

fs::path SidecarFactsCache::path_in(const Repository& repo) {
  return repo.local_dir() / "sidecar-facts";
}

SidecarFactsCache SidecarFactsCache::load(const fs::path& file) {
  SidecarFactsCache c;
  struct stat st {};
  std::string text;
  try {
    // Never through a symlink: a cache is a regular file dsm wrote.
    if (::lstat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      return c;
    }
    text = util::read_file(file, k_max_file);
  } catch (const Error&) {
    return c;
  }
  std::string_view rest(text);
  size_t nl = rest.find('\n');
  if (nl == std::string_view::npos || rest.substr(0, nl) != k_header) {
    return c;
  }
  rest.remove_prefix(nl + 1);
  while ((nl = rest.find('\n')) != std::string_view::npos) {
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
    std::string_view id = next_field(line);
    std::string_view sha = next_field(line);
    std::string_view size = next_field(line);
    SidecarFacts facts;
    uint64_t n = 0;
    auto parsed = std::from_chars(size.data(), size.data() + size.size(), n);
    if (!is_blob_id(id) || !util::is_sha256_hex(sha) || parsed.ec != std::errc() ||
        parsed.ptr != size.data() + size.size() || size.empty() || line.empty()) {
      continue; // damaged: that sidecar is parsed instead
    }
    std::optional<std::string> file_name = manifest_decode_path(std::string(line));
    if (!file_name) {
      continue;
    }
    facts.file = std::move(*file_name);
    facts.size = n;
    facts.sha256 = std::string(sha);
    c.m_entries.insert_or_assign(std::string(id), std::move(facts));
  }
  return c;
}

const SidecarFacts* SidecarFactsCache::find(std::string_view blob_id) const {
  auto it = m_entries.find(std::string(blob_id)); // 40 bytes: no saving from a transparent hash
  return it == m_entries.end() ? nullptr : &it->second;
}

void SidecarFactsCache::record(const std::string& blob_id, const SidecarFacts& facts) {
  if (!facts.chunks.empty() || !facts.size || facts.file.empty() || !is_blob_id(blob_id) ||
      !util::is_sha256_hex(facts.sha256)) {
    return;
  }
  SidecarFacts slim{facts.file, facts.size, facts.sha256, {}};
  auto [it, inserted] = m_entries.try_emplace(blob_id, slim);
  if (inserted || it->second.file != slim.file || it->second.size != slim.size ||
      it->second.sha256 != slim.sha256) {
    it->second = std::move(slim);
    m_dirty = true;
  }
}

void SidecarFactsCache::save(const fs::path& file,
                             const std::function<bool(const std::string& blob_id)>& keep) const {
  // Sorted, so the file is the same for the same entries.
  std::vector<const std::pair<const std::string, SidecarFacts>*> sorted;
  sorted.reserve(m_entries.size());
  for (const auto& e : m_entries) {
    if (keep(e.first)) {
      sorted.push_back(&e);
    }
  }
  std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
  std::string out(k_header);
  out += '\n';
  for (const auto* e : sorted) {
    out += e->first + ' ' + e->second.sha256 + ' ' + std::to_string(*e->second.size) + ' ' +
           manifest_encode_path(e->second.file) + '\n';
  }
  try {
    util::write_cache_atomic(file, out);
  } catch (const Error&) {
    // Lost: the next hook parses those sidecars.
  }
}

SidecarFactsAppender::SidecarFactsAppender(fs::path file) : m_file(std::move(file)) {
  struct stat st {};
  bool fresh = ::lstat(m_file.c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
               static_cast<uint64_t>(st.st_size) > k_max_file / 2;
  if (fresh) {
    try {
      util::write_cache_atomic(m_file, std::string(k_header) + "\n");
    } catch (const Error&) {
      return;
    }
  }
  m_fd = ::open(m_file.c_str(), O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
}

SidecarFactsAppender::~SidecarFactsAppender() {
  flush();
  if (m_fd >= 0) {
    ::close(m_fd);
  }
}

void SidecarFactsAppender::add(std::string_view sidecar_text, const SidecarFacts& facts) {
  if (m_fd < 0 || !facts.chunks.empty() || !facts.size || facts.file.empty()) {
    return;
  }
  try {
    m_buffer += git::blob_id(sidecar_text) + ' ' + facts.sha256 + ' ' + std::to_string(*facts.size) + ' ' +
                manifest_encode_path(facts.file) + '\n';
  } catch (const Error&) {
    return;
  }
  if (m_buffer.size() >= 64u << 10) {
    flush();
  }
}

void SidecarFactsAppender::flush() {
  if (m_fd >= 0 && !m_buffer.empty()) {
    try {
      util::write_all(m_fd, m_buffer.data(), m_buffer.size(), m_file);
    } catch (const Error&) {
      ::close(m_fd);
      m_fd = -1; // the rest is parsed by the hook instead
    }
  }
  m_buffer.clear();
}

} // namespace dsm

#include "format/file_hash.hpp"
#include "repo/payload_check.hpp"

#include "dsm/error.hpp"
#include "repo/repository.hpp"
#include "repo/sidecar.hpp"
#include "repo/statcache.hpp"
#include "util/file.hpp"
#include "util/sha256.hpp"

#include <sys/stat.h>

#include <vector>

namespace dsm {

SidecarFacts parse_sidecar_facts(const std::string& text, const std::string& file) {
  // The repository layer's parser: the hook holds sidecars to the same
  // grammar as `dsm verify` (unknown keys, newer versions, bad values).
  Sidecar sc = Sidecar::parse(text, file);
  SidecarFacts facts{sc.file, sc.size, sc.sha256, {}};
  for (const auto& c : sc.chunks) {
    facts.chunks.push_back({c.file, c.size, c.sha256});
  }
  return facts;
}


PayloadChecker::PayloadChecker(const Repository& repo) : m_repo(repo) {}

PayloadChecker::~PayloadChecker() {
  // What was hashed and found right is recorded, so the next commit (or
  // `dsm verify --fast`) need not hash it again. A cache: failures are
  // swallowed by StatCache::save.
  if (m_cache && m_cache->dirty()) {
    m_cache->save(m_repo.statcache_path());
  }
}

std::optional<PayloadProblem> PayloadChecker::check(const std::filesystem::path& abs, std::optional<uint64_t> size,
                                                    const std::string& sha256) {
  struct stat st {};
  if (::stat(abs.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return PayloadProblem{PayloadProblem::Kind::missing, "missing from the work tree"};
  }
  auto actual_size = static_cast<uint64_t>(st.st_size);
  if (size && *size != actual_size) {
    return PayloadProblem{PayloadProblem::Kind::changed, "is " + std::to_string(actual_size) + " bytes, but " +
                                                             std::to_string(*size) +
                                                             " were recorded: it changed since 'dsm add'"};
  }
  // Unchanged since dsm last hashed it (size, mtime, ctime, inode): trusted.
  if (is_verified_unchanged(m_repo, abs, sha256)) {
    return std::nullopt;
  }
  std::string actual;
  try {
    actual = sha256_file(abs);
  } catch (const Error& e) {
    return PayloadProblem{PayloadProblem::Kind::unreadable, std::string("cannot be read: ") + e.what()};
  }
  if (actual != sha256) {
    return PayloadProblem{PayloadProblem::Kind::changed,
                          "content no longer matches its recorded SHA-256: it changed since 'dsm add'"};
  }
  struct stat after {};
  auto rel = m_repo.data_relative(abs);
  if (rel && ::stat(abs.c_str(), &after) == 0 && StatFacts::from(after) == StatFacts::from(st)) {
    if (!m_cache) {
      m_cache = std::make_unique<StatCache>(StatCache::load(m_repo.statcache_path()));
    }
    m_cache->record(*rel, StatFacts::from(st), actual);
  }
  return std::nullopt;
}

} // namespace dsm

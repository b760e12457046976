// Identical payloads stored once: see dedupe.hpp.
#include "repo/dedupe.hpp"

#include "dsm/error.hpp"
#include "format/file_hash.hpp"
#include "repo/manifest.hpp"
#include "repo/repository.hpp"
#include "util/beneath.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dsm {

std::optional<IdenticalPayload> IdenticalFinder::find(const std::string& sha256,
                                                      const std::string& exclude_rel) {
  if (!m_by_sha) {
    m_by_sha.emplace();
    for (const auto& [rel, sha] : m_manifest.map()) {
      m_by_sha->emplace(sha, rel);
    }
  }
  for (auto [it, end] = m_by_sha->equal_range(sha256); it != end; ++it) {
    const std::string& rel = it->second;
    if (rel == exclude_rel) {
      continue;
    }
    std::optional<util::RegularFile> f;
    try {
      f = util::open_regular_beneath(m_repo.data_dir(), rel);
    } catch (const Error&) {
      continue; // a symlink or a FIFO where a payload should be: never linked
    }
    if (!f || (f->st.st_mode & 0222) != 0) {
      continue; // absent, or writable (not as dsm stores payloads)
    }
    if (!m_cache) {
      m_cache = StatCache::load(m_repo.statcache_path());
    }
    std::optional<std::string> known = m_cache->trusted_hash(rel, StatFacts::from(f->st));
    if (known ? *known != sha256 : sha256_fd(f->fd.get(), m_repo.data_dir() / rel) != sha256) {
      continue; // damaged: `dsm verify` reports it; never spread it
    }
    return IdenticalPayload{rel, std::move(f->fd)};
  }
  return std::nullopt;
}

LinkResult link_payload(const util::Fd& src, const fs::path& dest) {
  std::string proc = "/proc/self/fd/" + std::to_string(src.get());
  if (::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, dest.c_str(), AT_SYMLINK_FOLLOW) == 0) {
    util::fsync_dir(dest.parent_path());
    return LinkResult::linked;
  }
  switch (errno) {
  case EEXIST:
    return LinkResult::exists;
  case EXDEV:  // another filesystem
  case EMLINK: // too many links to one file
  case EPERM:  // a filesystem without hard links (or protected_hardlinks)
  case ENOENT: // no /proc
  case ENOTSUP:
    return LinkResult::impossible;
  default:
    throw Error("cannot link " + quote(dest.string()) + ": " + util::errno_message(errno));
  }
}

} // namespace dsm

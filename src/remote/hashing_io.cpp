#include "remote/hashing_io.hpp"

#include "dsm/error.hpp"
#include "remote/store.hpp"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace dsm::remote {

HashingSource::HashingSource(int fd, const fs::path& path, uint64_t size, std::string expected_sha)
  : m_path(path), m_fd(fd), m_size(size), m_expected(std::move(expected_sha)) {
  ::posix_fadvise(m_fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  if (m_size == 0) {
    std::string actual = m_sha.hex_digest();
    if (actual != m_expected) {
      throw Error(local_corrupt_message(m_path, m_expected, actual), k_exit_problems);
    }
    m_checked = true;
  }
}

size_t HashingSource::read_at(uint64_t offset, char* buf, size_t n) {
  if (offset >= m_size) {
    return 0;
  }
  if (n > m_size - offset) {
    n = static_cast<size_t>(m_size - offset);
  }
  size_t total = 0;
  while (total < n) {
    ssize_t got = ::pread(m_fd, buf + total, n - total, static_cast<off_t>(offset + total));
    if (got < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw Error("cannot read " + quote(m_path.string()) + ": " + util::errno_message(errno));
    }
    if (got == 0) {
      throw Error("cannot read " + quote(m_path.string()) + ": the file shrank while it was being uploaded");
    }
    total += static_cast<size_t>(got);
  }
  hash_new_bytes(offset, buf, n);
  return n;
}

void HashingSource::hash_new_bytes(uint64_t offset, const char* buf, size_t n) {
  uint64_t end = offset + n;
  if (end <= m_hashed_to) {
    return; // a retry re-reading bytes already hashed
  }
  if (offset > m_hashed_to) {
    // Reads run in order within one object; a gap would be a logic error
    // that silently skipped verification, so refuse it loudly.
    throw Error("internal error: out-of-order read of " + quote(m_path.string()));
  }
  uint64_t skip = m_hashed_to - offset;
  m_sha.update(buf + skip, static_cast<size_t>(n - skip));
  m_hashed_to = end;
  if (m_hashed_to == m_size && !m_checked) {
    m_checked = true;
    std::string actual = m_sha.hex_digest();
    if (actual != m_expected) {
      throw Error(local_corrupt_message(m_path, m_expected, actual), k_exit_problems);
    }
  }
}

void HashingSink::write(const char* data, size_t n) {
  if (m_max && m_bytes + n > *m_max) {
    throw Error("the object is larger than the " + std::to_string(*m_max) +
                    " bytes recorded for it (a damaged or tampered remote); nothing was written",
                k_exit_problems);
  }
  util::write_all(m_dest.fd(), data, n, m_dest.temp_path());
  m_sha.update(data, n);
  m_bytes += n;
}

void HashingSink::reset() {
  if (::ftruncate(m_dest.fd(), 0) != 0 || ::lseek(m_dest.fd(), 0, SEEK_SET) != 0) {
    throw Error("cannot truncate " + quote(m_dest.temp_path().string()) + ": " + util::errno_message(errno));
  }
  (void)m_sha.hex_digest(); // resets the hash state
  m_bytes = 0;
}

std::string local_corrupt_message(const fs::path& path, const std::string& expected, const std::string& actual) {
  return "refusing to upload " + quote(path.string()) + ": its SHA-256 is " + actual + ", the manifest says " +
         expected + " (run 'dsm verify')";
}

std::string remote_corrupt_message(const std::string& remote, const std::string& sha, const std::string& actual) {
  return "object " + quote(object_key(sha)) + " on " + remote + " is corrupt: its content hashes to " + actual +
         ", not to its name; nothing was written";
}

} // namespace dsm::remote

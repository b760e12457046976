// Hashing adapters shared by the stores: every byte that leaves for a remote
// or arrives from one passes through SHA-256 exactly once, so a corrupt
// payload is never uploaded and a corrupt object is never committed.
#pragma once

#include "util/file.hpp"
#include "util/sha256.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace dsm::remote {

namespace fs = std::filesystem;

// Reads a local payload by offset (pread) for an upload. Bytes are hashed the
// first time they are read, in order; a retry that reads a range again does
// not hash it twice. The read that reaches the end checks the digest and
// throws before handing out the last bytes if it is not the expected one, so
// the receiving side never sees a complete, wrong object.
class HashingSource {
public:
  // `fd` is the open payload (borrowed: the caller keeps it open while this
  // lives); `path` names it in messages.
  HashingSource(int fd, const fs::path& path, uint64_t size, std::string expected_sha);
  // Reads up to n bytes at offset (offset + n <= size); returns the count.
  size_t read_at(uint64_t offset, char* buf, size_t n);
  uint64_t size() const { return m_size; }
  const fs::path& path() const { return m_path; }

private:
  void hash_new_bytes(uint64_t offset, const char* buf, size_t n);

  fs::path m_path;
  int m_fd;
  uint64_t m_size;
  std::string m_expected;
  util::Sha256 m_sha;
  uint64_t m_hashed_to = 0; // every byte below this offset went into m_sha
  bool m_checked = false;
};

// Writes a download into an AtomicFile's descriptor while hashing it.
// reset() starts over (a retried GET).
// More than `max_bytes` is refused (a tampered remote serving /dev/zero for
// a 200-byte object must not fill the disk).
class HashingSink {
public:
  explicit HashingSink(util::AtomicFile& dest, std::optional<uint64_t> max_bytes = std::nullopt)
    : m_dest(dest), m_max(max_bytes) {}
  void write(const char* data, size_t n);
  void reset();
  std::string hex_digest() { return m_sha.hex_digest(); }
  uint64_t bytes() const { return m_bytes; }

private:
  util::AtomicFile& m_dest;
  std::optional<uint64_t> m_max;
  util::Sha256 m_sha;
  uint64_t m_bytes = 0;
};

// The message for a payload that changed since it was recorded.
std::string local_corrupt_message(const fs::path& path, const std::string& expected, const std::string& actual);
// The message for an object whose bytes do not hash to its name.
std::string remote_corrupt_message(const std::string& remote, const std::string& sha, const std::string& actual);

} // namespace dsm::remote

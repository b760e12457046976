// Content sniffing for the hook and doctor (see dsm/sniff.hpp).
//
// A zip is recognised from its end: the end-of-central-directory record
// (EOCD, "PK\5\6", 22 bytes plus a comment of up to 65,535 bytes) must end
// exactly at the end of the object, which rules out most accidental matches
// in random binary data. The central directory is located as "ends where the
// EOCD (or the zip64 EOCD record) starts, and is cd_size bytes long" rather
// than by its recorded offset, so archives with data prepended (self-
// extracting zips, concatenations) are still read. The first local header's
// name is checked too, so a zip whose central directory is out of reach (or
// truncated) is still caught when its first member is an array, which is how
// np.savez writes them.
#include "format/format.hpp"
#include "format/sniff.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace dsm {

namespace {

constexpr std::string_view k_npy_magic = "\x93NUMPY";
constexpr uint64_t k_eocd_size = 22;
constexpr uint64_t k_max_comment = 65535;
constexpr uint64_t k_zip64_locator_size = 20;
constexpr uint64_t k_zip64_record_min = 56;
// A central directory larger than this is only partly read (its first
// members are checked); keeps the file variant's memory bounded.
constexpr uint64_t k_max_cd_read = 64u << 20;

// Random access to the object being sniffed. read() fills `out` with exactly
// `n` bytes at `offset`, or returns false (out of range or unreadable).
class Source {
public:
  virtual ~Source() = default;
  virtual uint64_t size() const = 0;
  virtual bool read(uint64_t offset, uint64_t n, std::string& out) const = 0;
};

class WindowSource final : public Source {
public:
  WindowSource(std::string_view head, std::string_view tail, uint64_t size)
    : m_head(head), m_tail(tail), m_size(size) {}
  uint64_t size() const override { return m_size; }
  bool read(uint64_t offset, uint64_t n, std::string& out) const override {
    if (offset > m_size || n > m_size - offset) {
      return false;
    }
    if (offset + n <= m_head.size()) {
      out.assign(m_head.substr(offset, n));
      return true;
    }
    uint64_t tail_start = m_size - std::min<uint64_t>(m_tail.size(), m_size);
    if (offset >= tail_start) {
      out.assign(m_tail.substr(offset - tail_start, n));
      return true;
    }
    return false;
  }

private:
  std::string_view m_head;
  std::string_view m_tail;
  uint64_t m_size;
};

class FdSource final : public Source {
public:
  FdSource(int fd, uint64_t size) : m_fd(fd), m_size(size) {}
  uint64_t size() const override { return m_size; }
  bool read(uint64_t offset, uint64_t n, std::string& out) const override {
    if (offset > m_size || n > m_size - offset) {
      return false;
    }
    out.resize(n);
    uint64_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(m_fd, out.data() + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0 && errno == EINTR) {
        continue;
      }
      if (r <= 0) {
        return false;
      }
      done += static_cast<uint64_t>(r);
    }
    return true;
  }

private:
  int m_fd;
  uint64_t m_size;
};

uint16_t u16(std::string_view b, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(b[at]) | static_cast<uint8_t>(b[at + 1]) << 8);
}

uint32_t u32(std::string_view b, size_t at) {
  return static_cast<uint32_t>(u16(b, at)) | static_cast<uint32_t>(u16(b, at + 2)) << 16;
}

uint64_t u64(std::string_view b, size_t at) {
  return static_cast<uint64_t>(u32(b, at)) | static_cast<uint64_t>(u32(b, at + 4)) << 32;
}

bool ends_with_npy(std::string_view name) {
  if (name.size() < 4) {
    return false;
  }
  std::string_view ext = name.substr(name.size() - 4);
  return ext[0] == '.' && (ext[1] | 0x20) == 'n' && (ext[2] | 0x20) == 'p' && (ext[3] | 0x20) == 'y';
}

bool first_local_header_names_npy(const Source& src) {
  std::string h;
  if (!src.read(0, 30, h) || h.compare(0, 4, "PK\x03\x04") != 0) {
    return false;
  }
  uint16_t name_len = u16(h, 26);
  std::string name;
  return src.read(30, name_len, name) && ends_with_npy(name);
}

bool central_directory_names_npy(const Source& src, uint64_t cd_start, uint64_t cd_size) {
  std::string cd;
  uint64_t want = std::min(cd_size, k_max_cd_read);
  if (!src.read(cd_start, want, cd)) {
    return false;
  }
  std::string_view v = cd;
  size_t at = 0;
  while (at + 46 <= v.size() && v.compare(at, 4, "PK\x01\x02") == 0) {
    size_t name_len = u16(v, at + 28);
    size_t extra_len = u16(v, at + 30);
    size_t comment_len = u16(v, at + 32);
    if (at + 46 + name_len > v.size()) {
      break;
    }
    if (ends_with_npy(v.substr(at + 46, name_len))) {
      return true;
    }
    at += 46 + name_len + extra_len + comment_len;
  }
  return false;
}

// Finds the EOCD that ends the object; returns its offset.
std::optional<uint64_t> find_eocd(const Source& src) {
  uint64_t size = src.size();
  if (size < k_eocd_size) {
    return std::nullopt;
  }
  uint64_t span = std::min(size, k_eocd_size + k_max_comment);
  std::string tail;
  if (!src.read(size - span, span, tail)) {
    // A window too small for the whole span: use what the tail holds.
    return std::nullopt;
  }
  for (uint64_t i = span - k_eocd_size + 1; i-- > 0;) {
    if (tail.compare(i, 4, "PK\x05\x06") == 0 && i + k_eocd_size + u16(tail, i + 20) == span) {
      return size - span + i;
    }
  }
  return std::nullopt;
}

bool zip_names_npy(const Source& src) {
  if (first_local_header_names_npy(src)) {
    return true;
  }
  auto eocd_at = find_eocd(src);
  if (!eocd_at) {
    return false;
  }
  std::string eocd;
  if (!src.read(*eocd_at, k_eocd_size, eocd)) {
    return false;
  }
  uint64_t cd_size = u32(eocd, 12);
  uint64_t cd_end = *eocd_at;
  bool zip64 = u16(eocd, 10) == 0xFFFF || u32(eocd, 12) == 0xFFFFFFFF || u32(eocd, 16) == 0xFFFFFFFF;
  if (zip64 && *eocd_at >= k_zip64_locator_size + k_zip64_record_min) {
    std::string loc;
    if (!src.read(*eocd_at - k_zip64_locator_size, k_zip64_locator_size, loc) ||
        loc.compare(0, 4, "PK\x06\x07") != 0) {
      return false;
    }
    // The record normally sits right before the locator; its recorded
    // offset is only trusted when nothing was prepended.
    uint64_t record_at = *eocd_at - k_zip64_locator_size - k_zip64_record_min;
    std::string rec;
    if (!src.read(record_at, k_zip64_record_min, rec) || rec.compare(0, 4, "PK\x06\x06") != 0) {
      record_at = u64(loc, 8);
      if (!src.read(record_at, k_zip64_record_min, rec) || rec.compare(0, 4, "PK\x06\x06") != 0) {
        return false;
      }
    }
    cd_size = u64(rec, 40);
    cd_end = record_at;
  }
  if (cd_size > cd_end) {
    return false;
  }
  return central_directory_names_npy(src, cd_end - cd_size, cd_size);
}

ArrayKind sniff(const Source& src) {
  std::string head;
  if (src.read(0, k_npy_magic.size(), head) && head == k_npy_magic) {
    return ArrayKind::npy;
  }
  return zip_names_npy(src) ? ArrayKind::zip_with_npy : ArrayKind::none;
}

} // namespace

ArrayKind sniff_window(std::string_view head, std::string_view tail, uint64_t size) noexcept {
  try {
    return sniff(WindowSource(head, tail, size));
  } catch (...) {
    return ArrayKind::none; // bad_alloc: not worth failing a commit over
  }
}

bool looks_like_array_window(std::string_view head, std::string_view tail, uint64_t size) noexcept {
  return sniff_window(head, tail, size) != ArrayKind::none;
}

bool looks_like_array_bytes(std::string_view bytes) noexcept {
  return looks_like_array_window(bytes, bytes, bytes.size());
}

ArrayKind sniff_file(const char* path) noexcept {
  int fd = ::open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC); // a FIFO must not block
  if (fd < 0) {
    return ArrayKind::none;
  }
  ArrayKind kind = ArrayKind::none;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    try {
      kind = sniff(FdSource(fd, static_cast<uint64_t>(st.st_size)));
    } catch (...) {
      kind = ArrayKind::none;
    }
  }
  ::close(fd);
  return kind;
}

bool looks_like_array_file(const std::filesystem::path& path) {
  return sniff_file(path.c_str()) != ArrayKind::none;
}

} // namespace dsm

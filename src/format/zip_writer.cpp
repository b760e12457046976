#include "format/zip_writer.hpp"

#include "dsm/error.hpp"
#include "util/file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace dsm::zip {

namespace {

constexpr uint64_t k_zip64_limit = (1ull << 31) - 1; // zipfile's ZIP64_LIMIT
constexpr uint64_t k_count_limit = (1u << 16) - 1;   // zipfile's ZIP_FILECOUNT_LIMIT
constexpr uint16_t k_version_default = 20;
constexpr uint16_t k_version_zip64 = 45;
constexpr uint16_t k_dos_time = 0;                    // 00:00:00
constexpr uint16_t k_dos_date = (0 << 9) | (1 << 5) | 1; // 1980-01-01
constexpr uint32_t k_external_attr = 0600u << 16;

void le16(std::string& s, uint64_t v) {
  s.push_back(static_cast<char>(v & 0xff));
  s.push_back(static_cast<char>((v >> 8) & 0xff));
}
void le32(std::string& s, uint64_t v) {
  le16(s, v & 0xffff);
  le16(s, (v >> 16) & 0xffff);
}
void le64(std::string& s, uint64_t v) {
  le32(s, v & 0xffffffffu);
  le32(s, v >> 32);
}

uint64_t rd16(const uint8_t* p) { return uint64_t(p[0]) | uint64_t(p[1]) << 8; }
uint64_t rd32(const uint8_t* p) { return rd16(p) | rd16(p + 2) << 16; }
uint64_t rd64(const uint8_t* p) { return rd32(p) | rd32(p + 4) << 32; }

} // namespace

ZipWriter::ZipWriter(int fd, std::filesystem::path path, uint64_t start, Layout layout)
  : m_fd(fd), m_path(std::move(path)), m_layout(layout), m_pos(start) {}

std::string ZipWriter::local_header(const Entry& e) const {
  // zipfile: FileHeader(zip64=True) -- the extra always carries both sizes;
  // the 32-bit fields overflow to 0xffffffff only past ZIP64_LIMIT.
  bool large = e.size > k_zip64_limit || e.compressed_size > k_zip64_limit ||
               m_layout == Layout::zip64_everywhere;
  std::string h;
  le32(h, 0x04034b50);
  le16(h, large ? k_version_zip64 : k_version_default);
  le16(h, 0); // flags: ASCII name, sizes in the header
  le16(h, static_cast<uint16_t>(e.method));
  le16(h, k_dos_time);
  le16(h, k_dos_date);
  le32(h, e.crc32);
  le32(h, large ? 0xffffffffu : e.compressed_size);
  le32(h, large ? 0xffffffffu : e.size);
  le16(h, e.name.size());
  le16(h, 20);
  h += e.name;
  le16(h, 0x0001);
  le16(h, 16);
  le64(h, e.size);
  le64(h, e.compressed_size);
  return h;
}

void ZipWriter::put(const std::string& bytes) {
  util::write_all(m_fd, bytes.data(), bytes.size(), m_path);
  m_pos += bytes.size();
}

void ZipWriter::begin_member(const std::string& name) {
  if (m_in_member || m_finished) {
    throw Error("zip writer: begin_member out of order");
  }
  if (name.empty() || name.size() > 0xffff) {
    throw Error("zip writer: bad member name");
  }
  for (unsigned char c : name) {
    // Dataset names are ASCII; zipfile would set the UTF-8 flag otherwise.
    if (c < 0x20 || c >= 0x7f) {
      throw Error("zip writer: member name must be printable ASCII: " + quote(name));
    }
  }
  Entry e;
  e.name = name;
  e.header_offset = m_pos;
  put(local_header(e));
  e.data_offset = m_pos;
  m_entries.push_back(e);
  m_in_member = true;
}

void ZipWriter::write(const void* data, size_t size) {
  if (!m_in_member) {
    throw Error("zip writer: write outside a member");
  }
  util::write_all(m_fd, data, size, m_path);
  m_pos += size;
}

void ZipWriter::end_member(Method method, uint32_t crc32, uint64_t size) {
  if (!m_in_member) {
    throw Error("zip writer: end_member without begin_member");
  }
  Entry& e = m_entries.back();
  e.method = method;
  e.crc32 = crc32;
  e.size = size;
  e.compressed_size = m_pos - e.data_offset;
  if (method == Method::stored && e.compressed_size != size) {
    throw Error("zip writer: stored member size mismatch");
  }
  // Seek back and rewrite the header, as zipfile does on a seekable file;
  // its length cannot change (the ZIP64 extra is always there).
  std::string h = local_header(e);
  const char* p = h.data();
  size_t left = h.size();
  auto off = static_cast<off_t>(e.header_offset);
  while (left > 0) {
    ssize_t n = ::pwrite(m_fd, p, left, off);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw Error("cannot write " + quote(m_path.string()) + ": " + util::errno_message(errno));
    }
    p += n;
    left -= static_cast<size_t>(n);
    off += n;
  }
  m_in_member = false;
}

void ZipWriter::finish() {
  if (m_in_member || m_finished) {
    throw Error("zip writer: finish out of order");
  }
  bool force = m_layout == Layout::zip64_everywhere;
  uint64_t cd_start = m_pos;
  for (const Entry& e : m_entries) {
    std::string extra;
    bool sizes64 = force || e.size > k_zip64_limit || e.compressed_size > k_zip64_limit;
    bool offset64 = force || e.header_offset > k_zip64_limit;
    if (sizes64) {
      le64(extra, e.size);
      le64(extra, e.compressed_size);
    }
    if (offset64) {
      le64(extra, e.header_offset);
    }
    std::string x;
    if (!extra.empty()) {
      le16(x, 0x0001);
      le16(x, extra.size());
      x += extra;
    }
    uint16_t version = x.empty() ? k_version_default : k_version_zip64;
    // The local header may have raised the extract version (large sizes).
    bool local_large = force || e.size > k_zip64_limit || e.compressed_size > k_zip64_limit;
    uint16_t extract = std::max(version, local_large ? k_version_zip64 : k_version_default);
    std::string h;
    le32(h, 0x02014b50);
    h.push_back(static_cast<char>(extract)); // create_version = max(min_version, create_version)
    h.push_back(3);                            // create_system: Unix
    le16(h, extract);
    le16(h, 0);
    le16(h, static_cast<uint16_t>(e.method));
    le16(h, k_dos_time);
    le16(h, k_dos_date);
    le32(h, e.crc32);
    le32(h, sizes64 ? 0xffffffffu : e.compressed_size);
    le32(h, sizes64 ? 0xffffffffu : e.size);
    le16(h, e.name.size());
    le16(h, x.size());
    le16(h, 0); // comment
    le16(h, 0); // disk number start
    le16(h, 0); // internal attributes
    le32(h, k_external_attr);
    le32(h, offset64 ? 0xffffffffu : e.header_offset);
    h += e.name;
    h += x;
    put(h);
  }
  uint64_t cd_end = m_pos;
  uint64_t count = m_entries.size();
  uint64_t cd_size = cd_end - cd_start;
  std::string tail;
  if (force || count > k_count_limit || cd_start > k_zip64_limit || cd_size > k_zip64_limit) {
    le32(tail, 0x06064b50);
    le64(tail, 44);
    le16(tail, k_version_zip64);
    le16(tail, k_version_zip64);
    le32(tail, 0);
    le32(tail, 0);
    le64(tail, count);
    le64(tail, count);
    le64(tail, cd_size);
    le64(tail, cd_start);
    le32(tail, 0x07064b50);
    le32(tail, 0);
    le64(tail, cd_end);
    le32(tail, 1);
  }
  le32(tail, 0x06054b50);
  le16(tail, 0);
  le16(tail, 0);
  le16(tail, std::min<uint64_t>(count, 0xffff));
  le16(tail, std::min<uint64_t>(count, 0xffff));
  le32(tail, std::min<uint64_t>(cd_size, 0xffffffffu));
  le32(tail, std::min<uint64_t>(cd_start, 0xffffffffu));
  le16(tail, 0);
  put(tail);
  m_finished = true;
}

// ---------------------------------------------------------------------------

namespace {

std::vector<uint8_t> pread_exact(int fd, uint64_t offset, size_t size, const std::filesystem::path& path) {
  std::vector<uint8_t> buf(size);
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd, buf.data() + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw Error("cannot read " + quote(path.string()) + ": " + util::errno_message(errno));
    }
    if (n == 0) {
      throw Error("cannot read " + quote(path.string()) + ": unexpected end of file");
    }
    done += static_cast<size_t>(n);
  }
  return buf;
}

} // namespace

std::vector<Entry> read_entries(int fd, const std::filesystem::path& path) {
  auto bad = [&](const std::string& what) { return Error(quote(path.string()) + ": not a valid zip: " + what); };
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    throw Error("cannot stat " + quote(path.string()) + ": " + util::errno_message(errno));
  }
  auto file_size = static_cast<uint64_t>(st.st_size);
  if (file_size < 22) {
    throw bad("too short");
  }
  size_t tail_len = static_cast<size_t>(std::min<uint64_t>(file_size, 22 + 0xffff + 20));
  std::vector<uint8_t> tail = pread_exact(fd, file_size - tail_len, tail_len, path);
  size_t eocd = std::string::npos;
  for (size_t i = tail_len - 22 + 1; i-- > 0;) {
    if (rd32(&tail[i]) == 0x06054b50 && i + 22 + rd16(&tail[i + 20]) == tail_len) {
      eocd = i;
      break;
    }
  }
  if (eocd == std::string::npos) {
    throw bad("no end of central directory record");
  }
  uint64_t count = rd16(&tail[eocd + 10]);
  uint64_t cd_size = rd32(&tail[eocd + 12]);
  uint64_t cd_start = rd32(&tail[eocd + 16]);
  if (eocd >= 20 && rd32(&tail[eocd - 20]) == 0x07064b50) {
    uint64_t rec = rd64(&tail[eocd - 20 + 8]);
    if (rec + 56 > file_size) {
      throw bad("bad ZIP64 locator");
    }
    std::vector<uint8_t> r = pread_exact(fd, rec, 56, path);
    if (rd32(r.data()) != 0x06064b50) {
      throw bad("bad ZIP64 end of central directory record");
    }
    count = rd64(&r[32]);
    cd_size = rd64(&r[40]);
    cd_start = rd64(&r[48]);
  }
  if (cd_start > file_size || cd_size > file_size - cd_start || cd_size > (256u << 20)) {
    throw bad("central directory out of bounds");
  }
  std::vector<uint8_t> cd = pread_exact(fd, cd_start, static_cast<size_t>(cd_size), path);
  std::vector<Entry> out;
  size_t p = 0;
  for (uint64_t i = 0; i < count; ++i) {
    if (p + 46 > cd.size() || rd32(&cd[p]) != 0x02014b50) {
      throw bad("bad central directory entry");
    }
    Entry e;
    e.method = static_cast<Method>(rd16(&cd[p + 10]));
    e.crc32 = static_cast<uint32_t>(rd32(&cd[p + 16]));
    e.compressed_size = rd32(&cd[p + 20]);
    e.size = rd32(&cd[p + 24]);
    size_t name_len = rd16(&cd[p + 28]);
    size_t extra_len = rd16(&cd[p + 30]);
    size_t comment_len = rd16(&cd[p + 32]);
    e.header_offset = rd32(&cd[p + 42]);
    if (p + 46 + name_len + extra_len + comment_len > cd.size()) {
      throw bad("central directory entry out of bounds");
    }
    e.name.assign(reinterpret_cast<const char*>(&cd[p + 46]), name_len);
    const uint8_t* x = &cd[p + 46 + name_len];
    size_t xi = 0;
    while (xi + 4 <= extra_len) {
      uint64_t tag = rd16(x + xi);
      size_t len = rd16(x + xi + 2);
      if (xi + 4 + len > extra_len) {
        throw bad("bad extra field");
      }
      if (tag == 0x0001) {
        const uint8_t* d = x + xi + 4;
        size_t left = len;
        auto take = [&](uint64_t& field, uint64_t marker) {
          if (field == marker) {
            if (left < 8) {
              throw bad("short ZIP64 extra field");
            }
            field = rd64(d);
            d += 8;
            left -= 8;
          }
        };
        take(e.size, 0xffffffffu);
        take(e.compressed_size, 0xffffffffu);
        take(e.header_offset, 0xffffffffu);
      }
      xi += 4 + len;
    }
    p += 46 + name_len + extra_len + comment_len;
    if (e.header_offset + 30 > file_size) {
      throw bad("local header out of bounds");
    }
    std::vector<uint8_t> lh = pread_exact(fd, e.header_offset, 30, path);
    if (rd32(lh.data()) != 0x04034b50) {
      throw bad("bad local header for " + quote(e.name));
    }
    e.data_offset = e.header_offset + 30 + rd16(&lh[26]) + rd16(&lh[28]);
    if (e.data_offset > file_size || e.compressed_size > file_size - e.data_offset) {
      throw bad("member " + quote(e.name) + " out of bounds");
    }
    out.push_back(std::move(e));
  }
  return out;
}

} // namespace dsm::zip

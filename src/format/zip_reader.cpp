#include "format/zip_reader.hpp"

#include "dsm/error.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <limits>

namespace dsm::core {

namespace {

constexpr uint32_t k_sig_local = 0x04034b50;
constexpr uint32_t k_sig_central = 0x02014b50;
constexpr uint32_t k_sig_eocd = 0x06054b50;
constexpr uint32_t k_sig_zip64_eocd = 0x06064b50;
constexpr uint32_t k_sig_zip64_locator = 0x07064b50;
constexpr size_t k_eocd_size = 22;
constexpr size_t k_locator_size = 20;
constexpr size_t k_zip64_eocd_size = 56;
constexpr size_t k_central_size = 46;
constexpr size_t k_local_size = 30;
constexpr uint16_t k_flag_encrypted = 0x0001;
constexpr uint16_t k_flag_patched = 0x0020;
constexpr uint16_t k_flag_strong_encryption = 0x0040;
constexpr uint16_t k_flag_utf8 = 0x0800;
// Deflate cannot expand data by more than ~1032:1; a declared size beyond
// that is a lie (a zip bomb, or corruption), refused before inflating.
constexpr uint64_t k_max_deflate_ratio = 1032;
// Inflate output goes through this buffer to CRC-32 and the .npy reader.
constexpr size_t k_inflate_buffer = 256u << 10;

[[noreturn]] void fail(const std::string& what) { throw Error(what); }

uint16_t le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
uint32_t le32(const uint8_t* p) { return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24; }
uint64_t le64(const uint8_t* p) { return uint64_t{le32(p)} | uint64_t{le32(p + 4)} << 32; }

constexpr uint16_t k_cp437_high[128] = {
  0x00C7, 0x00FC, 0x00E9, 0x00E2, 0x00E4, 0x00E0, 0x00E5, 0x00E7, 0x00EA, 0x00EB, 0x00E8, 0x00EF, 0x00EE,
  0x00EC, 0x00C4, 0x00C5, 0x00C9, 0x00E6, 0x00C6, 0x00F4, 0x00F6, 0x00F2, 0x00FB, 0x00F9, 0x00FF, 0x00D6,
  0x00DC, 0x00A2, 0x00A3, 0x00A5, 0x20A7, 0x0192, 0x00E1, 0x00ED, 0x00F3, 0x00FA, 0x00F1, 0x00D1, 0x00AA,
  0x00BA, 0x00BF, 0x2310, 0x00AC, 0x00BD, 0x00BC, 0x00A1, 0x00AB, 0x00BB, 0x2591, 0x2592, 0x2593, 0x2502,
  0x2524, 0x2561, 0x2562, 0x2556, 0x2555, 0x2563, 0x2551, 0x2557, 0x255D, 0x255C, 0x255B, 0x2510, 0x2514,
  0x2534, 0x252C, 0x251C, 0x2500, 0x253C, 0x255E, 0x255F, 0x255A, 0x2554, 0x2569, 0x2566, 0x2560, 0x2550,
  0x256C, 0x2567, 0x2568, 0x2564, 0x2565, 0x2559, 0x2558, 0x2552, 0x2553, 0x256B, 0x256A, 0x2518, 0x250C,
  0x2588, 0x2584, 0x258C, 0x2590, 0x2580, 0x03B1, 0x00DF, 0x0393, 0x03C0, 0x03A3, 0x03C3, 0x00B5, 0x03C4,
  0x03A6, 0x0398, 0x03A9, 0x03B4, 0x221E, 0x03C6, 0x03B5, 0x2229, 0x2261, 0x00B1, 0x2265, 0x2264, 0x2320,
  0x2321, 0x00F7, 0x2248, 0x00B0, 0x2219, 0x00B7, 0x221A, 0x207F, 0x00B2, 0x25A0, 0x00A0,
};

// Python's zipfile: UTF-8 when flag bit 11 is set, CP437 otherwise.
std::string decode_name(const uint8_t* p, size_t n, uint16_t flags) {
  std::string raw(reinterpret_cast<const char*>(p), n);
  if ((flags & k_flag_utf8) != 0) {
    if (!valid_utf8(raw)) {
      fail("member name is not valid UTF-8");
    }
    return raw;
  }
  std::string out;
  for (unsigned char c : raw) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      append_utf8(out, k_cp437_high[c - 0x80]);
    }
  }
  return out;
}



// Where the central directory is, from the end records.
struct EndRecords {
  uint64_t cd_size = 0;
  uint64_t cd_offset = 0; // as recorded (before "concat")
  uint64_t cd_end = 0;    // where the central directory must end
};

// The end of central directory record.
EndRecords read_end_record(const ReadAt& read_at, uint64_t file_size) {
  if (file_size < k_eocd_size) {
    fail("truncated zip archive: no end of central directory record");
  }
  // The end record sits in the last 22 + 65535 (comment) bytes. Take the
  // last signature whose comment length reaches exactly the end of file.
  uint64_t tail_size = std::min<uint64_t>(file_size, k_eocd_size + 0xFFFF);
  uint64_t tail_offset = file_size - tail_size;
  std::vector<uint8_t> tail(static_cast<size_t>(tail_size));
  read_at(tail_offset, tail.data(), tail.size());
  size_t eocd = SIZE_MAX;
  for (size_t i = tail.size() - k_eocd_size + 1; i-- > 0;) {
    if (le32(&tail[i]) == k_sig_eocd && i + k_eocd_size + le16(&tail[i + 20]) == tail.size()) {
      eocd = i;
      break;
    }
  }
  if (eocd == SIZE_MAX) {
    // Python's zipfile (so NumPy) also takes the last signature when bytes
    // follow the record (a truncated comment, appended data).
    for (size_t i = tail.size() - k_eocd_size + 1; i-- > 0;) {
      if (le32(&tail[i]) == k_sig_eocd) {
        eocd = i;
        break;
      }
    }
  }
  if (eocd == SIZE_MAX) {
    fail("truncated or corrupt zip archive: end of central directory record not found");
  }
  const uint8_t* e = &tail[eocd];
  uint64_t eocd_offset = tail_offset + eocd;
  // The plain end record's disk numbers and counts are not checked, as
  // Python's zipfile does not check them (the central directory's size is
  // what counts); the ZIP64 locator's disk fields are checked below.
  EndRecords out{le32(e + 12), le32(e + 16), eocd_offset};

  // ZIP64: a locator right before the end record points at the ZIP64 end
  // record, whose values replace the 16/32-bit ones (NumPy always writes
  // ZIP64 extra fields; Python adds the end records when counts or offsets
  // overflow).
  uint8_t loc[k_locator_size];
  if (eocd_offset >= k_locator_size) {
    read_at(eocd_offset - k_locator_size, loc, sizeof loc);
    if (le32(loc) == k_sig_zip64_locator) {
      uint32_t z_disk = le32(loc + 4);
      uint64_t z_offset = le64(loc + 8);
      uint32_t disks = le32(loc + 16);
      if (z_disk != 0 || disks > 1) {
        fail("multi-disk zip archives are not supported");
      }
      if (z_offset > eocd_offset - k_locator_size ||
          eocd_offset - k_locator_size - z_offset < k_zip64_eocd_size) {
        fail("corrupt zip archive: ZIP64 end record offset out of range");
      }
      uint8_t z[k_zip64_eocd_size];
      read_at(z_offset, z, sizeof z);
      if (le32(z) != k_sig_zip64_eocd) {
        fail("corrupt zip archive: bad ZIP64 end record signature");
      }
      uint64_t record_size = le64(z + 4);
      if (record_size < k_zip64_eocd_size - 12 || record_size > eocd_offset - k_locator_size - z_offset - 12) {
        fail("corrupt zip archive: bad ZIP64 end record size");
      }
      if (le32(z + 16) != 0 || le32(z + 20) != 0) {
        fail("multi-disk zip archives are not supported");
      }
      out.cd_size = le64(z + 40);
      out.cd_offset = le64(z + 48);
      // Python assumes the ZIP64 end record sits right before its locator.
      out.cd_end = eocd_offset - k_locator_size - k_zip64_eocd_size;
    }
  }
  return out;
}

// One central directory entry at `c` (`room` bytes from there to the end of
// the directory): its fields, ZIP64 sizes, and the checks every member must
// pass. Returns the entry and its length in the directory.
std::pair<ZipEntry, size_t> parse_central_entry(const uint8_t* c, size_t room) {
  ZipEntry entry;
  entry.flags = le16(c + 8);
  entry.method = le16(c + 10);
  entry.crc32 = le32(c + 16);
  entry.compressed_size = le32(c + 20);
  entry.uncompressed_size = le32(c + 24);
  size_t name_len = le16(c + 28);
  size_t extra_len = le16(c + 30);
  size_t comment_len = le16(c + 32);
  uint16_t start_disk = le16(c + 34);
  entry.local_offset = le32(c + 42);
  if (room - k_central_size < name_len + extra_len + comment_len) {
    fail("corrupt zip archive: central directory entry runs past its end");
  }
  entry.raw_name.assign(reinterpret_cast<const char*>(c + k_central_size), name_len);
  entry.name = decode_name(c + k_central_size, name_len, entry.flags);
  const std::string what = "member " + dsm::quote(entry.name) + ": ";
  // ZIP64 extra field: 64-bit values for exactly the fields that hold
  // 0xFFFFFFFF, in this order.
  const uint8_t* x = c + k_central_size + name_len;
  size_t xpos = 0;
  bool need_usize = entry.uncompressed_size == 0xFFFFFFFF;
  bool need_csize = entry.compressed_size == 0xFFFFFFFF;
  bool need_offset = entry.local_offset == 0xFFFFFFFF;
  bool need_disk = start_disk == 0xFFFF;
  while (xpos + 4 <= extra_len) {
    uint16_t id = le16(x + xpos);
    size_t len = le16(x + xpos + 2);
    if (xpos + 4 + len > extra_len) {
      fail(what + "corrupt extra field");
    }
    if (id == 0x0001) {
      const uint8_t* d = x + xpos + 4;
      size_t left = len;
      auto take64 = [&](uint64_t& field) {
        if (left < 8) {
          fail(what + "truncated ZIP64 extra field");
        }
        field = le64(d);
        d += 8;
        left -= 8;
      };
      if (need_usize) {
        take64(entry.uncompressed_size);
        need_usize = false;
      }
      if (need_csize) {
        take64(entry.compressed_size);
        need_csize = false;
      }
      if (need_offset) {
        take64(entry.local_offset);
        need_offset = false;
      }
      if (need_disk) {
        if (left < 4) {
          fail(what + "truncated ZIP64 extra field");
        }
        start_disk = static_cast<uint16_t>(le32(d) == 0 ? 0 : 1);
        need_disk = false;
      }
    }
    xpos += 4 + len;
  }
  if (need_usize || need_csize || need_offset) {
    fail(what + "sizes need a ZIP64 extra field that is missing");
  }
  if (start_disk != 0 && start_disk != 0xFFFF) {
    fail("multi-disk zip archives are not supported");
  }
  if ((entry.flags & (k_flag_encrypted | k_flag_strong_encryption)) != 0) {
    fail(what + "encrypted members are not supported");
  }
  if ((entry.flags & k_flag_patched) != 0) {
    fail(what + "compressed patched data is not supported");
  }
  if (entry.method != 0 && entry.method != 8) {
    fail(what + "unsupported compression method " + std::to_string(entry.method));
  }
  if (entry.method == 0 && entry.compressed_size != entry.uncompressed_size) {
    fail(what + "stored member with different compressed and uncompressed sizes");
  }
  if (entry.method == 8 && entry.uncompressed_size / k_max_deflate_ratio > entry.compressed_size + 1) {
    fail(what + "declared size " + std::to_string(entry.uncompressed_size) + " is impossible for " +
         std::to_string(entry.compressed_size) + " compressed bytes");
  }
  return {std::move(entry), k_central_size + name_len + extra_len + comment_len};
}

// Local headers: only to find where the data starts.
void read_local_headers(const ReadAt& read_at, ZipDirectory& dir) {
  const uint64_t cd_offset = dir.cd_offset;
  // Their name and extra lengths may differ from the central ones.
  for (auto& entry : dir.entries) {
    const std::string what = "member " + dsm::quote(entry.name) + ": ";
    if (entry.local_offset > cd_offset || cd_offset - entry.local_offset < k_local_size) {
      fail(what + "local header offset out of range");
    }
    uint8_t l[k_local_size];
    read_at(entry.local_offset, l, sizeof l);
    if (le32(l) != k_sig_local) {
      fail(what + "bad local header signature");
    }
    uint64_t name_len = le16(l + 26);
    uint64_t extra_len = le16(l + 28);
    // As Python's zipfile (and so NumPy) does: the local name must be the
    // central directory's, byte for byte.
    if (name_len != entry.raw_name.size() || cd_offset - entry.local_offset - k_local_size < name_len) {
      fail(what + "local header and central directory disagree on the name");
    }
    std::string local_name(static_cast<size_t>(name_len), '\0');
    if (name_len > 0) {
      read_at(entry.local_offset + k_local_size, local_name.data(), local_name.size());
    }
    if (local_name != entry.raw_name) {
      fail(what + "local header and central directory disagree on the name");
    }
    entry.data_offset = entry.local_offset + k_local_size + name_len + extra_len;
    if (entry.data_offset > cd_offset || cd_offset - entry.data_offset < entry.compressed_size) {
      fail(what + "data runs past the central directory (truncated archive?)");
    }
  }
}

} // namespace

ZipDirectory read_zip_directory(const ReadAt& read_at, uint64_t file_size) {
  EndRecords end = read_end_record(read_at, file_size);
  if (end.cd_size > end.cd_end) {
    fail("corrupt zip archive: central directory of " + std::to_string(end.cd_size) +
         " bytes does not fit before the end record");
  }
  if (end.cd_size > k_max_central_directory) {
    fail("central directory of " + std::to_string(end.cd_size) + " bytes exceeds the limit");
  }
  // As Python's zipfile: the central directory is the cd_size bytes right
  // before the end records, and the difference between where it is and
  // where the record says it is ("concat": bytes prepended to the archive)
  // shifts every member offset. For an ordinary archive it is 0.
  const uint64_t cd_start = end.cd_end - end.cd_size;
  const auto concat = static_cast<int64_t>(cd_start - end.cd_offset);
  if (end.cd_offset > static_cast<uint64_t>(INT64_MAX)) {
    fail("corrupt zip archive: central directory offset out of range");
  }

  ZipDirectory dir;
  dir.cd_offset = cd_start;
  dir.cd_size = end.cd_size;
  std::vector<uint8_t> cd(static_cast<size_t>(end.cd_size));
  if (!cd.empty()) {
    read_at(dir.cd_offset, cd.data(), cd.size());
  }
  size_t pos = 0;
  while (pos < cd.size()) {
    if (cd.size() - pos < k_central_size || le32(&cd[pos]) != k_sig_central) {
      fail("corrupt zip archive: bad central directory entry at offset " + std::to_string(dir.cd_offset + pos));
    }
    auto [entry, length] = parse_central_entry(&cd[pos], cd.size() - pos);
    // Apply "concat" (unsigned wrap-around is the signed addition).
    entry.local_offset += static_cast<uint64_t>(concat);
    dir.entries.push_back(std::move(entry));
    pos += length;
  }
  // Two entries sharing a local header overlap: refuse before anything else
  // (how "zip bombs" that reuse one compressed stream many times are built).
  std::vector<const ZipEntry*> by_offset;
  for (const auto& entry : dir.entries) {
    by_offset.push_back(&entry);
  }
  std::sort(by_offset.begin(), by_offset.end(),
            [](const ZipEntry* a, const ZipEntry* b) { return a->local_offset < b->local_offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    if (by_offset[i - 1]->local_offset == by_offset[i]->local_offset) {
      fail("corrupt zip archive: members " + dsm::quote(by_offset[i - 1]->name) + " and " +
           dsm::quote(by_offset[i]->name) + " overlap");
    }
  }
  read_local_headers(read_at, dir);
  // Nor may one member's data run into the next member's header.
  for (size_t i = 1; i < by_offset.size(); ++i) {
    if (by_offset[i - 1]->data_offset + by_offset[i - 1]->compressed_size > by_offset[i]->local_offset) {
      fail("corrupt zip archive: members " + dsm::quote(by_offset[i - 1]->name) + " and " +
           dsm::quote(by_offset[i]->name) + " overlap");
    }
  }
  return dir;
}

struct ZipStream::Active {
  size_t index = 0;
  const ZipEntry* entry = nullptr;
  uint64_t consumed = 0;           // compressed bytes seen
  uint64_t produced = 0;           // uncompressed bytes seen
  uLong crc = 0;
  bool inflating = false;
  bool stream_end = false;
  z_stream z{};
  std::vector<uint8_t> out;
  std::unique_ptr<NpyStream> npy;

  ~Active() {
    if (inflating) {
      inflateEnd(&z);
    }
  }
};

ZipStream::ZipStream(ZipDirectory directory, NpyStream::WithStats with_stats)
  : m_dir(std::move(directory)), m_with_stats(with_stats) {
  for (size_t i = 0; i < m_dir.entries.size(); ++i) {
    m_order.push_back(i);
  }
  std::sort(m_order.begin(), m_order.end(),
            [&](size_t a, size_t b) { return m_dir.entries[a].data_offset < m_dir.entries[b].data_offset; });
  m_members.resize(m_dir.entries.size());
  m_done.assign(m_dir.entries.size(), false);
}

ZipStream::~ZipStream() = default;

void ZipStream::start_member(size_t index) {
  m_active = std::make_unique<Active>();
  Active& a = *m_active;
  a.index = index;
  a.entry = &m_dir.entries[index];
  a.crc = crc32(0L, Z_NULL, 0);
  a.npy = std::make_unique<NpyStream>(a.entry->uncompressed_size, NpyStream::Mode::member, m_with_stats);
  if (a.entry->method == 8) {
    a.out.resize(k_inflate_buffer);
    // Raw deflate (no zlib header), as zip stores it.
    if (inflateInit2(&a.z, -MAX_WBITS) != Z_OK) {
      fail("cannot initialise inflate");
    }
    a.inflating = true;
  }
}

void ZipStream::member_data(const uint8_t* data, size_t size) {
  Active& a = *m_active;
  const std::string what = "member " + dsm::quote(a.entry->name) + ": ";
  a.consumed += size;
  auto output = [&](const uint8_t* p, size_t n) {
    if (n > a.entry->uncompressed_size - a.produced) {
      fail(what + "inflates past its declared size of " + std::to_string(a.entry->uncompressed_size) + " bytes");
    }
    a.produced += n;
    // zlib's crc32 takes a uInt length.
    while (n > 0) {
      auto part = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
      a.crc = crc32(a.crc, p, part);
      try {
        a.npy->feed(p, part);
      } catch (const Error& e) {
        throw Error(what + e.what());
      }
      p += part;
      n -= part;
    }
  };
  if (!a.inflating) {
    output(data, size);
    return;
  }
  while (size > 0) {
    if (a.stream_end) {
      fail(what + "data after the end of the deflate stream");
    }
    auto part = static_cast<uInt>(std::min<size_t>(size, 1u << 30));
    a.z.next_in = const_cast<Bytef*>(data);
    a.z.avail_in = part;
    do {
      a.z.next_out = a.out.data();
      a.z.avail_out = static_cast<uInt>(a.out.size());
      int rc = inflate(&a.z, Z_NO_FLUSH);
      if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT) {
        fail(what + "corrupt deflate stream" + (a.z.msg != nullptr ? std::string(" (") + a.z.msg + ")" : ""));
      }
      if (rc == Z_MEM_ERROR) {
        fail(what + "out of memory while inflating");
      }
      output(a.out.data(), a.out.size() - a.z.avail_out);
      if (rc == Z_STREAM_END) {
        a.stream_end = true;
        if (a.z.avail_in > 0) {
          fail(what + "data after the end of the deflate stream");
        }
        break;
      }
      if (rc == Z_BUF_ERROR && a.z.avail_in == 0) {
        break;
      }
    } while (a.z.avail_in > 0 || a.z.avail_out == 0);
    data += part;
    size -= part;
  }
}

void ZipStream::end_member() {
  Active& a = *m_active;
  const ZipEntry& entry = *a.entry;
  const std::string what = "member " + dsm::quote(entry.name) + ": ";
  if (a.inflating && !a.stream_end) {
    fail(what + "truncated deflate stream");
  }
  if (a.produced != entry.uncompressed_size) {
    fail(what + "size " + std::to_string(a.produced) + " differs from the declared " +
         std::to_string(entry.uncompressed_size));
  }
  if (static_cast<uint32_t>(a.crc) != entry.crc32) {
    fail(what + "CRC-32 mismatch (corrupt data)");
  }
  NpzMember& m = m_members[a.index];
  m.zip_name = entry.name;
  m.name = entry.name;
  if (m.name.size() >= 4 && m.name.compare(m.name.size() - 4, 4, ".npy") == 0) {
    m.name.resize(m.name.size() - 4);
  }
  m.compressed = entry.method == 8;
  m.member_size = entry.uncompressed_size;
  m.compressed_size = entry.compressed_size;
  m.crc32 = entry.crc32;
  try {
    m.npy = a.npy->finish();
  } catch (const Error& e) {
    throw Error(what + e.what());
  }
  m.is_npy = m.npy.has_value();
  m_done[a.index] = true;
  m_active.reset();
}

void ZipStream::feed(uint64_t offset, const uint8_t* data, size_t size) {
  uint64_t end = offset + size;
  while (offset < end) {
    if (!m_active) {
      if (m_next == m_order.size()) {
        return;
      }
      const ZipEntry& next = m_dir.entries[m_order[m_next]];
      if (next.data_offset >= end) {
        return;
      }
      if (next.data_offset > offset) {
        data += next.data_offset - offset;
        offset = next.data_offset;
      }
      start_member(m_order[m_next]);
      ++m_next;
    }
    Active& a = *m_active;
    uint64_t left = a.entry->compressed_size - a.consumed;
    auto take = static_cast<size_t>(std::min<uint64_t>(left, end - offset));
    member_data(data, take);
    data += take;
    offset += take;
    if (a.consumed == a.entry->compressed_size) {
      end_member();
    }
  }
  // Zero-length members end as soon as they start.
  while (!m_active && m_next < m_order.size() && m_dir.entries[m_order[m_next]].compressed_size == 0 &&
         m_dir.entries[m_order[m_next]].data_offset <= end) {
    start_member(m_order[m_next]);
    ++m_next;
    end_member();
  }
}

std::vector<NpzMember> ZipStream::finish() {
  while (!m_active && m_next < m_order.size() && m_dir.entries[m_order[m_next]].compressed_size == 0) {
    start_member(m_order[m_next]);
    ++m_next;
    end_member();
  }
  if (m_active || m_next != m_order.size()) {
    fail("truncated zip archive");
  }
  return std::move(m_members);
}

} // namespace dsm::core

#include "format/chunk.hpp"

#include "dsm/error.hpp"
#include "util/file.hpp"
#include "util/sha256.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <limits>

namespace dsm {

struct NpyChunker::Hash {
  util::Sha256 sha;
  uint64_t size = 0;
};

uint64_t parse_size(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0) {
    ++i;
  }
  auto bad = [&] {
    return Error("invalid size " + quote(text) + ": use bytes or a unit, e.g. 512MiB, 64KiB, 1GB");
  };
  if (i == 0 || i > 19) {
    throw bad();
  }
  uint64_t n = std::stoull(text.substr(0, i));
  std::string unit = text.substr(i);
  uint64_t mult = 0;
  static const std::pair<const char*, uint64_t> k_units[] = {
    {"", 1},           {"B", 1},           {"K", 1ull << 10},  {"KiB", 1ull << 10}, {"KB", 1000},
    {"M", 1ull << 20}, {"MiB", 1ull << 20}, {"MB", 1000000},    {"G", 1ull << 30},   {"GiB", 1ull << 30},
    {"GB", 1000000000}, {"T", 1ull << 40}, {"TiB", 1ull << 40}, {"TB", 1000000000000ull}};
  for (const auto& [name, m] : k_units) {
    if (unit == name) {
      mult = m;
    }
  }
  if (mult == 0 || n == 0 || n > std::numeric_limits<uint64_t>::max() / mult) {
    throw bad();
  }
  return n * mult;
}

std::string chunk_file_name(uint64_t index) {
  std::string digits = std::to_string(index);
  if (digits.size() < 4) {
    digits.insert(0, 4 - digits.size(), '0');
  }
  return "part-" + digits + ".npy";
}

std::string npy_header_for(const NpyInfo& info, const std::vector<uint64_t>& shape) {
  // numpy/lib/format.py: _write_array_header and _wrap_header.
  // NpyInfo::descr is already Python's repr: "'<f8'", "[('a', '<i4')]".
  const std::string& descr = info.descr;
  std::string shape_repr = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    shape_repr += std::to_string(shape[i]);
    shape_repr += shape.size() == 1 ? "," : (i + 1 < shape.size() ? ", " : "");
  }
  shape_repr += ")";
  std::string dict = "{'descr': " + descr + ", 'fortran_order': " + (info.fortran_order ? "True" : "False") +
                     ", 'shape': " + shape_repr + ", }";
  if (!shape.empty()) {
    // GROWTH_AXIS_MAX_DIGITS: room to grow the axis in place.
    size_t digits = std::to_string(info.fortran_order ? shape.back() : shape.front()).size();
    dict.append(digits < 21 ? 21 - digits : 0, ' ');
  }
  size_t hlen = dict.size() + 1;
  std::string out;
  size_t prefix = 6 + 2 + 2;
  bool v2 = false;
  size_t pad = 64 - ((prefix + hlen) % 64);
  if (hlen + pad > 0xffff) {
    v2 = true;
    prefix = 6 + 2 + 4;
    pad = 64 - ((prefix + hlen) % 64);
  }
  out = std::string("\x93NUMPY", 6);
  out.push_back(v2 ? '\x02' : '\x01');
  out.push_back('\x00');
  uint64_t len = hlen + pad;
  out.push_back(static_cast<char>(len & 0xff));
  out.push_back(static_cast<char>((len >> 8) & 0xff));
  if (v2) {
    out.push_back(static_cast<char>((len >> 16) & 0xff));
    out.push_back(static_cast<char>((len >> 24) & 0xff));
  }
  out += dict;
  out.append(pad, ' ');
  out.push_back('\n');
  return out;
}

NpyChunker::NpyChunker(fs::path dir, uint64_t chunk_bytes, fs::path source_for_errors)
  : m_dir(std::move(dir)), m_chunk_bytes(chunk_bytes), m_source(std::move(source_for_errors)) {
  if (m_chunk_bytes == 0) {
    throw Error("chunk size must be at least 1 byte");
  }
}

NpyChunker::~NpyChunker() {
  if (m_fd >= 0) {
    ::close(m_fd);
  }
}

void NpyChunker::on_header() {
  m_info = parse_npy_header(reinterpret_cast<const uint8_t*>(m_head.data()), m_head.size(),
                            std::numeric_limits<uint64_t>::max());
  auto refuse = [&](const std::string& why) {
    return Error("cannot chunk " + quote(m_source.string()) + ": " + why);
  };
  if (m_info.object) {
    throw refuse("object (pickled) arrays cannot be split into rows");
  }
  if (m_info.shape.empty()) {
    throw refuse("a 0-d array has no rows to split");
  }
  m_summary.original_header = m_head;
  m_summary.axis = m_info.fortran_order ? static_cast<unsigned>(m_info.shape.size() - 1) : 0;
  m_summary.rows = m_info.shape[m_summary.axis];
  m_row_bytes = m_info.itemsize;
  for (size_t i = 0; i < m_info.shape.size(); ++i) {
    if (i != m_summary.axis) {
      m_row_bytes *= m_info.shape[i];
    }
  }
  m_rows_per_chunk = m_row_bytes == 0 ? std::max<uint64_t>(m_summary.rows, 1)
                                      : std::max<uint64_t>(1, m_chunk_bytes / m_row_bytes);
  m_have_header = true;
}

void NpyChunker::open_next() {
  uint64_t begin = m_summary.chunks.empty() ? 0 : m_summary.chunks.back().row_end;
  uint64_t end = std::min(m_summary.rows, begin + m_rows_per_chunk);
  ChunkRecord rec;
  rec.file = chunk_file_name(m_summary.chunks.size() + 1);
  rec.row_begin = begin;
  rec.row_end = end;
  m_path = m_dir / rec.file;
  m_fd = ::open(m_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (m_fd < 0) {
    throw Error("cannot create " + quote(m_path.string()) + ": " + util::errno_message(errno));
  }
  m_summary.chunks.push_back(rec);
  std::vector<uint64_t> shape = m_info.shape;
  shape[m_summary.axis] = end - begin;
  std::string header = npy_header_for(m_info, shape);
  m_hash = std::make_unique<Hash>();
  m_left = (end - begin) * m_row_bytes;
  util::write_all(m_fd, header.data(), header.size(), m_path);
  m_hash->sha.update(header.data(), header.size());
  m_hash->size += header.size();
}

void NpyChunker::close_current() {
  if (::fchmod(m_fd, 0444) != 0 || ::fsync(m_fd) != 0) {
    throw Error("cannot sync " + quote(m_path.string()) + ": " + util::errno_message(errno));
  }
  int fd = m_fd;
  m_fd = -1;
  if (::close(fd) != 0) {
    throw Error("cannot close " + quote(m_path.string()) + ": " + util::errno_message(errno));
  }
  ChunkRecord& rec = m_summary.chunks.back();
  rec.size = m_hash->size;
  rec.sha256 = m_hash->sha.hex_digest();
}

void NpyChunker::put(const uint8_t* data, size_t size) {
  while (size > 0) {
    if (m_fd < 0) {
      open_next();
    }
    size_t n = static_cast<size_t>(std::min<uint64_t>(size, m_left));
    util::write_all(m_fd, data, n, m_path);
    m_hash->sha.update(data, n);
    m_hash->size += n;
    m_left -= n;
    data += n;
    size -= n;
    if (m_left == 0) {
      close_current();
    }
  }
}

void NpyChunker::write(const uint8_t* data, size_t size) {
  if (!m_have_header) {
    // The header is complete once its length field says so: 10 bytes for
    // version 1, 12 for 2 and 3, then HEADER_LEN bytes.
    while (size > 0 && !m_have_header) {
      size_t need = 10;
      if (m_head.size() >= 8) {
        bool v1 = m_head[6] == '\x01';
        size_t len_bytes = v1 ? 2 : 4;
        if (m_head.size() >= 8 + len_bytes) {
          uint64_t hl = 0;
          for (size_t i = 0; i < len_bytes; ++i) {
            hl |= uint64_t(static_cast<uint8_t>(m_head[8 + i])) << (8 * i);
          }
          need = 8 + len_bytes + static_cast<size_t>(hl);
        } else {
          need = 8 + len_bytes;
        }
      }
      if (m_head.size() >= need) {
        on_header();
        break;
      }
      size_t n = std::min(size, need - m_head.size());
      m_head.append(reinterpret_cast<const char*>(data), n);
      data += n;
      size -= n;
      if (m_head.size() > (16u << 20)) {
        throw Error("cannot chunk " + quote(m_source.string()) + ": header too large");
      }
    }
    if (!m_have_header) {
      return;
    }
  }
  uint64_t payload = m_info.payload_bytes;
  if (m_payload_seen + size > payload) {
    throw Error("cannot chunk " + quote(m_source.string()) + ": " +
                std::to_string(m_payload_seen + size - payload) +
                " bytes after the array data (they would not survive the split)");
  }
  m_payload_seen += size;
  put(data, size);
}

ChunkSummary NpyChunker::finish() {
  if (!m_have_header) {
    // Too short to hold a header: let the parser say what is wrong.
    on_header();
  }
  if (m_payload_seen != m_info.payload_bytes) {
    throw Error("cannot chunk " + quote(m_source.string()) + ": array data is truncated");
  }
  if (m_summary.chunks.empty()) {
    // No data (zero rows or zero-sized rows): one chunk holding the shape.
    open_next();
  }
  if (m_fd >= 0) {
    if (m_left != 0) {
      throw Error("cannot chunk " + quote(m_source.string()) + ": array data is truncated");
    }
    close_current();
  }
  util::fsync_dir(m_dir);
  return m_summary;
}

bool is_chunk_file_name(const std::string& name) {
  if (name.size() < 13 || !name.starts_with("part-") || !name.ends_with(".npy")) {
    return false;
  }
  std::string digits = name.substr(5, name.size() - 9);
  return digits.find_first_not_of("0123456789") == std::string::npos;
}

StagedDir::StagedDir(const fs::path& parent, const std::string& hint) {
  static const char k_chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::string suffix;
    for (int i = 0; i < 10; ++i) {
      suffix += k_chars[static_cast<size_t>(::random()) % (sizeof(k_chars) - 1)];
    }
    m_path = parent / (std::string(util::k_temp_prefix) + hint + "." + suffix);
    if (::mkdir(m_path.c_str(), 0755) == 0) {
      return;
    }
    if (errno != EEXIST) {
      throw Error("cannot create directory " + quote(m_path.string()) + ": " + util::errno_message(errno));
    }
  }
  throw Error("cannot create a temporary directory in " + quote(parent.string()));
}

StagedDir::~StagedDir() {
  if (!m_published) {
    std::error_code ec;
    // Parts are read-only files; a directory we own can still drop them.
    fs::remove_all(m_path, ec);
  }
}

bool StagedDir::publish_noreplace(const fs::path& target) {
  if (::renameat2(AT_FDCWD, m_path.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) != 0) {
    if (errno == EEXIST || errno == ENOTEMPTY) {
      return false;
    }
    throw Error("cannot rename " + quote(m_path.string()) + " to " + quote(target.string()) + ": " +
                util::errno_message(errno));
  }
  m_published = true;
  m_path = target;
  return true;
}

std::string read_npy_header_bytes(int fd, const fs::path& path) {
  // magic (6), version (2), HEADER_LEN (2 for 1.0, 4 for 2.0 and 3.0).
  std::string head(12, '\0');
  size_t got = 0;
  while (got < head.size()) {
    size_t n = util::read_some(fd, head.data() + got, head.size() - got, path);
    if (n == 0) {
      break;
    }
    got += n;
  }
  head.resize(got);
  if (got < 10 || head.compare(0, 6, "\x93NUMPY") != 0) {
    throw Error(quote(path.string()) + ": not a .npy file");
  }
  size_t len_bytes = head[6] == '\x01' ? 2 : 4;
  uint64_t hl = 0;
  for (size_t i = 0; i < len_bytes && 8 + i < got; ++i) {
    hl |= uint64_t(static_cast<uint8_t>(head[8 + i])) << (8 * i);
  }
  uint64_t total = 8 + len_bytes + hl;
  if (total > (64u << 20)) {
    throw Error(quote(path.string()) + ": .npy header too large");
  }
  if (total < got) {
    throw Error(quote(path.string()) + ": .npy header too short");
  }
  size_t have = head.size();
  head.resize(static_cast<size_t>(total));
  while (have < head.size()) {
    size_t n = util::read_some(fd, head.data() + have, head.size() - have, path);
    if (n == 0) {
      throw Error(quote(path.string()) + ": truncated .npy header");
    }
    have += n;
  }
  return head;
}

void reassemble_chunks(const fs::path& dir, const ChunkSummary& summary,
                       const std::function<void(const uint8_t*, size_t)>& sink) {
  const std::string& head = summary.original_header;
  NpyInfo original =
    parse_npy_header(reinterpret_cast<const uint8_t*>(head.data()), head.size(), std::numeric_limits<uint64_t>::max());
  sink(reinterpret_cast<const uint8_t*>(head.data()), head.size());
  std::vector<uint8_t> buf(4u << 20);
  uint64_t expect_row = 0;
  for (const ChunkRecord& rec : summary.chunks) {
    fs::path p = dir / rec.file;
    util::Fd fd = util::open_read(p);
    std::string chunk_head = read_npy_header_bytes(fd.get(), p);
    NpyInfo info;
    try {
      info = parse_npy_header(reinterpret_cast<const uint8_t*>(chunk_head.data()), chunk_head.size(),
                              std::numeric_limits<uint64_t>::max());
    } catch (const Error& e) {
      throw Error(quote(p.string()) + ": " + e.what());
    }
    std::vector<uint64_t> shape = original.shape;
    if (summary.axis < shape.size()) {
      shape[summary.axis] = rec.row_end - rec.row_begin;
    }
    if (info.descr != original.descr || info.fortran_order != original.fortran_order || info.shape != shape ||
        rec.row_begin != expect_row) {
      throw Error(quote(p.string()) + ": chunk header does not match the recorded rows " +
                  std::to_string(rec.row_begin) + ".." + std::to_string(rec.row_end));
    }
    expect_row = rec.row_end;
    uint64_t left = info.payload_bytes;
    while (left > 0) {
      size_t n = util::read_some(fd.get(), buf.data(), static_cast<size_t>(std::min<uint64_t>(buf.size(), left)), p);
      if (n == 0) {
        throw Error(quote(p.string()) + ": chunk is truncated");
      }
      sink(buf.data(), n);
      left -= n;
    }
    if (util::read_some(fd.get(), buf.data(), 1, p) != 0) {
      throw Error(quote(p.string()) + ": bytes after the chunk's array data");
    }
  }
  if (expect_row != summary.rows) {
    throw Error(quote(dir.string()) + ": chunks cover rows 0.." + std::to_string(expect_row) + " of " +
                std::to_string(summary.rows));
  }
}

} // namespace dsm

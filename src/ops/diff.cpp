// dsm diff: two passes at most, never a whole array in memory.
//
// 1. Facts. A version in the repository brings its manifest SHA-256 and its
//    sidecar (header facts, statistics, meta): nothing is read. A file
//    outside the repository is scanned once (format/scan: SHA-256, header,
//    statistics), both files on their own threads. Equal content hashes
//    (the original .npy's for compressed and chunked versions) end here.
// 2. Elements. Both payloads are read side by side in blocks of whole
//    elements of about k_slice bytes (the slice the hash uses, so a block of
//    each side stays in L2 while it is compared) through pull readers: a
//    file range (a .npy, a stored .npz member, the parts of a chunked
//    version one after the other) or an inflater (a deflated member). Large
//    uncompressed pairs are split into ranges compared on one thread each.
//
// The comparison is np.isclose(a, b, rtol, atol, equal_nan), computed in
// the arrays' own precision as NumPy does (float32 in float32, integers and
// booleans in float64), except that with atol = rtol = 0 integers compare
// exactly (NumPy's float64 would call 2**53 + 1 equal to 2**53).
#include "ops/diff.hpp"

#include "dsm/error.hpp"
#include "format/chunk.hpp"
#include "format/format.hpp"
#include "format/npy_header.hpp"
#include "format/stats.hpp"
#include "format/zip_reader.hpp"
#include "repo/datasets.hpp"
#include "repo/repository.hpp"
#include "repo/sidecar.hpp"
#include "util/file.hpp"
#include "util/slices.hpp"

#include <nlohmann/json.hpp>
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <complex>
#include <cstring>
#include <exception>
#include <fcntl.h>
#include <sys/stat.h>
#include <limits>
#include <memory>
#include <set>
#include <thread>
#include <unistd.h>

namespace dsm {

namespace {

using json = nlohmann::json;

// ---------------------------------------------------------------------------
// Pull readers over payload bytes.

class ByteSource {
public:
  virtual ~ByteSource() = default;
  // Fills out[0, n) or throws: the payload is shorter than its header says.
  virtual void read(uint8_t* out, size_t n) = 0;
};

struct OpenFile {
  util::Fd fd;
  fs::path path;
};
using FileRef = std::shared_ptr<const OpenFile>;

FileRef open_file(const fs::path& path) {
  auto f = std::make_shared<OpenFile>();
  f->fd = util::open_read(path);
  f->path = path;
  ::posix_fadvise(f->fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  return f;
}

void pread_full(const OpenFile& f, uint64_t offset, uint8_t* out, size_t n) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(f.fd.get(), out + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw Error("cannot read " + quote(f.path.string()) + ": " + util::errno_message(errno));
    }
    if (r == 0) {
      throw Error(quote(f.path.string()) + ": file shrank while being read");
    }
    done += static_cast<size_t>(r);
  }
}

// Byte ranges of files, one after the other (a .npy's payload, a stored
// member, the payloads of a chunked version's parts).
struct Segment {
  FileRef file;
  uint64_t offset = 0;
  uint64_t length = 0;
};

class RangeSource final : public ByteSource {
public:
  RangeSource(const std::vector<Segment>& segments, uint64_t skip) : m_segments(segments) {
    while (m_index < m_segments.size() && skip >= m_segments[m_index].length) {
      skip -= m_segments[m_index].length;
      ++m_index;
    }
    m_pos = skip;
  }
  void read(uint8_t* out, size_t n) override {
    while (n > 0) {
      if (m_index == m_segments.size()) {
        throw Error("payload shorter than its header says");
      }
      const Segment& s = m_segments[m_index];
      auto take = static_cast<size_t>(std::min<uint64_t>(n, s.length - m_pos));
      pread_full(*s.file, s.offset + m_pos, out, take);
      out += take;
      n -= take;
      m_pos += take;
      if (m_pos == s.length) {
        ++m_index;
        m_pos = 0;
      }
    }
  }

private:
  std::vector<Segment> m_segments;
  size_t m_index = 0;
  uint64_t m_pos = 0;
};

// A deflated .npz member, inflated as it is read (zip_reader validated the
// entry's offsets and sizes against the file).
class InflateSource final : public ByteSource {
public:
  InflateSource(FileRef file, const core::ZipEntry& entry) : m_file(std::move(file)), m_entry(entry) {
    m_in.resize(util::k_slice);
    if (inflateInit2(&m_z, -MAX_WBITS) != Z_OK) {
      throw Error("cannot initialise inflate");
    }
  }
  ~InflateSource() override { inflateEnd(&m_z); }
  InflateSource(const InflateSource&) = delete;
  InflateSource& operator=(const InflateSource&) = delete;

  void read(uint8_t* out, size_t n) override {
    const std::string what = quote(m_file->path.string()) + ": member " + quote(m_entry.name) + ": ";
    while (n > 0) {
      if (m_ended) {
        throw Error(what + "payload shorter than its header says");
      }
      if (m_z.avail_in == 0) {
        uint64_t left = m_entry.compressed_size - m_consumed;
        if (left == 0) {
          throw Error(what + "truncated deflate stream");
        }
        auto take = static_cast<size_t>(std::min<uint64_t>(left, m_in.size()));
        pread_full(*m_file, m_entry.data_offset + m_consumed, m_in.data(), take);
        m_consumed += take;
        m_z.next_in = m_in.data();
        m_z.avail_in = static_cast<uInt>(take);
      }
      auto part = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
      m_z.next_out = out;
      m_z.avail_out = part;
      int rc = inflate(&m_z, Z_NO_FLUSH);
      if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT || rc == Z_MEM_ERROR) {
        throw Error(what + "corrupt deflate stream");
      }
      size_t got = part - m_z.avail_out;
      out += got;
      n -= got;
      if (rc == Z_STREAM_END) {
        m_ended = true;
      }
    }
  }

private:
  FileRef m_file;
  core::ZipEntry m_entry;
  z_stream m_z{};
  std::vector<uint8_t> m_in;
  uint64_t m_consumed = 0;
  bool m_ended = false;
};

void skip_bytes(ByteSource& src, uint64_t n) {
  std::vector<uint8_t> scratch(static_cast<size_t>(std::min<uint64_t>(n, util::k_slice)));
  while (n > 0) {
    auto take = static_cast<size_t>(std::min<uint64_t>(n, scratch.size()));
    src.read(scratch.data(), take);
    n -= take;
  }
}

// Reads a .npy header from the start of `src` (total: the .npy's size).
core::ParsedHeader read_header(ByteSource& src, uint64_t total) {
  if (total < 10) {
    throw Error("file too short for a .npy header (" + std::to_string(total) + " bytes)");
  }
  std::string h(8, '\0');
  src.read(reinterpret_cast<uint8_t*>(h.data()), 8);
  size_t prefix = core::npy_prefix_size(reinterpret_cast<const uint8_t*>(h.data()), 8);
  if (prefix > total) {
    throw Error("file too short for a .npy header");
  }
  h.resize(prefix);
  src.read(reinterpret_cast<uint8_t*>(h.data()) + 8, prefix - 8);
  const auto* p = reinterpret_cast<const uint8_t*>(h.data());
  uint64_t header_len = prefix == 10 ? (uint64_t{p[8]} | uint64_t{p[9]} << 8)
                                     : (uint64_t{p[8]} | uint64_t{p[9]} << 8 | uint64_t{p[10]} << 16 |
                                        uint64_t{p[11]} << 24);
  if (header_len > core::k_max_header_len || prefix + header_len > total) {
    core::parse_header(p, h.size(), total); // words the error
    throw Error("header runs past the end of the file");
  }
  h.resize(prefix + header_len);
  src.read(reinterpret_cast<uint8_t*>(h.data()) + prefix, header_len);
  return core::parse_header(reinterpret_cast<const uint8_t*>(h.data()), h.size(), total);
}

// One array's payload, readable from any element boundary when seekable.
struct ArrayInput {
  NpyInfo info;
  std::function<std::unique_ptr<ByteSource>(uint64_t skip)> open;
  bool seekable = false;
};

ArrayInput npy_input(const FileRef& file, uint64_t size) {
  RangeSource head({Segment{file, 0, size}}, 0);
  core::ParsedHeader ph;
  try {
    ph = read_header(head, size);
  } catch (const Error& e) {
    throw Error(quote(file->path.string()) + ": " + e.what());
  }
  ArrayInput in;
  in.info = ph.info;
  std::vector<Segment> segs{Segment{file, ph.info.data_offset, ph.info.payload_bytes}};
  in.open = [segs](uint64_t skip) { return std::make_unique<RangeSource>(segs, skip); };
  in.seekable = true;
  return in;
}

uint64_t file_size(const OpenFile& f) {
  struct stat st {};
  if (::fstat(f.fd.get(), &st) != 0) {
    throw Error("cannot stat " + quote(f.path.string()) + ": " + util::errno_message(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    throw Error(quote(f.path.string()) + ": not a regular file");
  }
  return static_cast<uint64_t>(st.st_size);
}

std::unique_ptr<ByteSource> member_source(const FileRef& file, const core::ZipEntry& e) {
  if (e.method == 8) {
    return std::make_unique<InflateSource>(file, e);
  }
  return std::make_unique<RangeSource>(std::vector<Segment>{Segment{file, e.data_offset, e.uncompressed_size}}, 0);
}

bool member_is_npy(const FileRef& file, const core::ZipEntry& e) {
  if (e.uncompressed_size < 6) {
    return false;
  }
  auto src = member_source(file, e);
  uint8_t magic[6];
  src->read(magic, 6);
  return std::memcmp(magic, core::k_npy_magic, 6) == 0;
}

ArrayInput member_input(const FileRef& file, const core::ZipEntry& e) {
  auto src = member_source(file, e);
  core::ParsedHeader ph;
  try {
    ph = read_header(*src, e.uncompressed_size);
  } catch (const Error& err) {
    throw Error(quote(file->path.string()) + ": member " + quote(e.name) + ": " + err.what());
  }
  ArrayInput in;
  in.info = ph.info;
  uint64_t start = ph.info.data_offset;
  if (e.method == 8) {
    in.open = [file, e, start](uint64_t skip) {
      std::unique_ptr<ByteSource> s = std::make_unique<InflateSource>(file, e);
      skip_bytes(*s, start + skip);
      return s;
    };
  } else {
    std::vector<Segment> segs{Segment{file, e.data_offset + start, ph.info.payload_bytes}};
    in.open = [segs](uint64_t skip) { return std::make_unique<RangeSource>(segs, skip); };
    in.seekable = true;
  }
  return in;
}

core::ZipDirectory zip_directory(const FileRef& file) {
  uint64_t size = file_size(*file);
  core::ReadAt read_at = [&](uint64_t offset, void* out, size_t n) {
    pread_full(*file, offset, static_cast<uint8_t*>(out), n);
  };
  try {
    return core::read_zip_directory(read_at, size);
  } catch (const Error& e) {
    throw Error(quote(file->path.string()) + ": " + e.what());
  }
}

std::string member_key(const std::string& zip_name) {
  if (zip_name.size() >= 4 && zip_name.compare(zip_name.size() - 4, 4, ".npy") == 0) {
    return zip_name.substr(0, zip_name.size() - 4);
  }
  return zip_name;
}

// ---------------------------------------------------------------------------
// Element kernels.

struct Tol {
  double rtol = 0;
  double atol = 0;
  bool equal_nan = false;
  bool exact = true; // rtol == atol == 0
};

struct Acc {
  uint64_t differ = 0;
  uint64_t nan_appeared = 0;
  uint64_t nan_vanished = 0;
  double max_abs = 0;
  double max_rel = 0;
  bool any_finite = false;

  void finite_pair(double d, double rel) {
    any_finite = true;
    if (d > max_abs || std::isnan(d)) {
      max_abs = d;
    }
    if (rel > max_rel || std::isnan(rel)) {
      max_rel = rel;
    }
  }
};

template <class T, bool Swap>
inline T load(const uint8_t* p) {
  T v;
  if constexpr (!Swap || sizeof(T) == 1) {
    std::memcpy(&v, p, sizeof v);
  } else if constexpr (sizeof(T) == 2) {
    uint16_t u;
    std::memcpy(&u, p, 2);
    u = __builtin_bswap16(u);
    std::memcpy(&v, &u, 2);
  } else if constexpr (sizeof(T) == 4) {
    uint32_t u;
    std::memcpy(&u, p, 4);
    u = __builtin_bswap32(u);
    std::memcpy(&v, &u, 4);
  } else if constexpr (sizeof(T) == 8) {
    uint64_t u;
    std::memcpy(&u, p, 8);
    u = __builtin_bswap64(u);
    std::memcpy(&v, &u, 8);
  } else {
    uint8_t tmp[sizeof(T)];
    for (size_t i = 0; i < sizeof(T); ++i) {
      tmp[i] = p[sizeof(T) - 1 - i];
    }
    std::memcpy(&v, tmp, sizeof v);
  }
  return v;
}

// np.isclose for one pair of reals, in T's precision.
template <class T>
inline bool float_differ(T x, T y, const Tol& t, Acc& acc) {
  if (x == y) {
    if (std::isfinite(x)) {
      acc.any_finite = true;
    }
    return false;
  }
  bool xn = std::isnan(x);
  bool yn = std::isnan(y);
  if (xn || yn) {
    if (xn && !yn) {
      ++acc.nan_appeared;
    } else if (yn && !xn) {
      ++acc.nan_vanished;
    }
    return !(t.equal_nan && xn && yn);
  }
  if (std::isinf(x) || std::isinf(y)) {
    return true;
  }
  T d = std::fabs(x - y);
  T ay = std::fabs(y);
  acc.finite_pair(static_cast<double>(d), ay == 0 ? std::numeric_limits<double>::infinity()
                                                  : static_cast<double>(d) / static_cast<double>(ay));
  return !(d <= static_cast<T>(t.atol) + static_cast<T>(t.rtol) * ay);
}

template <class T, bool Swap>
struct FloatK {
  static bool differ(const uint8_t* a, const uint8_t* b, uint32_t, const Tol& t, Acc& acc) {
    return float_differ<T>(load<T, Swap>(a), load<T, Swap>(b), t, acc);
  }
};

template <bool Swap>
struct HalfK {
  static bool differ(const uint8_t* a, const uint8_t* b, uint32_t, const Tol& t, Acc& acc) {
    return float_differ<float>(core::half_to_float(load<uint16_t, Swap>(a)), core::half_to_float(load<uint16_t, Swap>(b)),
                               t, acc);
  }
};

template <class T, bool Swap>
struct ComplexK {
  static bool differ(const uint8_t* a, const uint8_t* b, uint32_t, const Tol& t, Acc& acc) {
    std::complex<T> x(load<T, Swap>(a), load<T, Swap>(a + sizeof(T)));
    std::complex<T> y(load<T, Swap>(b), load<T, Swap>(b + sizeof(T)));
    auto finite = [](std::complex<T> z) { return std::isfinite(z.real()) && std::isfinite(z.imag()); };
    auto nan = [](std::complex<T> z) { return std::isnan(z.real()) || std::isnan(z.imag()); };
    if (x == y) {
      if (finite(x)) {
        acc.any_finite = true;
      }
      return false;
    }
    bool xn = nan(x);
    bool yn = nan(y);
    if (xn || yn) {
      if (xn && !yn) {
        ++acc.nan_appeared;
      } else if (yn && !xn) {
        ++acc.nan_vanished;
      }
      return !(t.equal_nan && xn && yn);
    }
    if (!finite(x) || !finite(y)) {
      return true;
    }
    T d = std::abs(x - y);
    T ay = std::abs(y);
    acc.finite_pair(static_cast<double>(d), ay == 0 ? std::numeric_limits<double>::infinity()
                                                    : static_cast<double>(d) / static_cast<double>(ay));
    return !(d <= static_cast<T>(t.atol) + static_cast<T>(t.rtol) * ay);
  }
};

template <class T, bool Swap>
struct IntK {
  static bool differ(const uint8_t* a, const uint8_t* b, uint32_t, const Tol& t, Acc& acc) {
    T x = load<T, Swap>(a);
    T y = load<T, Swap>(b);
    acc.any_finite = true;
    if (x == y) {
      return false;
    }
    core::Int128 diff = static_cast<core::Int128>(x) - static_cast<core::Int128>(y);
    double d = static_cast<double>(diff < 0 ? -diff : diff);
    double ay = std::fabs(static_cast<double>(y));
    acc.finite_pair(d, ay == 0 ? std::numeric_limits<double>::infinity() : d / ay);
    if (t.exact) {
      return true;
    }
    double xd = static_cast<double>(x);
    double yd = static_cast<double>(y);
    return !(std::fabs(xd - yd) <= t.atol + t.rtol * std::fabs(yd));
  }
};

// Booleans: 0 and 1, compared as numbers (np.isclose casts them to float64).
struct BoolK {
  static bool differ(const uint8_t* a, const uint8_t* b, uint32_t, const Tol& t, Acc& acc) {
    acc.any_finite = true;
    double x = *a != 0 ? 1 : 0;
    double y = *b != 0 ? 1 : 0;
    if (x == y) {
      return false;
    }
    acc.finite_pair(1, y != 0 ? 1 : std::numeric_limits<double>::infinity());
    return !(1 <= t.atol + t.rtol * y);
  }
};

// Bytes compared as bytes: strings, datetimes, void.
struct BytesK {
  static bool differ(const uint8_t* a, const uint8_t* b, uint32_t size, const Tol&, Acc&) {
    return std::memcmp(a, b, size) != 0;
  }
};

using ScalarFn = bool (*)(const uint8_t*, const uint8_t*, uint32_t, const Tol&, Acc&);

// Where the first --show differing elements are kept (rendered at once:
// there are at most `show` of them per thread).
struct Recorder {
  uint64_t show = 0;
  std::function<void(uint64_t pos, const uint8_t* a, const uint8_t* b)> note;
  std::vector<DiffExample> examples; // index holds {position} until unravelled
};

using BlockFn = void (*)(const uint8_t*, const uint8_t*, uint64_t n, uint32_t size, uint64_t base, const Tol&, Acc&,
                         Recorder&);

// One scalar per element (no fields, no subarray): the loop the compiler
// sees whole.
template <class K>
void block_loop(const uint8_t* a, const uint8_t* b, uint64_t n, uint32_t size, uint64_t base, const Tol& t, Acc& acc,
                Recorder& rec) {
  for (uint64_t i = 0; i < n; ++i) {
    if (K::differ(a + i * size, b + i * size, size, t, acc)) {
      ++acc.differ;
      if (rec.examples.size() < rec.show) {
        rec.note(base + i, a + i * size, b + i * size);
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Rendering values as JSON text.

template <class T>
std::string real_text(T v) {
  if (std::isnan(v)) {
    return "\"nan\"";
  }
  if (std::isinf(v)) {
    return v > 0 ? "\"inf\"" : "\"-inf\"";
  }
  if constexpr (std::is_same_v<T, long double>) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.21Lg", v);
    return buf;
  } else {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    std::string s(buf, r.ptr);
    return s;
  }
}

std::string double_text(double v) { return real_text(v); }

struct Kind {
  char code = 0;      // b i u f c S U V M m
  uint32_t size = 0;  // bytes of one scalar
  bool swap = false;
  ScalarFn differ = nullptr;
  BlockFn block = nullptr;
};

template <class K>
Kind kind_of(char code, uint32_t size, bool swap) {
  return Kind{code, size, swap, &K::differ, &block_loop<K>};
}

template <template <class, bool> class K, class T>
Kind typed(char code, uint32_t size, bool swap) {
  return swap ? kind_of<K<T, true>>(code, size, swap) : kind_of<K<T, false>>(code, size, swap);
}

std::string render(const Kind& k, const uint8_t* p) {
  auto u = [&](auto tag) {
    using T = decltype(tag);
    return k.swap ? load<T, true>(p) : load<T, false>(p);
  };
  switch (k.code) {
  case 'b':
    return *p != 0 ? "true" : "false";
  case 'i':
    switch (k.size) {
    case 1: return std::to_string(u(int8_t{}));
    case 2: return std::to_string(u(int16_t{}));
    case 4: return std::to_string(u(int32_t{}));
    default: return std::to_string(u(int64_t{}));
    }
  case 'u':
    switch (k.size) {
    case 1: return std::to_string(u(uint8_t{}));
    case 2: return std::to_string(u(uint16_t{}));
    case 4: return std::to_string(u(uint32_t{}));
    default: return std::to_string(u(uint64_t{}));
    }
  case 'f':
    switch (k.size) {
    case 2: return real_text(core::half_to_float(u(uint16_t{})));
    case 4: return real_text(u(float{}));
    case 8: return real_text(u(double{}));
    default: return real_text(u(static_cast<long double>(0)));
    }
  case 'c': {
    Kind part = k;
    part.code = 'f';
    part.size = k.size / 2;
    return "[" + render(part, p) + ", " + render(part, p + part.size) + "]";
  }
  case 'M':
  case 'm': {
    int64_t v = u(int64_t{});
    return v == std::numeric_limits<int64_t>::min() ? "\"NaT\"" : std::to_string(v);
  }
  case 'S': {
    size_t n = k.size;
    while (n > 0 && p[n - 1] == 0) {
      --n;
    }
    std::string s;
    for (size_t i = 0; i < n; ++i) {
      if (p[i] < 0x80) {
        s += static_cast<char>(p[i]);
      } else {
        core::append_utf8(s, p[i]); // bytes shown as Latin-1
      }
    }
    return json(s).dump();
  }
  case 'U': {
    std::string s;
    size_t n = k.size / 4;
    while (n > 0 && std::memcmp(p + (n - 1) * 4, "\0\0\0\0", 4) == 0) {
      --n;
    }
    for (size_t i = 0; i < n; ++i) {
      uint32_t cp = k.swap ? load<uint32_t, true>(p + i * 4) : load<uint32_t, false>(p + i * 4);
      try {
        core::append_utf8(s, cp);
      } catch (const Error&) {
        core::append_utf8(s, 0xFFFD);
      }
    }
    return json(s).dump();
  }
  default: {
    static const char* hex = "0123456789abcdef";
    std::string s = "\"";
    for (uint32_t i = 0; i < k.size; ++i) {
      s += hex[p[i] >> 4];
      s += hex[p[i] & 15];
    }
    return s + "\"";
  }
  }
}

// A scalar type string as np.save writes it ("<f8", "|b1", "<U5",
// "<M8[ns]"). nullopt when dsm does not compare it (object, unknown).
std::optional<Kind> parse_kind(const std::string& t, std::string& why) {
  if (t.size() < 2) {
    why = "dtype " + quote(t) + " not understood";
    return std::nullopt;
  }
  char order = t[0];
  char code = t[1];
  std::string rest = t.substr(2);
  if (size_t br = rest.find('['); br != std::string::npos && (code == 'M' || code == 'm')) {
    rest = rest.substr(0, br);
  }
  if (code == 'O') {
    why = "object arrays are pickled, not compared";
    return std::nullopt;
  }
  if (std::string("<>|=").find(order) == std::string::npos || rest.empty() || rest.size() > 9 ||
      rest.find_first_not_of("0123456789") != std::string::npos) {
    why = "dtype " + quote(t) + " not understood";
    return std::nullopt;
  }
  uint64_t n = std::stoull(rest);
  bool host_little = std::endian::native == std::endian::little;
  bool swap = (order == '<' && !host_little) || (order == '>' && host_little);
  auto size = static_cast<uint32_t>(n);
  switch (code) {
  case 'b':
    if (n == 1) {
      return kind_of<BoolK>('b', 1, false);
    }
    break;
  case 'i':
    switch (n) {
    case 1: return typed<IntK, int8_t>('i', size, false);
    case 2: return typed<IntK, int16_t>('i', size, swap);
    case 4: return typed<IntK, int32_t>('i', size, swap);
    case 8: return typed<IntK, int64_t>('i', size, swap);
    default: break;
    }
    break;
  case 'u':
    switch (n) {
    case 1: return typed<IntK, uint8_t>('u', size, false);
    case 2: return typed<IntK, uint16_t>('u', size, swap);
    case 4: return typed<IntK, uint32_t>('u', size, swap);
    case 8: return typed<IntK, uint64_t>('u', size, swap);
    default: break;
    }
    break;
  case 'f':
    if (n == 2) {
      return swap ? kind_of<HalfK<true>>('f', 2, true) : kind_of<HalfK<false>>('f', 2, false);
    }
    if (n == 4) {
      return typed<FloatK, float>('f', size, swap);
    }
    if (n == 8) {
      return typed<FloatK, double>('f', size, swap);
    }
    if (n == sizeof(long double)) {
      return typed<FloatK, long double>('f', size, swap);
    }
    break;
  case 'c':
    if (n == 8) {
      return typed<ComplexK, float>('c', size, swap);
    }
    if (n == 16) {
      return typed<ComplexK, double>('c', size, swap);
    }
    if (n == 2 * sizeof(long double)) {
      return typed<ComplexK, long double>('c', size, swap);
    }
    break;
  case 'M':
  case 'm':
    if (n == 8) {
      return kind_of<BytesK>(code, 8, swap);
    }
    break;
  case 'S':
  case 'V':
    if (n > 0) {
      return kind_of<BytesK>(code, size, false);
    }
    break;
  case 'U':
    if (n > 0) {
      return kind_of<BytesK>('U', size * 4, swap);
    }
    break;
  default:
    break;
  }
  why = "dtype " + quote(t) + " not understood";
  return std::nullopt;
}

// Where each scalar of an element lies.
struct Leaf {
  std::string name;   // "" for a plain array; "a", "b.x" in a structured one
  uint64_t offset = 0;
  uint64_t count = 1; // subarray fields hold several scalars
  Kind kind;
};

struct Layout {
  std::vector<Leaf> leaves;
  uint64_t itemsize = 0;
  bool structured = false;
  std::string why_not; // non-empty: not comparable
};

bool walk_descr(const json& d, const std::string& prefix, uint64_t count, Layout& out) {
  if (d.is_string()) {
    std::optional<Kind> k = parse_kind(d.get<std::string>(), out.why_not);
    if (!k) {
      return false;
    }
    Leaf leaf{prefix, out.itemsize, count, *k};
    out.itemsize += count * k->size;
    if (!(k->code == 'V' && prefix.empty() && out.structured)) {
      out.leaves.push_back(leaf);
    }
    return true;
  }
  if (!d.is_array()) {
    out.why_not = "dtype not understood";
    return false;
  }
  if (count != 1) {
    out.why_not = "subarrays of structured dtypes are not compared";
    return false;
  }
  out.structured = true;
  for (const json& field : d) {
    if (!field.is_array() || field.size() < 2 || field.size() > 3) {
      out.why_not = "dtype not understood";
      return false;
    }
    std::string name;
    if (field[0].is_string()) {
      name = field[0].get<std::string>();
    } else if (field[0].is_array() && field[0].size() == 2 && field[0][1].is_string()) {
      name = field[0][1].get<std::string>(); // (title, name)
    }
    uint64_t n = 1;
    if (field.size() == 3) {
      const json& shape = field[2];
      if (shape.is_number_unsigned()) {
        n = shape.get<uint64_t>();
      } else if (shape.is_array()) {
        for (const json& s : shape) {
          if (!s.is_number_unsigned()) {
            out.why_not = "dtype not understood";
            return false;
          }
          n *= s.get<uint64_t>();
        }
      }
    }
    std::string full = name.empty() ? "" : (prefix.empty() ? name : prefix + "." + name);
    if (name.empty()) {
      // Padding ('', '|V4'): skipped by NumPy's comparisons too.
      std::string why;
      std::optional<Kind> k = field[1].is_string() ? parse_kind(field[1].get<std::string>(), why) : std::nullopt;
      if (!k) {
        out.why_not = "dtype not understood";
        return false;
      }
      out.itemsize += n * k->size;
      continue;
    }
    if (!walk_descr(field[1], full, n, out)) {
      return false;
    }
  }
  return true;
}

Layout layout_of(const NpyInfo& info) {
  Layout l;
  if (info.object) {
    l.why_not = "object arrays are pickled, not compared";
    return l;
  }
  json d;
  try {
    d = json::parse(info.descr_json);
  } catch (const json::exception&) {
    l.why_not = "dtype not understood";
    return l;
  }
  if (walk_descr(d, "", 1, l) && l.itemsize != info.itemsize) {
    l.why_not = "dtype layout not understood (" + std::to_string(l.itemsize) + " bytes of fields in " +
                std::to_string(info.itemsize) + "-byte elements)";
  }
  return l;
}

// Same fields, offsets, kinds and sizes: byte order may differ.
bool same_layout(const Layout& a, const Layout& b) {
  if (a.itemsize != b.itemsize || a.leaves.size() != b.leaves.size() || a.structured != b.structured) {
    return false;
  }
  for (size_t i = 0; i < a.leaves.size(); ++i) {
    const Leaf& x = a.leaves[i];
    const Leaf& y = b.leaves[i];
    if (x.name != y.name || x.offset != y.offset || x.count != y.count || x.kind.code != y.kind.code ||
        x.kind.size != y.kind.size) {
      return false;
    }
  }
  return true;
}

std::string render_element(const Layout& l, const uint8_t* p) {
  auto leaf_text = [&](const Leaf& leaf) {
    if (leaf.count == 1) {
      return render(leaf.kind, p + leaf.offset);
    }
    std::string s = "[";
    for (uint64_t i = 0; i < leaf.count; ++i) {
      s += (i > 0 ? ", " : "") + render(leaf.kind, p + leaf.offset + i * leaf.kind.size);
    }
    return s + "]";
  };
  if (!l.structured && l.leaves.size() == 1) {
    return leaf_text(l.leaves[0]);
  }
  // Structured: {"field": value, "outer.inner": value}, fields in order.
  std::string s = "{";
  for (size_t i = 0; i < l.leaves.size(); ++i) {
    s += (i > 0 ? ", " : "") + json(l.leaves[i].name).dump() + ": " + leaf_text(l.leaves[i]);
  }
  return s + "}";
}

// ---------------------------------------------------------------------------
// Comparing two payloads.

struct RangeResult {
  Acc acc;
  std::vector<DiffExample> first; // index = {position}
  std::vector<uint64_t> field_differ;
};

RangeResult compare_range(const ArrayInput& a, const ArrayInput& b, const Layout& la, const Layout& lb, uint64_t begin,
                          uint64_t end, const Tol& tol, uint64_t show) {
  RangeResult out;
  const uint64_t itemsize = la.itemsize;
  const bool simple = !la.structured && la.leaves.size() == 1 && la.leaves[0].count == 1 &&
                      la.leaves[0].kind.swap == lb.leaves[0].kind.swap;
  const uint64_t per_block = std::max<uint64_t>(1, util::k_slice / std::max<uint64_t>(itemsize, 1));
  std::vector<uint8_t> ba(static_cast<size_t>(per_block * itemsize));
  std::vector<uint8_t> bb(ba.size());
  std::unique_ptr<ByteSource> sa = a.open(begin * itemsize);
  std::unique_ptr<ByteSource> sb = b.open(begin * itemsize);
  Recorder rec;
  rec.show = show;
  rec.note = [&](uint64_t pos, const uint8_t* pa, const uint8_t* pb) {
    rec.examples.push_back({{pos}, render_element(la, pa), render_element(lb, pb)});
  };
  out.field_differ.assign(la.leaves.size(), 0);
  for (uint64_t pos = begin; pos < end;) {
    uint64_t n = std::min(per_block, end - pos);
    auto bytes = static_cast<size_t>(n * itemsize);
    sa->read(ba.data(), bytes);
    sb->read(bb.data(), bytes);
    if (simple) {
      la.leaves[0].kind.block(ba.data(), bb.data(), n, la.leaves[0].kind.size, pos, tol, out.acc, rec);
    } else {
      for (uint64_t i = 0; i < n; ++i) {
        const uint8_t* pa = ba.data() + i * itemsize;
        const uint8_t* pb = bb.data() + i * itemsize;
        bool any = false;
        for (size_t f = 0; f < la.leaves.size(); ++f) {
          const Leaf& x = la.leaves[f];
          const Leaf& y = lb.leaves[f];
          bool field = false;
          for (uint64_t k = 0; k < x.count; ++k) {
            // The two sides may differ in byte order: load each with its own.
            const uint8_t* qa = pa + x.offset + k * x.kind.size;
            const uint8_t* qb = pb + y.offset + k * y.kind.size;
            bool d;
            if (x.kind.swap == y.kind.swap) {
              d = x.kind.differ(qa, qb, x.kind.size, tol, out.acc);
            } else {
              // Bring B into A's byte order first.
              uint8_t tmp[64];
              uint32_t part = (y.kind.code == 'c') ? y.kind.size / 2 : (y.kind.code == 'U' ? 4 : y.kind.size);
              for (uint32_t s = 0; s < y.kind.size; s += part) {
                for (uint32_t j = 0; j < part; ++j) {
                  tmp[s + j] = qb[s + part - 1 - j];
                }
              }
              d = y.kind.size <= sizeof tmp ? x.kind.differ(qa, tmp, x.kind.size, tol, out.acc)
                                            : x.kind.differ(qa, qb, x.kind.size, tol, out.acc);
            }
            field = field || d;
          }
          if (field) {
            ++out.field_differ[f];
            any = true;
          }
        }
        if (any) {
          ++out.acc.differ;
          if (rec.examples.size() < show) {
            rec.note(pos + i, pa, pb);
          }
        }
      }
    }
    pos += n;
  }
  out.first = std::move(rec.examples);
  return out;
}

std::vector<uint64_t> unravel(uint64_t pos, const std::vector<uint64_t>& shape, bool fortran) {
  std::vector<uint64_t> idx(shape.size());
  if (fortran) {
    for (size_t d = 0; d < shape.size(); ++d) {
      idx[d] = shape[d] == 0 ? 0 : pos % shape[d];
      pos = shape[d] == 0 ? 0 : pos / shape[d];
    }
  } else {
    for (size_t d = shape.size(); d-- > 0;) {
      idx[d] = shape[d] == 0 ? 0 : pos % shape[d];
      pos = shape[d] == 0 ? 0 : pos / shape[d];
    }
  }
  return idx;
}

// C and Fortran order store the same sequence when at most one axis is
// longer than 1.
bool same_storage_order(const NpyInfo& a, const NpyInfo& b) {
  if (a.fortran_order == b.fortran_order) {
    return true;
  }
  return std::count_if(a.shape.begin(), a.shape.end(), [](uint64_t n) { return n > 1; }) <= 1;
}

std::string shape_text(const std::vector<uint64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    s += (i > 0 ? ", " : "") + std::to_string(shape[i]);
  }
  return s + (shape.size() == 1 ? ",)" : ")");
}

std::string plain_descr(const std::string& descr) {
  if (descr.size() >= 2 && descr.front() == '\'' && descr.back() == '\'' &&
      descr.find_first_of("[(") == std::string::npos) {
    return descr.substr(1, descr.size() - 2);
  }
  return descr;
}

std::vector<std::pair<std::string, std::pair<std::string, std::string>>> stats_diff(const std::optional<Stats>& a,
                                                                                 const std::optional<Stats>& b) {
  auto fields = [](const std::optional<Stats>& s) {
    std::vector<std::pair<std::string, std::string>> f;
    if (!s) {
      return f;
    }
    auto extreme = [&](bool is_min) {
      switch (s->kind) {
      case Stats::Kind::signed_integer: return std::to_string(is_min ? s->min_int : s->max_int);
      case Stats::Kind::unsigned_integer: return std::to_string(is_min ? s->min_uint : s->max_uint);
      case Stats::Kind::floating: break;
      }
      return double_text(is_min ? s->min : s->max);
    };
    f = {{"count", std::to_string(s->count)}, {"mean", double_text(s->mean)}, {"min", extreme(true)},
         {"max", extreme(false)},            {"nan", std::to_string(s->nan)}, {"inf", std::to_string(s->inf)}};
    return f;
  };
  auto fa = fields(a);
  auto fb = fields(b);
  std::vector<std::pair<std::string, std::pair<std::string, std::string>>> out;
  if (fa.empty() && fb.empty()) {
    return out;
  }
  static const char* k_names[] = {"count", "mean", "min", "max", "nan", "inf"};
  for (size_t i = 0; i < 6; ++i) {
    std::string va = fa.empty() ? "null" : fa[i].second;
    std::string vb = fb.empty() ? "null" : fb[i].second;
    if (va != vb) {
      out.push_back({k_names[i], {va, vb}});
    }
  }
  return out;
}

unsigned pick_jobs(const DiffOptions& o, const ArrayInput& a, const ArrayInput& b, uint64_t count) {
  if (!a.seekable || !b.seekable || a.info.payload_bytes < (32u << 20)) {
    return 1;
  }
  unsigned jobs = o.jobs != 0 ? o.jobs : std::max(1u, std::thread::hardware_concurrency());
  return static_cast<unsigned>(std::min<uint64_t>({jobs, 16u, count}));
}

// The header facts, then the elements when the two are comparable.
ArrayDiff diff_arrays(const ArrayInput& a, const ArrayInput& b, const std::optional<Stats>& stats_a,
                      const std::optional<Stats>& stats_b, const DiffOptions& o) {
  ArrayDiff d;
  const NpyInfo& x = a.info;
  const NpyInfo& y = b.info;
  if (x.version != y.version) {
    d.header.push_back({"npy_version", x.version, y.version});
  }
  if (x.descr != y.descr) {
    d.header.push_back({"dtype", plain_descr(x.descr), plain_descr(y.descr)});
  }
  if (x.shape != y.shape) {
    d.header.push_back({"shape", shape_text(x.shape), shape_text(y.shape)});
  }
  if (x.fortran_order != y.fortran_order) {
    d.header.push_back({"order", x.fortran_order ? "F" : "C", y.fortran_order ? "F" : "C"});
  }
  d.stats = stats_diff(stats_a, stats_b);
  Layout la = layout_of(x);
  Layout lb = layout_of(y);
  if (x.shape != y.shape) {
    d.reason = "shapes differ";
  } else if (!la.why_not.empty()) {
    d.reason = la.why_not;
  } else if (!lb.why_not.empty()) {
    d.reason = lb.why_not;
  } else if (!same_layout(la, lb)) {
    d.reason = "dtypes differ";
  } else if (!same_storage_order(x, y)) {
    d.reason = "memory orders differ (C against Fortran): not compared in one pass";
  } else if (la.itemsize > (16u << 20)) {
    d.reason = "elements larger than 16 MiB are not compared";
  }
  if (!d.reason.empty()) {
    d.equal = false;
    return d;
  }
  Tol tol{o.rtol, o.atol, o.equal_nan, o.rtol == 0 && o.atol == 0};
  const uint64_t count = x.count;
  unsigned jobs = pick_jobs(o, a, b, count);
  std::vector<RangeResult> parts(jobs);
  if (jobs == 1) {
    parts[0] = compare_range(a, b, la, lb, 0, count, tol, o.show);
  } else {
    std::vector<std::thread> threads;
    std::vector<std::exception_ptr> errors(jobs);
    for (unsigned j = 0; j < jobs; ++j) {
      uint64_t begin = count * j / jobs;
      uint64_t end = count * (j + 1) / jobs;
      threads.emplace_back([&, j, begin, end] {
        try {
          parts[j] = compare_range(a, b, la, lb, begin, end, tol, o.show);
        } catch (...) {
          errors[j] = std::current_exception();
        }
      });
    }
    for (auto& t : threads) {
      t.join();
    }
    for (auto& e : errors) {
      if (e) {
        std::rethrow_exception(e);
      }
    }
  }
  ElementDiff e;
  e.compared = count;
  std::vector<uint64_t> field_differ(la.leaves.size(), 0);
  bool nan_max = false;
  for (RangeResult& r : parts) {
    e.differ += r.acc.differ;
    e.nan_appeared += r.acc.nan_appeared;
    e.nan_vanished += r.acc.nan_vanished;
    if (r.acc.any_finite) {
      e.any_finite = true;
      nan_max = nan_max || std::isnan(r.acc.max_abs);
      e.max_abs_diff = std::max(e.max_abs_diff, r.acc.max_abs);
      e.max_rel_diff = std::max(e.max_rel_diff, r.acc.max_rel);
    }
    for (size_t f = 0; f < field_differ.size(); ++f) {
      field_differ[f] += r.field_differ[f];
    }
    // Ranges are in order: the first `show` of the concatenation are the first overall.
    for (DiffExample& ex : r.first) {
      if (e.first.size() < o.show) {
        ex.index = unravel(ex.index[0], x.shape, x.fortran_order);
        e.first.push_back(std::move(ex));
      }
    }
  }
  if (la.structured) {
    for (size_t f = 0; f < la.leaves.size(); ++f) {
      e.fields.push_back({la.leaves[f].name, field_differ[f]});
    }
  }
  d.equal = e.differ == 0;
  d.elements = std::move(e);
  return d;
}

// Two .npz members that are not arrays: equal bytes or not.
bool same_bytes(const FileRef& fa, const core::ZipEntry& ea, const FileRef& fb, const core::ZipEntry& eb) {
  if (ea.uncompressed_size != eb.uncompressed_size) {
    return false;
  }
  auto sa = member_source(fa, ea);
  auto sb = member_source(fb, eb);
  std::vector<uint8_t> ba(util::k_slice);
  std::vector<uint8_t> bb(util::k_slice);
  for (uint64_t left = ea.uncompressed_size; left > 0;) {
    auto n = static_cast<size_t>(std::min<uint64_t>(left, ba.size()));
    sa->read(ba.data(), n);
    sb->read(bb.data(), n);
    if (std::memcmp(ba.data(), bb.data(), n) != 0) {
      return false;
    }
    left -= n;
  }
  return true;
}

// ---------------------------------------------------------------------------
// The two sides.

enum class SideKind { npy, npz, chunks, compressed };

struct Side {
  DiffSide out;
  SideKind kind = SideKind::npy;
  std::string content_sha;             // the array's bytes: the original .npy's for compressed/chunked
  std::optional<Sidecar> sidecar;
  std::optional<DatasetVersion> version;
  std::optional<FileInfo> scan;        // a file outside the repository
  std::string default_b;               // the version before this one, when this names a dataset version
};

struct RepoView {
  std::unique_ptr<Repository> repo;
  Manifest manifest;
  DatasetIndex index;
};

std::optional<RepoView> open_repo(const fs::path& work_dir) {
  RepoView v;
  try {
    v.repo = Repository::open(work_dir);
  } catch (const Error&) {
    return std::nullopt;
  }
  v.manifest = load_manifest(*v.repo);
  v.index = index_datasets(*v.repo, v.manifest);
  return v;
}

void fill_from_sidecar(Side& s) {
  const Sidecar& sc = *s.sidecar;
  s.out.format = sc.format;
  if (sc.format == "chunks") {
    s.kind = SideKind::chunks;
  } else if (sc.format == "npz" && sc.original && sc.members.size() == 1) {
    s.kind = SideKind::compressed;
    s.out.format = "npz-compressed";
  } else if (sc.format == "npz") {
    s.kind = SideKind::npz;
  } else {
    s.kind = SideKind::npy;
  }
  const ArrayFacts* facts = nullptr;
  if (s.kind == SideKind::compressed && sc.members[0].facts) {
    facts = &*sc.members[0].facts;
  } else if (sc.npy) {
    facts = &*sc.npy;
  }
  if (facts) {
    s.out.dtype = plain_descr(facts->descr);
    s.out.shape = facts->shape;
    s.out.has_shape = true;
  }
  s.content_sha = sc.original ? sc.original->sha256 : s.out.sha256;
}

void fill_from_scan(Side& s) {
  const FileInfo& info = *s.scan;
  s.out.sha256 = info.sha256;
  s.content_sha = info.sha256;
  if (info.format == Format::npz) {
    s.kind = SideKind::npz;
    s.out.format = "npz";
    return;
  }
  s.kind = SideKind::npy;
  s.out.format = "npy";
  if (info.npy) {
    s.out.dtype = plain_descr(info.npy->descr);
    s.out.shape = info.npy->shape;
    s.out.has_shape = true;
  }
}

// A version in the repository (sidecar and manifest hash, nothing read) or
// a file anywhere (to be scanned).
Side resolve_side(const std::string& target, const fs::path& work_dir, RepoView* repo) {
  Side s;
  s.out.target = target;
  fs::path p(target);
  fs::path abs = (p.is_absolute() ? p : work_dir / p).lexically_normal();
  std::error_code ec;
  bool is_file = fs::is_regular_file(abs, ec);
  bool in_data = repo != nullptr && repo->repo->data_relative(abs).has_value();
  if (repo != nullptr && (!is_file || in_data)) {
    std::optional<DatasetVersion> v;
    try {
      v = resolve_version(*repo->repo, repo->manifest, repo->index, work_dir, target);
    } catch (const Error&) {
      if (!is_file) {
        throw;
      }
    }
    if (v) {
      s.version = v;
      s.out.path = v->path;
      s.out.sha256 = v->sha256;
      fs::path sidecar = Repository::sidecar_path(v->path);
      try {
        s.sidecar = Sidecar::load(sidecar);
      } catch (const Error& e) {
        if (!v->parts.empty()) {
          throw Error("chunked version " + quote(target) + " needs its sidecar: " + e.what());
        }
        // Without its sidecar the payload is read like any file.
      }
      if (s.sidecar) {
        fill_from_sidecar(s);
      }
      if (!v->name.empty()) {
        const auto* list = repo->index.find(v->name);
        for (size_t i = 1; list != nullptr && i < list->size(); ++i) {
          if ((*list)[i].seq == v->seq) {
            s.default_b = v->name + "@" + std::to_string((*list)[i - 1].seq);
          }
        }
        if (s.default_b.empty() && list != nullptr) {
          s.default_b = "-"; // the first version: nothing before it
        }
      }
      return s;
    }
  }
  if (!is_file) {
    if (fs::exists(abs, ec)) {
      throw Error(quote(target) + ": not a regular file");
    }
    throw Error("no such file " + quote(target) + (repo ? " (and no dataset of that name: see 'dsm ls')" : ""));
  }
  s.out.path = abs;
  return s;
}

void scan_outside(std::vector<Side*> sides) {
  std::vector<Side*> todo;
  for (Side* s : sides) {
    if (!s->sidecar && !s->scan) {
      todo.push_back(s);
    }
  }
  auto one = [](Side* s) {
    util::Fd fd = util::open_read(s->out.path);
    s->scan = scan_fd(fd.get(), s->out.path);
    fill_from_scan(*s);
  };
  if (todo.size() == 2 && std::thread::hardware_concurrency() > 1) {
    std::exception_ptr err;
    std::thread t([&] {
      try {
        one(todo[1]);
      } catch (...) {
        err = std::current_exception();
      }
    });
    try {
      one(todo[0]);
    } catch (...) {
      t.join();
      throw;
    }
    t.join();
    if (err) {
      std::rethrow_exception(err);
    }
    return;
  }
  for (Side* s : todo) {
    one(s);
  }
}

std::optional<Stats> array_stats(const Side& s) {
  if (s.sidecar) {
    if (s.kind == SideKind::compressed) {
      return s.sidecar->members[0].facts ? s.sidecar->members[0].facts->stats : std::nullopt;
    }
    return s.sidecar->npy ? s.sidecar->npy->stats : std::nullopt;
  }
  return s.scan && s.scan->npy ? s.scan->npy->stats : std::nullopt;
}

std::optional<Stats> member_stats(const Side& s, const std::string& name) {
  if (s.sidecar) {
    for (const MemberFacts& m : s.sidecar->members) {
      if (m.name == name && m.facts) {
        return m.facts->stats;
      }
    }
    return std::nullopt;
  }
  if (s.scan) {
    for (const NpzMember& m : s.scan->members) {
      if (m.name == name && m.npy) {
        return m.npy->stats;
      }
    }
  }
  return std::nullopt;
}

std::vector<uint8_t> unhex(const std::string& hex, const fs::path& where) {
  if (hex.size() % 2 != 0 || hex.find_first_not_of("0123456789abcdef") != std::string::npos) {
    throw Error(quote(where.string()) + ": 'original.header' is not hex");
  }
  std::vector<uint8_t> out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// The array a side holds (not for .npz archives).
ArrayInput array_input(const Side& s) {
  if (s.kind == SideKind::chunks) {
    const Sidecar& sc = *s.sidecar;
    fs::path sidecar_path = Repository::sidecar_path(s.out.path);
    if (!sc.original || sc.original->header_hex.empty()) {
      throw Error(quote(sidecar_path.string()) + ": chunked version without 'original.header'");
    }
    std::vector<uint8_t> head = unhex(sc.original->header_hex, sidecar_path);
    ArrayInput in;
    in.info = core::parse_header(head.data(), head.size(), std::numeric_limits<uint64_t>::max()).info;
    std::vector<Segment> segs;
    uint64_t total = 0;
    if (sc.chunks.empty()) {
      throw Error(quote(sidecar_path.string()) + ": chunked version without chunks");
    }
    // The sidecar's order: the manifest sorts part-10000 before part-2000.
    for (const Sidecar::Chunk& c : sc.chunks) {
      if (c.file.find('/') != std::string::npos || !is_chunk_file_name(c.file)) {
        throw Error(quote(sidecar_path.string()) + ": bad chunk file name " + quote(c.file));
      }
      fs::path part = s.out.path / c.file;
      FileRef f = open_file(part);
      ArrayInput pi = npy_input(f, file_size(*f));
      segs.push_back(Segment{f, pi.info.data_offset, pi.info.payload_bytes});
      total += pi.info.payload_bytes;
    }
    if (total != in.info.payload_bytes) {
      throw Error(quote(s.out.path.string()) + ": the parts hold " + std::to_string(total) +
                  " bytes of array data, the original header says " + std::to_string(in.info.payload_bytes));
    }
    in.open = [segs](uint64_t skip) { return std::make_unique<RangeSource>(segs, skip); };
    in.seekable = true;
    return in;
  }
  FileRef f = open_file(s.out.path);
  if (s.kind == SideKind::compressed) {
    core::ZipDirectory dir = zip_directory(f);
    if (dir.entries.size() != 1) {
      throw Error(quote(s.out.path.string()) + ": a compressed version holds one member, found " +
                  std::to_string(dir.entries.size()));
    }
    return member_input(f, dir.entries[0]);
  }
  return npy_input(f, file_size(*f));
}

void diff_archives(const Side& a, const Side& b, const DiffOptions& o, DiffReport& r) {
  FileRef fa = open_file(a.out.path);
  FileRef fb = open_file(b.out.path);
  core::ZipDirectory da = zip_directory(fa);
  core::ZipDirectory db = zip_directory(fb);
  std::map<std::string, const core::ZipEntry*> ma;
  std::map<std::string, const core::ZipEntry*> mb;
  for (const auto& e : da.entries) {
    ma[member_key(e.name)] = &e;
  }
  for (const auto& e : db.entries) {
    mb[member_key(e.name)] = &e;
  }
  for (const auto& [name, e] : ma) {
    if (!mb.count(name)) {
      r.added.push_back(name);
    }
  }
  for (const auto& [name, e] : mb) {
    if (!ma.count(name)) {
      r.removed.push_back(name);
    }
  }
  for (const auto& [name, ea] : ma) {
    auto it = mb.find(name);
    if (it == mb.end()) {
      continue;
    }
    const core::ZipEntry* eb = it->second;
    bool npy_a = member_is_npy(fa, *ea);
    bool npy_b = member_is_npy(fb, *eb);
    ArrayDiff d;
    if (!npy_a || !npy_b) {
      if (npy_a != npy_b || !same_bytes(fa, *ea, fb, *eb)) {
        d.header.push_back({"format", npy_a ? "npy" : "bytes", npy_b ? "npy" : "bytes"});
        d.reason = "not an array";
        d.equal = false;
      }
    } else {
      d = diff_arrays(member_input(fa, *ea), member_input(fb, *eb), member_stats(a, name), member_stats(b, name), o);
    }
    if (!d.equal) {
      r.members.push_back({name, std::move(d)});
    }
  }
  r.equal = r.added.empty() && r.removed.empty() && r.members.empty();
}

void diff_meta(const Side& a, const Side& b, DiffReport& r) {
  if (!a.sidecar || !b.sidecar) {
    return;
  }
  json ja = a.sidecar->to_json();
  json jb = b.sidecar->to_json();
  const json& ma = ja["meta"];
  const json& mb = jb["meta"];
  std::set<std::string> keys;
  for (const json* m : {&ma, &mb}) {
    if (m->is_object()) {
      for (const auto& [k, v] : m->items()) {
        keys.insert(k);
      }
    }
  }
  for (const std::string& k : keys) {
    std::string va = ma.is_object() && ma.contains(k) ? ma[k].dump() : "null";
    std::string vb = mb.is_object() && mb.contains(k) ? mb[k].dump() : "null";
    if (va != vb) {
      r.meta.push_back({k, {va, vb}});
    }
  }
  if (a.sidecar->message != b.sidecar->message) {
    auto text = [](const std::optional<std::string>& m) { return m ? json(*m).dump() : std::string("null"); };
    r.message = std::make_pair(text(a.sidecar->message), text(b.sidecar->message));
  }
}

json value_json(const std::string& text) {
  try {
    return json::parse(text);
  } catch (const json::exception&) {
    return text;
  }
}

json number_json(double v) {
  if (std::isnan(v)) {
    return "nan";
  }
  if (std::isinf(v)) {
    return v > 0 ? "inf" : "-inf";
  }
  return v;
}

json array_json(const ArrayDiff& d) {
  json header = json::array();
  for (const HeaderDiff& h : d.header) {
    header.push_back({{"field", h.field}, {"a", h.a}, {"b", h.b}});
  }
  json stats = json::object();
  for (const auto& [name, ab] : d.stats) {
    stats[name] = json::array({value_json(ab.first), value_json(ab.second)});
  }
  json j = {{"equal", d.equal}, {"header", header}, {"stats", stats}};
  if (!d.elements) {
    j["elements"] = nullptr;
    j["reason"] = d.reason;
    return j;
  }
  const ElementDiff& e = *d.elements;
  json first = json::array();
  for (const DiffExample& ex : e.first) {
    first.push_back({{"index", ex.index}, {"a", value_json(ex.a)}, {"b", value_json(ex.b)}});
  }
  json elements = {{"compared", e.compared},
                   {"differ", e.differ},
                   {"max_abs_diff", e.any_finite ? number_json(e.max_abs_diff) : json(nullptr)},
                   {"max_rel_diff", e.any_finite ? number_json(e.max_rel_diff) : json(nullptr)},
                   {"nan_appeared", e.nan_appeared},
                   {"nan_vanished", e.nan_vanished},
                   {"first", first}};
  if (!e.fields.empty()) {
    json fields = json::object();
    for (const auto& [name, n] : e.fields) {
      fields[name] = n;
    }
    elements["fields"] = fields;
  }
  j["elements"] = elements;
  j["reason"] = nullptr;
  return j;
}

json side_json(const DiffSide& s) {
  return {{"target", s.target},
          {"path", s.path.string()},
          {"sha256", s.sha256.empty() ? json(nullptr) : json(s.sha256)},
          {"format", s.format},
          {"dtype", s.dtype.empty() ? json(nullptr) : json(s.dtype)},
          {"shape", s.has_shape ? json(s.shape) : json(nullptr)}};
}

} // namespace

DiffReport diff(const DiffOptions& o) {
  if (!(o.rtol >= 0) || !(o.atol >= 0) || std::isinf(o.rtol) || std::isinf(o.atol)) {
    throw Error("--rtol and --atol must be finite and not negative");
  }
  std::optional<RepoView> repo = open_repo(o.work_dir);
  RepoView* rv = repo ? &*repo : nullptr;
  Side a = resolve_side(o.a, o.work_dir, rv);
  std::string b_target = o.b;
  if (b_target.empty()) {
    if (!a.version || a.version->name.empty()) {
      throw Error("name a second file or version: " + quote(o.a) + " is not a dataset version");
    }
    if (a.default_b == "-") {
      throw Error(quote(o.a) + " is the first version of " + quote(a.version->name) + ": name a second one to compare with");
    }
    b_target = a.default_b;
  }
  Side b = resolve_side(b_target, o.work_dir, rv);
  // Sides without sidecars are scanned: hash, header, statistics.
  scan_outside({&a, &b});

  DiffReport r;
  diff_meta(a, b, r);
  if (!a.content_sha.empty() && a.content_sha == b.content_sha) {
    r.identical = true;
    r.equal = true;
    r.archives = a.kind == SideKind::npz && b.kind == SideKind::npz;
  } else if (a.kind == SideKind::npz && b.kind == SideKind::npz) {
    r.archives = true;
    diff_archives(a, b, o, r);
  } else if (a.kind == SideKind::npz || b.kind == SideKind::npz) {
    r.array.header.push_back({"format", a.out.format, b.out.format});
    r.array.reason = "an .npz archive against an array";
    r.array.equal = false;
    r.equal = false;
  } else {
    r.array = diff_arrays(array_input(a), array_input(b), array_stats(a), array_stats(b), o);
    r.equal = r.array.equal;
  }
  if (a.out.format != b.out.format && r.array.header.empty() && !r.archives) {
    // A compressed or chunked version against a plain one: reported, and
    // equal when the elements are.
    r.array.header.insert(r.array.header.begin(), {"format", a.out.format, b.out.format});
  }
  r.a = a.out;
  r.b = b.out;
  r.b.target = b_target;
  return r;
}

nlohmann::json to_json(const DiffReport& r) {
  json j = {{"equal", r.equal}, {"identical", r.identical}, {"a", side_json(r.a)}, {"b", side_json(r.b)}};
  json meta = json::object();
  for (const auto& [k, ab] : r.meta) {
    meta[k] = json::array({value_json(ab.first), value_json(ab.second)});
  }
  j["meta"] = meta;
  j["message"] = r.message ? json::array({value_json(r.message->first), value_json(r.message->second)}) : json(nullptr);
  if (r.archives) {
    j["header"] = json::array();
    j["stats"] = json::object();
    j["elements"] = nullptr;
    j["reason"] = r.identical ? json("identical payloads (same sha256)") : json("an .npz: see members");
    json members = json::object();
    for (const auto& [name, d] : r.members) {
      members[name] = array_json(d);
    }
    j["members"] = members;
    j["added"] = r.added;
    j["removed"] = r.removed;
    return j;
  }
  json arr = array_json(r.array);
  for (const char* k : {"header", "stats", "elements", "reason"}) {
    j[k] = arr[k];
  }
  if (r.identical) {
    j["reason"] = "identical payloads (same sha256)";
  }
  j["members"] = nullptr;
  j["added"] = nullptr;
  j["removed"] = nullptr;
  return j;
}

} // namespace dsm

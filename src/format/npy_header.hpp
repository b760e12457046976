// .npy header parsing internals: a Python-literal parser (parse, never
// evaluate), the descr grammar, and the element type statistics run over.
// The accepted grammar is written down in docs/formats.md.
#pragma once

#include "format/format.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dsm::core {

// A Python literal as found in a .npy header. Only what a header can hold:
// str, int, bool, None, tuple, list, dict (items hold key, value, key, ...).
struct PyValue {
  enum class Type { str, integer, boolean, none, tuple, list, dict };
  Type type = Type::none;
  std::string str;           // UTF-8
  uint64_t magnitude = 0;    // integer: absolute value
  bool negative = false;     // integer: sign
  bool boolean = false;
  std::vector<PyValue> items;
};

enum class HeaderEncoding { latin1, utf8 };

// Parses one literal filling the whole text (whitespace and comments
// around it). Throws dsm::Error("header: ...") on anything else.
PyValue parse_py_literal(std::string_view text, HeaderEncoding encoding);

// Appends a code point as UTF-8; throws on surrogates and > U+10FFFF.
void append_utf8(std::string& out, uint32_t cp);
// Strict UTF-8: no overlongs, no surrogates, nothing past U+10FFFF.
bool valid_utf8(std::string_view s);

// Python's repr() of a literal (how NumPy writes descr).
std::string py_repr(const PyValue& value);
// The literal as JSON text: tuples and lists become arrays.
std::string py_json(const PyValue& value);

// The scalar type statistics are computed over. For complex, `size` is the
// size of one part and the parts are pooled.
enum class ElemKind { none, boolean, signed_int, unsigned_int, floating, complex };
struct ElemType {
  ElemKind kind = ElemKind::none;
  uint32_t size = 0;    // bytes of one scalar (one part for complex)
  bool swap = false;    // stored in the other byte order than the host's
};

struct Dtype {
  uint64_t itemsize = 0;
  bool object = false;       // |O anywhere
  ElemType elem;             // kind none: no statistics
  std::string no_stats;      // why elem.kind is none
  bool unstructured_void = false; // |Vn or a subarray (padding candidates)
};

// Interprets a descr literal as numpy.lib.format.descr_to_dtype would.
// Throws dsm::Error("header: ...").
Dtype parse_descr(const PyValue& descr);

struct ParsedHeader {
  NpyInfo info;      // everything but trailing_bytes and stats
  ElemType elem;
  std::string no_stats;
};

// Bytes needed to know HEADER_LEN (magic + version + length field): 10 or
// 12; 0 when fewer than 8 bytes are available yet. Throws on bad magic or
// version.
size_t npy_prefix_size(const uint8_t* data, size_t size);
// Parses the header from a buffer holding at least data_offset bytes (or
// the whole npy when shorter: then it throws "header runs past the end").
// total_size bounds the header and the payload check (UINT64_MAX: unknown).
ParsedHeader parse_header(const uint8_t* data, size_t size, uint64_t total_size);

// Headers longer than this are refused before anything is allocated. NumPy
// writes 64 KiB+ headers for wide structured dtypes; this leaves headroom.
inline constexpr uint64_t k_max_header_len = 16u << 20;
inline constexpr char k_npy_magic[] = "\x93NUMPY";

} // namespace dsm::core

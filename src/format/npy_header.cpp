// .npy header: magic, version, HEADER_LEN, then a Python dict literal that
// names descr, fortran_order and shape. NumPy reads it with
// ast.literal_eval; we parse the same literal grammar by hand and never
// evaluate anything. Grammar: docs/formats.md.
#include "format/npy_header.hpp"

#include "dsm/error.hpp"

#include <nlohmann/json.hpp>

#include <bit>
#include <cstring>
#include <limits>
#include <set>

namespace dsm::core {

namespace {

[[noreturn]] void fail(const std::string& what) { throw Error("header: " + what); }

// Deep nesting can only come from a hostile header; bounding it bounds the
// recursion (NumPy's own nested dtypes stay far below).
constexpr int k_max_depth = 64;
// Memory for the parsed literal is proportional to its number of values;
// this bounds it (~100 MB) whatever the header holds. A structured dtype of
// 200,000 fields stays below.
constexpr size_t k_max_values = size_t{1} << 20;
// NumPy 1.x allows 32 dimensions, NumPy 2 allows 64.
constexpr size_t k_max_ndim = 64;
// NumPy dtypes have an int itemsize.
constexpr uint64_t k_max_itemsize = std::numeric_limits<int32_t>::max();
constexpr uint64_t k_max_intp = std::numeric_limits<int64_t>::max();

class LiteralParser {
public:
  LiteralParser(std::string_view text, HeaderEncoding encoding) : m_text(text), m_encoding(encoding) {}

  PyValue parse_all() {
    skip_space();
    PyValue v = parse_value(0);
    skip_space();
    if (m_pos != m_text.size()) {
      fail("unexpected text after the literal at byte " + std::to_string(m_pos));
    }
    return v;
  }

private:
  bool at_end() const { return m_pos >= m_text.size(); }
  char peek(size_t ahead = 0) const { return m_pos + ahead < m_text.size() ? m_text[m_pos + ahead] : '\0'; }

  void skip_space() {
    while (!at_end()) {
      char c = m_text[m_pos];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
        ++m_pos;
      } else if (c == '#') {
        while (!at_end() && m_text[m_pos] != '\n') {
          ++m_pos;
        }
      } else if (c == '\\' && peek(1) == '\n') {
        m_pos += 2;
      } else {
        break;
      }
    }
  }

  static bool is_ident(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           (static_cast<unsigned char>(c) >= 0x80);
  }

  PyValue parse_value(int depth) {
    if (depth > k_max_depth) {
      fail("literal nested too deeply");
    }
    if (++m_values > k_max_values) {
      fail("literal has more than " + std::to_string(k_max_values) + " values");
    }
    skip_space();
    if (at_end()) {
      fail("unexpected end of the header");
    }
    char c = peek();
    if (c == '{' || c == '(' || c == '[') {
      return parse_container(depth);
    }
    if (c == '\'' || c == '"') {
      return parse_strings();
    }
    if (c >= '0' && c <= '9') {
      return parse_int(false);
    }
    if (c == '-' || c == '+') {
      ++m_pos;
      skip_space();
      if (!(peek() >= '0' && peek() <= '9')) {
        fail("'" + std::string(1, c) + "' is not followed by a number");
      }
      return parse_int(c == '-');
    }
    if (is_ident(c)) {
      size_t start = m_pos;
      while (!at_end() && is_ident(peek())) {
        ++m_pos;
      }
      std::string_view word = m_text.substr(start, m_pos - start);
      // String prefixes: u'' is a str; b'' / r'' / f'' are refused below.
      if ((peek() == '\'' || peek() == '"') && word.size() <= 2) {
        bool bytes = word.find_first_of("bB") != std::string_view::npos;
        bool raw = word.find_first_of("rR") != std::string_view::npos;
        bool other = word.find_first_not_of("bBrRuU") != std::string_view::npos;
        if (bytes || other || (word.size() == 2 && !raw)) {
          fail("string prefix '" + std::string(word) + "' not accepted");
        }
        m_pos = start;
        return parse_strings();
      }
      PyValue v;
      if (word == "True" || word == "False") {
        v.type = PyValue::Type::boolean;
        v.boolean = word == "True";
      } else if (word == "None") {
        v.type = PyValue::Type::none;
      } else {
        fail("not a literal: name '" + printable(word) + "'");
      }
      return v;
    }
    fail("unexpected character '" + printable(m_text.substr(m_pos, 1)) + "' at byte " + std::to_string(m_pos));
  }

  static std::string printable(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, 40)) {
      auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u >= 0x7f) {
        static const char k_hex[] = "0123456789abcdef";
        out += "\\x";
        out += k_hex[u >> 4];
        out += k_hex[u & 15];
      } else {
        out += c;
      }
    }
    return out;
  }

  PyValue parse_container(int depth) {
    char open = peek();
    char close = open == '{' ? '}' : open == '(' ? ')' : ']';
    ++m_pos;
    PyValue v;
    v.type = open == '{' ? PyValue::Type::dict : open == '(' ? PyValue::Type::tuple : PyValue::Type::list;
    bool saw_comma = false;
    for (;;) {
      skip_space();
      if (at_end()) {
        fail("unexpected end of the header inside '" + std::string(1, open) + "'");
      }
      if (peek() == close) {
        ++m_pos;
        break;
      }
      if (!v.items.empty() && !saw_comma) {
        fail("expected ',' or '" + std::string(1, close) + "' at byte " + std::to_string(m_pos));
      }
      v.items.push_back(parse_value(depth + 1));
      if (open == '{') {
        skip_space();
        if (peek() != ':') {
          fail("expected ':' in the dict at byte " + std::to_string(m_pos));
        }
        ++m_pos;
        v.items.push_back(parse_value(depth + 1));
      }
      skip_space();
      saw_comma = peek() == ',';
      if (saw_comma) {
        ++m_pos;
      }
    }
    // (x) is x itself; (x,) is a tuple.
    if (open == '(' && v.items.size() == 1 && !saw_comma) {
      return std::move(v.items[0]);
    }
    return v;
  }

  PyValue parse_int(bool negative) {
    PyValue v;
    v.type = PyValue::Type::integer;
    v.negative = negative;
    unsigned base = 10;
    if (peek() == '0' && (peek(1) == 'x' || peek(1) == 'X' || peek(1) == 'o' || peek(1) == 'O' || peek(1) == 'b' ||
                          peek(1) == 'B')) {
      char b = static_cast<char>(peek(1) | 0x20);
      base = b == 'x' ? 16 : b == 'o' ? 8 : 2;
      m_pos += 2;
      if (peek() == '_') {
        ++m_pos;
      }
    }
    size_t digits = 0;
    bool leading_zero = base == 10 && peek() == '0';
    bool nonzero = false;
    uint64_t value = 0;
    while (!at_end()) {
      char c = peek();
      unsigned d = 0;
      if (c >= '0' && c <= '9') {
        d = static_cast<unsigned>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        d = static_cast<unsigned>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        d = static_cast<unsigned>(c - 'A' + 10);
      } else if (c == '_' && digits > 0 && peek(1) != '_' && is_digit(peek(1), base)) {
        ++m_pos;
        continue;
      } else {
        break;
      }
      if (d >= base) {
        break;
      }
      if (value > (std::numeric_limits<uint64_t>::max() - d) / base) {
        fail("integer too large");
      }
      value = value * base + d;
      nonzero = nonzero || d != 0;
      ++digits;
      ++m_pos;
    }
    if (digits == 0) {
      fail("malformed integer at byte " + std::to_string(m_pos));
    }
    if (leading_zero && nonzero) {
      fail("malformed integer (leading zero) at byte " + std::to_string(m_pos));
    }
    // Python 2 wrote long integers as 3L; NumPy filters the suffix out of
    // 1.0 and 2.0 headers.
    if (m_encoding == HeaderEncoding::latin1 && (peek() == 'L' || peek() == 'l')) {
      ++m_pos;
    }
    if (peek() == '.' || peek() == 'e' || peek() == 'E' || peek() == 'j' || peek() == 'J') {
      fail("floating-point and complex literals are not accepted");
    }
    if (is_ident(peek())) {
      fail("malformed integer at byte " + std::to_string(m_pos));
    }
    v.magnitude = value;
    if (value == 0) {
      v.negative = false;
    }
    return v;
  }

  static bool is_digit(char c, unsigned base) {
    unsigned d = 0;
    if (c >= '0' && c <= '9') {
      d = static_cast<unsigned>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      d = static_cast<unsigned>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      d = static_cast<unsigned>(c - 'A' + 10);
    } else {
      return false;
    }
    return d < base;
  }

  // Adjacent string literals concatenate, as in Python.
  PyValue parse_strings() {
    PyValue v;
    v.type = PyValue::Type::str;
    for (;;) {
      bool raw = false;
      while (peek() == 'u' || peek() == 'U' || peek() == 'r' || peek() == 'R') {
        raw = raw || peek() == 'r' || peek() == 'R';
        ++m_pos;
      }
      parse_one_string(raw, v.str);
      size_t save = m_pos;
      skip_space();
      char c = peek();
      bool prefix = (c == 'u' || c == 'U' || c == 'r' || c == 'R') && (peek(1) == '\'' || peek(1) == '"');
      if (c != '\'' && c != '"' && !prefix) {
        m_pos = save;
        return v;
      }
    }
  }

  void append_source_byte(std::string& out, char c) {
    auto u = static_cast<unsigned char>(c);
    if (u == 0) {
      fail("NUL byte in the header");
    }
    if (u >= 0x80 && m_encoding == HeaderEncoding::latin1) {
      append_utf8(out, u);
    } else {
      out += c;
    }
  }

  void parse_one_string(bool raw, std::string& out) {
    char q = peek();
    bool triple = peek(1) == q && peek(2) == q;
    m_pos += triple ? 3 : 1;
    for (;;) {
      if (at_end()) {
        fail("unterminated string");
      }
      char c = m_text[m_pos];
      if (c == q) {
        if (!triple) {
          ++m_pos;
          return;
        }
        if (peek(1) == q && peek(2) == q) {
          m_pos += 3;
          return;
        }
      }
      if (c == '\n' && !triple) {
        fail("newline inside a string");
      }
      if (c != '\\') {
        append_source_byte(out, c);
        ++m_pos;
        continue;
      }
      char e = peek(1);
      if (raw) {
        // In a raw string the backslash stays and protects the quote.
        out += '\\';
        m_pos += 1;
        if (e == q || e == '\\') {
          append_source_byte(out, e);
          m_pos += 1;
        }
        continue;
      }
      m_pos += 2;
      switch (e) {
      case '\n': break;
      case '\\': out += '\\'; break;
      case '\'': out += '\''; break;
      case '"': out += '"'; break;
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case 'x': append_utf8(out, hex_escape(2)); break;
      case 'u': append_utf8(out, hex_escape(4)); break;
      case 'U': append_utf8(out, hex_escape(8)); break;
      case '\0': fail("unterminated string");
      default:
        if (e >= '0' && e <= '7') {
          uint32_t cp = static_cast<uint32_t>(e - '0');
          for (int k = 0; k < 2 && peek() >= '0' && peek() <= '7'; ++k) {
            cp = cp * 8 + static_cast<uint32_t>(peek() - '0');
            ++m_pos;
          }
          append_utf8(out, cp);
        } else if (e == 'N') {
          fail("\\N{...} escapes are not accepted");
        } else {
          // Unknown escapes keep the backslash (Python does, with a warning).
          out += '\\';
          --m_pos;
        }
      }
    }
  }

  uint32_t hex_escape(int n) {
    uint32_t cp = 0;
    for (int k = 0; k < n; ++k) {
      char c = peek();
      if (!is_digit(c, 16)) {
        fail("truncated \\x/\\u escape in a string");
      }
      cp = cp * 16 + static_cast<uint32_t>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
      ++m_pos;
    }
    return cp;
  }

  std::string_view m_text;
  HeaderEncoding m_encoding;
  size_t m_pos = 0;
  size_t m_values = 0;
};

void repr_string(std::string& out, const std::string& s) {
  bool has_single = s.find('\'') != std::string::npos;
  bool has_double = s.find('"') != std::string::npos;
  char q = has_single && !has_double ? '"' : '\'';
  out += q;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == q || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      static const char k_hex[] = "0123456789abcdef";
      out += "\\x";
      out += k_hex[u >> 4];
      out += k_hex[u & 15];
    } else {
      out += c;
    }
  }
  out += q;
}

void repr_into(std::string& out, const PyValue& v) {
  switch (v.type) {
  case PyValue::Type::str: repr_string(out, v.str); break;
  case PyValue::Type::integer:
    if (v.negative) {
      out += '-';
    }
    out += std::to_string(v.magnitude);
    break;
  case PyValue::Type::boolean: out += v.boolean ? "True" : "False"; break;
  case PyValue::Type::none: out += "None"; break;
  case PyValue::Type::tuple:
  case PyValue::Type::list: {
    bool tuple = v.type == PyValue::Type::tuple;
    out += tuple ? '(' : '[';
    for (size_t i = 0; i < v.items.size(); ++i) {
      if (i > 0) {
        out += ", ";
      }
      repr_into(out, v.items[i]);
    }
    if (tuple && v.items.size() == 1) {
      out += ',';
    }
    out += tuple ? ')' : ']';
    break;
  }
  case PyValue::Type::dict:
    out += '{';
    for (size_t i = 0; i + 1 < v.items.size(); i += 2) {
      if (i > 0) {
        out += ", ";
      }
      repr_into(out, v.items[i]);
      out += ": ";
      repr_into(out, v.items[i + 1]);
    }
    out += '}';
    break;
  }
}

nlohmann::json to_json_value(const PyValue& v) {
  switch (v.type) {
  case PyValue::Type::str: return v.str;
  case PyValue::Type::integer:
    if (v.negative) {
      return -static_cast<int64_t>(std::min<uint64_t>(v.magnitude, uint64_t{1} << 63) - 1) - 1;
    }
    return v.magnitude;
  case PyValue::Type::boolean: return v.boolean;
  case PyValue::Type::none: return nullptr;
  case PyValue::Type::tuple:
  case PyValue::Type::list: {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& item : v.items) {
      a.push_back(to_json_value(item));
    }
    return a;
  }
  case PyValue::Type::dict: {
    // Never reached for a valid descr (dicts are refused); kept total.
    nlohmann::json a = nlohmann::json::array();
    for (const auto& item : v.items) {
      a.push_back(to_json_value(item));
    }
    return a;
  }
  }
  return nullptr;
}

uint64_t checked_mul(uint64_t a, uint64_t b, uint64_t limit, const char* what) {
  if (a != 0 && b > limit / a) {
    fail(std::string(what) + " overflows");
  }
  return a * b;
}

// A shape inside a descr: an int n (= (n,)) or a tuple of ints. Returns the
// element count.
uint64_t subarray_count(const PyValue& shape) {
  auto dim = [](const PyValue& d) -> uint64_t {
    if (d.type == PyValue::Type::boolean) {
      return d.boolean ? 1 : 0;
    }
    if (d.type != PyValue::Type::integer || d.negative) {
      fail("subarray shape is not a tuple of non-negative integers");
    }
    if (d.magnitude > k_max_intp) {
      fail("subarray shape overflows");
    }
    return d.magnitude;
  };
  if (shape.type == PyValue::Type::tuple) {
    uint64_t n = 1;
    for (const auto& d : shape.items) {
      n = checked_mul(n, dim(d), k_max_itemsize, "subarray size");
    }
    return n;
  }
  return dim(shape);
}

struct TypeCode {
  char kind; // b i u f c S U V O M m
  uint64_t size;
};

bool host_little() { return std::endian::native == std::endian::little; }

// A type code without its byte order: a NumPy name ("float64"), one
// character ("d") or a kind and size ("f8", "U10", "M8[ns]"). Datetime units
// are returned in `dt_unit` ("[ns]"). nullopt when NumPy would not know it.
std::optional<TypeCode> type_code(std::string_view body, bool bare_name, std::string_view& dt_unit) {
  static const std::pair<const char*, TypeCode> k_names[] = {
    {"bool", {'b', 1}},        {"int8", {'i', 1}},       {"int16", {'i', 2}},     {"int32", {'i', 4}},
    {"int64", {'i', 8}},       {"uint8", {'u', 1}},      {"uint16", {'u', 2}},    {"uint32", {'u', 4}},
    {"uint64", {'u', 8}},      {"float16", {'f', 2}},    {"float32", {'f', 4}},   {"float64", {'f', 8}},
    {"float128", {'f', 16}},   {"longdouble", {'f', 16}}, {"complex64", {'c', 8}}, {"complex128", {'c', 16}},
    {"complex256", {'c', 32}}, {"clongdouble", {'c', 32}}, {"int", {'i', 8}},      {"float", {'f', 8}},
    {"complex", {'c', 16}},    {"object", {'O', 8}},     {"bytes", {'S', 0}},     {"str", {'U', 0}},
  };
  static const std::pair<char, TypeCode> k_chars[] = {
    {'?', {'b', 1}}, {'b', {'i', 1}},  {'B', {'u', 1}},  {'h', {'i', 2}},  {'H', {'u', 2}},  {'i', {'i', 4}},
    {'I', {'u', 4}}, {'l', {'i', 8}},  {'L', {'u', 8}},  {'q', {'i', 8}},  {'Q', {'u', 8}},  {'p', {'i', 8}},
    {'P', {'u', 8}}, {'e', {'f', 2}},  {'f', {'f', 4}},  {'d', {'f', 8}},  {'g', {'f', 16}}, {'F', {'c', 8}},
    {'D', {'c', 16}}, {'G', {'c', 32}}, {'O', {'O', 8}}, {'S', {'S', 0}},  {'a', {'S', 0}},  {'U', {'U', 0}},
    {'V', {'V', 0}}, {'M', {'M', 8}},  {'m', {'m', 8}},
  };
  if (bare_name) {
    for (const auto& [name, code] : k_names) {
      if (body == name) {
        return code;
      }
    }
  }
  if (body.empty()) {
    return std::nullopt;
  }
  char k = body[0];
  std::string_view rest = body.substr(1);
  if ((k == 'M' || k == 'm')) {
    size_t br = rest.find('[');
    if (br != std::string_view::npos) {
      dt_unit = rest.substr(br);
      rest = rest.substr(0, br);
    }
  }
  if (rest.empty()) {
    for (const auto& [c, code] : k_chars) {
      if (c == k) {
        return code;
      }
    }
    return std::nullopt;
  }
  if (rest.size() > 10 || rest.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  uint64_t n = std::stoull(std::string(rest));
  switch (k) {
  case 'b':
    if (n != 1) {
      return std::nullopt;
    }
    return TypeCode{'b', 1};
  case 'i':
  case 'u':
    if (n != 1 && n != 2 && n != 4 && n != 8) {
      return std::nullopt;
    }
    return TypeCode{k, n};
  case 'f':
    if (n != 2 && n != 4 && n != 8 && n != sizeof(long double)) {
      return std::nullopt;
    }
    return TypeCode{'f', n};
  case 'c':
    if (n != 8 && n != 16 && n != 2 * sizeof(long double)) {
      return std::nullopt;
    }
    return TypeCode{'c', n};
  case 'S':
  case 'a':
  case 'V':
    return TypeCode{k == 'a' ? 'S' : k, n};
  case 'U':
    return TypeCode{'U', checked_mul(n, 4, k_max_itemsize, "itemsize")};
  case 'O':
    // NumPy accepts O4/O8 and means a pointer either way.
    if (n != 4 && n != 8) {
      return std::nullopt;
    }
    return TypeCode{'O', 8};
  case 'M':
  case 'm':
    if (n != 8) {
      return std::nullopt;
    }
    return TypeCode{k, 8};
  default: return std::nullopt;
  }
}

// "[N?unit]" or "[N?unit/M]" with a unit NumPy knows.
bool datetime_unit_ok(std::string_view dt_unit) {
  static const char* const k_units[] = {"Y", "M", "W", "D", "h", "m", "s", "ms", "us", "ns", "ps", "fs", "as",
                                        "generic"};
  if (dt_unit.size() < 3 || dt_unit.back() != ']') {
    return false;
  }
  std::string_view u = dt_unit.substr(1, dt_unit.size() - 2);
  size_t slash = u.find('/');
  if (slash != std::string_view::npos) {
    std::string_view den = u.substr(slash + 1);
    if (den.empty() || den.size() > 9 || den.find_first_not_of("0123456789") != std::string_view::npos) {
      return false;
    }
    u = u.substr(0, slash);
  }
  size_t digits = u.find_first_not_of("0123456789");
  if (digits == std::string_view::npos || digits > 9) {
    return false;
  }
  u.remove_prefix(digits);
  for (const char* unit : k_units) {
    if (u == unit) {
      return true;
    }
  }
  return false;
}

Dtype type_string(const std::string& s) {
  auto unknown = [&]() -> Dtype { fail("unknown descr '" + s + "'"); };
  std::string_view body = s;
  char order = '=';
  if (!body.empty() && (body[0] == '<' || body[0] == '>' || body[0] == '|' || body[0] == '=')) {
    order = body[0];
    body.remove_prefix(1);
  }
  std::string_view dt_unit;
  std::optional<TypeCode> code = type_code(body, order == '=' && s == body, dt_unit);
  if (!code || (!dt_unit.empty() && !datetime_unit_ok(dt_unit))) {
    return unknown();
  }
  const TypeCode tc = *code;
  if (tc.size > k_max_itemsize) {
    fail("itemsize of '" + s + "' overflows");
  }
  Dtype d;
  d.itemsize = tc.size;
  bool big = order == '>' || (order != '<' && !host_little());
  bool swap = tc.size > 1 && (big == host_little());
  switch (tc.kind) {
  case 'b': d.elem = {ElemKind::boolean, 1, false}; break;
  case 'i': d.elem = {ElemKind::signed_int, static_cast<uint32_t>(tc.size), swap}; break;
  case 'u': d.elem = {ElemKind::unsigned_int, static_cast<uint32_t>(tc.size), swap}; break;
  case 'f':
  case 'c': {
    bool complex = tc.kind == 'c';
    uint64_t part = complex ? tc.size / 2 : tc.size;
    // Long double: x87 80-bit (x86) or IEEE binary128 are read as the
    // host's long double; a host whose long double is a double cannot.
    if (part == sizeof(long double) && part > 8 && std::numeric_limits<long double>::digits <= 53) {
      d.no_stats = "long double format unknown on this platform";
      break;
    }
    d.elem = {complex ? ElemKind::complex : ElemKind::floating, static_cast<uint32_t>(part), swap};
    break;
  }
  case 'S':
  case 'U': d.no_stats = "string dtype"; break;
  case 'V':
    d.no_stats = "void dtype";
    d.unstructured_void = true;
    break;
  case 'O':
    d.object = true;
    d.no_stats = "object dtype";
    break;
  case 'M':
  case 'm': d.no_stats = "datetime dtype"; break;
  default: return unknown();
  }
  return d;
}

Dtype descr_dtype(const PyValue& v) {
  switch (v.type) {
  case PyValue::Type::str: return type_string(v.str);
  case PyValue::Type::tuple: {
    // (base, shape): a subarray dtype.
    if (v.items.size() != 2) {
      fail("descr tuple must be (descr, shape)");
    }
    Dtype base = descr_dtype(v.items[0]);
    uint64_t n = subarray_count(v.items[1]);
    const PyValue& shp = v.items[1];
    if ((shp.type == PyValue::Type::tuple && shp.items.empty()) || (shp.type == PyValue::Type::integer && n == 1)) {
      return base; // (t, ()) and the deprecated (t, 1) mean t itself
    }
    Dtype d;
    d.itemsize = checked_mul(base.itemsize, n, k_max_itemsize, "itemsize");
    d.object = base.object;
    d.no_stats = "subarray dtype";
    d.unstructured_void = true;
    return d;
  }
  case PyValue::Type::list: {
    Dtype d;
    std::set<std::string> used;
    for (const auto& field : v.items) {
      if (field.type != PyValue::Type::tuple || field.items.size() < 2 || field.items.size() > 3) {
        fail("structured descr fields must be (name, descr[, shape]) tuples");
      }
      const PyValue& name = field.items[0];
      Dtype fd = descr_dtype(field.items[1]);
      // NumPy skips a field as padding when its name is '' and its type is
      // an unstructured void: a |Vn, or any subarray.
      bool void_type = fd.unstructured_void;
      if (field.items.size() == 3) {
        const PyValue& shp = field.items[2];
        uint64_t n = subarray_count(shp);
        fd.itemsize = checked_mul(fd.itemsize, n, k_max_itemsize, "itemsize");
        bool same = (shp.type == PyValue::Type::tuple && shp.items.empty()) ||
                    (shp.type == PyValue::Type::integer && n == 1);
        void_type = void_type || !same;
      }
      bool padding = name.type == PyValue::Type::str && name.str.empty() && void_type;
      if (!padding) {
        if (name.type == PyValue::Type::tuple) {
          // NumPy takes any object as a title; the name must be a string.
          if (name.items.size() != 2 || name.items[1].type != PyValue::Type::str) {
            fail("field (title, name) must be a title and a string name");
          }
          const PyValue& title = name.items[0];
          bool str_title = title.type == PyValue::Type::str;
          if (!used.insert(name.items[1].str).second ||
              (str_title && (!used.insert(title.str).second || title.str == name.items[1].str))) {
            fail("duplicate field name or title '" + name.items[1].str + "'");
          }
        } else if (name.type == PyValue::Type::str) {
          if (!used.insert(name.str).second) {
            fail("duplicate field name '" + name.str + "'");
          }
        } else {
          fail("field names must be strings");
        }
      }
      d.object = d.object || fd.object;
      d.itemsize += fd.itemsize;
      if (d.itemsize > k_max_itemsize) {
        fail("itemsize overflows");
      }
    }
    d.no_stats = "structured dtype";
    return d;
  }
  default: fail("descr is not a string, list or tuple");
  }
}

} // namespace

void append_utf8(std::string& out, uint32_t cp) {
  if (cp >= 0xD800 && cp <= 0xDFFF) {
    fail("string holds a lone surrogate");
  }
  if (cp > 0x10FFFF) {
    fail("string escape out of range");
  }
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Strict UTF-8: no overlongs, no surrogates, nothing past U+10FFFF.
bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<uint8_t>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n = 0;
    uint32_t cp = 0;
    uint32_t min = 0;
    if ((c & 0xE0) == 0xC0) {
      n = 1, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (i + n >= s.size()) {
      return false;
    }
    for (size_t k = 1; k <= n; ++k) {
      auto cc = static_cast<uint8_t>(s[i + k]);
      if ((cc & 0xC0) != 0x80) {
        return false;
      }
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

PyValue parse_py_literal(std::string_view text, HeaderEncoding encoding) {
  return LiteralParser(text, encoding).parse_all();
}

std::string py_repr(const PyValue& value) {
  std::string out;
  repr_into(out, value);
  return out;
}

std::string py_json(const PyValue& value) { return to_json_value(value).dump(); }

Dtype parse_descr(const PyValue& descr) { return descr_dtype(descr); }

size_t npy_prefix_size(const uint8_t* data, size_t size) {
  size_t n = std::min<size_t>(size, 6);
  if (std::memcmp(data, k_npy_magic, n) != 0) {
    throw Error("not a .npy file (bad magic)");
  }
  if (size < 8) {
    return 0;
  }
  uint8_t major = data[6];
  uint8_t minor = data[7];
  if ((major != 1 && major != 2 && major != 3) || minor != 0) {
    throw Error("unsupported .npy version " + std::to_string(major) + "." + std::to_string(minor));
  }
  return major == 1 ? 10 : 12;
}

ParsedHeader parse_header(const uint8_t* data, size_t size, uint64_t total_size) {
  size_t prefix = npy_prefix_size(data, size);
  if (prefix == 0 || size < prefix) {
    throw Error("file too short for a .npy header (" + std::to_string(std::min<uint64_t>(size, total_size)) +
                " bytes)");
  }
  uint8_t major = data[6];
  uint64_t header_len = major == 1 ? (uint64_t{data[8]} | uint64_t{data[9]} << 8)
                                   : (uint64_t{data[8]} | uint64_t{data[9]} << 8 | uint64_t{data[10]} << 16 |
                                      uint64_t{data[11]} << 24);
  if (header_len > k_max_header_len) {
    throw Error("header length " + std::to_string(header_len) + " exceeds the limit of " +
                std::to_string(k_max_header_len) + " bytes");
  }
  uint64_t data_offset = prefix + header_len;
  if (data_offset > total_size) {
    throw Error("header length " + std::to_string(header_len) + " runs past the end of the file (" +
                std::to_string(total_size) + " bytes)");
  }
  if (data_offset > size) {
    throw Error("header length " + std::to_string(header_len) + " runs past the end of the data (" +
                std::to_string(size) + " bytes)");
  }
  std::string_view text(reinterpret_cast<const char*>(data + prefix), header_len);
  HeaderEncoding encoding = major == 3 ? HeaderEncoding::utf8 : HeaderEncoding::latin1;
  if (encoding == HeaderEncoding::utf8 && !valid_utf8(text)) {
    throw Error("header: invalid UTF-8 in a 3.0 header");
  }
  // NumPy cannot parse a header whose last line break is a lone '\r'
  // followed only by blanks (Python's tokenizer then sees an indented
  // empty line at the end): "{...}\r  " loads nowhere, so it is refused
  // here too. After '\n' or "\r\n", or with nothing after the '\r', it
  // loads (checked against NumPy 1.24; tests/unit/test_core_npy.cpp).
  if (size_t brk = text.find_last_of("\r\n"); brk != std::string_view::npos && text[brk] == '\r') {
    std::string_view rest = text.substr(brk + 1);
    if (!rest.empty() && rest.find_first_not_of(" \t\f") == std::string_view::npos) {
      fail("ends with a carriage return followed by blanks and no newline, which NumPy cannot parse");
    }
  }
  PyValue dict = parse_py_literal(text, encoding);
  if (dict.type != PyValue::Type::dict) {
    fail("not a dict literal");
  }
  const PyValue* descr = nullptr;
  const PyValue* fortran = nullptr;
  const PyValue* shape = nullptr;
  for (size_t i = 0; i + 1 < dict.items.size(); i += 2) {
    const PyValue& key = dict.items[i];
    if (key.type != PyValue::Type::str) {
      fail("key " + py_repr(key) + " is not a string");
    }
    const PyValue** slot = key.str == "descr"           ? &descr
                           : key.str == "fortran_order" ? &fortran
                           : key.str == "shape"         ? &shape
                                                        : nullptr;
    if (slot == nullptr) {
      fail("unexpected key " + py_repr(key));
    }
    if (*slot != nullptr) {
      fail("duplicate key " + py_repr(key));
    }
    *slot = &dict.items[i + 1];
  }
  for (auto [p, name] : {std::pair{descr, "descr"}, {fortran, "fortran_order"}, {shape, "shape"}}) {
    if (p == nullptr) {
      fail(std::string("missing key '") + name + "'");
    }
  }
  if (fortran->type != PyValue::Type::boolean) {
    fail("fortran_order is not a bool");
  }
  if (shape->type != PyValue::Type::tuple) {
    fail("shape is not a tuple of non-negative integers");
  }
  ParsedHeader out;
  NpyInfo& info = out.info;
  info.version = std::to_string(major) + ".0";
  info.header_len = header_len;
  info.data_offset = data_offset;
  info.fortran_order = fortran->boolean;
  if (shape->items.size() > k_max_ndim) {
    fail("shape has more than " + std::to_string(k_max_ndim) + " dimensions");
  }
  for (const auto& d : shape->items) {
    // A bool passes the header check (isinstance(True, int)) but NumPy
    // then refuses to build the array ("an integer is required", NumPy
    // 1.24): a file NumPy cannot load is not accepted (issue #15, item 13).
    if (d.type != PyValue::Type::integer || d.negative) {
      fail("shape is not a tuple of non-negative integers");
    }
    if (d.magnitude > k_max_intp) {
      fail("shape overflows");
    }
    info.shape.push_back(d.magnitude);
  }
  Dtype dt = parse_descr(*descr);
  info.descr = py_repr(*descr);
  info.descr_json = py_json(*descr);
  info.itemsize = dt.itemsize;
  info.object = dt.object;
  // As NumPy does: the product of the non-zero dimensions times the
  // itemsize must fit in a signed 64-bit size, even when a dimension is 0.
  uint64_t nonzero = 1;
  bool zero = false;
  for (uint64_t d : info.shape) {
    if (d == 0) {
      zero = true;
      continue;
    }
    nonzero = checked_mul(nonzero, d, k_max_intp, "shape");
  }
  checked_mul(nonzero, std::max<uint64_t>(dt.itemsize, 1), k_max_intp, "shape times itemsize");
  info.count = zero ? 0 : nonzero;
  if (info.object) {
    // The payload is a pickle of unknown length; it is never interpreted.
    info.payload_bytes = total_size == UINT64_MAX ? 0 : total_size - data_offset;
  } else {
    info.payload_bytes = info.count * dt.itemsize;
    if (total_size != UINT64_MAX) {
      uint64_t available = total_size - data_offset;
      if (available < info.payload_bytes) {
        throw Error("truncated payload: expected " + std::to_string(info.payload_bytes) + " bytes, found " +
                    std::to_string(available));
      }
      info.trailing_bytes = available - info.payload_bytes;
    }
  }
  out.elem = dt.elem;
  out.no_stats = dt.no_stats;
  if (out.elem.kind != ElemKind::none && info.count == 0) {
    out.elem.kind = ElemKind::none;
    out.no_stats = "empty";
  }
  return out;
}

} // namespace dsm::core

namespace dsm {

NpyInfo parse_npy_header(const uint8_t* data, size_t size, uint64_t file_size) {
  core::ParsedHeader h = core::parse_header(data, size, file_size);
  h.info.stats_skipped = h.elem.kind == core::ElemKind::none ? h.no_stats : std::string();
  return h.info;
}

} // namespace dsm

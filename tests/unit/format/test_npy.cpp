// The .npy header parser: every accept and reject case of docs/formats.md.
#include "format/npy_header.hpp"
#include "format/npy_stream.hpp"
#include "dsm/error.hpp"
#include "format/format.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <string>

using namespace dsm;

namespace {

// A .npy prefix + header (no padding unless the caller adds it) + payload.
std::string npy(const std::string& header, int major = 1, const std::string& payload = "") {
  std::string out("\x93NUMPY", 6);
  out += static_cast<char>(major);
  out += '\0';
  uint32_t len = static_cast<uint32_t>(header.size());
  out += static_cast<char>(len & 0xff);
  out += static_cast<char>((len >> 8) & 0xff);
  if (major != 1) {
    out += static_cast<char>((len >> 16) & 0xff);
    out += static_cast<char>((len >> 24) & 0xff);
  }
  return out + header + payload;
}

NpyInfo parse(const std::string& file) {
  return parse_npy_header(reinterpret_cast<const uint8_t*>(file.data()), file.size(), file.size());
}

std::string error_of(const std::string& file) {
  try {
    parse(file);
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
    return e.what();
  }
  return "(accepted)";
}

std::string f8(size_t n) { return std::string(8 * n, '\0'); }

} // namespace

TEST(NpyHeader, AcceptsNumpyStyleHeader) {
  std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }          \n";
  auto info = parse(npy(header, 1, f8(3)));
  EXPECT_EQ(info.version, "1.0");
  EXPECT_EQ(info.descr, "'<f8'");
  EXPECT_EQ(info.descr_json, "\"<f8\"");
  EXPECT_EQ(info.shape, std::vector<uint64_t>{3});
  EXPECT_FALSE(info.fortran_order);
  EXPECT_EQ(info.itemsize, 8u);
  EXPECT_EQ(info.count, 3u);
  EXPECT_EQ(info.payload_bytes, 24u);
  EXPECT_EQ(info.trailing_bytes, 0u);
  EXPECT_EQ(info.data_offset, 10u + header.size());
}

TEST(NpyHeader, AcceptsAnyKeyOrderQuotesWhitespaceNoNewline) {
  auto info = parse(npy("{ \"shape\" :(2 ,3) ,\"fortran_order\":True,\n\t'descr':\"|u1\"}", 1, std::string(6, 'x')));
  EXPECT_EQ(info.shape, (std::vector<uint64_t>{2, 3}));
  EXPECT_TRUE(info.fortran_order);
  EXPECT_EQ(info.itemsize, 1u);
}

TEST(NpyHeader, ZeroDimensionalIsOneElement) {
  auto info = parse(npy("{'descr': '<i4', 'fortran_order': False, 'shape': ()}", 1, "abcd"));
  EXPECT_TRUE(info.shape.empty());
  EXPECT_EQ(info.count, 1u);
  EXPECT_EQ(info.payload_bytes, 4u);
}

TEST(NpyHeader, ZeroDimensionMeansNoPayloadEvenWithHugeOthers) {
  auto info = parse(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 4294967296000)}"));
  EXPECT_EQ(info.count, 0u);
  EXPECT_EQ(info.payload_bytes, 0u);
  EXPECT_EQ(info.stats_skipped, "empty");
}

TEST(NpyHeader, DimensionsBeyond32BitsAreCheckedAgainstThePayload) {
  EXPECT_NE(error_of(npy("{'descr': '|u1', 'fortran_order': False, 'shape': (4294967297,)}")).find("truncated payload"),
            std::string::npos);
}

TEST(NpyHeader, ShapeOverflowIsRejected) {
  EXPECT_NE(error_of(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296)}"))
              .find("overflows"),
            std::string::npos);
  EXPECT_NE(error_of(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (9223372036854775807,)}"))
              .find("overflows"),
            std::string::npos);
  EXPECT_NE(error_of(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,)}"))
              .find("too large"),
            std::string::npos);
}

TEST(NpyHeader, Versions2And3) {
  auto v2 = parse(npy("{'descr': '<i2', 'fortran_order': False, 'shape': (1,)}", 2, "ab"));
  EXPECT_EQ(v2.version, "2.0");
  EXPECT_EQ(v2.data_offset, 12u + 55u);
  auto v3 = parse(npy("{'descr': [('\xc3\xa9t\xc3\xa9', '<i2')], 'fortran_order': False, 'shape': (1,)}", 3, "ab"));
  EXPECT_EQ(v3.version, "3.0");
  EXPECT_EQ(nlohmann::json::parse(v3.descr_json)[0][0], "\xc3\xa9t\xc3\xa9");
}

TEST(NpyHeader, Latin1HeadersDecodeToUtf8) {
  auto v1 = parse(npy("{'descr': [('\xe9', '<i2')], 'fortran_order': False, 'shape': (1,)}", 1, "ab"));
  EXPECT_EQ(nlohmann::json::parse(v1.descr_json)[0][0], "\xc3\xa9");
}

TEST(NpyHeader, RejectsInvalidUtf8InVersion3) {
  EXPECT_NE(error_of(npy("{'descr': [('\xe9', '<i2')], 'fortran_order': False, 'shape': (1,)}", 3, "ab"))
              .find("invalid UTF-8"),
            std::string::npos);
}

TEST(NpyHeader, DescrTypeStrings) {
  struct Case {
    const char* descr;
    uint64_t itemsize;
    bool object;
    const char* skipped; // "" = numeric
  };
  const Case cases[] = {
    {"<f8", 8, false, ""},     {">i2", 2, false, ""},          {"|b1", 1, false, ""},
    {"|u1", 1, false, ""},     {"<f2", 2, false, ""},          {"<c16", 16, false, ""},
    {"<f16", 16, false, ""},   {"<c32", 32, false, ""},        {"|S8", 8, false, "string dtype"},
    {"<U10", 40, false, "string dtype"}, {"|V8", 8, false, "void dtype"}, {"<M8[ns]", 8, false, "datetime dtype"},
    {"<m8[D]", 8, false, "datetime dtype"}, {"<M8", 8, false, "datetime dtype"},
    {"<M8[10ms]", 8, false, "datetime dtype"}, {"|O", 8, true, "object dtype"},
    {"float64", 8, false, ""}, {"=i4", 4, false, ""},          {"b", 1, false, ""},
    {"?", 1, false, ""},       {"|S0", 0, false, "string dtype"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.descr);
    auto info = parse(npy(std::string("{'descr': '") + c.descr + "', 'fortran_order': False, 'shape': (1,)}", 1,
                          std::string(c.itemsize, '\0')));
    EXPECT_EQ(info.itemsize, c.itemsize);
    EXPECT_EQ(info.object, c.object);
    EXPECT_EQ(info.stats_skipped, c.skipped);
  }
}

TEST(NpyHeader, RejectsUnknownDescr) {
  for (const char* d : {"<f3", "<x8", "", "<", "<i16", "<M8[parsec]", "<M8[", "<float64", "f12", "!f8", "<U-1"}) {
    SCOPED_TRACE(d);
    EXPECT_NE(error_of(npy(std::string("{'descr': '") + d + "', 'fortran_order': False, 'shape': (1,)}", 1,
                           f8(4)))
                .find("descr"),
              std::string::npos);
  }
}

TEST(NpyHeader, StructuredDescr) {
  auto info = parse(npy("{'descr': [('a', '<i4'), (('title', 'b'), '>f8', (2, 3)), ('', '|V4'), "
                        "('c', [('x', '|u1'), ('y', '<f2')]), ('o', '|O')], 'fortran_order': False, 'shape': (2,)}",
                        1, std::string(2 * (4 + 48 + 4 + 3 + 8), '\0')));
  EXPECT_EQ(info.itemsize, 4u + 48u + 4u + 3u + 8u);
  EXPECT_TRUE(info.object);
  EXPECT_EQ(info.stats_skipped, "structured dtype");
  auto j = nlohmann::json::parse(info.descr_json);
  EXPECT_EQ(j[1][0][0], "title");
  EXPECT_EQ(j[1][2], nlohmann::json::parse("[2, 3]"));
  EXPECT_EQ(info.descr, "[('a', '<i4'), (('title', 'b'), '>f8', (2, 3)), ('', '|V4'), "
                        "('c', [('x', '|u1'), ('y', '<f2')]), ('o', '|O')]");
}

TEST(NpyHeader, StructuredDuplicatesAndPadding) {
  // Two padding fields are fine; two fields named 'a' are not.
  EXPECT_EQ(error_of(npy("{'descr': [('', '|V4'), ('a', '<i4'), ('', '|V2')], 'fortran_order': False, 'shape': ()}",
                         1, std::string(10, '\0'))),
            "(accepted)");
  EXPECT_NE(error_of(npy("{'descr': [('a', '<i4'), ('a', '<f8')], 'fortran_order': False, 'shape': ()}", 1,
                         std::string(12, '\0')))
              .find("duplicate field"),
            std::string::npos);
  // Any object may be a title (NumPy writes ((1, 'a'), '<i4')), a title
  // may not repeat a name.
  EXPECT_EQ(error_of(npy("{'descr': [((1, 'a'), '<i4')], 'fortran_order': False, 'shape': ()}", 1, "abcd")),
            "(accepted)");
  EXPECT_NE(error_of(npy("{'descr': [('a', '<i4'), (('a', 'b'), '<i4')], 'fortran_order': False, 'shape': ()}", 1,
                         "abcdefgh"))
              .find("duplicate"),
            std::string::npos);
  EXPECT_NE(error_of(npy("{'descr': [(1, '<i4')], 'fortran_order': False, 'shape': ()}", 1, "abcd"))
              .find("field names"),
            std::string::npos);
}

TEST(NpyHeader, RejectsMalformedHeaders) {
  struct Case {
    std::string header;
    const char* expect;
  };
  const Case cases[] = {
    {"['descr', '<f8']", "not a dict"},
    {"42", "not a dict"},
    {"dict(descr='<f8')", "not a literal"},
    {"{'descr': '<f8', 'fortran_order': False, 'shape': (1,)} + {}", "unexpected"},
    {"{'descr': __import__('os'), 'fortran_order': False, 'shape': (1,)}", "not a literal"},
    {"{'descr': '<f8', 'fortran_order': False}", "missing key 'shape'"},
    {"{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'extra': 1}", "unexpected key 'extra'"},
    {"{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (1,)}", "duplicate key 'descr'"},
    {"{'descr': '<f8', 'fortran_order': 0, 'shape': (1,)}", "fortran_order is not a bool"},
    {"{'descr': '<f8', 'fortran_order': 'False', 'shape': (1,)}", "fortran_order is not a bool"},
    {"{'descr': '<f8', 'fortran_order': False, 'shape': [1]}", "shape is not a tuple"},
    {"{'descr': '<f8', 'fortran_order': False, 'shape': 1}", "shape is not a tuple"},
    {"{'descr': '<f8', 'fortran_order': False, 'shape': (-1,)}", "non-negative"},
    {"{'descr': '<f8', 'fortran_order': False, 'shape': (1.0,)}", "floating-point"},
    {"{'descr': '<f8', 'fortran_order': False, 'shape': ('1',)}", "non-negative"},
    {"{'descr': 8, 'fortran_order': False, 'shape': (1,)}", "descr"},
    {"{'descr': '<f8', 'fortran_order': False, 'shape': (1,)", "unexpected end"},
    {"{'descr': '<f8, 'fortran_order': False, 'shape': (1,)}", ""},
    {"", "unexpected end"},
    {"{1: 2}", "is not a string"},
    {"{'descr': b'<f8', 'fortran_order': False, 'shape': (1,)}", "prefix"},
    // Issue #15, item 13: headers NumPy 1.24 refuses.
    {"{'descr': '<f8', 'fortran_order': False, 'shape': (True,)}", "non-negative"},
    {"{'descr': '<f8', 'fortran_order': False, 'shape': (1,)}\r  ", "carriage return"},
    {"{'descr': '<f8', 'fortran_order': False, 'shape': (1,)} \r\t", "carriage return"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.header);
    std::string err = error_of(npy(c.header, 1, f8(1)));
    EXPECT_NE(err, "(accepted)");
    EXPECT_NE(err.find(c.expect), std::string::npos) << err;
  }
}

// The line endings NumPy 1.24 does load (checked with np.load).
TEST(NpyHeader, AcceptsTrailingLineEndingsNumpyLoads) {
  for (const char* tail : {"\n", "\r", "\n  ", "\r\n  ", " \r", "\r \r", "\r  \n", ""}) {
    SCOPED_TRACE(tail);
    EXPECT_EQ(error_of(npy(std::string("{'descr': '<f8', 'fortran_order': False, 'shape': (1,)}") + tail, 1, f8(1))),
              "(accepted)");
  }
}

TEST(NpyHeader, RejectsBadPrefixes) {
  EXPECT_NE(error_of("").find("too short"), std::string::npos);
  EXPECT_NE(error_of(std::string("\x93NUMP", 5)).find("too short"), std::string::npos);
  EXPECT_NE(error_of("NUMPY\x93\x01\x00").find("bad magic"), std::string::npos);
  EXPECT_NE(error_of(std::string("\x93NUMPY\x04\x00\x10\x00", 10)).find("unsupported .npy version 4.0"),
            std::string::npos);
  EXPECT_NE(error_of(std::string("\x93NUMPY\x01\x01\x10\x00", 10)).find("version 1.1"), std::string::npos);
  EXPECT_NE(error_of(std::string("\x93NUMPY\x01\x00\xff\x00{}", 12)).find("runs past the end"), std::string::npos);
  EXPECT_NE(error_of(std::string("\x93NUMPY\x02\x00\xff\xff\xff\xff{}", 14)).find("exceeds the limit"),
            std::string::npos);
}

TEST(NpyHeader, TruncatedPayloadAndTrailingBytes) {
  std::string h = "{'descr': '<f8', 'fortran_order': False, 'shape': (3,)}";
  EXPECT_EQ(error_of(npy(h, 1, f8(2))), "truncated payload: expected 24 bytes, found 16");
  auto info = parse(npy(h, 1, f8(3) + "xyz"));
  EXPECT_EQ(info.trailing_bytes, 3u);
}

TEST(NpyHeader, PythonLiteralCorners) {
  // Comments, parentheses, adjacent strings, escapes, Python 2 long suffix,
  // underscores and hex in ints: all are what ast.literal_eval accepts.
  auto info = parse(npy("{'descr': ('<' 'f8'), # a comment\n 'fortran_order': (False), 'shape': (0x2, 1_0L,)}", 1,
                        f8(20)));
  EXPECT_EQ(info.descr, "'<f8'");
  EXPECT_EQ(info.shape, (std::vector<uint64_t>{2, 10}));
  auto esc = parse(npy("{'descr': [('\\x41\\u00e9\\'', '<i1')], 'fortran_order': False, 'shape': ()}", 1, "a"));
  EXPECT_EQ(nlohmann::json::parse(esc.descr_json)[0][0], "A\xc3\xa9'");
  EXPECT_NE(error_of(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (012,)}", 1, f8(12))).find("leading zero"),
            std::string::npos);
}

TEST(NpyHeader, HugeLiteralsAreBounded) {
  std::string dims;
  for (int i = 0; i < 65; ++i) {
    dims += "1,";
  }
  EXPECT_NE(error_of(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (" + dims + ")}", 1, f8(1)))
              .find("more than 64 dimensions"),
            std::string::npos);
  std::string many = "{'descr': [";
  for (int i = 0; i < (1 << 20) / 2; ++i) {
    many += "1,1,";
  }
  EXPECT_NE(error_of(npy(many + "], 'fortran_order': False, 'shape': ()}", 2)).find("values"), std::string::npos);
}

TEST(NpyHeader, DeepNestingIsRefusedNotACrash) {
  std::string deep(10000, '(');
  EXPECT_NE(error_of(npy("{'descr': " + deep, 2)).find("nested too deeply"), std::string::npos);
}

TEST(NpyStream, SplitsAnywhereGiveTheSameResult) {
  std::string file = npy("{'descr': '>i4', 'fortran_order': False, 'shape': (5,)}", 1,
                         std::string("\x00\x00\x00\x01\xff\xff\xff\xfe\x00\x00\x00\x07\x80\x00\x00\x00\x7f\xff\xff\xff", 20));
  for (size_t piece = 1; piece <= file.size(); ++piece) {
    core::NpyStream s(file.size(), core::NpyStream::Mode::file, core::NpyStream::WithStats::yes);
    for (size_t i = 0; i < file.size(); i += piece) {
      size_t n = std::min(piece, file.size() - i);
      s.feed(reinterpret_cast<const uint8_t*>(file.data()) + i, n);
    }
    auto info = s.finish();
    ASSERT_TRUE(info && info->stats);
    EXPECT_EQ(info->stats->count, 5u);
    EXPECT_EQ(info->stats->min_int, INT32_MIN);
    EXPECT_EQ(info->stats->max_int, INT32_MAX);
    EXPECT_DOUBLE_EQ(info->stats->mean, (1.0 - 2 + 7 + INT32_MIN + INT32_MAX) / 5);
  }
}

#include "dsm/error.hpp"
#include "repo/manifest.hpp"

#include <gtest/gtest.h>

using dsm::Error;
using dsm::Manifest;

namespace {

const std::string k_a(64, 'a');
const std::string k_b(64, 'b');

std::string error_of(const std::string& text) {
  try {
    Manifest::parse(text, "data/manifest-sha256.txt");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST(CoreManifest, RoundTripSorted) {
  Manifest m;
  m.set("z/z_20260101_001.npy", k_a);
  m.set("a/a_20260101_001.npy", k_b);
  std::string text = m.serialize();
  EXPECT_EQ(text, k_b + "  a/a_20260101_001.npy\n" + k_a + "  z/z_20260101_001.npy\n");
  Manifest back = Manifest::parse(text, "m");
  EXPECT_EQ(back.serialize(), text);
  ASSERT_NE(back.find("a/a_20260101_001.npy"), nullptr);
  EXPECT_EQ(*back.find("a/a_20260101_001.npy"), k_b);
  EXPECT_EQ(back.find("nope"), nullptr);
  EXPECT_EQ(Manifest().serialize(), "");
  EXPECT_TRUE(Manifest::parse("", "m").empty());
}

TEST(CoreManifest, PercentEncoding) {
  Manifest m;
  m.set("odd/a%b\nc\rd.npy", k_a);
  std::string text = m.serialize();
  EXPECT_EQ(text, k_a + "  odd/a%25b%0Ac%0Dd.npy\n");
  EXPECT_EQ(*Manifest::parse(text, "m").find("odd/a%b\nc\rd.npy"), k_a);
  EXPECT_EQ(dsm::manifest_decode_path("a%"), std::nullopt);
  EXPECT_EQ(dsm::manifest_decode_path("a%2"), std::nullopt);
  EXPECT_EQ(dsm::manifest_decode_path("a%41"), std::nullopt);
}

TEST(CoreManifest, ErrorsNameFileAndLine) {
  std::string good = k_a + "  a.npy\n";
  EXPECT_EQ(error_of(good + "garbage\n"), "'data/manifest-sha256.txt':2: expected '<sha256>  <path>'");
  EXPECT_EQ(error_of(good + std::string(63, 'a') + "  b.npy\n"),
            "'data/manifest-sha256.txt':2: hash has 63 characters, expected 64");
  EXPECT_EQ(error_of(good + good), "'data/manifest-sha256.txt':2: duplicate entry for 'a.npy'");
  EXPECT_NE(error_of(k_b + "  b.npy\n" + good).find(":2: entries are not sorted"), std::string::npos);
  EXPECT_NE(error_of(std::string(64, 'A') + "  a.npy\n").find(":1: hash is not 64 lowercase"), std::string::npos);
  EXPECT_NE(error_of(k_a + "  a.npy").find(":1: missing newline"), std::string::npos);
  EXPECT_NE(error_of(k_a + "  a.npy\r\n").find("CR LF"), std::string::npos);
  EXPECT_NE(error_of(good + "\n").find(":2: empty line"), std::string::npos);
  EXPECT_NE(error_of(k_a + "  a\rb.npy\n").find(":1: raw CR in path"), std::string::npos);
  EXPECT_NE(error_of(k_a + "  ../a.npy\n").find("invalid path"), std::string::npos);
  EXPECT_NE(error_of(k_a + "  /a.npy\n").find("invalid path"), std::string::npos);
  EXPECT_NE(error_of(k_a + "  a//b.npy\n").find("invalid path"), std::string::npos);
  EXPECT_NE(error_of(k_a + " a.npy\n").find("two spaces"), std::string::npos);
}

TEST(CoreManifest, SetRejectsBadPathsAndErase) {
  Manifest m;
  EXPECT_THROW(m.set("../x", k_a), Error);
  m.set("x", k_a);
  EXPECT_TRUE(m.erase("x"));
  EXPECT_FALSE(m.erase("x"));
}

namespace {

// What write_with hands out, joined, with `more` taken from a vector.
std::string written_with(const Manifest& m, const std::vector<std::pair<std::string, std::string>>& more,
                         size_t* pieces = nullptr) {
  size_t at = 0;
  std::string out;
  size_t n = 0;
  m.write_with(
    [&](Manifest::Line& line) {
      if (at == more.size()) {
        return false;
      }
      line.path = more[at].first;
      line.sha256 = more[at].second;
      ++at;
      return true;
    },
    [&](std::string_view piece) {
      out += piece;
      ++n;
    });
  if (pieces) {
    *pieces = n;
  }
  return out;
}

} // namespace

// Issue #17: `dsm add` of 100,000 files merges its new lines into the
// manifest as it writes it, instead of inserting each into the map.
TEST(CoreManifest, WriteWithMergesNewLinesAsSetWould) {
  Manifest m;
  m.set("a/a_1.npy", k_a);
  m.set("c/c_1.npy", k_a);
  m.set("e/e_1.npy", k_a);
  std::vector<std::pair<std::string, std::string>> more = {
    {"b/b_1.npy", k_b}, {"c/c_1.npy", k_b}, {"f/f_1.npy", k_b}};
  Manifest expected = m;
  for (const auto& [path, sha] : more) {
    expected.set(path, sha);
  }
  EXPECT_EQ(written_with(m, more), expected.serialize());
  EXPECT_EQ(written_with(m, {}), m.serialize());
  EXPECT_EQ(written_with(Manifest(), more), k_b + "  b/b_1.npy\n" + k_b + "  c/c_1.npy\n" + k_b + "  f/f_1.npy\n");
}

TEST(CoreManifest, WriteWithSortsByEncodedPathsAndWritesInPieces) {
  Manifest m;
  m.set("a%b/x.npy", k_a); // encoded a%25b: sorts after "a%" plain names, before "a/"
  m.set("a\nb/x.npy", k_a);
  std::vector<std::pair<std::string, std::string>> more;
  for (int i = 0; i < 5000; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "a/%05d.npy", i);
    more.emplace_back(name, k_b);
  }
  Manifest expected = m;
  for (const auto& [path, sha] : more) {
    expected.set(path, sha);
  }
  size_t pieces = 0;
  EXPECT_EQ(written_with(m, more, &pieces), expected.serialize());
  EXPECT_GT(pieces, 4u) << "about 64 KiB at a time, never the whole text";
}

TEST(CoreManifest, WriteWithRefusesNewLinesOutOfOrderOrInvalid) {
  Manifest m;
  EXPECT_THROW(written_with(m, {{"b/1.npy", k_a}, {"a/1.npy", k_a}}), Error);
  EXPECT_THROW(written_with(m, {{"../1.npy", k_a}}), Error);
  EXPECT_THROW(written_with(m, {{"a/1.npy", k_a}, {"a/1.npy", k_a}}), Error);
}

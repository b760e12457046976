// Sidecar fields of compressed and chunked versions: written, parsed back,
// malformed values refused.
#include "dsm/error.hpp"
#include "repo/sidecar.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

dsm::Sidecar base() {
  dsm::Sidecar s;
  s.name = "exp/features";
  s.version = 3;
  s.created = "2026-11-26T12:00:00Z";
  s.source = "/tmp/features.npy";
  s.host = "vm";
  s.size = 8128;
  s.sha256 = std::string(64, 'a');
  dsm::ArrayFacts f;
  f.npy_version = "1.0";
  f.descr = "<f8";
  f.shape = {1000, 1};
  s.npy = f;
  return s;
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? text : text.replace(at, from.size(), to);
}

} // namespace

TEST(Sidecar, ChunkedVersionRoundTrips) {
  dsm::Sidecar s = base();
  s.file = "features_20261126_003";
  s.format = "chunks";
  s.original = dsm::Sidecar::Original{8128, std::string(64, 'a'), "934e554d5059"};
  s.chunk_axis = 0;
  s.chunks = {{"part-0001.npy", 0, 600, 4928, std::string(64, 'b')},
              {"part-0002.npy", 600, 1000, 3328, std::string(64, 'c')}};
  dsm::Sidecar back = dsm::Sidecar::parse(s.to_yaml(), "x.yaml");
  EXPECT_EQ(back.format, "chunks");
  ASSERT_TRUE(back.original);
  EXPECT_EQ(back.original->size, 8128u);
  EXPECT_EQ(back.original->header_hex, "934e554d5059");
  ASSERT_EQ(back.chunks.size(), 2u);
  EXPECT_EQ(back.chunks[1].file, "part-0002.npy");
  EXPECT_EQ(back.chunks[1].row_begin, 600u);
  EXPECT_EQ(back.chunks[1].row_end, 1000u);
  EXPECT_EQ(back.chunks[1].size, 3328u);
  EXPECT_EQ(back.chunks[1].sha256, std::string(64, 'c'));
  EXPECT_EQ(back.to_yaml(), s.to_yaml()); // one encoding
}

TEST(Sidecar, CompressedVersionRoundTrips) {
  dsm::Sidecar s = base();
  s.file = "features_20261126_003.npz";
  s.format = "npz";
  s.members = {{"features", s.npy}};
  s.npy.reset();
  s.compression = "deflate, ISA-L level 2 (auto)";
  s.original = dsm::Sidecar::Original{9000, std::string(64, 'd'), ""};
  dsm::Sidecar back = dsm::Sidecar::parse(s.to_yaml(), "x.yaml");
  ASSERT_TRUE(back.compression);
  EXPECT_EQ(*back.compression, "deflate, ISA-L level 2 (auto)");
  ASSERT_TRUE(back.original);
  EXPECT_EQ(back.original->sha256, std::string(64, 'd'));
  EXPECT_TRUE(back.original->header_hex.empty());
  EXPECT_EQ(back.to_yaml(), s.to_yaml());
}

TEST(Sidecar, MalformedChunkFieldsRefused) {
  dsm::Sidecar s = base();
  s.file = "features_20261126_003";
  s.format = "chunks";
  s.original = dsm::Sidecar::Original{8128, std::string(64, 'a'), "93"};
  s.chunks = {{"part-0001.npy", 0, 1000, 8128, std::string(64, 'b')}};
  std::string good = s.to_yaml();
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
         {"\"part-0001.npy\"", "\"../part-0001.npy\""},
         {"rows: [0, 1000]", "rows: [1000, 0]"},
         {"rows: [0, 1000]", "rows: [0]"},
         {std::string(64, 'b'), "xyz"},
         {"sha256: \"" + std::string(64, 'a') + "\"\n  header", "sha256: \"nothex\"\n  header"},
         {"  header:", "  colour:"},
       }) {
    EXPECT_THROW(dsm::Sidecar::parse(replace(good, from, to), "x.yaml"), dsm::Error) << to;
  }
}

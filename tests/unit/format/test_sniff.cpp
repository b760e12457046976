#include "format/format.hpp"
#include "format/sniff.hpp"
#include "util/file.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

namespace fs = std::filesystem;
using dsm::ArrayKind;

namespace {

const fs::path k_dir = fs::path(DSM_TEST_DATA) / "sniff";

std::string fixture(const std::string& name) { return dsm::util::read_file(k_dir / name); }

void put16(std::string& s, uint16_t v) {
  s.push_back(static_cast<char>(v & 0xFF));
  s.push_back(static_cast<char>(v >> 8));
}
void put32(std::string& s, uint32_t v) {
  put16(s, static_cast<uint16_t>(v & 0xFFFF));
  put16(s, static_cast<uint16_t>(v >> 16));
}
void put64(std::string& s, uint64_t v) {
  put32(s, static_cast<uint32_t>(v & 0xFFFFFFFF));
  put32(s, static_cast<uint32_t>(v >> 32));
}

// A stored zip with one member, hand-built so the tests control every field.
// With `zip64`, the EOCD fields are 0xFFFF.. and a zip64 record + locator
// carry the real values, as zipfile writes for huge archives.
std::string make_zip(const std::string& member, const std::string& data, bool zip64, const std::string& comment = "") {
  std::string z;
  put32(z, 0x04034b50);
  put16(z, 20);
  put16(z, 0);
  put16(z, 0);
  put32(z, 0);
  put32(z, 0); // crc (not checked by the sniffer)
  put32(z, static_cast<uint32_t>(data.size()));
  put32(z, static_cast<uint32_t>(data.size()));
  put16(z, static_cast<uint16_t>(member.size()));
  put16(z, 0);
  z += member;
  z += data;
  uint64_t cd_start = z.size();
  put32(z, 0x02014b50);
  put16(z, 20);
  put16(z, 20);
  put16(z, 0);
  put16(z, 0);
  put32(z, 0);
  put32(z, 0);
  put32(z, static_cast<uint32_t>(data.size()));
  put32(z, static_cast<uint32_t>(data.size()));
  put16(z, static_cast<uint16_t>(member.size()));
  put16(z, 0);
  put16(z, 0);
  put16(z, 0);
  put16(z, 0);
  put32(z, 0);
  put32(z, 0);
  z += member;
  uint64_t cd_size = z.size() - cd_start;
  if (zip64) {
    uint64_t rec_at = z.size();
    put32(z, 0x06064b50);
    put64(z, 44);
    put16(z, 45);
    put16(z, 45);
    put32(z, 0);
    put32(z, 0);
    put64(z, 1);
    put64(z, 1);
    put64(z, cd_size);
    put64(z, cd_start);
    put32(z, 0x07064b50);
    put32(z, 0);
    put64(z, rec_at);
    put32(z, 1);
  }
  put32(z, 0x06054b50);
  put16(z, 0);
  put16(z, 0);
  put16(z, zip64 ? 0xFFFF : 1);
  put16(z, zip64 ? 0xFFFF : 1);
  put32(z, zip64 ? 0xFFFFFFFF : static_cast<uint32_t>(cd_size));
  put32(z, zip64 ? 0xFFFFFFFF : static_cast<uint32_t>(cd_start));
  put16(z, static_cast<uint16_t>(comment.size()));
  z += comment;
  return z;
}

std::string random_bytes(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string s(n, '\0');
  for (auto& c : s) {
    c = static_cast<char>(gen() & 0xFF);
  }
  return s;
}

} // namespace

TEST(CoreSniff, NpyMagic) {
  EXPECT_TRUE(dsm::looks_like_array_bytes(fixture("small.npy")));
  EXPECT_TRUE(dsm::looks_like_array_bytes(std::string("\x93NUMPY")));
  EXPECT_FALSE(dsm::looks_like_array_bytes(std::string("\x93NUMP")));
  EXPECT_FALSE(dsm::looks_like_array_bytes("NUMPY is great\n"));
  EXPECT_FALSE(dsm::looks_like_array_bytes(""));
}

TEST(CoreSniff, NumpyWrittenArchives) {
  EXPECT_EQ(dsm::sniff_window(fixture("two_members.npz"), fixture("two_members.npz"), 534), ArrayKind::zip_with_npy);
  EXPECT_TRUE(dsm::looks_like_array_bytes(fixture("compressed.npz")));
  EXPECT_TRUE(dsm::looks_like_array_bytes(fixture("second_member.npz")));
  EXPECT_FALSE(dsm::looks_like_array_bytes(fixture("plain.zip")));
}

TEST(CoreSniff, OnlyTheCentralDirectoryNamesTheArray) {
  // First member is notes.txt: the first local header does not help, the
  // central directory must be found from the end.
  std::string z = fixture("second_member.npz");
  // Cut the first 10 bytes' magic: local-header check fails, EOCD still works.
  std::string broken_head = z;
  broken_head[0] = 'X';
  EXPECT_TRUE(dsm::looks_like_array_bytes(broken_head));
  // Without its end, the archive cannot be read as holding an array.
  EXPECT_FALSE(dsm::looks_like_array_bytes(z.substr(0, z.size() - 30)));
}

TEST(CoreSniff, TruncatedNpzStillCaughtByFirstHeader) {
  std::string z = fixture("two_members.npz");
  EXPECT_TRUE(dsm::looks_like_array_bytes(z.substr(0, 100)));
}

TEST(CoreSniff, PrependedDataAndComment) {
  std::string z = random_bytes(5000, 1) + make_zip("weights.NPY", "abc", false, "a comment");
  EXPECT_TRUE(dsm::looks_like_array_bytes(z));
  EXPECT_FALSE(dsm::looks_like_array_bytes(random_bytes(5000, 1) + make_zip("weights.txt", "abc", false, "c")));
}

TEST(CoreSniff, Zip64) {
  EXPECT_TRUE(dsm::looks_like_array_bytes(make_zip("x.npy", "0123456789", true)));
  EXPECT_FALSE(dsm::looks_like_array_bytes(make_zip("x.bin", "0123456789", true)));
  EXPECT_TRUE(dsm::looks_like_array_bytes("junk" + make_zip("x.npy", "0123456789", true)));
}

TEST(CoreSniff, EocdMustEndTheObject) {
  // An EOCD followed by bytes its comment length does not account for is
  // not taken as a zip (random binaries contain "PK\5\6" by chance).
  std::string z = make_zip("a.npy", "1", false);
  z[0] = 'X'; // defeat the first-header check
  EXPECT_TRUE(dsm::looks_like_array_bytes(z));
  EXPECT_FALSE(dsm::looks_like_array_bytes(z + "trailing"));
}

TEST(CoreSniff, RandomDataIsNotAnArray) {
  for (unsigned seed = 0; seed < 50; ++seed) {
    EXPECT_FALSE(dsm::looks_like_array_bytes(random_bytes(70000, seed))) << seed;
  }
}

TEST(CoreSniff, WindowOfALargeObject) {
  // A 3 MiB archive whose one member is the array and whose first local
  // header is damaged: the window (head + tail) must still reach the EOCD
  // and the central directory.
  std::string big = make_zip("big.npy", random_bytes(3u << 20, 7), false);
  big[0] = 'X';
  std::string_view v = big;
  auto head = v.substr(0, dsm::k_sniff_head_bytes);
  auto tail = v.substr(v.size() - dsm::k_sniff_tail_bytes);
  EXPECT_EQ(dsm::sniff_window(head, tail, big.size()), ArrayKind::zip_with_npy);
  // A tail too short to hold the EOCD region: no false positive, no crash.
  EXPECT_EQ(dsm::sniff_window(head, v.substr(v.size() - 10), big.size()), ArrayKind::none);
  // Head of a large .npy.
  std::string npy = fixture("small.npy") + random_bytes(2u << 20, 3);
  std::string_view nv = npy;
  EXPECT_EQ(dsm::sniff_window(nv.substr(0, 4096), nv.substr(nv.size() - 4096), npy.size()), ArrayKind::npy);
}

TEST(CoreSniff, Files) {
  EXPECT_TRUE(dsm::looks_like_array_file(k_dir / "small.npy"));
  EXPECT_TRUE(dsm::looks_like_array_file(k_dir / "second_member.npz"));
  EXPECT_FALSE(dsm::looks_like_array_file(k_dir / "plain.zip"));
  EXPECT_FALSE(dsm::looks_like_array_file(k_dir / "does-not-exist.npy"));
  EXPECT_FALSE(dsm::looks_like_array_file(k_dir)); // a directory
  EXPECT_EQ(dsm::sniff_file((k_dir / "compressed.npz").c_str()), ArrayKind::zip_with_npy);
}

// The .npz reader and scan_file: fixtures from tests/data (written by
// tests/data/make_fixtures.py with Python's zipfile), plus byte-level
// mutations of them.
#include "temp_dir.hpp"
#include "format/zip_reader.hpp"
#include "dsm/error.hpp"
#include "format/format.hpp"
#include "util/file.hpp"
#include "util/sha256.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;
using namespace dsm;

namespace {

fs::path data(const std::string& rel) { return fs::path(DSM_TEST_DATA) / rel; }

std::string slurp(const fs::path& p) { return util::read_file(p); }

std::string scan_error(const fs::path& p) {
  try {
    scan_file(p);
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
    return e.what();
  }
  return "(accepted)";
}

// The .npz reader over bytes in memory, driven as scan_fd drives it.
std::string zip_error(const std::string& z) {
  core::ReadAt read_at = [&](uint64_t offset, void* out, size_t n) {
    if (offset > z.size() || z.size() - offset < n) {
      throw Error("read past the end");
    }
    std::memcpy(out, z.data() + offset, n);
  };
  try {
    core::ZipStream stream(core::read_zip_directory(read_at, z.size()), core::NpyStream::WithStats::yes);
    for (size_t i = 0; i < z.size(); i += 7) {
      stream.feed(i, reinterpret_cast<const uint8_t*>(z.data()) + i, std::min<size_t>(7, z.size() - i));
    }
    stream.finish();
  } catch (const Error& e) {
    return e.what();
  }
  return "(accepted)";
}

class ZipTest : public dsm::testing::TempDirTest {
protected:
  fs::path write(const std::string& name, const std::string& bytes) {
    fs::path p = m_dir / name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
};

} // namespace

TEST_F(ZipTest, StoredDeflatedDescriptorAndZip64AllAgree) {
  std::vector<FileInfo> infos;
  for (const char* name : {"good/stored.npz", "good/deflated.npz", "good/descriptor.npz", "good/zip64_records.npz"}) {
    SCOPED_TRACE(name);
    FileInfo info = scan_file(data(name));
    EXPECT_EQ(info.format, Format::npz);
    ASSERT_EQ(info.members.size(), 2u);
    EXPECT_EQ(info.members[0].name, "a");
    EXPECT_EQ(info.members[0].zip_name, "a.npy");
    EXPECT_EQ(info.members[1].name, "b");
    for (const auto& m : info.members) {
      ASSERT_TRUE(m.is_npy && m.npy);
      EXPECT_EQ(m.compressed, std::string(name) != "good/stored.npz");
    }
    EXPECT_EQ(info.members[0].npy->shape, std::vector<uint64_t>{5});
    ASSERT_TRUE(info.members[0].npy->stats);
    EXPECT_EQ(info.members[0].npy->stats->max, 4.0);
    EXPECT_EQ(info.members[1].npy->descr, "'|b1'");
    infos.push_back(info);
  }
  // The same arrays whatever the container's encoding.
  for (const auto& info : infos) {
    EXPECT_EQ(to_json(*info.members[1].npy), to_json(*infos[0].members[1].npy));
  }
}

TEST_F(ZipTest, Zip64FixtureReallyHasZip64Records) {
  std::string z = slurp(data("good/zip64_records.npz"));
  EXPECT_NE(z.find(std::string("PK\x06\x06", 4)), std::string::npos);
  EXPECT_NE(z.find(std::string("PK\x06\x07", 4)), std::string::npos);
}

TEST_F(ZipTest, HashAndSinkSeeEveryByteInOrder) {
  fs::path p = data("good/deflated.npz");
  std::string copy;
  ScanOptions opts;
  opts.sink = [&](const uint8_t* d, size_t n) { copy.append(reinterpret_cast<const char*>(d), n); };
  FileInfo info = scan_file(p, opts);
  std::string bytes = slurp(p);
  EXPECT_EQ(copy, bytes);
  util::Sha256 sha;
  sha.update(bytes.data(), bytes.size());
  EXPECT_EQ(info.sha256, sha.hex_digest());
  EXPECT_EQ(info.size, bytes.size());
  EXPECT_TRUE(info.path.is_absolute());
}

TEST_F(ZipTest, NonNpyMembersAndNames) {
  FileInfo info = scan_file(data("good/non_npy_member.npz"));
  ASSERT_EQ(info.members.size(), 2u);
  EXPECT_EQ(info.members[0].name, "notes.txt");
  EXPECT_FALSE(info.members[0].is_npy);
  EXPECT_TRUE(info.members[1].is_npy);
  FileInfo utf8 = scan_file(data("good/utf8_name.npz"));
  EXPECT_EQ(utf8.members.at(0).name, "\xc3\xa9t\xc3\xa9");
  EXPECT_TRUE(scan_file(data("good/empty.npz")).members.empty());
}

TEST_F(ZipTest, CorruptArchivesAreRefused) {
  EXPECT_NE(scan_error(data("bad/zip_bad_crc.npz")).find("CRC-32 mismatch"), std::string::npos);
  EXPECT_NE(scan_error(data("bad/zip_corrupt_deflate.npz")).find("corrupt deflate"), std::string::npos);
  EXPECT_NE(scan_error(data("bad/zip_declared_size_lie.npz")).find("impossible"), std::string::npos);
  EXPECT_NE(scan_error(data("bad/zip_overlapping_members.npz")).find("overlap"), std::string::npos);
  EXPECT_NE(scan_error(data("bad/zip_truncated.npz")).find("end of central directory"), std::string::npos);
  EXPECT_NE(scan_error(data("bad/zip_member_npy_truncated.npz")).find("member 'a.npy': truncated payload"),
            std::string::npos);
  // Messages start with the quoted path.
  EXPECT_EQ(scan_error(data("bad/zip_encrypted.npz")).rfind("'" + data("bad/zip_encrypted.npz").string() + "': ", 0),
            0u);
}

TEST_F(ZipTest, EveryTruncationAndEveryByteFlipIsHandled) {
  // No crash, no hang, and never a silent success with wrong content: a
  // flipped byte is either refused or the file still scans (a flip in a
  // timestamp or a comment is harmless).
  std::string z = slurp(data("good/deflated.npz"));
  EXPECT_EQ(zip_error(z), "(accepted)");
  for (size_t n = 0; n < z.size(); ++n) {
    EXPECT_NE(zip_error(z.substr(0, n)), "(accepted)") << n;
  }
  size_t refused = 0;
  for (size_t i = 0; i < z.size(); ++i) {
    std::string m = z;
    m[i] = static_cast<char>(m[i] ^ 0x5a);
    refused += zip_error(m) != "(accepted)";
  }
  // Most bytes matter (timestamps, version and attribute fields, the local
  // headers' sizes and extra fields, the end record's counts and disk
  // numbers don't, for Python's zipfile either).
  EXPECT_GT(refused, z.size() * 2 / 3);
}

TEST_F(ZipTest, DeclaredSizeSmallerThanDataIsABomb) {
  // Shrink member a.npy's declared uncompressed size in the central
  // directory: inflate must stop at the declared size and refuse.
  std::string z = slurp(data("good/deflated.npz"));
  size_t cd = z.find(std::string("PK\x01\x02", 4));
  ASSERT_NE(cd, std::string::npos);
  z[cd + 24] = 10;
  z[cd + 25] = z[cd + 26] = z[cd + 27] = 0;
  EXPECT_NE(scan_error(write("small.npz", z)).find("inflates past its declared size"), std::string::npos);
}

TEST_F(ZipTest, DirectoryReaderBoundsEverything) {
  // A central directory claiming a huge size on a tiny file.
  std::string eocd("PK\x05\x06\0\0\0\0\x01\0\x01\0\xff\xff\xff\x7f\0\0\0\0\0\0", 22);
  EXPECT_NE(scan_error(write("huge_cd.npz", eocd)).find("central directory"), std::string::npos);
  // An end record counting 255 entries in an empty central directory: like
  // Python's zipfile, the directory's bytes count, not the record's count.
  std::string many("PK\x05\x06\0\0\0\0\xff\x00\xff\x00\0\0\0\0\0\0\0\0\0\0", 22);
  EXPECT_EQ(scan_error(write("many.npz", many)), "(accepted)");
  EXPECT_TRUE(scan_file(m_dir / "many.npz").members.empty());
  // Bytes after the end record: found as Python finds it.
  std::string z = slurp(data("good/stored.npz")) + "trailing junk";
  EXPECT_EQ(scan_file(write("junk.npz", z)).members.size(), 2u);
}

#include "temp_dir.hpp"
#include "format/compress_add.hpp"
#include "format/deflate.hpp"
#include "ops/export.hpp"
#include "format/zip_writer.hpp"
#include "dsm/error.hpp"
#include "util/file.hpp"
#include "util/sha256.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace dsm;

namespace {

class ZipWriterTest : public dsm::testing::TempDirTest {
protected:
};

std::string unhex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// np.savez('ts.npz', features=np.arange(10.0)) and np.savez_compressed, as
// NumPy 1.24 / Python 3.11 wrote them (xxd -p).
const std::string k_savez_hex =
  "504b030414000000000000002100abe44edbd0000000d00000000c00140066656174757265732e6e707901001000d000000000000000"
  "d000000000000000934e554d5059010076007b276465736372273a20273c6638272c2027666f727472616e5f6f72646572273a204661"
  "6c73652c20277368617065273a202831302c292c207d2020202020202020202020202020202020202020202020202020202020202020"
  "2020202020202020202020202020202020202020202020202020200a0000000000000000000000000000f03f00000000000000400000"
  "0000000008400000000000001040000000000000144000000000000018400000000000001c4000000000000020400000000000002240"
  "504b0102140314000000000000002100abe44edbd0000000d00000000c00000000000000000000008001000000006665617475726573"
  "2e6e7079504b050600000000010001003a0000000e0100000000";
const std::string k_savez_compressed_hex =
  "504b030414000000080000002100abe44edb60000000d00000000c00140066656174757265732e6e707901001000d000000000000000"
  "60000000000000009bec17ea1b10c9c850c650ad9e925a9c5ca46ea5a06e9366a1aea3a09e965f54529498179f5f94920a12774bcc29"
  "4e058a17672416a402f91a86063a9a3a0ab50ae4032e0614f0c11eca7080501c505a004a8b406909282d03a515a0b4920300504b0102"
  "140314000000080000002100abe44edb60000000d00000000c000000000000000000000080010000000066656174757265732e6e7079"
  "504b050600000000010001003a0000009e0000000000";

std::string write_one(const fs::path& path, const std::string& member, zip::Method method, const std::string& data,
                      uint32_t crc, uint64_t size, zip::Layout layout = zip::Layout::numpy) {
  util::AtomicFile f(path);
  zip::ZipWriter w(f.fd(), f.temp_path(), 0, layout);
  w.begin_member(member);
  w.write(data.data(), data.size());
  w.end_member(method, crc, size);
  w.finish();
  f.commit();
  return util::read_file(path);
}

int run_python(const std::string& script) {
  std::string cmd = "/usr/bin/python3 -c '" + script + "'";
  return std::system(cmd.c_str());
}

} // namespace

TEST_F(ZipWriterTest, StoredMemberIsByteIdenticalToNumpySavez) {
  std::string ref = unhex(k_savez_hex);
  // The member data: the .npy bytes, after the 30 + 12 + 20 byte header.
  std::string npy = ref.substr(62, 208);
  auto crc = static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(npy.data()), 208));
  std::string got = write_one(m_dir / "a.npz", "features.npy", zip::Method::stored, npy, crc, 208);
  EXPECT_EQ(got, ref);
}

TEST_F(ZipWriterTest, DeflatedMemberIsByteIdenticalToNumpySavezCompressed) {
  std::string ref = unhex(k_savez_compressed_hex);
  std::string comp = ref.substr(62, 0x60);
  std::string got = write_one(m_dir / "a.npz", "features.npy", zip::Method::deflated, comp, 0xdb4ee4ab, 208);
  EXPECT_EQ(got, ref);
}

TEST_F(ZipWriterTest, ReadEntriesRoundTripsBothLayouts) {
  for (auto layout : {zip::Layout::numpy, zip::Layout::zip64_everywhere}) {
    fs::path p = m_dir / "multi.npz";
    {
      util::AtomicFile f(p);
      zip::ZipWriter w(f.fd(), f.temp_path(), 0, layout);
      w.begin_member("a.npy");
      w.write("hello", 5);
      w.end_member(zip::Method::stored, 0x3610a686, 5);
      w.begin_member("b.npy");
      w.write("xyz", 3);
      w.end_member(zip::Method::deflated, 1234, 99);
      w.finish();
      f.commit();
    }
    util::Fd fd = util::open_read(p);
    auto entries = zip::read_entries(fd.get(), p);
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(entries[0].name, "a.npy");
    EXPECT_EQ(entries[0].method, zip::Method::stored);
    EXPECT_EQ(entries[0].size, 5u);
    EXPECT_EQ(entries[0].crc32, 0x3610a686u);
    EXPECT_EQ(util::read_file(p).substr(entries[0].data_offset, 5), "hello");
    EXPECT_EQ(entries[1].name, "b.npy");
    EXPECT_EQ(entries[1].method, zip::Method::deflated);
    EXPECT_EQ(entries[1].size, 99u);
    EXPECT_EQ(entries[1].compressed_size, 3u);
    EXPECT_EQ(entries[1].crc32, 1234u);
    fs::remove(p);
  }
}

TEST_F(ZipWriterTest, ReadEntriesRejectsGarbage) {
  fs::path p = m_dir / "bad.npz";
  util::write_file_atomic(p, std::string(100, 'x'));
  util::Fd fd = util::open_read(p);
  EXPECT_THROW(zip::read_entries(fd.get(), p), Error);
}

// Real NumPy: np.save an array, compress it into a .npz the way dsm does
// (parallel deflate, many blocks), and np.load must return the same array,
// in NumPy's layout and in the ZIP64 layout NumPy uses for > 4 GiB members.
TEST_F(ZipWriterTest, NumpyLoadsParallelDeflatedMembers) {
  std::string dir = m_dir.string();
  ASSERT_EQ(run_python("import numpy as np\n"
                       "r = np.random.default_rng(0)\n"
                       "np.save(\"" + dir + "/a.npy\", (r.standard_normal((3000, 70)) * 100).round(2))\n"),
            0);
  std::string npy = util::read_file(m_dir / "a.npy");
  struct Case {
    const char* file;
    zip::Layout layout;
    int level;
    deflate::Engine expect;
  };
  const Case cases[] = {
    {"isal.npz", zip::Layout::numpy, 1, deflate::Engine::isal},
    {"ld.npz", zip::Layout::numpy, 6, deflate::Engine::libdeflate},
    {"z64.npz", zip::Layout::zip64_everywhere, 6, deflate::Engine::libdeflate},
    {"stored.npz", zip::Layout::zip64_everywhere, 0, deflate::Engine::stored},
  };
  for (const Case& c : cases) {
    util::AtomicFile f(m_dir / c.file);
    zip::ZipWriter w(f.fd(), f.temp_path(), 0, c.layout);
    w.begin_member("a.npy");
    deflate::Options o;
    o.level = c.level;
    o.block_size = 64 << 10; // many blocks
    o.jobs = 2;
    deflate::ParallelDeflate pd(o, [&](const uint8_t* d, size_t n) { w.write(d, n); });
    pd.write(npy.data(), npy.size());
    deflate::Result r = pd.finish();
    EXPECT_EQ(r.plan.engine, c.expect) << r.reason;
    w.end_member(r.stored() ? zip::Method::stored : zip::Method::deflated, r.crc32, r.in_bytes);
    w.finish();
    f.commit();
    ASSERT_EQ(run_python("import numpy as np, zipfile\n"
                         "a = np.load(\"" + dir + "/a.npy\")\n"
                         "z = np.load(\"" + dir + "/" + c.file + "\")\n"
                         "assert list(z.keys()) == [\"a\"], z.keys()\n"
                         "b = z[\"a\"]\n"
                         "assert a.dtype == b.dtype and a.shape == b.shape and (a == b).all()\n"
                         "zipfile.ZipFile(\"" + dir + "/" + c.file + "\").testzip()\n"),
              0)
      << c.file;
  }
}

// The path `dsm add --compress` + `dsm export` takes, without a repository.
TEST_F(ZipWriterTest, ExportRebuildsTheOriginalAndCatchesCorruption) {
  std::string npy = std::string("\x93NUMPY\x01\x00\x76\x00", 10) +
                    "{'descr': '<i8', 'fortran_order': False, 'shape': (300000,), }";
  npy.append(128 - 1 - npy.size(), ' ');
  npy += '\n';
  for (int64_t i = 0; i < 300000; ++i) {
    int64_t v = (i * 7919) % 1000;
    npy.append(reinterpret_cast<const char*>(&v), 8);
  }
  util::Sha256 h;
  h.update(npy.data(), npy.size());
  std::string sha = h.hex_digest();
  for (int level : {deflate::k_level_auto, 0, 1, 9}) {
    SCOPED_TRACE(level);
    fs::path npz = m_dir / "x.npz";
    fs::remove(npz);
    {
      util::AtomicFile f(npz);
      CompressSettings cs;
      cs.level = level;
      NpzCompressor c(f.fd(), f.temp_path(), "features", cs);
      for (size_t off = 0; off < npy.size(); off += 100000) {
        c.write(reinterpret_cast<const uint8_t*>(npy.data()) + off, std::min<size_t>(100000, npy.size() - off));
      }
      auto summary = c.finish();
      EXPECT_EQ(summary.member, "features.npy");
      EXPECT_EQ(summary.deflate.stored(), level == 0) << summary.deflate.reason;
      f.commit();
    }
    ExportSource src;
    src.kind = ExportSource::Kind::npz_member;
    src.payload = npz;
    src.member = "features.npy";
    src.original_size = npy.size();
    src.original_sha256 = sha;
    fs::path out = m_dir / "out.npy";
    fs::remove(out);
    ExportResult r = export_original(src, out, Overwrite::no);
    EXPECT_EQ(r.sha256, sha);
    EXPECT_EQ(util::read_file(out), npy);
    try {
      export_original(src, out, Overwrite::no);
      ADD_FAILURE() << "overwrote without --force";
    } catch (const Error& e) {
      EXPECT_EQ(e.exit_code(), 2);
    }
    EXPECT_NO_THROW(export_original(src, out, Overwrite::yes));

    // Flip one bit in the middle of the member data: a problem (exit 1), and
    // the existing output is left alone.
    std::string bytes = util::read_file(npz);
    bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x10);
    fs::remove(npz);
    util::write_file_atomic(npz, bytes);
    try {
      export_original(src, out, Overwrite::yes);
      ADD_FAILURE() << "corruption not detected";
    } catch (const Error& e) {
      EXPECT_EQ(e.exit_code(), 1) << e.what();
    }
    EXPECT_EQ(util::read_file(out), npy);
  }
}

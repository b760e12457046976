#include "temp_dir.hpp"
#include "format/chunk.hpp"
#include "dsm/error.hpp"
#include "util/file.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace fs = std::filesystem;
using namespace dsm;

namespace {

class ChunkTest : public dsm::testing::TempDirTest {
protected:
  int python(const std::string& script) {
    util::write_file_atomic(m_dir / "script.py", script);
    return std::system(("cd '" + m_dir.string() + "' && /usr/bin/python3 script.py").c_str());
  }
  ChunkSummary chunk(const std::string& file, uint64_t bytes, size_t piece = 1000) {
    fs::path out = m_dir / (file + ".parts");
    fs::create_directory(out);
    std::string data = util::read_file(m_dir / file);
    NpyChunker c(out, bytes, m_dir / file);
    for (size_t off = 0; off < data.size(); off += piece) {
      c.write(reinterpret_cast<const uint8_t*>(data.data()) + off, std::min(piece, data.size() - off));
    }
    return c.finish();
  }
};

} // namespace

TEST(ChunkSize, Parses) {
  EXPECT_EQ(parse_size("512MiB"), 512ull << 20);
  EXPECT_EQ(parse_size("64KiB"), 64ull << 10);
  EXPECT_EQ(parse_size("1GB"), 1000000000ull);
  EXPECT_EQ(parse_size("4096"), 4096u);
  EXPECT_EQ(parse_size("2G"), 2ull << 30);
  for (const char* bad : {"", "0", "MiB", "12 MiB", "1.5GiB", "-1", "7XB", "99999999999999999999"}) {
    EXPECT_THROW(parse_size(bad), Error) << bad;
  }
  EXPECT_EQ(chunk_file_name(1), "part-0001.npy");
  EXPECT_EQ(chunk_file_name(12345), "part-12345.npy");
}

TEST_F(ChunkTest, SplitsLikeNumpySlicesAndReassemblesBitForBit) {
  ASSERT_EQ(python("import numpy as np\n"
                   "r = np.random.default_rng(1)\n"
                   "np.save('c.npy', r.standard_normal((1000, 7)))\n"
                   "np.save('f.npy', np.asfortranarray(r.integers(0, 9, (5, 6, 103)).astype('>i4')))\n"
                   "np.save('s.npy', np.zeros(77, dtype=[('a', '<i4'), ('b', '<f8', (2,))]))\n"
                   "np.save('e.npy', np.zeros((0, 3)))\n"
                   "np.save('v2.npy', np.zeros((10, 2), dtype=[('f%d' % i, '<i2') for i in range(5000)]))\n"),
            0);
  struct Case {
    const char* file;
    uint64_t bytes;
    size_t parts;
  };
  // 1000 rows x 56 bytes in 5000-byte chunks: 89 rows each, 12 parts.
  const Case cases[] = {{"c.npy", 5000, 12}, {"f.npy", 1000, 103 / 8 + 1}, {"s.npy", 200, 77 / 10 + 1},
                        {"e.npy", 100, 1},   {"v2.npy", 1, 10}};
  std::string check = "import numpy as np, os\n";
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    ChunkSummary s = chunk(c.file, c.bytes);
    ASSERT_EQ(s.chunks.size(), c.parts);
    std::string rebuilt;
    reassemble_chunks(m_dir / (std::string(c.file) + ".parts"), s,
                      [&](const uint8_t* d, size_t n) { rebuilt.append(reinterpret_cast<const char*>(d), n); });
    EXPECT_EQ(rebuilt, util::read_file(m_dir / c.file));
    std::string parts = "[";
    for (const ChunkRecord& r : s.chunks) {
      EXPECT_EQ(r.size, fs::file_size(m_dir / (std::string(c.file) + ".parts") / r.file));
      EXPECT_EQ(r.sha256.size(), 64u);
      parts += "('" + r.file + "', " + std::to_string(r.row_begin) + ", " + std::to_string(r.row_end) + "), ";
    }
    parts += "]";
    // Each part is exactly what np.save writes for that slice.
    check += "a = np.load('" + std::string(c.file) + "', max_header_size=10**6)\n"
             "ax = a.ndim - 1 if np.isfortran(a) and a.ndim > 1 else 0\n"
             "for f, b, e in " + parts + ":\n"
             "    p = os.path.join('" + c.file + ".parts', f)\n"
             "    s = np.take(a, range(b, e), axis=ax)\n"
             "    s = np.asfortranarray(s) if np.isfortran(a) and a.ndim > 1 else s\n"
             "    np.save('ref.npy', s)\n"
             "    assert open(p, 'rb').read() == open('ref.npy', 'rb').read(), p\n";
  }
  EXPECT_EQ(python(check), 0);
}

TEST_F(ChunkTest, RefusesWhatCannotBeSplit) {
  ASSERT_EQ(python("import numpy as np\n"
                   "np.save('o.npy', np.array([1, 'a', None], dtype=object), allow_pickle=True)\n"
                   "np.save('z.npy', np.float64(3.5))\n"
                   "np.save('t.npy', np.arange(10.0))\n"
                   "open('t.npy', 'ab').write(b'extra')\n"
                   "np.save('short.npy', np.arange(10.0))\n"
                   "d = open('short.npy', 'rb').read()\n"
                   "open('short.npy', 'wb').write(d[:-3])\n"),
            0);
  for (const char* f : {"o.npy", "z.npy", "t.npy", "short.npy"}) {
    EXPECT_THROW(chunk(f, 16), Error) << f;
  }
}

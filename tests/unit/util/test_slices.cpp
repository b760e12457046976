// for_each_slice: every byte once, in order, by both paths; and a file
// truncated under the mapping ends the pass with "shrank", never SIGBUS.
#include "temp_dir.hpp"
#include "dsm/error.hpp"
#include "format/format.hpp"
#include "util/file.hpp"
#include "util/slices.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using namespace dsm::util;

namespace {

class Slices : public dsm::testing::TempDirTest {
protected:

  fs::path write(const std::string& name, const std::string& bytes) {
    fs::path p = m_dir / name;
    write_file_atomic(p, bytes);
    return p;
  }
};

std::string pattern(size_t n) {
  std::string s(n, '\0');
  uint32_t x = 12345;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1103515245u + 12345u;
    s[i] = static_cast<char>(x >> 24);
  }
  return s;
}

struct Collected {
  std::string bytes;
  size_t calls = 0;
  size_t largest = 0;
};

SliceEnd collect(const fs::path& p, uint64_t size, SliceSource source, Collected& out) {
  Fd fd = open_read(p);
  return for_each_slice(
      fd.get(), size, p,
      [&](const uint8_t* d, size_t n) {
        out.bytes.append(reinterpret_cast<const char*>(d), n);
        ++out.calls;
        out.largest = std::max(out.largest, n);
      },
      source);
}

// A valid .npy of `payload` bytes of uint8 (header padded to 64 bytes).
std::string npy_bytes(size_t payload) {
  std::string dict = "{'descr': '|u1', 'fortran_order': False, 'shape': (" + std::to_string(payload) + ",), }";
  size_t header_len = 10 + dict.size() + 1;
  size_t padded = (header_len + 63) / 64 * 64;
  dict.append(padded - header_len, ' ');
  dict += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(dict.size() & 0xff);
  out += static_cast<char>(dict.size() >> 8);
  out += dict;
  out += pattern(payload);
  return out;
}

} // namespace

TEST_F(Slices, EveryByteOnceInOrderByEachPath) {
  const std::vector<size_t> sizes = {0,
                                     1,
                                     (64u << 10) - 1,
                                     64u << 10,
                                     (64u << 10) + 1,
                                     k_map_min_size - 1,
                                     k_map_min_size,
                                     5 * k_slice + 3,
                                     k_map_window + 1,
                                     2 * k_map_window + 12345};
  for (size_t size : sizes) {
    std::string bytes = pattern(size);
    fs::path p = write("f" + std::to_string(size), bytes);
    for (SliceSource source : {SliceSource::automatic, SliceSource::map, SliceSource::read}) {
      Collected c;
      EXPECT_EQ(collect(p, size, source, c), SliceEnd::complete) << size;
      EXPECT_TRUE(c.bytes == bytes) << "size " << size << " source " << static_cast<int>(source);
      EXPECT_LE(c.largest, k_slice);
    }
  }
}

TEST_F(Slices, ShorterOrLongerThanExpected) {
  fs::path p = write("f", pattern(k_map_window + 100));
  for (SliceSource source : {SliceSource::map, SliceSource::read}) {
    Collected longer;
    EXPECT_EQ(collect(p, k_map_window + 101, source, longer), SliceEnd::shrank);
    Collected shorter;
    EXPECT_EQ(collect(p, k_map_window + 99, source, shorter), SliceEnd::grew);
    EXPECT_EQ(shorter.bytes.size(), k_map_window + 99);
  }
}

TEST_F(Slices, TruncatedWhileMappedEndsAsShrankWithoutSigbus) {
  const size_t size = 3 * k_map_window;
  fs::path p = write("f", pattern(size));
  Fd fd = open_read(p);
  size_t calls = 0;
  // The first slice's callback truncates the file: the rest of the first
  // window is already mapped (MAP_POPULATE), so the next slices fault.
  SliceEnd end = for_each_slice(
      fd.get(), size, p,
      [&](const uint8_t* d, size_t n) {
        if (calls++ == 0) {
          ASSERT_EQ(::truncate(p.c_str(), static_cast<off_t>(k_slice)), 0);
        }
        volatile uint8_t sum = 0;
        for (size_t i = 0; i < n; i += 4096) {
          sum = static_cast<uint8_t>(sum + d[i]); // touches every page
        }
      },
      SliceSource::map);
  EXPECT_EQ(end, SliceEnd::shrank);
  EXPECT_EQ(calls, 2u); // the faulting slice ends the pass
}

TEST_F(Slices, DecoderErrorAfterTruncationIsReportedAsShrank) {
  const size_t size = 2 * k_map_window;
  fs::path p = write("f", pattern(size));
  Fd fd = open_read(p);
  size_t calls = 0;
  SliceEnd end = for_each_slice(
      fd.get(), size, p,
      [&](const uint8_t* d, size_t) {
        if (calls++ == 0) {
          ASSERT_EQ(::truncate(p.c_str(), 0), 0);
          return;
        }
        if (d[0] == 0 && d[1] == 0) {
          throw dsm::Error("decoder choked on zeros");
        }
      },
      SliceSource::map);
  EXPECT_EQ(end, SliceEnd::shrank);
}

TEST_F(Slices, CallbackErrorsPropagateWhenTheFileIsIntact) {
  fs::path p = write("f", pattern(2 * k_map_window));
  for (SliceSource source : {SliceSource::map, SliceSource::read}) {
    Fd fd = open_read(p);
    EXPECT_THROW(for_each_slice(
                     fd.get(), 2 * k_map_window, p, [](const uint8_t*, size_t) { throw dsm::Error("bad"); }, source),
                 dsm::Error);
  }
}

TEST_F(Slices, ScanOfNpyTruncatedDuringScanSaysShrank) {
  const size_t payload = 3 * k_map_window;
  fs::path p = write("a.npy", npy_bytes(payload));
  dsm::FileInfo whole = dsm::scan_file(p);
  EXPECT_EQ(whole.size, fs::file_size(p));
  ASSERT_TRUE(whole.npy.has_value());

  Fd fd = open_read(p);
  size_t calls = 0;
  dsm::ScanOptions opts;
  opts.sink = [&](const uint8_t*, size_t) {
    if (calls++ == 1) {
      ASSERT_EQ(::truncate(p.c_str(), static_cast<off_t>(k_slice)), 0);
    }
  };
  try {
    dsm::scan_fd(fd.get(), p, opts);
    FAIL() << "scan of a file truncated during the scan succeeded";
  } catch (const dsm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("file shrank while being read"), std::string::npos) << e.what();
  }
}

// Large files are read in windows by whichever of read() and mmap this
// process measured cheaper (slices.cpp): during the trial the two ways
// alternate window by window, after it one way reads the rest. Either way,
// every byte once and in order, and a file that changed size is reported.
TEST_F(Slices, AutomaticAcrossTheTrialAndAfterIt) {
  const size_t size = 9 * k_map_window + 4321; // twice over the trial's 64 MiB
  std::string bytes = pattern(size);
  fs::path p = write("big", bytes);
  for (int pass = 0; pass < 2; ++pass) {
    Collected c;
    EXPECT_EQ(collect(p, size, SliceSource::automatic, c), SliceEnd::complete);
    EXPECT_TRUE(c.bytes == bytes) << "pass " << pass;
    EXPECT_LE(c.largest, k_slice);
  }
  Collected longer;
  EXPECT_EQ(collect(p, size + 1, SliceSource::automatic, longer), SliceEnd::shrank);
  Collected shorter;
  EXPECT_EQ(collect(p, size - 1, SliceSource::automatic, shorter), SliceEnd::grew);
}

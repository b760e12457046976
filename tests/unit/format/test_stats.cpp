// Statistics kernels: NumPy's nanmin/nanmax/nanmean semantics, exact
// integers, both byte orders, elements split across feeds.
#include "format/stats.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

using namespace dsm;
using namespace dsm::core;

namespace {

template <class T>
std::vector<uint8_t> bytes_of(const std::vector<T>& v, bool big_endian = false) {
  std::vector<uint8_t> out(v.size() * sizeof(T));
  std::memcpy(out.data(), v.data(), out.size());
  if (big_endian) {
    for (size_t i = 0; i < v.size(); ++i) {
      std::reverse(out.begin() + static_cast<long>(i * sizeof(T)), out.begin() + static_cast<long>((i + 1) * sizeof(T)));
    }
  }
  return out;
}

Stats run(ElemType t, const std::vector<uint8_t>& b, size_t piece = 0) {
  StatsAccumulator acc(t);
  if (piece == 0) {
    acc.feed(b.data(), b.size());
  } else {
    for (size_t i = 0; i < b.size(); i += piece) {
      acc.feed(b.data() + i, std::min(piece, b.size() - i));
    }
  }
  return acc.result();
}

constexpr double k_nan = std::numeric_limits<double>::quiet_NaN();
constexpr double k_inf = std::numeric_limits<double>::infinity();

} // namespace

TEST(Stats, DoubleNanMinMaxMean) {
  std::vector<double> v{1.5, k_nan, -2.0, 4.0, k_nan};
  Stats s = run({ElemKind::floating, 8, false}, bytes_of(v));
  EXPECT_EQ(s.count, 5u);
  EXPECT_EQ(s.nan, 2u);
  EXPECT_EQ(s.inf, 0u);
  EXPECT_EQ(s.min, -2.0);
  EXPECT_EQ(s.max, 4.0);
  EXPECT_DOUBLE_EQ(s.mean, 3.5 / 3);
  EXPECT_EQ(s.kind, Stats::Kind::floating);
}

TEST(Stats, InfinitiesAsNumpy) {
  auto f = [](std::vector<double> v) { return run({ElemKind::floating, 8, false}, bytes_of(v)); };
  Stats a = f({1.0, k_inf, k_nan});
  EXPECT_EQ(a.max, k_inf);
  EXPECT_EQ(a.min, 1.0);
  EXPECT_EQ(a.mean, k_inf);
  EXPECT_EQ(a.inf, 1u);
  Stats b = f({-k_inf, k_inf, 0.0});
  EXPECT_EQ(b.min, -k_inf);
  EXPECT_TRUE(std::isnan(b.mean));
  EXPECT_EQ(b.inf, 2u);
  Stats c = f({k_nan, k_nan});
  EXPECT_TRUE(std::isnan(c.min) && std::isnan(c.max) && std::isnan(c.mean));
  EXPECT_EQ(c.nan, 2u);
}

TEST(Stats, BigEndianAndSplitFeedsAgree) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> d(3.0, 100.0);
  std::vector<double> v(10007);
  for (auto& x : v) {
    x = d(rng);
  }
  v[5000] = k_nan;
  Stats le = run({ElemKind::floating, 8, false}, bytes_of(v));
  for (size_t piece : {1u, 3u, 7u, 8u, 4099u}) {
    Stats be = run({ElemKind::floating, 8, true}, bytes_of(v, true), piece);
    EXPECT_EQ(be.min, le.min);
    EXPECT_EQ(be.max, le.max);
    // Block boundaries follow the feeds, so the last bits may differ.
    EXPECT_NEAR(be.mean, le.mean, 1e-13 * std::fabs(le.mean));
    EXPECT_EQ(be.nan, 1u);
  }
  long double sum = 0;
  for (double x : v) {
    if (!std::isnan(x)) {
      sum += x;
    }
  }
  EXPECT_NEAR(le.mean, static_cast<double>(sum / 10006), 1e-12 * std::fabs(le.mean));
}

TEST(Stats, MeanIsCompensated) {
  // 1e8 followed by many small values: a naive double sum loses them.
  std::vector<double> v(100000, 0.1);
  v[0] = 1e16;
  Stats s = run({ElemKind::floating, 8, false}, bytes_of(v));
  long double exact = (1e16L + 0.1L * 99999) / 100000;
  EXPECT_NEAR(s.mean, static_cast<double>(exact), 1e-9 * static_cast<double>(exact));
}

TEST(Stats, Int64ExtremesExact) {
  std::vector<int64_t> v{std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), 5};
  for (bool big : {false, true}) {
    Stats s = run({ElemKind::signed_int, 8, big}, bytes_of(v, big), 5);
    EXPECT_EQ(s.kind, Stats::Kind::signed_integer);
    EXPECT_EQ(s.min_int, std::numeric_limits<int64_t>::min());
    EXPECT_EQ(s.max_int, std::numeric_limits<int64_t>::max());
    EXPECT_DOUBLE_EQ(s.mean, 4.0 / 3);
  }
  std::vector<uint64_t> u(5000, std::numeric_limits<uint64_t>::max());
  Stats su = run({ElemKind::unsigned_int, 8, false}, bytes_of(u));
  EXPECT_EQ(su.max_uint, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(su.min_uint, std::numeric_limits<uint64_t>::max());
  EXPECT_DOUBLE_EQ(su.mean, 18446744073709551615.0);
}

TEST(Stats, SmallIntegersEveryWidth) {
  std::vector<int8_t> i8{-128, 127, 0, -1};
  Stats a = run({ElemKind::signed_int, 1, false}, bytes_of(i8));
  EXPECT_EQ(a.min_int, -128);
  EXPECT_EQ(a.max_int, 127);
  EXPECT_DOUBLE_EQ(a.mean, -0.5);
  std::vector<uint16_t> u16(9000, 65535);
  u16[17] = 0;
  Stats b = run({ElemKind::unsigned_int, 2, true}, bytes_of(u16, true));
  EXPECT_EQ(b.min_uint, 0u);
  EXPECT_EQ(b.max_uint, 65535u);
  EXPECT_DOUBLE_EQ(b.mean, 65535.0 * 8999 / 9000);
  std::vector<int32_t> i32(10000, std::numeric_limits<int32_t>::min());
  Stats c = run({ElemKind::signed_int, 4, false}, bytes_of(i32), 4093);
  EXPECT_EQ(c.min_int, std::numeric_limits<int32_t>::min());
  EXPECT_DOUBLE_EQ(c.mean, static_cast<double>(std::numeric_limits<int32_t>::min()));
}

TEST(Stats, BoolIsZeroOne) {
  std::vector<uint8_t> b{0, 1, 2, 255};
  Stats s = run({ElemKind::boolean, 1, false}, b);
  EXPECT_EQ(s.kind, Stats::Kind::unsigned_integer);
  EXPECT_EQ(s.min_uint, 0u);
  EXPECT_EQ(s.max_uint, 1u);
  EXPECT_DOUBLE_EQ(s.mean, 0.75);
  Stats all = run({ElemKind::boolean, 1, false}, std::vector<uint8_t>{1, 1});
  EXPECT_EQ(all.min_uint, 1u);
}

TEST(Stats, HalfConversionIsExact) {
  EXPECT_EQ(half_to_float(0x3c00), 1.0f);
  EXPECT_EQ(half_to_float(0xc000), -2.0f);
  EXPECT_EQ(half_to_float(0x7bff), 65504.0f);
  EXPECT_EQ(half_to_float(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(half_to_float(0x03ff), std::ldexp(1023.0f, -24));
  EXPECT_TRUE(std::isinf(half_to_float(0x7c00)));
  EXPECT_TRUE(std::isnan(half_to_float(0x7e00)));
  EXPECT_TRUE(std::signbit(half_to_float(0x8000)));
  std::vector<uint16_t> h{0x3c00, 0x7e00, 0xfc00, 0x4000};
  Stats s = run({ElemKind::floating, 2, false}, bytes_of(h));
  EXPECT_EQ(s.min, -k_inf);
  EXPECT_EQ(s.max, 2.0);
  EXPECT_EQ(s.nan, 1u);
  EXPECT_EQ(s.inf, 1u);
}

TEST(Stats, FloatAndComplexPooled) {
  std::vector<float> c{1.0f, -3.0f, 2.0f, 8.0f}; // two complex64: (1-3j), (2+8j)
  Stats s = run({ElemKind::complex, 4, false}, bytes_of(c));
  EXPECT_EQ(s.count, 2u);
  EXPECT_EQ(s.min, -3.0);
  EXPECT_EQ(s.max, 8.0);
  EXPECT_DOUBLE_EQ(s.mean, 2.0);
}

TEST(Stats, LongDouble) {
  if (std::numeric_limits<long double>::digits <= 53) {
    GTEST_SKIP() << "long double is a double here";
  }
  std::vector<long double> v{1.0L, -1e4000L, 3.0L};
  for (bool big : {false, true}) {
    Stats s = run({ElemKind::floating, sizeof(long double), big}, bytes_of(v, big), 7);
    EXPECT_EQ(s.min, -k_inf); // -1e4000 is beyond double: reported as -inf
    EXPECT_EQ(s.max, 3.0);
    EXPECT_EQ(s.inf, 0u);
  }
}

TEST(Stats, NotNumericFeedsAreIgnored) {
  StatsAccumulator acc({ElemKind::none, 0, false});
  uint8_t b[4] = {1, 2, 3, 4};
  acc.feed(b, sizeof b);
  EXPECT_EQ(acc.result().count, 0u);
}

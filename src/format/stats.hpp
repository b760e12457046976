// Streaming statistics over a numeric payload: count, min, max, mean
// ignoring NaN (NumPy's nanmin/nanmax/nanmean), NaN and ±inf counts. Fed
// with arbitrary byte ranges (elements may straddle chunk boundaries);
// memory is constant. The inner loops are templates per scalar type and
// byte order, chosen once at construction: no per-element dispatch.
#pragma once

#include "format/npy_header.hpp"
#include "format/format.hpp"

#include <array>
#include <cstddef>
#include <cstdint>

namespace dsm::core {

// Exact integer sums (a 64-bit sum of 64-bit values overflows). The
// __extension__ keeps -Wpedantic quiet about the GNU type.
__extension__ typedef __int128 Int128;
__extension__ typedef unsigned __int128 UInt128;

struct StatsState {
  uint64_t scalars = 0;     // scalars seen (complex: two per element)
  uint64_t nan = 0;
  uint64_t inf = 0;         // +inf and -inf
  // Floating: extremes of the non-NaN values (±inf included, as nanmin and
  // nanmax do), compensated sum of finite block sums, plain sum of the
  // non-finite ones.
  long double fmin = 0;
  long double fmax = 0;
  long double sum = 0;
  long double comp = 0;
  long double nonfinite_sum = 0;
  // Integers: exact.
  Int128 isum = 0;
  int64_t imin = 0;
  int64_t imax = 0;
  UInt128 usum = 0;
  uint64_t umin = 0;
  uint64_t umax = 0;
};

class StatsAccumulator {
public:
  explicit StatsAccumulator(ElemType type);
  // Any byte range of the payload, in order.
  void feed(const uint8_t* data, size_t size);
  // Call after the whole payload went through feed().
  Stats result() const;

  using Kernel = void (*)(const uint8_t* data, size_t count, StatsState& state);

private:
  ElemType m_type;
  Kernel m_kernel = nullptr;
  StatsState m_state;
  std::array<uint8_t, 32> m_carry{}; // a scalar split across two feeds
  size_t m_carry_size = 0;
};

// Portable binary16 -> binary32 (exact).
float half_to_float(uint16_t h);

} // namespace dsm::core

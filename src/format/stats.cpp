#include "format/stats.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <type_traits>

namespace dsm::core {

float half_to_float(uint16_t h);

namespace {

// Kernels work in blocks: local accumulators in registers, merged into the
// state once per block. Integer blocks are small enough that a 64-bit sum
// of 32-bit values cannot overflow; float blocks bound the error of the
// plain in-block sum, and block sums go into a compensated long double sum
// (NumPy's pairwise summation is within ~1e-15 relative of it).
constexpr size_t k_block = 4096;

template <class U> U byteswap(U v) {
  if constexpr (sizeof(U) == 1) {
    return v;
  } else if constexpr (sizeof(U) == 2) {
    return static_cast<U>(__builtin_bswap16(v));
  } else if constexpr (sizeof(U) == 4) {
    return __builtin_bswap32(v);
  } else {
    return __builtin_bswap64(v);
  }
}

template <size_t N>
using UInt =
    std::conditional_t<N == 1, uint8_t,
                       std::conditional_t<N == 2, uint16_t, std::conditional_t<N == 4, uint32_t, uint64_t>>>;

template <class T, bool Swap> inline T load(const uint8_t* p) {
  using U = UInt<sizeof(T)>;
  U u;
  std::memcpy(&u, p, sizeof u);
  if constexpr (Swap) {
    u = byteswap(u);
  }
  return std::bit_cast<T>(u);
}

template <class T, bool Swap> void int_kernel(const uint8_t* p, size_t n, StatsState& s) {
  constexpr bool k_signed = std::is_signed_v<T>;
  for (size_t start = 0; start < n; start += k_block) {
    size_t m = std::min(k_block, n - start);
    const uint8_t* q = p + start * sizeof(T);
    T mn = std::numeric_limits<T>::max();
    T mx = std::numeric_limits<T>::lowest();
    if constexpr (sizeof(T) <= 2) {
      // 4096 values of 16 bits cannot overflow 32 bits: narrow lanes
      // vectorise best.
      std::conditional_t<k_signed, int32_t, uint32_t> sum = 0;
      for (size_t i = 0; i < m; ++i) {
        T v = load<T, Swap>(q + i * sizeof(T));
        sum += v;
        mn = v < mn ? v : mn;
        mx = v > mx ? v : mx;
      }
      if constexpr (k_signed) {
        s.isum += sum;
      } else {
        s.usum += sum;
      }
    } else if constexpr (sizeof(T) == 4) {
      std::conditional_t<k_signed, int64_t, uint64_t> sum = 0;
      for (size_t i = 0; i < m; ++i) {
        T v = load<T, Swap>(q + i * sizeof(T));
        sum += v;
        mn = v < mn ? v : mn;
        mx = v > mx ? v : mx;
      }
      if constexpr (k_signed) {
        s.isum += sum;
      } else {
        s.usum += sum;
      }
    } else {
      // 64-bit values: sum the high and low 32-bit halves separately (no
      // overflow within a block), then combine exactly in 128 bits.
      std::conditional_t<k_signed, int64_t, uint64_t> high = 0;
      uint64_t low = 0;
      for (size_t i = 0; i < m; ++i) {
        T v = load<T, Swap>(q + i * sizeof(T));
        high += v >> 32;
        low += static_cast<uint64_t>(v) & 0xffffffffu;
        mn = v < mn ? v : mn;
        mx = v > mx ? v : mx;
      }
      if constexpr (k_signed) {
        s.isum += static_cast<Int128>(high) * (Int128{1} << 32) + static_cast<Int128>(low);
      } else {
        s.usum += (static_cast<UInt128>(high) << 32) + low;
      }
    }
    if constexpr (k_signed) {
      s.imin = std::min<int64_t>(s.imin, mn);
      s.imax = std::max<int64_t>(s.imax, mx);
    } else {
      s.umin = std::min<uint64_t>(s.umin, mn);
      s.umax = std::max<uint64_t>(s.umax, mx);
    }
    s.scalars += m;
  }
}

// NumPy's bool is any non-zero byte; stats treat it as 0/1.
void bool_kernel(const uint8_t* p, size_t n, StatsState& s) {
  for (size_t start = 0; start < n; start += k_block) {
    size_t m = std::min(k_block, n - start);
    uint32_t trues = 0;
    for (size_t i = 0; i < m; ++i) {
      trues += p[start + i] != 0;
    }
    s.umin = std::min<uint64_t>(s.umin, trues == m ? 1 : 0);
    s.umax = std::max<uint64_t>(s.umax, trues > 0 ? 1 : 0);
    s.usum += trues;
    s.scalars += m;
  }
}

// Adds a block sum into the compensated total. A non-finite block sum
// (inf, or NaN from inf - inf) would poison the compensation: it goes to
// its own plain sum, which then decides the mean as NumPy's would be.
inline void add_block_sum(StatsState& s, long double x) {
  if (!std::isfinite(x)) {
    s.nonfinite_sum += x;
    return;
  }
  long double t = s.sum + x;
  if (std::fabs(s.sum) >= std::fabs(x)) {
    s.comp += (s.sum - t) + x;
  } else {
    s.comp += (x - t) + s.sum;
  }
  s.sum = t;
}

// Per block: a fast pass of three branch-free operations per element
// (sum, min, max) that the compiler keeps in vector registers. NaN never
// wins a comparison, so min/max skip it and include ±inf exactly as
// nanmin/nanmax do. Only when the block's sum is not finite (a NaN or an
// inf is present) does a careful pass count NaN and inf and redo the sum
// without NaN; clean data never pays for it.
template <class Bits, bool Swap, class F, F (*Convert)(Bits)>
void float_block_careful(const uint8_t* q, size_t m, StatsState& s) {
  constexpr F k_inf = std::numeric_limits<F>::infinity();
  F sum = 0;
  uint64_t nan = 0;
  for (size_t i = 0; i < m; ++i) {
    F v = Convert(load<Bits, Swap>(q + i * sizeof(Bits)));
    if (v != v) {
      ++nan;
      continue;
    }
    s.inf += std::fabs(v) == k_inf;
    sum += v;
  }
  s.nan += nan;
  if (nan < m) {
    add_block_sum(s, sum);
  }
}

template <class Bits, bool Swap, class F, F (*Convert)(Bits)>
void float_kernel(const uint8_t* p, size_t n, StatsState& s) {
  constexpr F k_inf = std::numeric_limits<F>::infinity();
  constexpr size_t k_lanes = 8;
  for (size_t start = 0; start < n; start += k_block) {
    size_t m = std::min(k_block, n - start);
    const uint8_t* q = p + start * sizeof(Bits);
    F mn[k_lanes];
    F mx[k_lanes];
    F sum[k_lanes];
    for (size_t k = 0; k < k_lanes; ++k) {
      mn[k] = k_inf;
      mx[k] = -k_inf;
      sum[k] = 0;
    }
    size_t i = 0;
    for (; i + k_lanes <= m; i += k_lanes) {
      for (size_t k = 0; k < k_lanes; ++k) {
        F v = Convert(load<Bits, Swap>(q + (i + k) * sizeof(Bits)));
        sum[k] += v;
        mn[k] = v < mn[k] ? v : mn[k];
        mx[k] = v > mx[k] ? v : mx[k];
      }
    }
    for (; i < m; ++i) {
      F v = Convert(load<Bits, Swap>(q + i * sizeof(Bits)));
      sum[0] += v;
      mn[0] = v < mn[0] ? v : mn[0];
      mx[0] = v > mx[0] ? v : mx[0];
    }
    F block_sum = 0;
    for (size_t k = 0; k < k_lanes; ++k) {
      block_sum += sum[k];
      s.fmin = std::min<long double>(s.fmin, mn[k]);
      s.fmax = std::max<long double>(s.fmax, mx[k]);
    }
    if (std::isfinite(block_sum)) {
      add_block_sum(s, block_sum);
    } else {
      float_block_careful<Bits, Swap, F, Convert>(q, m, s);
    }
    s.scalars += m;
  }
}

// binary16 through a 256 KiB table: a load per element instead of a branchy
// conversion. Filled the first time a float16 kernel is chosen, not at
// start-up: every command would pay its 64 page faults (issue 17).
std::array<float, 65536> g_half_table; // zero pages until filled
std::once_flag g_half_table_once;

void fill_half_table() {
  std::call_once(g_half_table_once, [] {
    for (uint32_t i = 0; i < g_half_table.size(); ++i) {
      g_half_table[i] = half_to_float(static_cast<uint16_t>(i));
    }
  });
}

double from_half(uint16_t b) {
  return g_half_table[b];
}
double from_f32(uint32_t b) {
  return std::bit_cast<float>(b);
}
double from_f64(uint64_t b) {
  return std::bit_cast<double>(b);
}

// Long double (x87 80-bit in 16 bytes on x86-64, or binary128): copied as
// the host's long double after an optional full byte reversal.
template <bool Swap> void long_double_kernel(const uint8_t* p, size_t n, StatsState& s) {
  constexpr size_t k_size = sizeof(long double);
  constexpr long double k_inf = std::numeric_limits<long double>::infinity();
  for (size_t start = 0; start < n; start += k_block) {
    size_t m = std::min(k_block, n - start);
    const uint8_t* q = p + start * k_size;
    long double sum = 0;
    uint64_t nan = 0;
    for (size_t i = 0; i < m; ++i) {
      uint8_t bytes[k_size];
      std::memcpy(bytes, q + i * k_size, k_size);
      if constexpr (Swap) {
        std::reverse(bytes, bytes + k_size);
      }
      long double v;
      std::memcpy(&v, bytes, k_size);
      if (v != v) {
        ++nan;
        continue;
      }
      s.inf += std::fabs(v) == k_inf;
      sum += v;
      s.fmin = v < s.fmin ? v : s.fmin;
      s.fmax = v > s.fmax ? v : s.fmax;
    }
    s.nan += nan;
    if (nan < m) {
      add_block_sum(s, sum);
    }
    s.scalars += m;
  }
}

template <bool Swap> StatsAccumulator::Kernel pick(ElemType t) {
  switch (t.kind) {
  case ElemKind::boolean:
    return bool_kernel;
  case ElemKind::signed_int:
    switch (t.size) {
    case 1:
      return int_kernel<int8_t, Swap>;
    case 2:
      return int_kernel<int16_t, Swap>;
    case 4:
      return int_kernel<int32_t, Swap>;
    case 8:
      return int_kernel<int64_t, Swap>;
    default:
      return nullptr;
    }
  case ElemKind::unsigned_int:
    switch (t.size) {
    case 1:
      return int_kernel<uint8_t, Swap>;
    case 2:
      return int_kernel<uint16_t, Swap>;
    case 4:
      return int_kernel<uint32_t, Swap>;
    case 8:
      return int_kernel<uint64_t, Swap>;
    default:
      return nullptr;
    }
  case ElemKind::floating:
  case ElemKind::complex:
    switch (t.size) {
    case 2:
      fill_half_table();
      return float_kernel<uint16_t, Swap, double, from_half>;
    case 4:
      return float_kernel<uint32_t, Swap, double, from_f32>;
    case 8:
      return float_kernel<uint64_t, Swap, double, from_f64>;
    default:
      if (t.size == sizeof(long double)) {
        return long_double_kernel<Swap>;
      }
      return nullptr;
    }
  case ElemKind::none:
    return nullptr;
  }
  return nullptr;
}

} // namespace

float half_to_float(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  if (exp == 0) {
    // Zero or subnormal: mant * 2^-24, exact in a float.
    float f = static_cast<float>(mant) * 0x1p-24f;
    return sign != 0 ? -f : f;
  }
  uint32_t bits =
      exp == 31 ? (sign | 0x7f800000u | (mant << 13)) : (sign | ((exp + 112) << 23) | (mant << 13));
  return std::bit_cast<float>(bits);
}

StatsAccumulator::StatsAccumulator(ElemType type) : m_type(type) {
  m_kernel = type.swap ? pick<true>(type) : pick<false>(type);
  m_state.imin = std::numeric_limits<int64_t>::max();
  m_state.imax = std::numeric_limits<int64_t>::min();
  m_state.umin = std::numeric_limits<uint64_t>::max();
  m_state.umax = 0;
  m_state.fmin = std::numeric_limits<long double>::infinity();
  m_state.fmax = -std::numeric_limits<long double>::infinity();
}

void StatsAccumulator::feed(const uint8_t* data, size_t size) {
  if (m_kernel == nullptr || size == 0) {
    return;
  }
  size_t sz = m_type.size;
  if (m_carry_size > 0) {
    size_t take = std::min(sz - m_carry_size, size);
    std::memcpy(m_carry.data() + m_carry_size, data, take);
    m_carry_size += take;
    data += take;
    size -= take;
    if (m_carry_size < sz) {
      return;
    }
    m_kernel(m_carry.data(), 1, m_state);
    m_carry_size = 0;
  }
  size_t whole = size / sz;
  m_kernel(data, whole, m_state);
  size_t rest = size - whole * sz;
  std::memcpy(m_carry.data(), data + whole * sz, rest);
  m_carry_size = rest;
}

Stats StatsAccumulator::result() const {
  const StatsState& s = m_state;
  Stats r;
  r.count = m_type.kind == ElemKind::complex ? s.scalars / 2 : s.scalars;
  r.nan = s.nan;
  constexpr double k_nan = std::numeric_limits<double>::quiet_NaN();
  switch (m_type.kind) {
  case ElemKind::signed_int:
    r.kind = Stats::Kind::signed_integer;
    r.min_int = s.imin;
    r.max_int = s.imax;
    r.min = static_cast<double>(s.imin);
    r.max = static_cast<double>(s.imax);
    r.mean =
        s.scalars == 0
            ? k_nan
            : static_cast<double>(static_cast<long double>(s.isum) / static_cast<long double>(s.scalars));
    break;
  case ElemKind::boolean:
  case ElemKind::unsigned_int:
    r.kind = Stats::Kind::unsigned_integer;
    r.min_uint = s.umin;
    r.max_uint = s.umax;
    r.min = static_cast<double>(s.umin);
    r.max = static_cast<double>(s.umax);
    r.mean =
        s.scalars == 0
            ? k_nan
            : static_cast<double>(static_cast<long double>(s.usum) / static_cast<long double>(s.scalars));
    break;
  default: {
    r.kind = Stats::Kind::floating;
    r.inf = s.inf;
    uint64_t not_nan = s.scalars - s.nan;
    if (not_nan == 0) {
      r.min = r.max = r.mean = k_nan;
      break;
    }
    r.min = static_cast<double>(s.fmin);
    r.max = static_cast<double>(s.fmax);
    if (s.nonfinite_sum != 0 || std::isnan(s.nonfinite_sum)) {
      r.mean = static_cast<double>(s.nonfinite_sum);
    } else {
      r.mean = static_cast<double>((s.sum + s.comp) / static_cast<long double>(not_nan));
    }
    break;
  }
  }
  return r;
}

} // namespace dsm::core

#include "core/stats.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

namespace dsm::core {

namespace {

// Kernels work in blocks: local accumulators in registers, merged into the
// state once per block. Integer blocks are small enough that a 64-bit sum
// of 32-bit values cannot overflow; float blocks bound the error of the
// plain in-block sum, and block sums go into a compensated long double sum
// (NumPy's pairwise summation is within ~1e-15 relative of it).
constexpr size_t k_block = 4096;

template <class U>
U byteswap(U v) {
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
using UInt = std::conditional_t<N == 1, uint8_t,
                                std::conditional_t<N == 2, uint16_t, std::conditional_t<N == 4, uint32_t, uint64_t>>>;

template <class T, bool Swap>
inline T load(const uint8_t* p) {
  using U = UInt<sizeof(T)>;
  U u;
  std::memcpy(&u, p, sizeof u);
  if constexpr (Swap) {
    u = byteswap(u);
  }
  return std::bit_cast<T>(u);
}

template <class T, bool Swap>
void int_kernel(const uint8_t* p, size_t n, StatsState& s) {
  constexpr bool k_signed = std::is_signed_v<T>;
  for (size_t start = 0; start < n; start += k_block) {
    size_t m = std::min(k_block, n - start);
    const uint8_t* q = p + start * sizeof(T);
    T mn = std::numeric_limits<T>::max();
    T mx = std::numeric_limits<T>::lowest();
    if constexpr (sizeof(T) <= 4) {
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
      std::conditional_t<k_signed, Int128, UInt128> sum = 0;
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
  uint64_t trues = 0;
  for (size_t i = 0; i < n; ++i) {
    trues += p[i] != 0;
  }
  if (trues > 0) {
    s.umax = 1;
  }
  if (trues < n) {
    s.umin = 0;
  }
  s.usum += trues;
  s.scalars += n;
}

inline void compensated_add(StatsState& s, long double x) {
  long double t = s.sum + x;
  if (std::fabs(s.sum) >= std::fabs(x)) {
    s.comp += (s.sum - t) + x;
  } else {
    s.comp += (x - t) + s.sum;
  }
  s.sum = t;
}

template <class Bits, bool Swap, class F, F (*Convert)(Bits)>
void float_kernel(const uint8_t* p, size_t n, StatsState& s) {
  constexpr F k_max = std::numeric_limits<F>::max();
  for (size_t start = 0; start < n; start += k_block) {
    size_t m = std::min(k_block, n - start);
    const uint8_t* q = p + start * sizeof(Bits);
    F mn = std::numeric_limits<F>::infinity();
    F mx = -mn;
    F sum0 = 0;
    F sum1 = 0;
    uint64_t finite = 0;
    uint64_t nan = 0;
    uint64_t pos_inf = 0;
    uint64_t neg_inf = 0;
    // Two partial sums shorten the dependency chain of the additions.
    size_t i = 0;
    auto one = [&](F v, F& sum) {
      if (std::fabs(v) <= k_max) {
        sum += v;
        mn = v < mn ? v : mn;
        mx = v > mx ? v : mx;
        ++finite;
      } else if (v != v) {
        ++nan;
      } else if (v > 0) {
        ++pos_inf;
      } else {
        ++neg_inf;
      }
    };
    for (; i + 1 < m; i += 2) {
      one(Convert(load<Bits, Swap>(q + i * sizeof(Bits))), sum0);
      one(Convert(load<Bits, Swap>(q + (i + 1) * sizeof(Bits))), sum1);
    }
    if (i < m) {
      one(Convert(load<Bits, Swap>(q + i * sizeof(Bits))), sum0);
    }
    if (finite > 0) {
      if (s.finite == 0) {
        s.fmin = mn;
        s.fmax = mx;
      } else {
        s.fmin = std::min<long double>(s.fmin, mn);
        s.fmax = std::max<long double>(s.fmax, mx);
      }
      compensated_add(s, static_cast<long double>(sum0) + static_cast<long double>(sum1));
    }
    s.finite += finite;
    s.nan += nan;
    s.pos_inf += pos_inf;
    s.neg_inf += neg_inf;
    s.scalars += m;
  }
}

double from_half(uint16_t b) { return half_to_float(b); }
double from_f32(uint32_t b) { return std::bit_cast<float>(b); }
double from_f64(uint64_t b) { return std::bit_cast<double>(b); }

// Long double (x87 80-bit in 16 bytes on x86-64, or binary128): copied as
// the host's long double after an optional full byte reversal.
template <bool Swap>
void long_double_kernel(const uint8_t* p, size_t n, StatsState& s) {
  constexpr size_t k_size = sizeof(long double);
  for (size_t start = 0; start < n; start += k_block) {
    size_t m = std::min(k_block, n - start);
    const uint8_t* q = p + start * k_size;
    long double mn = std::numeric_limits<long double>::infinity();
    long double mx = -mn;
    long double sum = 0;
    uint64_t finite = 0;
    for (size_t i = 0; i < m; ++i) {
      uint8_t bytes[k_size];
      std::memcpy(bytes, q + i * k_size, k_size);
      if constexpr (Swap) {
        std::reverse(bytes, bytes + k_size);
      }
      long double v;
      std::memcpy(&v, bytes, k_size);
      if (std::isnan(v)) {
        ++s.nan;
      } else if (std::isinf(v)) {
        ++(v > 0 ? s.pos_inf : s.neg_inf);
      } else {
        sum += v;
        mn = v < mn ? v : mn;
        mx = v > mx ? v : mx;
        ++finite;
      }
    }
    if (finite > 0) {
      if (s.finite == 0) {
        s.fmin = mn;
        s.fmax = mx;
      } else {
        s.fmin = std::min(s.fmin, mn);
        s.fmax = std::max(s.fmax, mx);
      }
      compensated_add(s, sum);
    }
    s.finite += finite;
    s.scalars += m;
  }
}

template <bool Swap>
StatsAccumulator::Kernel pick(ElemType t) {
  switch (t.kind) {
  case ElemKind::boolean: return bool_kernel;
  case ElemKind::signed_int:
    switch (t.size) {
    case 1: return int_kernel<int8_t, Swap>;
    case 2: return int_kernel<int16_t, Swap>;
    case 4: return int_kernel<int32_t, Swap>;
    case 8: return int_kernel<int64_t, Swap>;
    default: return nullptr;
    }
  case ElemKind::unsigned_int:
    switch (t.size) {
    case 1: return int_kernel<uint8_t, Swap>;
    case 2: return int_kernel<uint16_t, Swap>;
    case 4: return int_kernel<uint32_t, Swap>;
    case 8: return int_kernel<uint64_t, Swap>;
    default: return nullptr;
    }
  case ElemKind::floating:
  case ElemKind::complex:
    switch (t.size) {
    case 2: return float_kernel<uint16_t, Swap, double, from_half>;
    case 4: return float_kernel<uint32_t, Swap, double, from_f32>;
    case 8: return float_kernel<uint64_t, Swap, double, from_f64>;
    default:
      if (t.size == sizeof(long double)) {
        return long_double_kernel<Swap>;
      }
      return nullptr;
    }
  case ElemKind::none: return nullptr;
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
  uint32_t bits = exp == 31 ? (sign | 0x7f800000u | (mant << 13)) : (sign | ((exp + 112) << 23) | (mant << 13));
  return std::bit_cast<float>(bits);
}

StatsAccumulator::StatsAccumulator(ElemType type) : m_type(type) {
  m_kernel = type.swap ? pick<true>(type) : pick<false>(type);
  m_state.imin = std::numeric_limits<int64_t>::max();
  m_state.imax = std::numeric_limits<int64_t>::min();
  m_state.umin = std::numeric_limits<uint64_t>::max();
  m_state.umax = 0;
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
  r.inf = s.pos_inf + s.neg_inf;
  constexpr double k_nan = std::numeric_limits<double>::quiet_NaN();
  constexpr double k_inf = std::numeric_limits<double>::infinity();
  switch (m_type.kind) {
  case ElemKind::signed_int:
    r.kind = Stats::Kind::signed_integer;
    r.min_int = s.imin;
    r.max_int = s.imax;
    r.min = static_cast<double>(s.imin);
    r.max = static_cast<double>(s.imax);
    r.mean = s.scalars == 0 ? k_nan
                            : static_cast<double>(static_cast<long double>(s.isum) /
                                                  static_cast<long double>(s.scalars));
    break;
  case ElemKind::boolean:
  case ElemKind::unsigned_int:
    r.kind = Stats::Kind::unsigned_integer;
    r.min_uint = s.umin;
    r.max_uint = s.umax;
    r.min = static_cast<double>(s.umin);
    r.max = static_cast<double>(s.umax);
    r.mean = s.scalars == 0 ? k_nan
                            : static_cast<double>(static_cast<long double>(s.usum) /
                                                  static_cast<long double>(s.scalars));
    break;
  default:
    r.kind = Stats::Kind::floating;
    if (s.finite == 0 && s.pos_inf == 0 && s.neg_inf == 0) {
      r.min = r.max = r.mean = k_nan;
      break;
    }
    r.min = s.neg_inf > 0 ? -k_inf : s.finite > 0 ? static_cast<double>(s.fmin) : k_inf;
    r.max = s.pos_inf > 0 ? k_inf : s.finite > 0 ? static_cast<double>(s.fmax) : -k_inf;
    if (s.pos_inf > 0 && s.neg_inf > 0) {
      r.mean = k_nan;
    } else if (s.pos_inf > 0) {
      r.mean = k_inf;
    } else if (s.neg_inf > 0) {
      r.mean = -k_inf;
    } else {
      r.mean = static_cast<double>((s.sum + s.comp) / static_cast<long double>(s.finite));
    }
    break;
  }
  return r;
}

} // namespace dsm::core

#include "format/npy_stream.hpp"

#include "dsm/error.hpp"

#include <algorithm>
#include <cstring>

namespace dsm::core {

NpyStream::NpyStream(uint64_t total_size, Mode mode, WithStats with_stats)
  : m_total(total_size), m_mode(mode), m_with_stats(with_stats) {}

NpyStream::~NpyStream() = default;

void NpyStream::feed(const uint8_t* data, size_t size) {
  m_fed += size;
  while (size > 0) {
    if (m_state == State::not_npy) {
      return;
    }
    if (m_state == State::payload) {
      feed_payload(data, size);
      return;
    }
    size_t take = std::min(size, m_need - m_head.size());
    m_head.append(reinterpret_cast<const char*>(data), take);
    data += take;
    size -= take;
    if (m_head.size() == m_need) {
      parse_head();
    }
  }
}

void NpyStream::parse_head() {
  const auto* h = reinterpret_cast<const uint8_t*>(m_head.data());
  if (m_head_step == 0) {
    // 8 bytes: magic and version.
    if (m_mode == Mode::member && std::memcmp(h, k_npy_magic, 6) != 0) {
      m_state = State::not_npy;
      return;
    }
    m_need = npy_prefix_size(h, m_head.size());
    m_head_step = 1;
    return;
  }
  if (m_head_step == 1) {
    uint64_t header_len = h[6] == 1 ? (uint64_t{h[8]} | uint64_t{h[9]} << 8)
                                    : (uint64_t{h[8]} | uint64_t{h[9]} << 8 | uint64_t{h[10]} << 16 |
                                       uint64_t{h[11]} << 24);
    uint64_t offset = m_head.size() + header_len;
    if (header_len > k_max_header_len || offset > m_total) {
      parse_header(h, m_head.size(), m_total); // words the error and throws
    }
    m_head_step = 2;
    if (offset > m_head.size()) {
      // Bounded by min(total size, k_max_header_len + 12), checked above.
      m_need = static_cast<size_t>(offset);
      m_head.reserve(m_need);
      return;
    }
  }
  m_header = parse_header(h, m_head.size(), m_total);
  m_state = State::payload;
  if (m_with_stats == WithStats::yes && m_header.elem.kind != ElemKind::none) {
    m_stats = std::make_unique<StatsAccumulator>(m_header.elem);
  }
  m_head.clear();
  m_head.shrink_to_fit();
}

void NpyStream::feed_payload(const uint8_t* data, size_t size) {
  if (m_stats && m_payload_seen < m_header.info.payload_bytes) {
    uint64_t left = m_header.info.payload_bytes - m_payload_seen;
    m_stats->feed(data, static_cast<size_t>(std::min<uint64_t>(left, size)));
  }
  m_payload_seen += size;
}

std::optional<NpyInfo> NpyStream::finish() {
  if (m_state == State::head) {
    const auto* h = reinterpret_cast<const uint8_t*>(m_head.data());
    if (m_mode == Mode::member && std::memcmp(h, k_npy_magic, std::min<size_t>(m_head.size(), 6)) != 0) {
      return std::nullopt;
    }
    if (m_mode == Mode::member && m_head.size() < 6) {
      // Shorter than the magic: NumPy returns it as bytes.
      return std::nullopt;
    }
    // Throws the right "too short" / "past the end" error.
    parse_header(h, m_head.size(), m_fed);
    throw Error("file too short for a .npy header");
  }
  if (m_state == State::not_npy) {
    return std::nullopt;
  }
  NpyInfo info = m_header.info;
  if (!info.object) {
    if (m_payload_seen < info.payload_bytes) {
      throw Error("truncated payload: expected " + std::to_string(info.payload_bytes) + " bytes, found " +
                  std::to_string(m_payload_seen));
    }
    info.trailing_bytes = m_payload_seen - info.payload_bytes;
  } else {
    info.payload_bytes = m_payload_seen;
    info.trailing_bytes = 0;
  }
  if (m_stats) {
    info.stats = m_stats->result();
  } else if (m_header.elem.kind != ElemKind::none) {
    info.stats_skipped = "statistics not requested";
  } else {
    info.stats_skipped = m_header.no_stats;
  }
  return info;
}

} // namespace dsm::core

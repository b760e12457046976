// Incremental .npy reader: fed the bytes of one .npy (a file or an .npz
// member) in order, in pieces of any size; buffers only the header (bounded
// by k_max_header_len and the known total size), then streams the payload
// through the statistics. Constant memory whatever the payload size.
#pragma once

#include "format/npy_header.hpp"
#include "format/stats.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace dsm::core {

class NpyStream {
public:
  // file: the bytes must be a .npy (bad magic is an error).
  // member: an .npz member; content without the magic is "not an array"
  // (NumPy's NpzFile returns such members as raw bytes), not an error.
  enum class Mode { file, member };
  enum class WithStats { yes, no };

  // total_size: exact number of bytes that will be fed.
  NpyStream(uint64_t total_size, Mode mode, WithStats with_stats);
  ~NpyStream();
  NpyStream(const NpyStream&) = delete;
  NpyStream& operator=(const NpyStream&) = delete;

  void feed(const uint8_t* data, size_t size);
  // After total_size bytes. Returns nullopt for a member that is not a
  // .npy. Throws dsm::Error (without a path) when malformed.
  std::optional<NpyInfo> finish();

private:
  void parse_head();
  void feed_payload(const uint8_t* data, size_t size);

  enum class State { head, payload, not_npy };
  uint64_t m_total;
  Mode m_mode;
  WithStats m_with_stats;
  State m_state = State::head;
  std::string m_head;      // header bytes until parsed
  size_t m_need = 8;       // bytes m_head must hold for the next step
  int m_head_step = 0;     // 0: magic+version, 1: HEADER_LEN, 2: the dict
  uint64_t m_fed = 0;
  ParsedHeader m_header;
  uint64_t m_payload_seen = 0;
  std::unique_ptr<StatsAccumulator> m_stats;
};

} // namespace dsm::core

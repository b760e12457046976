// The .npz reader: a zip archive of .npy members, as numpy.savez (stored)
// and savez_compressed (deflate) write it through Python's zipfile.
//
// read_zip_directory reads the end records and the central directory (not
// the local headers' sizes, which streamed writes leave zero) with bounded
// preads, and the local headers only to find where each member's data
// starts. ZipStream then takes the file's bytes in order and streams each
// member's data through inflate (when deflated), CRC-32 and the .npy
// reader. Names are decoded for display only: never used as paths.
#pragma once

#include "format/npy_stream.hpp"
#include "format/format.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace dsm::core {

// Reads exactly `size` bytes at `offset` or throws.
using ReadAt = std::function<void(uint64_t offset, void* out, size_t size)>;

struct ZipEntry {
  std::string name;            // UTF-8 (bit 11) or CP437 decoded to UTF-8
  std::string raw_name;        // bytes as stored
  uint16_t flags = 0;
  uint16_t method = 0;         // 0 stored, 8 deflate
  uint32_t crc32 = 0;
  uint64_t compressed_size = 0;
  uint64_t uncompressed_size = 0;
  uint64_t local_offset = 0;   // local header
  uint64_t data_offset = 0;    // first byte of the member's data
};

struct ZipDirectory {
  std::vector<ZipEntry> entries; // central directory order
  uint64_t cd_offset = 0;
  uint64_t cd_size = 0;
};

// Central directories larger than this are refused (a few hundred thousand
// members); bounds the one allocation whose size comes from the file.
inline constexpr uint64_t k_max_central_directory = 64u << 20;

ZipDirectory read_zip_directory(const ReadAt& read_at, uint64_t file_size);

class ZipStream {
public:
  ZipStream(ZipDirectory directory, NpyStream::WithStats with_stats);
  ~ZipStream();
  ZipStream(const ZipStream&) = delete;
  ZipStream& operator=(const ZipStream&) = delete;

  // The file's bytes in order: [offset, offset + size).
  void feed(uint64_t offset, const uint8_t* data, size_t size);
  // After the whole file; members in central directory order.
  std::vector<NpzMember> finish();

private:
  struct Active;
  void start_member(size_t index);
  void member_data(const uint8_t* data, size_t size);
  void end_member();

  ZipDirectory m_dir;
  NpyStream::WithStats m_with_stats;
  std::vector<size_t> m_order;      // entry indices by data offset
  size_t m_next = 0;                // position in m_order
  std::unique_ptr<Active> m_active; // the member whose data is streaming
  std::vector<NpzMember> m_members; // filled as members end
  std::vector<bool> m_done;
};

} // namespace dsm::core

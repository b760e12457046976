// Zip archives exactly as NumPy's np.savez / np.savez_compressed write them
// through Python's zipfile (with force_zip64=True, gh-10776):
//   - local header: version 20, no flags, DOS time 1980-01-01 00:00, real
//     CRC and sizes (patched in after the data, as zipfile seeks back), and
//     always a ZIP64 extra field (0x0001: size, compressed size). Over
//     4 GiB both 32-bit sizes are 0xffffffff and the version is 45.
//   - central directory: version made by 0x0314 (Unix, 2.0), external
//     attributes 0o600 << 16; a ZIP64 extra only for what overflows (sizes,
//     then the local header offset), as zipfile does.
//   - ZIP64 end of central directory record and locator only when the entry
//     count, directory size or offset overflow; then the classic end record.
// So a member written here is byte-identical to NumPy's for the same
// compressed bytes, and np.load reads members of any size.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace dsm::zip {

enum class Method : uint16_t { stored = 0, deflated = 8 };

// numpy: what zipfile writes. zip64_everywhere: the layout zipfile uses for
// members over 4 GiB (0xffffffff sizes, ZIP64 extras in the central
// directory, ZIP64 end records), forced on any size so tests can prove
// readers accept it without writing 4 GiB.
enum class Layout { numpy, zip64_everywhere };

struct Entry {
  std::string name;
  Method method = Method::stored;
  uint32_t crc32 = 0;
  uint64_t size = 0;            // uncompressed
  uint64_t compressed_size = 0;
  uint64_t header_offset = 0;   // local header
  uint64_t data_offset = 0;     // first byte of member data
};

class ZipWriter {
public:
  // Appends to the open file `fd` from offset `start` (its current
  // position; writes go through write(2)), and patches local headers with
  // pwrite. `path` names the file in messages. The caller syncs, closes and
  // publishes the file (util::AtomicFile, StagedFile) after finish().
  ZipWriter(int fd, std::filesystem::path path, uint64_t start = 0, Layout layout = Layout::numpy);

  // Writes a local header with placeholder CRC and sizes.
  void begin_member(const std::string& name);
  // Member data as stored in the archive (already compressed for deflated).
  void write(const void* data, size_t size);
  // Patches the local header with the method, CRC and sizes.
  void end_member(Method method, uint32_t crc32, uint64_t size);
  // Central directory and end records.
  void finish();

  const std::vector<Entry>& entries() const { return m_entries; }
  // Bytes written so far, from offset 0.
  uint64_t size() const { return m_pos; }

private:
  std::string local_header(const Entry& e) const;
  void put(const std::string& bytes);

  int m_fd;
  std::filesystem::path m_path;
  Layout m_layout;
  uint64_t m_pos = 0;
  bool m_in_member = false;
  bool m_finished = false;
  std::vector<Entry> m_entries;
};

// Reads the central directory of a zip (ZIP64 aware) and resolves each
// member's data offset from its local header. Throws dsm::Error naming
// `path` when the archive is malformed.
std::vector<Entry> read_entries(int fd, const std::filesystem::path& path);

} // namespace dsm::zip

// `dsm add --compress` and `dsm compress`: a .npy stored as a single-member
// .npz (member "<NAME>.npy", so np.load(path)[NAME] works, NAME being the
// dataset's last name segment), written in the same pass that reads, hashes
// and parses the source. Engine and level: docs/compression.md.
#pragma once

#include "format/deflate.hpp"
#include "format/zip_writer.hpp"
#include "format/format.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace dsm {

namespace fs = std::filesystem;

struct CompressSettings {
  int level = deflate::k_level_auto;
  unsigned jobs = 0; // 0: one per core
  zip::Layout layout = zip::Layout::numpy;
};

// Parses `--compress` values: "" (auto), "auto", or 0..12. Throws Error.
int parse_compress_level(const std::string& text);

// Receives the .npy bytes in order and writes the .npz to `fd` (an empty
// file opened for writing, e.g. a StagedFile).
class NpzCompressor {
public:
  NpzCompressor(int fd, fs::path path, const std::string& member_name, const CompressSettings& settings);
  ~NpzCompressor();
  NpzCompressor(const NpzCompressor&) = delete;
  NpzCompressor& operator=(const NpzCompressor&) = delete;

  void write(const uint8_t* data, size_t size);

  struct Summary {
    deflate::Result deflate; // engine, CRC, sizes, and the reason for the choice
    uint64_t npz_size = 0;
    std::string member;      // "<NAME>.npy"
  };
  Summary finish();

private:
  zip::ZipWriter m_zip;
  std::string m_member;
  std::unique_ptr<deflate::ParallelDeflate> m_deflate;
};

// The FileInfo of the .npz written from `npy` (the scan of the .npy that was
// fed to the compressor), without reading it again: the member's facts
// (header, statistics) are the .npy's. `npz_sha256` is the hash of the
// written file.
FileInfo npz_info_from(const FileInfo& npy, const NpzCompressor::Summary& summary, const fs::path& npz_path,
                       const std::string& npz_sha256);

} // namespace dsm

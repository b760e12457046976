// `dsm add --chunk-size SIZE`: one .npy split into chunk files of whole rows
// (axis 0 of a C-order array, the last axis of a Fortran-order one), each a
// valid .npy whose header is what np.save would write for that slice:
//   <data_dir>/<name>/<stem>/part-0001.npy, part-0002.npy, ...
// Concatenating the chunks' data after the original header rebuilds the
// original file bit for bit (the header bytes are kept in the sidecar).
// Streams: the bytes pass through once, in the order they are read.
#pragma once

#include "format/format.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace dsm {

namespace fs = std::filesystem;

struct ChunkRecord {
  std::string file;       // "part-0001.npy"
  uint64_t row_begin = 0; // along the split axis, half-open
  uint64_t row_end = 0;
  uint64_t size = 0;      // bytes of the chunk file
  std::string sha256;     // of the chunk file
};

struct ChunkSummary {
  std::vector<ChunkRecord> chunks;
  std::string original_header; // the source's header bytes (magic to '\n')
  unsigned axis = 0;           // 0, or ndim-1 for Fortran order
  uint64_t rows = 0;           // length of the split axis
};

// Parses sizes like "512MiB", "64KiB", "1GB", "4096" (bytes). Binary (KiB,
// MiB, GiB, TiB) and decimal (KB, MB, GB, TB) units; K/M/G/T alone are
// binary. Throws Error on anything else or zero.
uint64_t parse_size(const std::string& text);

// Chunk file name for 1-based index i: part-0001.npy (wider past 9999).
std::string chunk_file_name(uint64_t index);

// True for names chunk_file_name() makes: "part-" + at least 4 digits + ".npy".
bool is_chunk_file_name(const std::string& name);

// The .npy header NumPy 1.24 writes (np.save) for an array with `info`'s
// dtype and order and the given shape, version 1.0 unless it needs 2.0.
std::string npy_header_for(const NpyInfo& info, const std::vector<uint64_t>& shape);

// Receives a .npy's bytes in order (e.g. a scan's sink) and writes chunk
// files into `dir` (an existing, empty directory), each fsynced and made
// read-only. Throws Error for arrays that cannot be split: object dtype,
// 0-d arrays, bytes after the array data.
class NpyChunker {
public:
  NpyChunker(fs::path dir, uint64_t chunk_bytes, fs::path source_for_errors);
  ~NpyChunker();
  NpyChunker(const NpyChunker&) = delete;
  NpyChunker& operator=(const NpyChunker&) = delete;

  void write(const uint8_t* data, size_t size);
  ChunkSummary finish();

private:
  void on_header();
  void open_next();
  void close_current();
  void put(const uint8_t* data, size_t size);

  fs::path m_dir;
  uint64_t m_chunk_bytes;
  fs::path m_source;
  std::string m_head;  // header bytes while incomplete
  bool m_have_header = false;
  NpyInfo m_info;
  uint64_t m_row_bytes = 0;
  uint64_t m_rows_per_chunk = 0;
  uint64_t m_payload_seen = 0;
  // The open chunk.
  int m_fd = -1;
  fs::path m_path;
  uint64_t m_left = 0; // payload bytes still to write into it
  struct Hash;
  std::unique_ptr<Hash> m_hash;
  ChunkSummary m_summary;
};

// A directory written under a hidden temp name in its final parent and
// renamed into place without replacing anything: the chunk directory of a
// chunked version appears whole or not at all.
class StagedDir {
public:
  StagedDir(const fs::path& parent, const std::string& hint); // mkdir .dsm-tmp-<hint>.<random>
  ~StagedDir();                                                // removes it unless published
  StagedDir(const StagedDir&) = delete;
  StagedDir& operator=(const StagedDir&) = delete;
  const fs::path& path() const { return m_path; }
  // rename(2) with RENAME_NOREPLACE: false when `target` exists.
  bool publish_noreplace(const fs::path& target);

private:
  fs::path m_path;
  bool m_published = false;
};

// Reads a .npy header (magic to '\n') from `fd` at its current position,
// leaving it at the first data byte. Throws Error naming `path`.
std::string read_npy_header_bytes(int fd, const fs::path& path);

// Rebuilds the original .npy: `original_header`, then the data of each chunk
// file in order (their headers are checked against the original's dtype,
// order and the recorded row ranges). `sink` receives the bytes.
void reassemble_chunks(const fs::path& dir, const ChunkSummary& summary,
                       const std::function<void(const uint8_t*, size_t)>& sink);

} // namespace dsm

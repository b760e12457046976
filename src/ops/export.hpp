// `dsm export`: the .npy that was added, rebuilt from what is stored (a plain
// copy, a compressed single-member .npz, or chunk files) and checked against
// the original's recorded SHA-256 before it is made visible.
#pragma once

#include "format/chunk.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

namespace dsm::util {
class Progress;
}

namespace dsm {

class Repository;

namespace fs = std::filesystem;

struct ExportSource {
  enum class Kind { npy, npz_member, chunks };
  Kind kind = Kind::npy;
  fs::path payload;            // the file, or the chunk directory
  std::string member;          // npz_member: the zip name ("features.npy")
  ChunkSummary chunks;         // chunks: the records and the original header
  uint64_t original_size = 0;  // of the .npy that was added
  std::string original_sha256;
};

// Streams the original .npy's bytes to `sink`, checking the zip member's
// CRC-32 and size on the way. Does not check the SHA-256 (callers hash).
void stream_original(const ExportSource& source, const std::function<void(const uint8_t*, size_t)>& sink);

struct Sidecar;

// What to read for the version a sidecar describes (payload: its file or
// chunk directory). An .npz added as such has no original .npy: Error.
ExportSource export_source_for(const Sidecar& sidecar, const fs::path& payload);

enum class Overwrite { no, yes };

struct ExportResult {
  uint64_t size = 0;
  std::string sha256;
};

// Writes the original to `out` atomically (temp file beside it, fsync,
// rename). Refuses an existing `out` unless Overwrite::yes. Throws Error
// (exit 1) when the rebuilt bytes do not hash to original_sha256: nothing is
// left at `out` then.
// `progress` (optional) counts the bytes written.
ExportResult export_original(const ExportSource& source, const fs::path& out, Overwrite overwrite,
                             util::Progress* progress = nullptr);

// `dsm export --out`: refuses a path inside the data directory or .dsm/
// (symlinks resolved), where a write, --force or not, could replace a
// stored version or dsm's own state. Throws Error naming the path.
void check_export_target(const Repository& repo, const fs::path& out);

} // namespace dsm

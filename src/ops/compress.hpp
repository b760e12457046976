// `dsm compress TARGET`: a stored version, compressed, as the next version
// of its dataset. Nothing is rewritten in place.
#pragma once

#include "ops/add.hpp"

#include <cstdint>
#include <filesystem>
#include <string>

namespace dsm::util {
class Progress;
}

namespace dsm {

class Repository;
namespace fs = std::filesystem;

struct CompressResult {
  AddResult added;             // the new version (one payload)
  uint64_t from_version = 0;   // the version it was made from
  uint64_t original_size = 0;  // of the original .npy
};

// `level` as parse_compress_level returns it. The original .npy is rebuilt
// first and checked against its recorded SHA-256, so corruption is never
// compressed into a fresh-looking version (Error, exit 1). Metadata and
// message are carried over. `work_dir`: where a relative TARGET path starts.
// `progress` (optional) counts the bytes of the original read for the new
// version.
CompressResult compress_version(const Repository& repo, const fs::path& work_dir, const std::string& target,
                                int level, util::Progress* progress = nullptr);

} // namespace dsm

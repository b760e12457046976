// The array-format engine: .npy and .npz files as NumPy writes them, read in
// one streaming pass that also hashes the whole file and computes
// statistics. Parse and validate, never evaluate. Grammar and error policy:
// docs/formats.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace dsm {

// min/max/mean ignore NaN as NumPy's nanmin/nanmax/nanmean do. With only
// NaNs (or no elements), min/max/mean are NaN. Complex: real and imaginary
// parts pooled (documented in docs/formats.md).
struct Stats {
  uint64_t count = 0; // elements examined (all elements of the array)
  double min = 0;
  double max = 0;
  double mean = 0;
  uint64_t nan = 0;
  uint64_t inf = 0; // +inf and -inf
  // Integer dtypes (bool counts as unsigned 0/1): min/max exactly, since a
  // double loses int64 values beyond 2^53. `min`/`max` above hold the
  // nearest doubles.
  enum class Kind { floating, signed_integer, unsigned_integer };
  Kind kind = Kind::floating;
  int64_t min_int = 0;
  int64_t max_int = 0;
  uint64_t min_uint = 0;
  uint64_t max_uint = 0;
};

struct NpyInfo {
  std::string version;          // "1.0", "2.0", "3.0"
  uint64_t header_len = 0;      // HEADER_LEN field
  uint64_t data_offset = 0;     // 6 + 2 + (2|4) + HEADER_LEN
  std::string descr;            // descr as NumPy writes it: "<f8", or "[('a', '<i4'), ...]"
  std::string descr_json;       // descr as JSON text: strings stay strings, tuples/lists become arrays
  std::vector<uint64_t> shape;  // () = one element
  bool fortran_order = false;
  uint64_t itemsize = 0;
  uint64_t count = 0;           // product of shape
  uint64_t payload_bytes = 0;   // count * itemsize
  uint64_t trailing_bytes = 0;  // bytes after the payload (reported, not fatal)
  bool object = false;          // |O anywhere: pickled, never interpreted
  std::optional<Stats> stats;   // nullopt when not numeric, or empty
  std::string stats_skipped;    // why stats is nullopt ("object dtype", "structured dtype", "empty", ...)
};

struct NpzMember {
  std::string name;             // key NumPy would use (no ".npy")
  std::string zip_name;         // name as stored in the archive
  bool is_npy = false;          // false: member listed but not an array
  bool compressed = false;      // deflate (true) or stored (false)
  uint64_t member_size = 0;     // uncompressed size
  uint64_t compressed_size = 0;
  uint32_t crc32 = 0;
  std::optional<NpyInfo> npy;   // set when is_npy
};

enum class Format { npy, npz };

struct FileInfo {
  std::filesystem::path path;   // absolute
  Format format = Format::npy;
  uint64_t size = 0;
  std::string sha256;           // of the whole file, lowercase hex
  std::optional<NpyInfo> npy;   // for .npy
  std::vector<NpzMember> members; // for .npz
  bool object() const;          // any array (or member) is an object array
};

struct ScanOptions {
  // Called with every byte of the file in order, as it is read (lets
  // `dsm add` write its copy in the same pass). May throw to abort.
  std::function<void(const uint8_t* data, size_t size)> sink;
  // Skip statistics (hash and validate only).
  bool stats = true;
  // Called before bytes below `end` are first read; may block or throw.
  // Lets a writer fill the file while it is scanned (add's parallel copy).
  std::function<void(uint64_t end)> ready;
  // The size the file will have, for one still being written (with ready);
  // otherwise fstat's.
  std::optional<uint64_t> final_size;
  // Called after each slice (256 KiB) with its size: progress within one
  // large file (util/progress.hpp).
  std::function<void(size_t size)> on_read;
};

// Reads, validates and hashes a .npy or .npz (decided by content, not by
// extension) in one streaming pass with constant memory. Throws
// dsm::Error("'<path>': <what is wrong>", 2) for anything malformed.
FileInfo scan_file(const std::filesystem::path& path, const ScanOptions& options = {});

// The same over an open file descriptor positioned at 0 (`path` is used in
// messages and FileInfo::path only).
FileInfo scan_fd(int fd, const std::filesystem::path& path, const ScanOptions& options = {});

// `dsm show --json` representation, with exactly the keys docs/formats.md
// lists.
nlohmann::json to_json(const FileInfo& info);
nlohmann::json to_json(const NpyInfo& info);

// Parses just a .npy header from the first bytes of a file (used by the
// fuzzer, the hook and verify). `file_size` bounds HEADER_LEN and the payload
// check; pass UINT64_MAX when unknown. Throws dsm::Error without a path
// prefix; callers add it.
NpyInfo parse_npy_header(const uint8_t* data, size_t size, uint64_t file_size);

// True when the bytes start with the .npy magic, or are a zip whose central
// directory names a member ending in ".npy" (cheap content sniffing for the
// pre-commit hook). Never throws.
bool looks_like_array_file(const std::filesystem::path& path);

// A shape for people: ShapeStyle::list "[1000, 3]" (as sidecars and `dsm ls`
// write it), ShapeStyle::tuple "(1000, 3)", "(5,)", "()" (as NumPy prints it).
enum class ShapeStyle { list, tuple };
std::string shape_text(const std::vector<uint64_t>& shape, ShapeStyle style);

} // namespace dsm

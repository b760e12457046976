// The dsm C++ API: save arrays from a C++ program into a dsm repository,
// exactly as `dsm add` would store a .npy of them, and read stored versions
// back. Guide and example: docs/api.md, examples/save_array.cpp.
//
//   #include <dsm/api.hpp>
//
//   dsm::api::Repo repo = dsm::api::Repo::open(".");   // the repository around "."
//   std::vector<double> v(1000 * 50);
//   dsm::api::SaveOptions opt;
//   opt.meta = {{"units", "volts"}, {"run", "17"}};
//   dsm::api::Saved s = repo.save("sensors/features",
//                                 dsm::api::ArrayRef::of<double>(v, {1000, 50}), opt);
//   // s.path: data/sensors/features/features_20261126_001.npy, with its
//   // sidecar and manifest line, exactly like `dsm add`.
//   dsm::api::StoredArray a = repo.describe("sensors/features@1");
//   std::vector<std::byte> bytes = repo.read("sensors/features");
//
// Everything throws dsm::Error (dsm/error.hpp) with a message in dsm's style
// and the exit code `dsm` would use (2 error, 1 problem found).
// Build: find_package(dsm) then target_link_libraries(app PRIVATE dsm::dsm).
#pragma once

#include "dsm/error.hpp"

#include <complex>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace dsm::api {

// Memory order of a multi-dimensional array: C (row-major, NumPy's
// default) or Fortran (column-major).
enum class Order { c, fortran };

// NumPy's type string ("descr") for a C++ element type on this
// (little-endian) machine: double -> "<f8", int32_t -> "<i4", bool -> "|b1".
template <typename T>
const char* descr_of() = delete;
template <> inline const char* descr_of<double>() { return "<f8"; }
template <> inline const char* descr_of<float>() { return "<f4"; }
template <> inline const char* descr_of<int8_t>() { return "|i1"; }
template <> inline const char* descr_of<int16_t>() { return "<i2"; }
template <> inline const char* descr_of<int32_t>() { return "<i4"; }
template <> inline const char* descr_of<int64_t>() { return "<i8"; }
template <> inline const char* descr_of<uint8_t>() { return "|u1"; }
template <> inline const char* descr_of<uint16_t>() { return "<u2"; }
template <> inline const char* descr_of<uint32_t>() { return "<u4"; }
template <> inline const char* descr_of<uint64_t>() { return "<u8"; }
template <> inline const char* descr_of<bool>() { return "|b1"; }
template <> inline const char* descr_of<std::complex<float>>() { return "<c8"; }
template <> inline const char* descr_of<std::complex<double>>() { return "<c16"; }

// A borrowed view of an array in memory: nothing is copied until save().
struct ArrayRef {
  const void* data = nullptr;
  size_t size_bytes = 0;         // must equal product(shape) x itemsize
  std::string descr;             // NumPy type string, e.g. "<f8", "<i4", "|u1", "<c16", "|S16"
  std::vector<uint64_t> shape;   // {} is a 0-d array (one element)
  Order order = Order::c;

  template <typename T>
  static ArrayRef of(std::span<const T> values, std::vector<uint64_t> shape, Order order = Order::c) {
    return ArrayRef{values.data(), values.size_bytes(), descr_of<T>(), std::move(shape), order};
  }
  template <typename T>
  static ArrayRef of(const std::vector<T>& values, std::vector<uint64_t> shape, Order order = Order::c) {
    return of(std::span<const T>(values), std::move(shape), order);
  }
};

struct SaveOptions {
  // Like `dsm add -m KEY=VALUE`: each VALUE is read as YAML, so "17" is a
  // number, "true" a boolean, "[1, 2]" a list, anything else a string.
  std::vector<std::pair<std::string, std::string>> meta;
  std::optional<std::string> message; // like --message
  // Like --compress[=LEVEL]: store a single-member .npz. -1 = auto.
  std::optional<int> compress;
  // Like --chunk-size: split into chunk files of whole rows of about this
  // many bytes each.
  std::optional<uint64_t> chunk_bytes;
};

struct Saved {
  std::string name;
  uint64_t version = 0;
  std::filesystem::path path; // the payload (a file, or the chunk directory), absolute
  std::string sha256;         // of the .npy that was saved
};

// A stored version: its header facts and metadata.
struct StoredArray {
  std::string name;
  uint64_t version = 0;
  std::filesystem::path path;     // payload, absolute
  std::string format;             // "npy", "npz" (compressed) or "chunks"
  std::string descr;              // as dtype.str ("<f8"); a structured dtype as its repr
  std::vector<uint64_t> shape;
  Order order = Order::c;
  uint64_t data_bytes = 0;        // size of the array data read() returns
  std::string meta_yaml;          // the user's metadata mapping, as YAML ("{}" when none)
  std::optional<std::string> message;
  std::string sidecar_yaml;       // the whole sidecar (author, created, source, stats, ...)
};

// What push() and pull() act on, like `dsm push` / `dsm pull`.
struct TransferOptions {
  std::vector<std::string> targets; // NAME, NAME@VERSION or payload paths; empty: every manifest entry
  std::string remote;               // empty: the default remote
  unsigned jobs = 8;                // parallel transfers
};

struct Transferred {
  std::string store;   // "remote 'team' (/srv/team)"
  size_t payloads = 0; // transferred
  uint64_t bytes = 0;
  size_t skipped = 0;  // already on the remote (push) or already here (pull)
};

class Repo {
public:
  // Opens the dsm repository around `inside` (any path in the git work
  // tree; relative to the current directory). Throws when there is none.
  static Repo open(const std::filesystem::path& inside = ".");
  ~Repo();
  Repo(Repo&&) noexcept;
  Repo& operator=(Repo&&) noexcept;

  const std::filesystem::path& root() const;

  // Stores `array` as the next version of `name`, exactly as `dsm add` would
  // store a .npy of it (payload, sidecar, manifest line; same lock, same
  // atomic writes). The sidecar's `source` says it came from this API.
  Saved save(const std::string& name, const ArrayRef& array, const SaveOptions& options = {});

  // `target` is NAME (latest version), NAME@VERSION, or a payload path.
  StoredArray describe(const std::string& target) const;
  // The array data of `target` (C or Fortran order as stored), checked
  // against the recorded SHA-256 of the original .npy. `out` must hold
  // exactly describe(target).data_bytes.
  void read(const std::string& target, std::span<std::byte> out) const;
  std::vector<std::byte> read(const std::string& target) const;

  // Like `dsm push` and `dsm pull`: content-addressed, every byte verified
  // against the manifest's SHA-256. When any payload fails, throws Error
  // (problems() lists each) after the others were transferred.
  Transferred push(const TransferOptions& options = {});
  Transferred pull(const TransferOptions& options = {});

private:
  struct Impl;
  explicit Repo(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

} // namespace dsm::api

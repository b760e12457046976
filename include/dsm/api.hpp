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
// The Python package (docs/python.md) is a thin layer over this API.
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
  // NumPy type string, e.g. "<f8", "<i4", "|u1", "<c16", "|S16"; a
  // structured dtype as the repr of numpy.lib.format.dtype_to_descr(dtype)
  // ("[('x', '<i4'), ('y', '<f8')]"), which goes into the header as is.
  std::string descr;
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
  // save_file only: store a file holding object (pickled) arrays anyway,
  // like --allow-pickle.
  bool allow_pickle = false;
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
  std::string sidecar_json;       // the same as JSON, typed as `dsm show --json` types it
  // False for an .npz added as such (several arrays): descr, shape, order
  // and data_bytes are then empty; read_stored() gives its bytes.
  bool single_array = true;
};

// A stored version whose bytes do not hash to what the manifest (or the
// sidecar's original) records, or whose header disagrees with its sidecar.
// exit_code() is 1, like `dsm verify` finding it.
class IntegrityError : public Error {
public:
  IntegrityError(const std::string& message, std::filesystem::path path, std::string expected, std::string actual)
    : Error(message, k_exit_problems), m_path(std::move(path)), m_expected(std::move(expected)),
      m_actual(std::move(actual)) {}
  const std::filesystem::path& path() const { return m_path; }
  const std::string& expected_sha256() const { return m_expected; }
  const std::string& actual_sha256() const { return m_actual; } // "" when the header disagreed

private:
  std::filesystem::path m_path;
  std::string m_expected;
  std::string m_actual;
};

// `dsm verify` of the whole repository, as data.
struct VerifyResult {
  bool ok = true;
  // (absolute path, "FAILED: detail", ...) for every finding, sorted by path;
  // findings that only --strict counts (UNTRACKED, TEMP, WRITABLE) included.
  std::vector<std::pair<std::filesystem::path, std::string>> problems;
  uint64_t checked = 0;
};

// While it lives, SIGINT/SIGTERM/SIGHUP set dsm's interrupt flag instead of
// running the host's handlers, so a save or read stops at its next safe
// point, removes what it had written and throws Error("interrupted", 130).
// For hosts (a Python interpreter) whose own handler cannot run while a
// call holds the thread. When destroyed, restores the previous handlers and
// raises a signal that arrived again, for them. Main thread only; not
// nestable.
class InterruptScope {
public:
  InterruptScope();
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

private:
  struct Saved;
  std::unique_ptr<Saved> m_saved;
};

// "512MiB", "64KiB", "1GB", "4096": sizes as --chunk-size reads them.
uint64_t parse_size(const std::string& text);
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
class Repo;

// Many saves as one transaction, for loops that save hundreds of small
// arrays (docs/api.md, "Saving many arrays"). Each save() writes its bytes
// at once under .dsm/local (memory stays flat, as with save()); commit()
// stores them all as one `dsm add` of many files does: one lock, one
// manifest write, one round of fsyncs, all or none. Versions are numbered
// at commit, in save order; commit() returns them in that order. A batch
// dropped without commit() (an exception, Ctrl-C) removes what it wrote
// and stores nothing. Every save of a batch takes the compress,
// chunk_bytes and allow_pickle of the first (an Error otherwise); meta and
// message are each save's own. The Repo must outlive its batches.
class Batch {
public:
  ~Batch();
  Batch(Batch&&) noexcept;
  Batch& operator=(Batch&&) noexcept;

  void save(const std::string& name, const ArrayRef& array, const SaveOptions& options = {});
  void save_file(const std::string& name, std::span<const std::byte> file, const SaveOptions& options = {});
  size_t size() const;
  std::vector<Saved> commit();

private:
  friend class Repo;
  struct Impl;
  explicit Batch(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
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
  // A transaction of many saves (Batch above).
  Batch batch();

  // `target` is NAME (latest version), NAME@VERSION, or a payload path.
  StoredArray describe(const std::string& target) const;
  // The array data of `target` (C or Fortran order as stored), checked
  // against the recorded SHA-256 of the original .npy. `out` must hold
  // exactly describe(target).data_bytes.
  void read(const std::string& target, std::span<std::byte> out) const;
  std::vector<std::byte> read(const std::string& target) const;

  // Stores a complete .npy or .npz held in memory (an .npz of several
  // arrays, or a .npy of object arrays with options.allow_pickle) as the
  // next version of `name`, exactly as `dsm add` of that file would.
  Saved save_file(const std::string& name, std::span<const std::byte> file, const SaveOptions& options = {});

  // The stored payload's bytes (a plain .npy or .npz file), hashed in the
  // same pass that reads them and checked against the manifest: throws
  // IntegrityError on a mismatch. A chunked version: its original .npy.
  std::vector<std::byte> read_stored(const std::string& target) const;
  // The same check without keeping the bytes (before a memory map).
  void check(const std::string& target) const;

  // Every version of `name`, oldest first; the names of every dataset.
  std::vector<StoredArray> versions(const std::string& name) const;
  std::vector<std::string> datasets() const;

  // `dsm verify [--fast]` of everything.
  VerifyResult verify(bool fast = false) const;

  // Like `dsm diff A B --json` (B empty: the version before A): what changed
  // between two versions or .npy/.npz files, as one JSON object whose keys
  // docs/formats.md lists ("equal", "a", "b", "header", "meta", "stats",
  // "elements", "members"). Tolerance as numpy.isclose.
  std::string diff_json(const std::string& a, const std::string& b = "", double rtol = 0, double atol = 0,
                        bool equal_nan = false) const;
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

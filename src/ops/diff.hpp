// `dsm diff A [B]`: how an array changed between two versions (or any two
// .npy/.npz files). A is compared against B as np.isclose(A, B, rtol, atol,
// equal_nan) does: B is the reference, by default the version before A.
// Both payloads are read once, in L2-sized slices, side by side; nothing
// holds a whole array. The JSON key contract is in docs/formats.md, "dsm
// diff --json".
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace dsm {

namespace fs = std::filesystem;

struct DiffOptions {
  std::string a;            // NAME, NAME@N, NAME@latest, NAME@~N, a payload path, or any .npy/.npz file
  std::string b;            // the same; empty: the version before A (A must name a dataset version)
  fs::path work_dir;        // relative paths resolve here; the repository (if any) is found from here
  double rtol = 0;          // as np.isclose; 0 and 0: exact
  double atol = 0;
  bool equal_nan = false;   // NaN against NaN counts as equal
  uint64_t show = 5;        // differing elements listed with both values
  unsigned jobs = 0;        // threads for large uncompressed pairs; 0: one per core
};

// One side as the user named it and as it was found.
struct DiffSide {
  std::string target;       // as given (or "NAME@N" for the default B)
  fs::path path;            // the payload (a chunked version: its directory)
  std::string sha256;       // of the payload file; empty for a chunked version
  std::string format;       // "npy", "npz", "chunks" (a chunked version), "npz-compressed" (dsm add --compress)
  std::string dtype;        // descr as NumPy writes it; empty for an .npz
  std::vector<uint64_t> shape;
  bool has_shape = false;   // false for an .npz
};

// A difference in the header: field is "format", "dtype", "shape", "order"
// or "npy_version"; a and b are how each side reads.
struct HeaderDiff {
  std::string field;
  std::string a;
  std::string b;
};

// One differing element: its index (C or Fortran order unravelled as NumPy
// indexes it) and both values as JSON text (numbers, strings, true/false;
// "nan", "inf", "-inf" as strings; complex as [re, im]; a subarray as an
// array; a structured element as an object of its fields, nested fields
// flattened to "outer.inner").
struct DiffExample {
  std::vector<uint64_t> index;
  std::string a;
  std::string b;
};

struct ElementDiff {
  uint64_t compared = 0;      // elements compared (a structured element counts once)
  uint64_t differ = 0;        // elements not close (any field, for structured)
  // Over the pairs where both values are finite numbers (NaN for none):
  // max |a - b| and max |a - b| / |b| (inf where b is 0 and a is not).
  double max_abs_diff = 0;
  double max_rel_diff = 0;
  bool any_finite = false;    // false: no finite pairs, the two maxima are meaningless
  uint64_t nan_appeared = 0;  // NaN in A where B has a number
  uint64_t nan_vanished = 0;  // a number in A where B has NaN
  std::vector<DiffExample> first; // the first --show differing elements, in storage order
  // Structured dtypes: differing elements per field ("a", "b.x" for nested).
  std::vector<std::pair<std::string, uint64_t>> fields;
};

// One array (a whole .npy, or one .npz member present on both sides).
struct ArrayDiff {
  std::vector<HeaderDiff> header;
  // Statistics that differ, name (count, mean, min, max, nan, inf) -> [a, b]
  // as JSON text, in that order.
  std::vector<std::pair<std::string, std::pair<std::string, std::string>>> stats;
  std::optional<ElementDiff> elements; // nullopt: not compared, see reason
  std::string reason;                  // why elements is nullopt ("" when compared)
  bool equal = true;                   // shapes and dtypes comparable and no element differs
};

struct DiffReport {
  DiffSide a;
  DiffSide b;
  bool identical = false; // same content SHA-256: equal without reading
  bool equal = true;      // the exit status: 0 when true
  // The sidecars' meta keys that differ (added, removed or changed), key ->
  // [a, b] as JSON text ("null" where absent), and the messages (JSON text
  // too) when they differ. Reported; they do not make two arrays unequal.
  std::vector<std::pair<std::string, std::pair<std::string, std::string>>> meta;
  std::optional<std::pair<std::string, std::string>> message;
  // Two arrays (npy, chunked, compressed): `array`. Two .npz archives:
  // members present on both sides that differ, and the names only in A
  // (added) or only in B (removed). Anything else (.npy against .npz): a
  // "format" header difference in `array`, elements not compared.
  bool archives = false;
  ArrayDiff array;
  std::vector<std::pair<std::string, ArrayDiff>> members; // changed members, sorted by name
  std::vector<std::string> added;
  std::vector<std::string> removed;
};

// Throws Error (exit 2) for targets that cannot be resolved or read.
DiffReport diff(const DiffOptions& options);

// The `dsm diff --json` object (docs/formats.md).
nlohmann::json to_json(const DiffReport& report);

} // namespace dsm

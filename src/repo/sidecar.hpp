// The sidecar: `<payload>.yaml` beside each payload (committed). What the
// payload is and where it came from.
//
// Layout (keys always in this order; written by to_yaml, never by a YAML
// library, so the text is canonical and diffs stay small; every string is
// double-quoted with escapes, see util/yaml_text.hpp):
//
//   dsm_sidecar: 1                 # sidecar format version, always first
//   name: "features"
//   version: 3                     # the sequence number
//   file: "features_20261126_003.npy"
//   created: "2026-11-26T12:34:56Z"
//   author: "Ada <ada@example.com>"   # or null when git has no identity
//   git_commit: "<40 hex>"         # HEAD at add time, or null
//   branch: "main"                 # or null
//   source: "/abs/path/features.npy"
//   host: "box"
//   size: 8128
//   sha256: "<64 hex>"
//   format: npy                    # npy | npz
//   npy_version: "1.0"             # .npy only: header facts...
//   descr: "<f8"
//   shape: [1000, 50]
//   fortran_order: false
//   stats: {count: 50000, min: -4.2, max: 4.1, mean: 0.0012, nan: 0, inf: 0}   # or null
//   members:                       # .npz only: one entry per member
//     - name: "weights"
//       npy_version: "1.0"
//       descr: "<f8"
//       shape: [5, 10]
//       fortran_order: false
//       stats: {...}
//   pickled: true                  # only with --allow-pickle and object arrays
//   compression: "ISA-L ..."       # --compress only: engine and why
//   original:                      # --compress and --chunk-size: the .npy added
//     size: 8128
//     sha256: "<64 hex>"
//     header: "934e554d..."         # --chunk-size only: its header bytes, hex
//   chunk_axis: 0                  # --chunk-size only (format: chunks)
//   chunks:
//     - {file: "part-0001.npy", rows: [0, 256], size: 32896, sha256: "<64 hex>"}
//   message: "text"                # or null
//   meta: {}                       # the user's -m/--meta mapping (YAML)
//
// Reading accepts any YAML with these keys (hand edits happen); unknown
// top-level keys are an error naming '<file>':<line>; a newer dsm_sidecar
// version is refused.
#pragma once

#include "format/format.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace YAML {
class Node;
}

namespace dsm {

namespace fs = std::filesystem;

inline constexpr int k_sidecar_version = 1;

// The header facts of one array, as the sidecar records them.
struct ArrayFacts {
  std::string npy_version;
  std::string descr;
  std::vector<uint64_t> shape;
  bool fortran_order = false;
  std::optional<Stats> stats;
  static ArrayFacts from(const NpyInfo& info);
};

struct MemberFacts {
  std::string name;
  std::optional<ArrayFacts> facts; // nullopt: member is not an array
};

struct Sidecar {
  int sidecar_version = k_sidecar_version;
  std::string name;
  uint64_t version = 0;
  std::string file;
  std::string created;
  std::optional<std::string> author;
  std::optional<std::string> git_commit;
  std::optional<std::string> branch;
  std::string source;
  std::string host;
  uint64_t size = 0;
  std::string sha256;
  std::string format; // "npy" | "npz"
  std::optional<ArrayFacts> npy;   // format npy
  std::vector<MemberFacts> members; // format npz
  bool pickled = false;
  // Compressed (`--compress`, format npz) and chunked (`--chunk-size`,
  // format chunks) versions: the .npy that was added, so `dsm export` can
  // prove it rebuilt it bit for bit.
  struct Original {
    uint64_t size = 0;
    std::string sha256;
    std::string header_hex; // chunked: the .npy header bytes, to rebuild the file
  };
  std::optional<Original> original;
  // Compressed versions: the engine and why (docs/compression.md).
  std::optional<std::string> compression;
  // Chunked versions: `file` is the chunk directory; size, sha256 and the
  // header facts above are the original .npy's; each chunk is a .npy of
  // rows [row_begin, row_end) along chunk_axis.
  struct Chunk {
    std::string file;
    uint64_t row_begin = 0;
    uint64_t row_end = 0;
    uint64_t size = 0;
    std::string sha256;
  };
  uint64_t chunk_axis = 0;
  std::vector<Chunk> chunks;
  std::optional<std::string> message;
  // The meta mapping as YAML text in flow or block style ("{}" when empty),
  // already validated; written verbatim (indented) under `meta:`.
  std::string meta_yaml = "{}";

  // Fills format, size, sha256 and the array facts from a scan.
  void set_facts(const FileInfo& info);

  std::string to_yaml() const;
  // to_yaml() in two parts: the keys that name the version (dsm_sidecar,
  // name, version, file), and the rest. `dsm add` writes the rest as each
  // file is staged, before the lock chooses its number (ops/add.cpp).
  std::string yaml_head() const;
  std::string yaml_tail() const;
  // Throws Error("'<file>':<line>: ...") on anything malformed.
  static Sidecar parse(const std::string& text, const std::string& file);
  static Sidecar load(const fs::path& path);
  // From an open file (util/beneath.hpp); `path` names it in messages.
  static Sidecar load_fd(int fd, const fs::path& path);
  nlohmann::json to_json() const;
};

// Differences between what a sidecar records and what a scan of the payload
// found: one "<field>: sidecar says X, file says Y" per difference (format,
// size, sha256, descr, shape, fortran_order, member list and member facts).
std::vector<std::string> compare_facts(const Sidecar& sidecar, const FileInfo& info);

// The user's metadata: --meta FILE (a mapping) then -m KEY=VALUE pairs
// (VALUE parsed as YAML: numbers, booleans, lists stay typed). Returns YAML
// text for Sidecar::meta_yaml. Throws Error on a bad key, bad YAML, or a
// --meta file that is not a mapping.
std::string build_meta(const std::optional<fs::path>& meta_file, const std::vector<std::string>& pairs);

// A YAML node as JSON (scalars typed the way YAML 1.2 core schema reads them).
nlohmann::json yaml_to_json(const YAML::Node& node);

} // namespace dsm

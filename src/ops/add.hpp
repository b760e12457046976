// `dsm add`: store files as new versions of datasets.
//
// Order of writes (each step leaves a state `dsm verify` explains if the
// process dies there):
//   1. every payload is copied (one pass: read, hash, parse, write) into a
//      hidden temp file in the data dir, made read-only and synced (one
//      syncfs for many files). Nothing visible yet; a crash leaves temps.
//   2. under the repository lock: sequence numbers are chosen (1 + max over
//      the manifest, every manifest in history and every file of that name
//      on disk, never reused), each payload is linked to its final name
//      (never overwriting); when a payload of the manifest holds the same
//      bytes, the final name is a hard link to it instead and the staged
//      copy is dropped (identical payloads stored once: repo/dedupe.hpp).
//      A crash now leaves an untracked payload.
//   3. sidecars are written (temp, sync, link) beside the payloads.
//   4. the manifest is rewritten atomically (temp, fsync, rename, fsync dir)
//      once for all files, then the lock is released.
//   5. with --move, only now is each source removed.
//
// Memory (issue #17): an add of 100,000 files in one command stays within
// a few tens of MiB. Each file keeps a small record (its name, hash, size,
// number and staged file); the sidecar text beyond the version's name and
// number is written aside as the file is staged and read back when the
// number is known; the manifest and the stat cache are written by merging
// the new lines into the old ones in pieces; and the command prints each
// result through AddRequest::on_added instead of collecting them.
#pragma once

#include "repo/sidecar.hpp"

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace dsm::util {
class Progress;
}

namespace dsm {

class Repository;
namespace fs = std::filesystem;

enum class Transfer { copy, move };
enum class AllowPickle { no, yes };

enum class InDataDir { refuse, allow };

struct AddedPayload;

struct AddRequest {
  // The files: absolute, or relative to `base` (`dsm add` passes the names
  // as typed and its working directory). Strings, not fs::path: a path also
  // holds a list of its components, and a name is kept once, not twice,
  // when a command hands over 100,000 of them.
  std::vector<std::string> files;
  fs::path base;
  std::optional<std::string> name;  // --name; default: each file's stem
  std::string meta_yaml = "{}";     // from build_meta
  std::optional<std::string> message;
  // One per file when given (the C++ API's Batch: many saves, one add): each
  // file's own name, meta and message, used instead of the three above.
  struct Item {
    std::string name;
    std::string meta_yaml = "{}";
    std::optional<std::string> message;
  };
  std::vector<Item> items;
  Transfer transfer = Transfer::copy;
  AllowPickle allow_pickle = AllowPickle::no;
  // --compress[=LEVEL]: store each .npy as a single-member .npz (level -1:
  // auto). See format/compress_add.hpp and docs/compression.md.
  std::optional<int> compress;
  // --chunk-size: split each .npy into whole-row chunk files of about this
  // many bytes (format/chunk.hpp).
  std::optional<uint64_t> chunk_bytes;
  // What the sidecar's `source` says instead of the file's path (the C++
  // API, `dsm compress`).
  std::optional<std::string> source_label;
  // Refuse (exit 1) unless the file hashes to this: `dsm compress` never
  // turns a corrupted version into a fresh-looking one.
  std::optional<std::string> expect_sha256;
  // A FILE inside the data directory is stored already (`dsm add "$(dsm path
  // x)"` would make a copy of a version under a new name): refused, unless a
  // command re-stores a version on purpose (`dsm compress`).
  InDataDir in_data_dir = InDataDir::refuse;
  // Counts every byte read from the sources (null: no progress).
  util::Progress* progress = nullptr;
  // Called with each stored payload, in the order of the request, once the
  // manifest lists them all; AddResult::added then stays empty (`dsm add`
  // prints as it goes instead of holding 100,000 results).
  std::function<void(const AddedPayload&)> on_added;
};

struct AddedPayload {
  fs::path path; // absolute (a chunked version: its directory)
  std::string name;
  uint64_t version = 0;
  // As the sidecar records them: of the stored payload, or for a chunked
  // version of the .npy that was split.
  uint64_t size = 0;
  std::string sha256;
  // --compress, --chunk-size: the SHA-256 of the .npy that was added.
  std::optional<std::string> original_sha256;
  // --compress: the engine and why (the sidecar's `compression`).
  std::optional<std::string> compression;
  // For stderr: "same bytes as NAME@N" (the latest version of the same name
  // holds these bytes: still a new version, a new event with its own
  // metadata), "stored once: a hard link to 'REL'" (repo/dedupe.hpp).
  std::vector<std::string> notes;
};

struct AddResult {
  std::vector<AddedPayload> added;  // in the order of the request (empty with on_added)
  std::vector<std::string> warnings; // for stderr ("git has no identity ...")
};

AddResult add_files(const Repository& repo, const AddRequest& request);

} // namespace dsm

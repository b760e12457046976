// `dsm du [TARGET...]`: where the disk goes, per dataset: its versions, the
// bytes of payloads here, the bytes no remote holds (only here: deleting
// them loses them), and what `dsm drop` and `dsm gc` would free.
//
// Bytes count each file once (payloads hard-linked to one inode, identical
// bytes stored once, count once). "On a remote" asks each configured
// remote whether it holds an object of that name (a listing or a stat, as
// `dsm status` does; `dsm drop` verifies hashes before deleting anything);
// a remote that cannot be asked makes "only here" unknown, never zero.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace dsm {

class Repository;
namespace fs = std::filesystem;

struct DuOptions {
  std::vector<std::string> targets; // empty: every dataset
  std::string remote;               // whose copies `drop` would count on; empty: the default
  bool offline = false;             // ask no remote
  fs::path work_dir;
};

struct DuEntry {
  std::string name;    // dataset name; "" for manifest lines of no dataset
  size_t versions = 0; // in the manifest
  size_t present = 0;  // of which payloads are here (all parts of a chunked one)
  uint64_t bytes_here = 0;
  std::optional<uint64_t> bytes_only_here; // no remote holds them; nullopt: unknown
  uint64_t drop_frees = 0;                 // present and on the drop remote
  uint64_t gc_frees = 0;                   // unreferenced files of this dataset past the grace period
};

struct DuReport {
  std::vector<DuEntry> datasets;  // by name
  DuEntry total;                  // name "total"; gc_frees includes set-aside and temp files
  std::string drop_remote;        // "" when none
  std::vector<std::string> notes; // remotes that could not be asked, and why
};

DuReport disk_usage(const Repository& repo, const DuOptions& options);

} // namespace dsm

// `dsm rm TARGET...`: remove versions from the manifest, as `git rm` removes
// files from the work tree and the index.
//
// For each version the TARGETs select (NAME@N, NAME@latest, NAME@~N, a
// payload path; a NAME or a directory, which select several versions, only
// with --all): its manifest lines go, its sidecar is deleted, and both
// changes are staged (the index's manifest loses the same lines and nothing
// else, so an add not yet staged stays unstaged). The payload stays on disk
// until `dsm gc`: after the commit only older commits list it, and it is
// deleted by `dsm gc --history` once a remote verifiably holds it.
//
// Order of writes, under the activity lock and the repository lock:
//   1. the manifest is rewritten atomically (the commit point): a crash
//      before leaves the old state, after it payload and sidecar without a
//      manifest line: a committed version's tracked sidecar, which `dsm
//      verify` reports and `dsm resolve` turns back into its line (the old
//      state), or, for a version never committed, an unfinished add that
//      `dsm repair` rolls back;
//   2. sidecars are deleted;
//   3. the index is updated.
// No payload is touched, so no kill can lose data.
//
// Sequence numbers are never reused: `dsm add` numbers after the highest
// number any commit has used for the name (repo/referenced.hpp, History).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace dsm {

class Repository;
namespace fs = std::filesystem;

struct RemoveOptions {
  std::vector<std::string> targets;
  bool all = false;     // --all: a NAME (or a directory) removes every version it selects
  bool dry_run = false; // say what would go, change nothing
  fs::path work_dir;    // relative TARGETs resolve against it
};

struct RemovedVersion {
  std::string label;              // "NAME@N", or the manifest path of a line that is no version
  std::vector<std::string> lines; // its manifest paths (a chunked version: every part)
  fs::path payload;               // absolute: the payload (a chunked version: its directory)
  bool payload_present = false;   // on disk here (it stays until `dsm gc`)
  bool sidecar_deleted = false;   // it had a sidecar, now deleted (or would be, in a dry run)
};

struct RemoveReport {
  std::vector<RemovedVersion> removed; // in manifest order
  bool staged = false;                 // the index was updated
};

RemoveReport remove_versions(const Repository& repo, const RemoveOptions& options);

} // namespace dsm

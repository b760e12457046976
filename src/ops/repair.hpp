// `dsm repair`: clean up after interrupted writes (a crash, kill -9, power
// loss in the middle of `dsm add`). Policy and its reasons:
// docs/guarantees.md.
//
// The commit point of `dsm add` is the rename of the manifest: an add whose
// payload has a manifest line happened, anything else did not. Repair
// therefore rolls unfinished adds back, with one exception that protects
// data: it never deletes the only copy of an array.
//
//   .dsm-tmp-* in the data dir     removed (nobody is writing them: see
//                                  ActivityLock)
//   payload + complete sidecar,    the sidecar's `source` still holds the
//   no manifest line               same bytes: payload and sidecar removed
//                                  (rolled back; `dsm add` again redoes it).
//                                  Source gone or changed: the payload is
//                                  the only copy, so the add is completed
//                                  instead (re-hashed, then listed).
//   payload, no sidecar,           nothing records where it came from: moved
//   no manifest line               to .dsm/local/orphans/ (set aside, never
//                                  deleted), out of the data dir
//   anything the manifest lists    never touched
//   anything a ref, the stash or   never touched, reported as kept
//   the index lists, or whose
//   sidecar git tracks
//   anything else                  (hand-placed files, symlinks, sidecars
//                                  without payload) left alone and reported
#pragma once

#include "repo/leftovers.hpp"
#include "repo/lock.hpp"

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace dsm {

class Manifest;
class Repository;
namespace fs = std::filesystem;

struct RepairAction {
  // kept: a payload the working manifest lacks but a ref, the stash or the
  // index lists, or whose sidecar git tracks (repo/referenced.hpp):
  // information, never touched.
  enum class Kind { removed_temp, rolled_back, completed, set_aside, made_read_only, left_alone, kept };
  Kind kind;
  fs::path path;             // absolute
  std::optional<fs::path> to; // set_aside: where it went
  std::string detail;
};

struct RepairOptions {
  bool dry_run = false;
  std::chrono::milliseconds timeout{30000};
};

struct RepairReport {
  std::vector<RepairAction> actions;
  // Items left alone that need a person (exit status 1).
  size_t left_alone() const;
};

// Runs the policy above. With dry_run nothing changes on disk (the locks are
// still taken, so the view is consistent). Throws Error on I/O errors.
RepairReport repair(const Repository& repo, const RepairOptions& options);

std::string format_action(const RepairAction& a, bool dry_run);

} // namespace dsm

// `dsm gc`: delete what nothing needs, locally or on a remote.
//
// Locally (`dsm gc [--grace DAYS] [--history]`), under the activity lock held
// exclusively (no add, pull, rm or drop is running, so every temp file is a
// leftover of a dead process), for each file:
//
//   listed in the working manifest                never deleted
//   listed by any ref tip, a stash entry, the     never deleted
//   index or HEAD, or its sidecar tracked by git  (repo/referenced.hpp)
//   not stored by dsm (foreign name), symlinks    never deleted (left alone)
//   listed only by older commits (a version       kept; with --history deleted
//   `dsm rm` removed, then committed)             when the default remote
//                                                 verifiably holds every hash
//                                                 history lists at its path
//   listed by no commit at all (an unfinished     deleted once older than the
//   add, a version removed before any commit,     grace period, with its
//   temp files of interrupted writes)             untracked sidecar
//   set aside by `dsm repair` (.dsm/local/        the same rules by content:
//   orphans/)                                     kept (or --history + remote)
//                                                 when any commit lists its hash
//
// Age is the newest of the file's mtime and ctime, as git's gc.pruneExpire
// counts from the loose object's mtime: the grace period (default 14 days)
// protects work in flight, never data a commit lists.
//
// Order of deletions: a sidecar before its payload, so a kill in between
// leaves a payload without a sidecar (UNTRACKED, which the next gc deletes),
// never a sidecar without its payload.
//
// On a remote (`dsm gc --remote R [--yes]`): objects no manifest lists in any
// commit reachable from any ref of this clone (local and remote-tracking),
// the stash, the index or the working manifest, nor the record of dropped
// payloads, and stored longer ago than the grace period. A dry run unless
// --yes: another clone may reference objects this one has not fetched (an
// unpushed branch, a teammate's work), so only the user can decide that
// every clone's refs are here.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace dsm {

class Repository;
namespace fs = std::filesystem;

inline constexpr double k_default_grace_days = 14;

struct GcOptions {
  double grace_days = k_default_grace_days;
  bool history = false; // also payloads only older commits list, once a remote holds them
  bool dry_run = false;
  unsigned jobs = 8;
};

struct GcItem {
  fs::path path;      // absolute
  uint64_t bytes = 0; // what deleting it frees (0 when another link keeps the inode)
  std::string why;    // why it may go, or why it stays
};

struct GcReport {
  std::vector<GcItem> deleted; // deleted (or would be, in a dry run)
  std::vector<GcItem> kept;    // considered and kept, with the reason
  uint64_t bytes = 0;          // freed
};

GcReport gc_local(const Repository& repo, const GcOptions& options);
// What gc_local would delete, without its lock: for `dsm du`, which holds
// the activity lock shared itself.
GcReport gc_preview(const Repository& repo, const GcOptions& options);

struct RemoteGcOptions {
  std::string remote; // required
  double grace_days = k_default_grace_days;
  bool yes = false; // delete; otherwise a dry run
  unsigned jobs = 8;
};

struct RemoteGcObject {
  std::string sha256;
  uint64_t bytes = 0;
};

struct RemoteGcReport {
  std::string store;                     // "remote 'team'"
  size_t objects = 0;                    // on the remote
  size_t referenced = 0;                 // kept: some manifest lists them
  size_t young = 0;                      // kept: unreferenced but within the grace period
  std::vector<RemoteGcObject> deletable; // deleted with --yes, else what would be
  uint64_t bytes = 0;
  bool deleted = false; // --yes
};

RemoteGcReport gc_remote(const Repository& repo, const RemoteGcOptions& options);

} // namespace dsm

// `dsm drop TARGET...` / `dsm drop --all`: delete local payload copies that
// a remote verifiably holds (git-annex's drop with numcopies = 1 remote).
//
// For every selected manifest entry present here: the remote (--remote R,
// default the default remote) must hold an object of the payload's size
// whose bytes hash to its SHA-256 (ops/sync.hpp: verify_remote_copies; a
// directory store hashes in place, S3 is downloaded and hashed). If any
// selected payload is not verified, nothing is deleted and the error names
// each one and why (exit 1); --force deletes anyway.
//
// Order of writes, under the activity lock and the repository lock:
//   1. the verified hashes are added to .dsm/local/dropped (repo/dropped.hpp,
//      atomic): from now on verify and status call these payloads dropped,
//      not lost, once they are absent;
//   2. the payload files are unlinked (their sidecars and manifest lines
//      stay: the version still exists, on the remote).
// A kill between 1 and 2 leaves payloads present and recorded as dropped,
// which nothing reads while they are present. Payloads deleted with --force
// and no verified copy are not recorded: verify reports them MISSING, which
// is the truth.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace dsm {

class Repository;
namespace fs = std::filesystem;

struct DropOptions {
  std::vector<std::string> targets; // TARGET... (resolve_targets)
  bool all = false;                 // --all: every manifest entry
  std::string remote;               // --remote NAME; empty: the default remote
  bool force = false;               // delete even without a verified remote copy
  bool dry_run = false;
  unsigned jobs = 8;
  fs::path work_dir;
};

struct DroppedPayload {
  fs::path path; // absolute
  std::string sha256;
  uint64_t size = 0;
  bool verified = false; // the remote holds it (else --force deleted it)
  std::string why_not;   // when not verified: why
};

struct DropReport {
  std::string remote;                  // its name ("" when none could be asked and --force)
  std::string store;                   // "remote 'team'"
  std::vector<DroppedPayload> dropped; // deleted (or would be, in a dry run)
  size_t absent = 0;                   // selected but not here already
  uint64_t bytes = 0;                  // freed (a payload hard-linked elsewhere frees nothing)
};

DropReport drop(const Repository& repo, const DropOptions& options);

} // namespace dsm

// `dsm hook pre-push`: what git's pre-push hook runs before `git push`
// sends anything. Like git-lfs's pre-push (commands/command_pre_push.go), it
// uploads the payloads that the commits being pushed reference, so that no
// commit reaches the git remote while its data exists only in this clone.
//
// Which commits: those reachable from each pushed local tip and from
// neither the remote's current tip of that ref (when this clone has it) nor
// any remote-tracking ref (refs/remotes/*): what the push sends for the
// first time. A new branch therefore costs only its commits that no
// fetched branch has. Their manifests (data_dir/manifest-sha256.txt at
// each commit) are read once per distinct blob; the (path, hash) pairs they
// list, less those the boundary commits' manifests list (the parents the
// remote already has: their data was pushed with them), go to
// ops/sync.cpp's push to the default dsm remote, which uploads only what
// the remote lacks. So one new version on 10,000 asks the remote about one
// object. A deleted ref (local id all zeros) sends nothing. Intermediate
// commits count, as for git-lfs: a clone of any pushed commit must find
// its data.
#pragma once

#include "ops/sync.hpp"

#include <istream>
#include <string>
#include <vector>

namespace dsm {

class Repository;

// One line of git's pre-push input:
// "<local ref> SP <local sha> SP <remote ref> SP <remote sha> LF".
struct PushedRef {
  std::string local_ref;
  std::string local_sha;
  std::string remote_ref;
  std::string remote_sha;
  bool deletes() const; // local sha all zeros: the push deletes remote_ref
};

// Parses git's pre-push input; blank lines are skipped, anything else that
// is not four fields with 40- or 64-hex ids throws Error (exit 2).
std::vector<PushedRef> parse_pre_push_input(std::istream& in);

struct PrePushReport {
  size_t commits = 0;   // new commits walked
  size_t manifests = 0; // distinct manifest blobs read
  size_t entries = 0;   // distinct (path, hash) pairs they list
  bool pushed = false;  // push ran (there was something to check)
  TransferReport transfer;
};

// Uploads what `refs` need (see above) with `options` (remote, jobs,
// progress; targets and entries are set here). Throws Error when it
// cannot: no dsm remote, the remote unreachable, a manifest of a pushed
// commit unreadable; a payload missing here and on the remote is a problem
// in the report (throw_if_failed turns it into the Error).
PrePushReport pre_push(const Repository& repo, const std::vector<PushedRef>& refs, SyncOptions options);

} // namespace dsm

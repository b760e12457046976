// `dsm resolve`: after a merge, rebase, cherry-pick or stash pop (and safe
// any time), keeps every version two branches added by renumbering the ones
// that collide (docs/sharing.md, "Branches and merges"):
//
//   the manifest unmerged        merged by path from git's three stages (as
//                                `dsm merge-driver` does, whether or not the
//                                driver ran)
//   one path, two payloads       the same NAME, day and number added on two
//                                branches: ours keeps the number; theirs (the
//                                one merged in later) takes the next free
//                                number, with its sidecar (from git's stage
//                                3), its manifest line and, when it is here,
//                                its local payload; for chunked versions (one
//                                directory, mixed chunk lines) both sidecars
//                                say which chunks are whose
//   one NAME@N, two paths        the same number on different days: the one
//                                HEAD had before the merge keeps it (else
//                                the older), the other moves to the next free
//                                number (a chunked one with its directory)
//   a tracked sidecar without    (a conflict resolved by hand that dropped
//   a manifest line              a line): the line comes back from the
//                                sidecar's sha256
//
// Remotes need no change: they are content-addressed. Every file it writes
// is staged, so `git commit` finishes the merge.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace dsm {

class Repository;

struct ResolveOptions {
  std::chrono::milliseconds timeout{30000};
};

struct ResolveReport {
  std::vector<std::string> done;   // one line per change, for the user
  std::vector<std::string> manual; // unmerged files left for a person (exit 1)
  std::vector<std::string> staged; // work-tree-relative paths staged
};

ResolveReport resolve(const Repository& repo, const ResolveOptions& options);

} // namespace dsm

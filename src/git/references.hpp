// What git references besides HEAD's tree: every ref tip (branches, tags,
// remote-tracking), every stash entry, the index (conflict stages included)
// and HEAD. dsm keeps a payload that any of them lists (docs/sharing.md,
// "Branches and merges"); git's gc decides what is garbage the same way
// ("reachable from any ref"), except that only tips are read: a payload
// only an old commit lists is on a remote if it was ever pushed.
//
// Also the few index and config writes `dsm init` and `dsm resolve` make.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

namespace dsm::git {

class Repo;

// One place that holds a version of a file.
struct RefBlob {
  std::string
      source; // for messages: "branch 'main'", "'origin/main'", "tag 'v1'", "stash@{0}", "HEAD", "the index"
  std::string oid; // blob id, hex
};

// The blob ids of `path` (relative to the work tree) at every ref tip, every
// stash entry, HEAD, MERGE_HEAD (and the other heads of an operation in
// progress) and the index (every stage). Refs whose tip is not a
// commit, or whose tree lacks `path`, are skipped. Reads no history: one
// tree lookup per path component per ref.
std::vector<RefBlob> blobs_at_refs(const Repo& repo, const std::string& path);

// The distinct blob ids of `path` in every commit reachable from any ref
// (branches, tags, remote-tracking refs, every stash entry and its parents),
// from HEAD and the heads of an operation in progress, and in the index.
// What `dsm gc` keeps without --history, what `dsm gc --remote` keeps, and
// where `dsm add` finds the highest sequence number ever committed. Walks the
// whole history: one tree lookup per path component per commit (about 10 ms
// per 1,000 commits), each distinct blob reported once.
std::vector<std::string> blobs_in_history(const Repo& repo, const std::string& path);
// What a push sends for the first time (the pre-push hook): the commits
// reachable from any of `tips` but from none of `hide` and no
// remote-tracking ref (refs/remotes/*), and the distinct blob ids `path` has
// in them, in walk order; also the blob ids `path` has in the boundary
// commits (parents of those commits that the remote already has). Ids in
// `hide` this repository lacks (the remote has commits not fetched here)
// are skipped; a tip it lacks is an error. Cost: one tree lookup per path
// component per commit; no blob is read.
struct UnpushedBlobs {
  size_t commits = 0;
  std::vector<std::string> blobs;          // in the new commits
  std::vector<std::string> boundary_blobs; // in their parents already pushed
};
UnpushedBlobs blobs_in_unpushed_commits(const Repo& repo, const std::vector<std::string>& tips,
                                        const std::vector<std::string>& hide, const std::string& path);

// An unmerged path of the index (a merge, rebase, cherry-pick or stash pop
// in progress): the blob of each stage, nullopt where the stage is absent.
struct IndexConflict {
  std::string path;
  std::optional<std::string> ancestor; // stage 1
  std::optional<std::string> ours;     // stage 2
  std::optional<std::string> theirs;   // stage 3
};
std::vector<IndexConflict> index_conflicts(const Repo& repo);

// True while a merge, rebase, cherry-pick or revert is in progress.
bool operation_in_progress(const Repo& repo);
// The refs such an operation names its other side by: MERGE_HEAD,
// CHERRY_PICK_HEAD, REBASE_HEAD, REVERT_HEAD.
std::span<const char* const> operation_heads();

// The blob id of `path` in `rev`'s tree (any revision git understands, e.g.
// "HEAD^1", "MERGE_HEAD"); nullopt when the revision or the path is absent.
std::optional<std::string> blob_at(const Repo& repo, const std::string& rev, const std::string& path);

// Sets a string in the repository's own config (.git/config, shared by its
// worktrees).
void set_local_config(const Repo& repo, const std::string& key, const std::string& value);

// Stages the work-tree state of `paths` as `git add` would (a missing file
// is removed from the index), resolving any conflict they had.
void stage_paths(const Repo& repo, const std::vector<std::string>& paths);

// Stages `content` as the blob of `path` (relative to the work tree), as
// `git add` of a file holding it would, leaving the work tree alone: `dsm rm`
// stages the manifest without the lines it removed, and nothing else of the
// working manifest (an add not yet staged stays unstaged, as with `git rm`).
void stage_content(const Repo& repo, const std::string& path, const std::string& content);

} // namespace dsm::git

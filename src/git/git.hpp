// The libgit2 edge: every git_* object lives in a unique_ptr with a deleter,
// and every negative return becomes a dsm::Error carrying libgit2's message.
// Nothing outside src/git/ includes <git2.h>.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct git_repository;

namespace dsm::git {

namespace fs = std::filesystem;

struct Identity {
  std::string name;
  std::string email;
};

// One entry of the index (the staged state).
struct IndexEntry {
  std::string path;   // relative to the work tree, '/'-separated
  std::string oid;    // blob id, hex
  uint64_t size = 0;  // blob size as recorded in the index
  uint32_t mode = 0;  // git file mode (0100644, 0100755, 0120000, 0160000)
};

class Repo {
public:
  // Opens the git repository whose work tree contains `start` (searching
  // upwards, as git does). Throws Error (exit 2) when `start` is not inside a
  // git work tree, or the repository is bare.
  static Repo discover(const fs::path& start);
  ~Repo();
  Repo(Repo&&) noexcept;
  Repo& operator=(Repo&&) noexcept;

  fs::path work_tree() const; // absolute, no trailing slash
  fs::path git_dir() const;   // absolute ($GIT_DIR; per-worktree for worktrees)
  fs::path common_dir() const; // shared .git for worktrees
  // git's user.name / user.email (config cascade), or nullopt when unset.
  std::optional<Identity> identity() const;
  // HEAD's commit id (hex), nullopt on an unborn branch.
  std::optional<std::string> head_commit() const;
  // Short branch name, nullopt when detached or unborn without a name.
  std::optional<std::string> branch() const;
  // Hooks directory, honouring core.hooksPath and worktrees.
  fs::path hooks_dir() const;
  // A config value (string), nullopt when unset.
  std::optional<std::string> config_string(const std::string& key) const;
  // Entries of the index, read fresh from disk.
  std::vector<IndexEntry> index_entries() const;
  // Paths (relative, '/'-separated) of tracked files under `prefix` (a
  // directory relative to the work tree; empty = everything).
  std::vector<std::string> tracked_under(const std::string& prefix) const;
  // Contents of a blob by hex id; throws if the blob exceeds max_size.
  std::string read_blob(const std::string& oid, uint64_t max_size = 256u << 20) const;
  // Contents of `path` in HEAD's tree, nullopt if HEAD or the path is absent.
  std::optional<std::string> read_head_file(const std::string& path) const;
  // Commit ids reachable from HEAD, newest first, at most `limit`.
  std::vector<std::string> history(size_t limit) const;
  // Paths of all blobs (path, blob id, size) in a commit's tree.
  std::vector<IndexEntry> commit_tree_entries(const std::string& commit) const;

  git_repository* raw() const { return m_repo; }

private:
  explicit Repo(git_repository* repo) : m_repo(repo) {}
  git_repository* m_repo = nullptr;
};

// Throws dsm::Error with libgit2's last error message when rc < 0.
void check(int rc, const std::string& what);

} // namespace dsm::git

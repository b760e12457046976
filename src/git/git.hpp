// The libgit2 edge: every git_* object lives in a unique_ptr with a deleter,
// and every negative return becomes a dsm::Error carrying libgit2's message.
// Nothing outside src/git/ includes <git2.h>.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct git_repository;

struct stat;

namespace dsm::git {

namespace fs = std::filesystem;

struct Identity {
  std::string name;
  std::string email;
};

// One entry of the index (the staged state).
struct IndexEntry {
  std::string path;  // relative to the work tree, '/'-separated
  std::string oid;   // blob id, hex
  uint64_t size = 0; // blob size as recorded in the index
  uint32_t mode = 0; // git file mode (0100644, 0100755, 0120000, 0160000)
};

// A blob of HEAD's tree (see head_files_under()).
struct HeadFile {
  std::string path;            // relative to the work tree, '/'-separated
  std::array<uint8_t, 20> oid; // blob id, raw
};

// One path whose staged content differs from HEAD's (see staged_changes()).
struct StagedChange {
  enum class Kind { added, modified, deleted };
  Kind kind = Kind::added;
  std::string path;    // relative to the work tree, '/'-separated
  std::string oid;     // staged blob id, hex (empty when deleted)
  std::string old_oid; // HEAD's blob id, hex (empty when added)
  uint32_t mode = 0;   // staged mode (HEAD's when deleted)
};

// The first and last bytes of a blob, read without holding all of it in
// memory when the object database can stream it (loose objects, which is
// what `git add` writes).
struct BlobWindow {
  std::string head;
  std::string tail; // equals head when the blob fits in head + tail
  uint64_t size = 0;
  bool complete = false; // head holds the whole blob
};

// A blob reachable from recent history (see history_blobs()).
struct HistoryBlob {
  std::string path; // a path it had (the first seen, newest commits first)
  std::string oid;
  std::string commit; // the newest walked commit holding it at `path`
  uint32_t mode = 0;
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
  // Writes `key` in the repository's own config (.git/config: local, never
  // committed); nullopt removes it.
  void set_local_config(const std::string& key, const std::optional<std::string>& value) const;
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
  // The blobs under directory `prefix` in HEAD's tree, with their ids;
  // empty when HEAD or the directory is absent. Reads tree objects only (no
  // blob headers), or the index when its cache-tree holds HEAD's tree for
  // `prefix`: cheap for status on many files.
  std::vector<HeadFile> head_files_under(const std::string& prefix) const;
  // The paths among `files` (HEAD's, from head_files_under) whose content
  // in the work tree is not HEAD's, decided as `git status` does: a file
  // whose index entry has HEAD's id and still matches the file's stat data
  // (and is not racily clean) is unchanged without being read; any other
  // is hashed as git would (the repository's filters applied). Files
  // missing from the work tree are left out (the caller knows what exists).
  // stat_of, when given, answers lstat() for a path relative to the work
  // tree from what the caller already knows (mode, size, ino, mtime and
  // ctime are used); false means "not there".
  std::vector<std::string>
  differ_from_head(const std::vector<HeadFile>& files,
                   const std::function<bool(const std::string& path, struct ::stat& st)>& stat_of = {}) const;

  // The index file git is using: $GIT_INDEX_FILE when set (git sets it for
  // hooks during `git commit -a` and `git commit PATH...`), else the
  // repository's own index.
  fs::path index_path() const;
  // Blobs whose staged content differs from HEAD (everything staged on an
  // unborn branch), sorted by path. Cheap when little is staged: compares
  // the index's tree (built from git's cache-tree, so unchanged directories
  // cost nothing) with HEAD's tree, descending only into subtrees whose ids
  // differ. Submodules (gitlinks) are skipped.
  std::vector<StagedChange> staged_changes() const;
  // Blob id of `path` in the index, nullopt when not staged.
  std::optional<std::string> index_oid(const std::string& path) const;
  // Size of an object without reading it.
  uint64_t blob_size(const std::string& oid) const;
  BlobWindow blob_window(const std::string& oid, size_t head_bytes, size_t tail_bytes) const;
  // True when `path` (relative to the work tree, '/'-separated) matches one
  // of the git pathspecs (globs as `git ls-files -- SPEC` reads them).
  bool pathspec_matches(const std::vector<std::string>& specs, const std::string& path) const;
  // SHA-256 of a blob's bytes (lowercase hex), streamed when the object is
  // loose (a packed one is read whole, as libgit2 cannot stream it).
  std::string blob_sha256(const std::string& oid) const;
  // Every distinct blob reachable from the newest `commits` commits of HEAD,
  // each tree visited once however many commits share it, so a long history
  // of a big repository costs what its distinct trees cost.
  std::vector<HistoryBlob> history_blobs(size_t commits) const;

  git_repository* raw() const { return m_repo; }

private:
  explicit Repo(git_repository* repo) : m_repo(repo) {}
  git_repository* m_repo = nullptr;
};

// Throws dsm::Error with libgit2's last error message when rc < 0.
void check(int rc, const std::string& what);

// The id (hex) `git add` gives a blob of exactly these bytes, computed
// without a repository (no clean filter applied).
std::string blob_id(std::string_view content);

// True when `start` is inside a bare repository (no work tree: Repo::discover
// refuses it), e.g. a mirror pushing with a shared core.hooksPath.
bool in_bare_repository(const fs::path& start);

} // namespace dsm::git

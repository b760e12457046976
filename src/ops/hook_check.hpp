// The checks `dsm hook pre-commit` runs on the staged state (the index), and
// the pieces `dsm doctor` shares with it. What is checked (docs/hooks.md):
//   1. no staged file is an array payload, by configured extension or by
//      content (npy magic, zip naming .npy members), anywhere in the tree;
//   2. no staged file is larger than max_git_file_size;
//   3. the managed .gitignore block is present and intact (work tree, and the
//      staged .gitignore when it is part of the commit);
//   4. every manifest line the commit adds or changes and every staged
//      sidecar describes a payload present in the work tree with the
//      recorded size and SHA-256, and sidecars agree with the manifest.
// Only paths whose staged blob differs from HEAD's are looked at, so a commit
// that touches nothing of dsm's costs a config read and one tree comparison.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace dsm {

class Repository;
struct Config;

namespace git {
class Repo;
}

// One problem: the path it is about (relative to the work-tree root) and
// the full message line, which names the fix. (Not `Finding`: verify.hpp
// has one, and two classes of one name in namespace dsm break the ODR, which
// ASan saw as vector<Finding> code of one used on the other.)
struct HookFinding {
  std::string path;
  std::string message;
};

// Payload test shared by the hook and doctor: by extension (case-insensitive,
// config's payload extensions) and, when the blob is given, by content.
bool is_payload_extension(const Config& config, const std::string& path);

// Runs the pre-commit checks for the git work tree around `start`. Without
// .dsm/config.yaml (dsm not initialised there), checks 1 and 2 still run
// with the default configuration; 3 and 4 need a dsm repository.
std::vector<HookFinding> check_staged(const std::filesystem::path& start);
std::vector<HookFinding> check_staged(const Repository& repo);

// Names the stored version whose payload holds exactly a blob's bytes
// ("features@1"), or nullopt: the advice for a staged copy of a version is
// to delete or ignore it, not to store it again.
using StoredVersionOf = std::function<std::optional<std::string>(const std::string& oid, uint64_t size)>;

// Where the blob is: staged for the next commit, or committed already (doctor
// looks at the whole index); the advice differs.
enum class BlobState { staged, committed };

// The staged payload test for one blob (by extension, size, content), used by
// check_staged and doctor's index check. Appends findings. A path the
// config's `allow` pathspecs match is accepted (a test fixture).
void check_blob(const git::Repo& git, const Config& config, const std::string& path, const std::string& oid,
                uint32_t mode, std::vector<HookFinding>& out, const StoredVersionOf& stored_version = {},
                BlobState state = BlobState::staged);

} // namespace dsm

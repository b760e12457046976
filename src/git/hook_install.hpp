// dsm's pre-commit hook: installing the shim (templates/pre-commit, embedded
// at build time) and knowing whether it is installed and current. The checks
// the hook runs are in dsm/hook_check.hpp.
//
// Installation rules (docs/hooks.md):
// - no hook yet: install dsm's shim;
// - dsm's own shim, any version: upgrade in place (a chained hook stays);
// - someone else's hook: move it to pre-commit.dsm-chained beside the hook
//   and install the shim, which runs it first (both must pass); with
//   Force::yes, replace it instead (it is kept as pre-commit.dsm-backup, not
//   run).
// The hooks directory comes from libgit2: core.hooksPath when set (relative
// to the work tree root), else the common git dir's hooks/ (shared by every
// worktree of a repository).
#pragma once

#include <filesystem>
#include <string>

namespace dsm {

namespace git {
class Repo;
}

// Version of the hook the binary carries (the template's
// "# dsm-hook-version: N" line).
int current_hook_version();
// The shim's text.
const char* hook_template();

enum class HookForce { no, yes };

struct HookInstallResult {
  enum class Action {
    installed, // there was no hook
    upgraded,  // an older dsm hook was rewritten
    unchanged, // dsm's current hook was already there
    chained,   // a foreign hook was kept as chained_path and runs first
    replaced,  // a foreign hook was replaced (Force::yes), kept as backup_path
  };
  Action action = Action::installed;
  std::filesystem::path hook_path;
  std::filesystem::path chained_path; // set when a chained hook exists
  std::filesystem::path backup_path;  // set for replaced
  int old_version = 0;                // for upgraded
};

// Installs or upgrades the hook. Throws dsm::Error (exit 2) when a foreign
// hook cannot be chained because pre-commit.dsm-chained already exists
// (suggesting --force), or on I/O errors.
HookInstallResult install_hook(const git::Repo& repo, HookForce force);
// The same for the git work tree containing `start` (for `dsm init`).
HookInstallResult install_hook(const std::filesystem::path& start, HookForce force);

// One line for the user describing what install_hook did, e.g.
// "installed pre-commit hook '/r/.git/hooks/pre-commit'".
std::string describe(const HookInstallResult& result);

struct HookStatus {
  enum class State {
    missing,        // no pre-commit hook
    current,        // dsm's hook, this binary's version, executable
    outdated,       // dsm's hook, older (or newer) version
    foreign,        // someone else's hook, dsm's not installed
    not_executable, // dsm's hook without its executable bit: git skips it
  };
  State state = State::missing;
  std::filesystem::path hook_path;
  int version = 0;   // of the installed dsm hook
  bool chained = false;
};

HookStatus hook_status(const git::Repo& repo);

// Parses "# dsm-hook-version: N" from a hook's text: N, 0 for dsm's
// unversioned first shim, -1 when the text is not dsm's hook.
int parse_hook_version(const std::string& text);

} // namespace dsm

// dsm's git hooks, pre-commit and pre-push: installing the shims
// (templates/pre-commit and templates/pre-push, embedded at build time) and
// knowing whether they are installed and current. The checks the hooks run
// are in ops/hook_check.hpp (pre-commit) and ops/pre_push.hpp (pre-push).
//
// Installation rules, the same for both hooks (docs/hooks.md), for HOOK
// being "pre-commit" or "pre-push":
// - no hook yet: install dsm's shim;
// - dsm's own shim, any version: upgrade in place (a chained hook stays);
// - someone else's hook: move it to HOOK.dsm-chained beside the hook and
//   install the shim, which runs it first (both must pass); with
//   Force::yes, replace it instead (it is kept as HOOK.dsm-backup, not
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

// The hooks dsm installs.
enum class Hook { pre_commit, pre_push };
inline constexpr Hook k_hooks[] = {Hook::pre_commit, Hook::pre_push};
// Its file name in the hooks directory: "pre-commit", "pre-push".
const char* hook_name(Hook hook);

// Version of the hook the binary carries (the template's
// "# dsm-hook-version: N" line).
int current_hook_version(Hook hook);
// The shim's text.
const char* hook_template(Hook hook);

enum class HookForce { no, yes };

struct HookInstallResult {
  Hook hook = Hook::pre_commit;
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
// hook cannot be chained because HOOK.dsm-chained already exists
// (suggesting --force), or on I/O errors.
HookInstallResult install_hook(const git::Repo& repo, Hook hook, HookForce force);

// One line for the user describing what install_hook did, e.g.
// "installed pre-commit hook '/r/.git/hooks/pre-commit'".
std::string describe(const HookInstallResult& result);

struct HookStatus {
  Hook hook = Hook::pre_commit;
  enum class State {
    missing,        // no such hook
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

HookStatus hook_status(const git::Repo& repo, Hook hook);

// Parses "# dsm-hook-version: N" from a hook's text: N, 0 for dsm's
// unversioned first pre-commit shim, -1 when the text is not dsm's hook.
int parse_hook_version(const std::string& text);

} // namespace dsm

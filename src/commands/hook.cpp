// dsm hook install [--force] | dsm hook pre-commit: the git pre-commit hook.
// The logic lives in src/git/hook_install.cpp and src/ops/hook_check.cpp.
#include "commands/commands.hpp"
#include "dsm/error.hpp"
#include "git/hook_install.hpp"
#include "ops/hook_check.hpp"
#include "git/git.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

namespace dsm {

namespace {

struct HookOptions {
  bool force = false;
};

void run_hook_install(Context& ctx, const HookOptions& opts) {
  git::Repo repo = git::Repo::discover(ctx.work_dir);
  HookInstallResult r = install_hook(repo, opts.force ? HookForce::yes : HookForce::no);
  // A chained or replaced hook is news the user must see even with -q.
  bool always = r.action == HookInstallResult::Action::chained || r.action == HookInstallResult::Action::replaced;
  if (!ctx.quiet || always) {
    std::cerr << "dsm: " << describe(r) << "\n";
  }
}

void run_hook_pre_commit(Context& ctx) {
  std::vector<HookFinding> findings = check_staged(ctx.work_dir);
  if (findings.empty()) {
    return; // silent, as git hooks should be when all is well
  }
  std::cerr << "dsm: the pre-commit hook refused this commit:\n";
  for (const auto& f : findings) {
    std::cerr << "  " << f.message << "\n";
  }
  std::cerr.flush();
  throw Error(std::to_string(findings.size()) + (findings.size() == 1 ? " problem" : " problems") +
                  " found; fix them, or bypass this check once with 'git commit --no-verify'",
              k_exit_problems);
}

} // namespace

void register_hook(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<HookOptions>();
  CLI::App* hook = app.add_subcommand("hook", "Install or run dsm's git pre-commit hook");
  hook->require_subcommand(1);
  hook->footer(exit_status_help("hook", "the commit is refused (pre-commit)"));

  CLI::App* install = hook->add_subcommand("install", "Install or upgrade dsm's pre-commit hook");
  install->footer(
    "Installs (or upgrades) dsm's pre-commit hook in the hooks directory git uses\n"
    "(core.hooksPath when set; shared by all worktrees). An existing hook of another\n"
    "tool is kept as pre-commit.dsm-chained and run first: both must pass. dsm's own\n"
    "hook, of any version, is upgraded in place. 'dsm init' runs this too.\n\n" +
    exit_status_help("hook"));
  install->add_flag("--force", opts->force,
                    "Replace another tool's hook instead of chaining it (it is saved as pre-commit.dsm-backup)");
  install->callback([&ctx, opts] { run_hook_install(ctx, *opts); });

  CLI::App* pre_commit = hook->add_subcommand("pre-commit", "Check the staged state (run by the hook)");
  pre_commit->footer(
    "Checks the staged state before a commit (run by the hook; see docs/hooks.md):\n"
    "no array payload staged (by extension or content, anywhere), no file over\n"
    "max_git_file_size, the managed .gitignore block intact, and every manifest line\n"
    "and sidecar the commit adds or changes matching its payload (size, SHA-256).\n"
    "Prints one line per problem, naming the file and the fix. Silent when all is well.\n"
    "Bypass once with 'git commit --no-verify'.\n\n" +
    exit_status_help("hook", "the commit is refused (the reasons are printed)"));
  pre_commit->allow_extras(); // git passes no arguments, but future hooks might
  pre_commit->callback([&ctx] { run_hook_pre_commit(ctx); });
}

} // namespace dsm

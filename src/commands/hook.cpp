// dsm hook install [--force] | dsm hook pre-commit | dsm hook pre-push: the
// git hooks. The logic lives in src/git/hook_install.cpp (install),
// src/ops/hook_check.cpp (pre-commit) and src/ops/pre_push.cpp (pre-push).
#include "commands/commands.hpp"
#include "dsm/error.hpp"
#include "git/hook_install.hpp"
#include "ops/hook_check.hpp"
#include "ops/pre_push.hpp"
#include "git/git.hpp"
#include "remote/transfer.hpp"
#include "repo/repository.hpp"

#include <CLI/CLI.hpp>

#include <iostream>
#include <system_error>

namespace dsm {

namespace {

struct HookOptions {
  bool force = false;
  std::string git_remote; // pre-push: REMOTE URL, as git passes them
  std::string git_url;
};

void run_hook_install(Context& ctx, const HookOptions& opts) {
  git::Repo repo = git::Repo::discover(ctx.work_dir);
  for (Hook h : k_hooks) {
    HookInstallResult r = install_hook(repo, h, opts.force ? HookForce::yes : HookForce::no);
    // A chained or replaced hook is news the user must see even with -q.
    bool always =
      r.action == HookInstallResult::Action::chained || r.action == HookInstallResult::Action::replaced;
    if (!ctx.quiet || always) {
      std::cerr << "dsm: " << describe(r) << "\n";
    }
  }
}

constexpr const char* k_push_bypass = "bypass this check once with 'git push --no-verify'";

// git runs it as `pre-push REMOTE URL` with the refs on stdin; REMOTE and
// URL name the git remote, not dsm's: payloads go to dsm's default remote.
void run_hook_pre_push(Context& ctx) {
  std::vector<PushedRef> refs = parse_pre_push_input(std::cin);
  if (git::in_bare_repository(ctx.work_dir)) {
    return; // no work tree, so no payloads here to upload (a mirror, a shared core.hooksPath)
  }
  git::Repo git = git::Repo::discover(ctx.work_dir);
  std::error_code ec;
  if (!fs::exists(git.work_tree() / k_config_file, ec)) {
    return; // not a dsm repository (yet): no payloads to send
  }
  SyncOptions o;
  o.progress = ctx.stderr_is_tty && !ctx.quiet;
  PrePushReport r;
  try {
    std::unique_ptr<Repository> repo = Repository::open(git.work_tree()); // an invalid config refuses too
    o.work_dir = repo->root();
    r = pre_push(*repo, refs, o);
    throw_if_failed(r.transfer, "pushing");
  } catch (const Error& e) {
    if (e.exit_code() == k_exit_interrupted) {
      throw;
    }
    std::cerr << "dsm: the pre-push hook refused this push: the payloads its commits reference could not "
                 "all be uploaded to dsm's remote first, so the commits would reach the git remote without "
                 "their data\n";
    for (const std::string& p : e.problems()) {
      std::cerr << "  " << p << "\n";
    }
    std::cerr.flush();
    throw Error(std::string(e.what()) + "; fix that and push again (dsm push uploads by hand), or " +
                  k_push_bypass,
                k_exit_problems);
  }
  if (r.pushed && r.transfer.done > 0 && !ctx.quiet) {
    std::cerr << "dsm: uploaded " << r.transfer.done << " payload" << (r.transfer.done == 1 ? "" : "s") << " ("
              << remote::human_bytes(r.transfer.bytes) << ") to " << r.transfer.store
              << " before the push\n";
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
  CLI::App* hook = app.add_subcommand("hook", "Install or run dsm's git hooks (pre-commit, pre-push)");
  hook->require_subcommand(1);
  hook->footer(exit_status_help("hook", "the commit or push is refused (pre-commit, pre-push)"));

  CLI::App* install = hook->add_subcommand("install", "Install or upgrade dsm's pre-commit and pre-push hooks");
  install->footer(
    "Installs (or upgrades) dsm's pre-commit and pre-push hooks in the hooks directory\n"
    "git uses (core.hooksPath when set; shared by all worktrees). An existing hook of\n"
    "another tool is kept as HOOK.dsm-chained and run first: both must pass. dsm's own\n"
    "hooks, of any version, are upgraded in place. 'dsm init' runs this too.\n\n" +
    exit_status_help("hook"));
  install->add_flag("--force", opts->force,
                    "Replace another tool's hooks instead of chaining them (saved as HOOK.dsm-backup)");
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

  CLI::App* pre_push = hook->add_subcommand("pre-push", "Upload what a git push needs first (run by the hook)");
  pre_push->footer(
    "Reads git's pre-push input on stdin ('<local ref> <local id> <remote ref> <remote id>'\n"
    "lines) and uploads to dsm's default remote the payloads listed by the manifests of\n"
    "the commits being pushed (those no remote-tracking ref has yet), as 'dsm push' would.\n"
    "Refuses the push (exit 1) when there is no dsm remote, it cannot be reached, or a\n"
    "payload is missing here and on the remote. Deleting a ref uploads nothing. Silent\n"
    "when there is nothing to upload. Bypass once with 'git push --no-verify'.\n"
    "See docs/hooks.md.\n\n" +
    exit_status_help("hook", "the push is refused (the reasons are printed)"));
  // git passes the git remote's name and URL: accepted, not used (payloads
  // go to dsm's default remote).
  pre_push->add_option("REMOTE", opts->git_remote, "The git remote's name (from git; not used)");
  pre_push->add_option("URL", opts->git_url, "The git remote's URL (from git; not used)");
  pre_push->callback([&ctx] { run_hook_pre_push(ctx); });
}

} // namespace dsm

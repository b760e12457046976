// dsm init [--data-dir DIR]: make the git work tree a dsm repository.
#include "commands/commands.hpp"
#include "git/git.hpp"
#include "git/hook_install.hpp"
#include "dsm/error.hpp"
#include "ops/init.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

namespace dsm {

namespace {

struct InitCliOptions {
  std::string data_dir;
  bool json = false;
};

// The hook's `action` in --json (docs/guide.md, "dsm init --json").
const char* hook_action_key(HookInstallResult::Action action) {
  switch (action) {
  case HookInstallResult::Action::installed:
    return "installed";
  case HookInstallResult::Action::upgraded:
    return "upgraded";
  case HookInstallResult::Action::unchanged:
    return "unchanged";
  case HookInstallResult::Action::chained:
    return "chained";
  case HookInstallResult::Action::replaced:
    return "replaced";
  }
  return "";
}

// --json's `hooks`: one {hook, action, path} per hook, in install order;
// `framework` is the pre-commit framework's hook left as it is.
nlohmann::json hooks_json(const std::vector<HookInstallResult>& hooks, const fs::path* framework) {
  nlohmann::json out = nlohmann::json::array();
  if (framework != nullptr) {
    out.push_back({{"hook", hook_name(Hook::pre_commit)}, {"action", "framework"}, {"path", framework->string()}});
  }
  for (const HookInstallResult& h : hooks) {
    out.push_back({{"hook", hook_name(h.hook)}, {"action", hook_action_key(h.action)}, {"path", h.hook_path.string()}});
  }
  return out;
}

void run_init(Context& ctx, const InitCliOptions& opts) {
  InitOptions o;
  if (!opts.data_dir.empty()) {
    o.data_dir = opts.data_dir;
  }
  InitResult r = init_repository(ctx.work_dir, o);
  // The pre-commit hook keeps payloads out of commits; the pre-push hook
  // uploads the payloads pushed commits reference (the git layer installs).
  // A pre-commit framework hook that runs dsm's check already is left as it
  // is: chaining it would run the check twice.
  git::Repo git = git::Repo::discover(r.root);
  const bool framework = framework_hook_runs_dsm(git);
  std::vector<HookInstallResult> hooks;
  bool hooks_changed = false;
  for (Hook h : k_hooks) {
    if (h == Hook::pre_commit && framework) {
      continue;
    }
    hooks.push_back(install_hook(git, h, HookForce::no));
    hooks_changed = hooks_changed || hooks.back().action != HookInstallResult::Action::unchanged;
  }
  const fs::path framework_hook = git.hooks_dir() / hook_name(Hook::pre_commit);
  bool changed = r.changed_gitignore || r.created_manifest || r.created_data_dir || r.changed_gitattributes ||
                 r.configured_merge_driver || r.fixed_line_endings || hooks_changed;
  if (opts.json) {
    std::cout << nlohmann::json{{"root", r.root.string()},
                                {"data_dir", r.data_dir.string()},
                                {"state", r.created ? "initialised" : changed ? "repaired" : "unchanged"},
                                {"changed_gitignore", r.changed_gitignore},
                                {"changed_gitattributes", r.changed_gitattributes},
                                {"configured_merge_driver", r.configured_merge_driver},
                                {"fixed_line_endings", r.fixed_line_endings},
                                {"hooks", hooks_json(hooks, framework ? &framework_hook : nullptr)}}
                   .dump(2)
              << "\n";
    return;
  }
  if (ctx.quiet) {
    return; // -q: nothing but errors
  }
  if (r.created) {
    std::cout << "initialised dsm repository in " << r.root.string() << "\n";
  } else if (changed) {
    std::cout << "repaired dsm repository in " << r.root.string() << "\n";
  } else {
    std::cout << "dsm repository in " << r.root.string() << " is already initialised; nothing changed\n";
  }
  std::cout.flush(); // before the hook lines on stderr, as a terminal shows them
  if (framework) {
    std::cerr << "pre-commit hook " << quote(framework_hook.string())
              << " is the pre-commit framework's and runs dsm's check (.pre-commit-config.yaml); left as it is\n";
  }
  for (const HookInstallResult& hook : hooks) {
    std::cerr << describe(hook) << "\n";
  }
  std::cout << "data directory: " << r.data_dir.string() << "\n";
  if (r.changed_gitignore) {
    std::cout << "updated " << (r.root / ".gitignore").string() << " (payloads stay out of git)\n";
  }
  if (r.changed_gitattributes) {
    std::cout << "updated " << (r.root / ".gitattributes").string()
              << " (manifest and sidecars keep LF; the manifest merges with 'dsm merge-driver')\n";
  }
  if (r.configured_merge_driver) {
    std::cout << "set merge.dsm.driver in .git/config (merges of the manifest keep both sides' versions)\n";
  }
  if (r.fixed_line_endings) {
    std::cout << "rewrote the manifest with LF line endings\n";
  }
}

} // namespace

void register_init(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<InitCliOptions>();
  CLI::App* sub = app.add_subcommand(
    "init", "Make the git work tree around the current directory a dsm repository.\n"
            "Creates .dsm/config.yaml, the data directory with its manifest-sha256.txt,\n"
            "a managed block in the root .gitignore that keeps payloads out of git, one in\n"
            ".gitattributes (manifest and sidecars keep LF; the manifest merges with dsm's\n"
            "merge driver), merge.dsm.driver in .git/config, and the git hooks.\n"
            "Run it first in every fresh clone: .git/config is not cloned.\n"
            "Running it again changes nothing; a hand-edited .gitignore block is repaired.");
  sub->add_option("--data-dir", opts->data_dir,
                  "Data directory (default: data), relative to the current directory; must be inside the "
                  "work tree, not its root, and hold no tracked source files")
    ->type_name("DIR");
  sub->add_flag("--json", opts->json,
                "Print one JSON object: {root, data_dir, state, changed_gitignore, changed_gitattributes, "
                "configured_merge_driver, fixed_line_endings, hooks: [{hook, action, path}]}");
  sub->footer(exit_status_help("init"));
  sub->callback([&ctx, opts] { run_init(ctx, *opts); });
}

} // namespace dsm

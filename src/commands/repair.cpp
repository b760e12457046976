// dsm repair [--dry-run]: clean up after interrupted writes.
#include "commands/commands.hpp"
#include "dsm/error.hpp"
#include "util/interrupt.hpp"
#include "repo/lock.hpp"
#include "ops/repair.hpp"
#include "repo/repository.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

namespace dsm {

namespace {

struct RepairCliOptions {
  bool dry_run = false;
  bool json = false;
};

// The `action` key of --json (docs/guarantees.md, "dsm repair --json").
const char* action_key(RepairAction::Kind kind) {
  switch (kind) {
  case RepairAction::Kind::removed_temp:
    return "removed_temp";
  case RepairAction::Kind::rolled_back:
    return "rolled_back";
  case RepairAction::Kind::completed:
    return "completed";
  case RepairAction::Kind::set_aside:
    return "set_aside";
  case RepairAction::Kind::made_read_only:
    return "made_read_only";
  case RepairAction::Kind::left_alone:
    return "left_alone";
  case RepairAction::Kind::kept:
    return "kept";
  }
  return "";
}

void run_repair(Context& ctx, const RepairCliOptions& opts) {
  RepairOptions ro;
  ro.dry_run = opts.dry_run;
  ro.timeout = lock_timeout_from_env();
  RepairReport r = repair(*ctx.repo, ro);
  if (opts.json) {
    nlohmann::json actions = nlohmann::json::array();
    for (const auto& a : r.actions) {
      actions.push_back({{"action", action_key(a.kind)},
                         {"path", a.path.string()},
                         {"to", a.to ? nlohmann::json(a.to->string()) : nlohmann::json(nullptr)},
                         {"detail", a.detail}});
    }
    std::cout << nlohmann::json{{"dry_run", opts.dry_run}, {"actions", actions}, {"left_alone", r.left_alone()}}.dump(2)
              << "\n";
  } else {
    for (const auto& a : r.actions) {
      std::cout << format_action(a, opts.dry_run) << "\n";
    }
    if (r.actions.empty() && !ctx.quiet) {
      std::cout << "nothing to repair\n";
    }
  }
  if (size_t n = r.left_alone()) {
    std::cout.flush();
    throw Error(std::to_string(n) + (n == 1 ? " file needs" : " files need") + " a decision only you can make (see above)",
                k_exit_problems);
  }
}

} // namespace

void register_repair(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<RepairCliOptions>();
  CLI::App* sub = app.add_subcommand(
    "repair",
    "Clean up after interrupted writes (a crash or kill -9 in the middle of 'dsm add').\n"
    "Waits until no 'dsm add' is running, then, in the data directory:\n"
    "  - removes leftover temporary files (.dsm-tmp-*);\n"
    "  - rolls back an unfinished add (payload and sidecar, no manifest line) when the\n"
    "    source recorded in its sidecar still holds the same bytes; when the source is\n"
    "    gone or changed the payload is the only copy, so the add is completed instead;\n"
    "  - moves a payload of an unfinished add that has no sidecar to .dsm/local/orphans/\n"
    "    (nothing records its source, so it is kept, never deleted);\n"
    "  - makes a stored payload whose permissions were widened read-only again, when its\n"
    "    bytes still match the manifest (a changed one is left alone: see 'dsm verify').\n"
    "Never changes the content of a payload or sidecar the manifest lists. Files it cannot decide about\n"
    "(placed by hand, symlinks, sidecars without a payload) are left alone and reported.\n"
    "Prints one line per action with the absolute path. Policy: docs/guarantees.md.");
  sub->add_flag("-n,--dry-run", opts->dry_run, "Print what would be done; change nothing");
  sub->add_flag("--json", opts->json,
                "Print one JSON object: {dry_run, left_alone, actions: [{action, path, to, detail}]}");
  sub->footer("ENVIRONMENT\n  DSM_LOCK_TIMEOUT  seconds to wait for running dsm commands (default 30)\n\n" +
              exit_status_help("repair", "some files were left alone for you to decide (listed above)"));
  sub->callback([&ctx, opts] { run_repair(ctx, *opts); });
}

} // namespace dsm

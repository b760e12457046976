// dsm status: what changed in the data directory.
#include "commands/commands.hpp"
#include "dsm/error.hpp"
#include "dsm/interrupt.hpp"
#include "dsm/repository.hpp"
#include "dsm/status.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

namespace dsm {

namespace {

struct StatusCliOptions {
  bool json = false;
  bool check = false;
};

void section(const char* title, const std::vector<fs::path>& paths) {
  if (paths.empty()) {
    return;
  }
  std::cout << title << "\n";
  for (const auto& p : paths) {
    std::cout << "  " << p.string() << "\n";
  }
}

void run_status(Context& ctx, const StatusCliOptions& opts) {
  install_interrupt_handlers();
  StatusReport r = status(*ctx.repo);
  if (opts.json) {
    std::cout << to_json(r).dump(2) << "\n";
  } else {
    std::cout << "data directory " << ctx.repo->data_dir().string() << ": " << r.payloads
              << (r.payloads == 1 ? " payload" : " payloads") << " in the manifest\n";
    section("new payloads, not in the manifest (dsm add them, or delete them):", r.untracked);
    section("missing payloads (listed in the manifest, not on disk):", r.missing);
    section("changed since added or last verified (run 'dsm verify'):", r.changed);
    section("not committed to git (git add + git commit them):", r.uncommitted);
    section("leftover temporary files of interrupted writes (safe to delete):", r.temp);
    if (r.clean()) {
      std::cout << "nothing to report: payloads match the manifest, sidecars are committed\n";
    }
  }
  if (opts.check && !r.clean()) {
    std::cout.flush();
    throw Error("the data directory has changes", k_exit_problems);
  }
}

} // namespace

void register_status(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<StatusCliOptions>();
  CLI::App* sub = app.add_subcommand(
    "status", "Show what changed in the data directory, like 'git status' for data:\n"
              "new (untracked) payloads, missing payloads, payloads whose size or mtime changed\n"
              "since they were added or last verified, sidecars and manifest not yet committed,\n"
              "and leftover temp files. Fast: payloads are hashed only when dsm has no cached\n"
              "state for them (the first run after a clone).");
  sub->add_flag("--json", opts->json, "Print one JSON object");
  sub->add_flag("--check", opts->check, "Exit 1 when there is anything to report");
  sub->footer(exit_status_help());
  sub->callback([&ctx, opts] { run_status(ctx, *opts); });
}

} // namespace dsm

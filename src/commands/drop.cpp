// dsm drop TARGET... | --all [--remote R] [--force] [--dry-run] [--json]:
// options and output; the work is ops/drop.cpp.
#include "ops/drop.hpp"
#include "commands/commands.hpp"
#include "remote/transfer.hpp"
#include "repo/repository.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

namespace dsm {

namespace {

struct DropCliOptions {
  DropOptions drop;
  bool json = false;
};

void run_drop(Context& ctx, DropCliOptions& cli) {
  cli.drop.work_dir = ctx.work_dir;
  DropReport r = drop(*ctx.repo, cli.drop);
  const bool dry = cli.drop.dry_run;
  if (cli.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const DroppedPayload& d : r.dropped) {
      nlohmann::json e = {
          {"path", d.path.string()}, {"sha256", d.sha256}, {"size", d.size}, {"verified", d.verified}};
      if (!d.verified) {
        e["why_not"] = d.why_not;
      }
      list.push_back(e);
    }
    std::cout << nlohmann::json{{"dry_run", dry},
                                {"remote", r.remote},
                                {"dropped", list},
                                {"already_absent", r.absent},
                                {"bytes_freed", r.bytes}}
                     .dump(2)
              << "\n";
    return;
  }
  for (const DroppedPayload& d : r.dropped) {
    std::cout << (dry ? "would drop " : "dropped ") << d.path.string()
              << (d.verified ? "" : "  (--force: no verified copy: " + d.why_not + ")") << "\n";
  }
  if (!ctx.quiet) {
    std::cout << (dry ? "would free " : "freed ") << remote::human_bytes(r.bytes) << " (" << r.dropped.size()
              << (r.dropped.size() == 1 ? " payload" : " payloads")
              << (r.store.empty() ? "" : ", held by " + r.store) << "; " << r.absent << " already absent)\n";
  }
}

} // namespace

void register_drop(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<DropCliOptions>();
  CLI::App* sub = app.add_subcommand(
      "drop", "Delete local payload copies that a remote verifiably holds, to free disk.\n"
              "Each payload must be on the remote with its size and SHA-256: a directory remote\n"
              "hashes its object in place, an S3 object is downloaded and hashed (nothing is\n"
              "trusted from a listing alone). If any selected payload has no verified copy, nothing\n"
              "is deleted and each one that would be lost is named (exit 1); --force deletes anyway.\n"
              "The manifest and sidecars stay: the version still exists, on the remote. 'dsm verify'\n"
              "and 'dsm status' report it as DROPPED (not here, on remote R) and exit 0;\n"
              "'dsm verify --strict' requires presence; 'dsm pull' brings it back.");
  sub->add_option("TARGET", o->drop.targets,
                  "Dataset NAME (every version), NAME@VERSION, or a path in the data directory");
  sub->add_flag("--all", o->drop.all, "Every payload in the manifest");
  sub->add_option("--remote", o->drop.remote,
                  "Remote that must hold the payloads (default: the default remote)")
      ->type_name("NAME");
  sub->add_flag(
      "--force", o->drop.force,
      "Delete even payloads no remote verifiably holds (they are lost unless another clone has them)");
  sub->add_flag("-n,--dry-run", o->drop.dry_run,
                "Check the remote and print what would be dropped; delete nothing");
  sub->add_option("--jobs,-j", o->drop.jobs, "Parallel checks")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  sub->add_flag("--json", o->json,
                "Print one JSON object (dry_run, remote, dropped, already_absent, bytes_freed)");
  sub->footer("See docs/guide.md, \"Freeing disk\", and docs/guarantees.md.\n\n" +
              exit_status_help(
                  "drop", "some payloads have no verified copy on the remote (named); nothing was deleted"));
  sub->callback([&ctx, o] { run_drop(ctx, *o); });
}

} // namespace dsm

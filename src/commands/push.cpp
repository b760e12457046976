// dsm push [TARGET...] [--remote NAME] [--jobs N]: options and output; the
// work is ops/sync.cpp (push).
#include "commands/commands.hpp"
#include "commands/transfer.hpp"
#include "repo/repository.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

namespace dsm {

namespace {

void run_push(Context& ctx, const TransferCliOptions& cli) {
  SyncOptions o = sync_options(ctx, cli);
  if (!ctx.quiet) {
    o.note = [](const std::string& note) { std::cerr << "dsm: " << note << "\n"; };
  }
  finish_transfer(ctx, push(*ctx.repo, o), "push", cli.json);
}

} // namespace

void register_push(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<TransferCliOptions>();
  CLI::App* sub = app.add_subcommand("push", "Upload payloads the remote does not hold yet");
  add_transfer_options(sub, *o, "push", "to");
  sub->add_flag("--force", o->sync.force,
                "Also replace objects the remote holds that fail verification (a directory remote re-hashes\n"
                "each; an S3 remote cannot, so every selected object is sent again), from a local copy\n"
                "verified first");
  sub->footer("Each payload's SHA-256 is checked against the manifest as it is sent; a corrupt payload is\n"
              "never pushed. Already-present objects are skipped, so an interrupted push resumes where it\n"
              "stopped. A payload that is a symlink is never read. See docs/sharing.md.\n\n" +
              exit_status_help("push", "a local payload no longer matches the manifest (it is not pushed)"));
  sub->callback([&ctx, o] { run_push(ctx, *o); });
}

} // namespace dsm

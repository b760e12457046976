// dsm pull [TARGET...] [--remote NAME] [--jobs N]: options and output; the
// work is ops/sync.cpp (pull).
#include "commands/commands.hpp"
#include "commands/transfer.hpp"
#include "repo/repository.hpp"

#include <CLI/CLI.hpp>

namespace dsm {

namespace {

void run_pull(Context& ctx, const TransferCliOptions& cli) {
  SyncOptions o = sync_options(ctx, cli);
  finish_transfer(ctx, pull(*ctx.repo, o), "pull", cli.json);
}

} // namespace

void register_pull(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<TransferCliOptions>();
  CLI::App* sub = app.add_subcommand("pull", "Download payloads that are missing locally");
  add_transfer_options(sub, *o, "pull", "from");
  sub->footer("Every download is checked against its SHA-256 before it is renamed into place (read-only);\n"
              "a corrupt object is refused and nothing is written. Payloads already present are checked\n"
              "and kept, so an interrupted pull resumes. See docs/sharing.md.\n\n" +
              exit_status_help("pull", "a payload is corrupt, on the remote or here (the others are still pulled)"));
  sub->callback([&ctx, o] { run_pull(ctx, *o); });
}

} // namespace dsm

// dsm merge-driver BASE OURS THEIRS [PATH]: git's merge driver for the
// manifest (.gitattributes `merge=dsm`, .git/config merge.dsm.driver, both
// written by `dsm init`). The merge itself is in src/ops/merge.cpp.
#include "commands/commands.hpp"
#include "ops/merge.hpp"

#include <CLI/CLI.hpp>

namespace dsm {

namespace {

struct MergeDriverOptions {
  std::string base;
  std::string ours;
  std::string theirs;
  std::string path;
};

} // namespace

void register_merge_driver(CLI::App& app, Context& /*ctx*/) {
  auto opts = std::make_shared<MergeDriverOptions>();
  CLI::App* sub = app.add_subcommand("merge-driver", "Merge two versions of the manifest (run by git)");
  sub->add_option("BASE", opts->base, "The common ancestor's manifest (git's %O)")->required();
  sub->add_option("OURS", opts->ours, "Our manifest; the result is written here (git's %A)")->required();
  sub->add_option("THEIRS", opts->theirs, "Their manifest (git's %B)")->required();
  sub->add_option("PATH", opts->path, "The manifest's path in the work tree, for messages (git's %P)");
  sub->footer("git runs this for the manifest during a merge, rebase, cherry-pick or stash pop\n"
              "('dsm init' sets it up: .gitattributes 'merge=dsm' and merge.dsm.driver in\n"
              ".git/config). It merges by path: a line on one side only is kept, the same\n"
              "line on both sides is one line, and the result is sorted. Two different payloads\n"
              "at one path (the same NAME, day and number added on two branches) are a conflict:\n"
              "ours is kept in the manifest, and 'dsm resolve' keeps both under different\n"
              "numbers. See docs/sharing.md, \"Branches and merges\".\n\n" +
              exit_status_help("merge-driver", "a conflict: versions differ on the two sides (ours is kept; run 'dsm resolve')"));
  sub->callback([opts] { run_merge_driver(opts->base, opts->ours, opts->theirs, opts->path); });
}

} // namespace dsm

// dsm resolve: keep both versions two branches added (src/ops/resolve.cpp).
#include "commands/commands.hpp"
#include "dsm/error.hpp"
#include "ops/resolve.hpp"
#include "repo/lock.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

namespace dsm {

void register_resolve(CLI::App& app, Context& ctx) {
  CLI::App* sub = app.add_subcommand("resolve", "Keep every version after a merge: renumber colliding versions");
  sub->footer(
    "Run after a merge, rebase, cherry-pick or stash pop that touched the manifest\n"
    "(safe any time; it does nothing when nothing collides). An unmerged manifest is\n"
    "merged by path. Two different payloads claiming one NAME@N (the same file name,\n"
    "or the same number on different days) are both kept: the one merged in later\n"
    "takes the next free number, and its sidecar, manifest line and local payload\n"
    "move with it. A committed sidecar whose manifest line was lost gets it back.\n"
    "Everything it writes is staged: finish with 'git commit'. Remotes need no change.\n\n" +
    exit_status_help("resolve", "unmerged files need a decision only you can make"));
  sub->callback([&ctx] {
    ResolveOptions o;
    o.timeout = lock_timeout_from_env();
    ResolveReport r = resolve(*ctx.repo, o);
    for (const std::string& line : r.done) {
      std::cout << line << "\n";
    }
    if (r.done.empty() && r.manual.empty() && !ctx.quiet) {
      std::cout << "nothing to resolve\n";
    }
    if (!r.staged.empty() && !ctx.quiet) {
      std::cout << "staged " << r.staged.size() << (r.staged.size() == 1 ? " file" : " files")
                << "; finish with 'git commit'\n";
    }
    if (!r.manual.empty()) {
      for (const std::string& p : r.manual) {
        std::cout << "still unmerged: " << quote(p) << " (edit it, then 'git add' it)\n";
      }
      std::cout.flush();
      throw Error(std::to_string(r.manual.size()) + " unmerged file" + (r.manual.size() == 1 ? "" : "s") +
                      " need a decision only you can make (see above)",
                  k_exit_problems);
    }
  });
}

} // namespace dsm

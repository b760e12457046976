// dsm verify [TARGET...]: prove the payloads are intact.
#include "commands/commands.hpp"
#include "ops/sync.hpp"
#include "dsm/error.hpp"
#include "util/interrupt.hpp"
#include "util/progress.hpp"
#include "repo/repository.hpp"
#include "ops/verify.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

namespace dsm {

namespace {

struct VerifyCliOptions {
  std::vector<std::string> targets;
  unsigned jobs = 0;
  bool fast = false;
  bool strict = false;
  bool json = false;
  std::string remote; // --remote NAME: check the remote's copies instead
};

void run_verify(Context& ctx, const VerifyCliOptions& opts) {
  if (!opts.remote.empty()) {
    SyncOptions so;
    so.targets = opts.targets;
    so.remote = opts.remote;
    so.jobs = opts.jobs ? opts.jobs : k_default_transfer_jobs;
    so.work_dir = ctx.work_dir;
    RemoteCheckReport r = verify_remote(*ctx.repo, so);
    for (const std::string& p : r.problems) {
      std::cout << p << "\n";
    }
    if (!ctx.quiet) {
      std::cout << r.checked << " payload" << (r.checked == 1 ? "" : "s") << " checked on " << r.store << ": ";
      if (r.problems.empty()) {
        std::cout << "all present" << (r.hashes_checked ? " and intact" : " with the right size") << "\n";
      } else {
        std::cout << r.problems.size() << " problem" << (r.problems.size() == 1 ? "" : "s") << "\n";
      }
    }
    if (r.problems.empty()) {
      return;
    }
    std::cout.flush();
    throw Error("remote " + quote(opts.remote) + " is missing or holds damaged copies of some payloads",
                k_exit_problems);
  }
  VerifyOptions vo;
  vo.targets = opts.targets;
  vo.work_dir = ctx.work_dir;
  vo.jobs = opts.jobs;
  vo.fast = opts.fast;
  vo.strict = opts.strict;
  util::Progress progress("verify", ctx.show_progress());
  vo.progress = &progress;
  VerifyReport r = verify(*ctx.repo, vo);
  progress.finish();
  if (opts.json) {
    std::cout << to_json(r).dump(2) << "\n";
  } else {
    for (const auto& f : r.findings) {
      std::cout << format_finding(f) << "\n";
    }
    // -q: the findings (what a script asked for) and the error, no summary.
    if (!ctx.quiet) {
      std::cout << summary_line(r, opts.fast) << "\n";
    }
  }
  if (!r.ok()) {
    std::cout.flush();
    throw Error(std::to_string(r.problems) + (r.problems == 1 ? " problem" : " problems") + " found",
                k_exit_problems);
  }
}

} // namespace

void register_verify(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<VerifyCliOptions>();
  CLI::App* sub = app.add_subcommand(
    "verify", "Check every payload against the manifest and its sidecar.\n"
              "For each manifest entry: the payload exists, is a regular file, its SHA-256 matches,\n"
              "and its sidecar exists and agrees with the manifest and the file's header (dtype,\n"
              "shape, order). Without TARGET it also reports files in the data directory the\n"
              "manifest does not explain. One line per problem, then a summary:\n"
              "  FAILED <path>: checksum mismatch       MISSING <path>\n"
              "  MISMATCH <path>: sidecar says X, file says Y\n"
              "  UNTRACKED <path>   ORPHAN <sidecar>   TEMP <path>   WRITABLE <path>\n"
              "  DROPPED <path>: not here, on remote R ('dsm drop' deleted the local copy once R held it)\n"
              "UNTRACKED, TEMP, WRITABLE and DROPPED are reported but only fail the run with --strict.");
  sub->add_option("TARGET", opts->targets, "Dataset NAME, NAME@VERSION, or a path in the data directory");
  sub->add_option("-j,--jobs", opts->jobs, "Files hashed in parallel (default: number of cores)")->type_name("N");
  sub->add_flag("--fast", opts->fast,
                "Skip re-hashing payloads whose size, mtime, ctime and inode match the state cached when they "
                "were last verified (.dsm/local/statcache)");
  sub->add_flag("--strict", opts->strict, "Untracked payloads, leftover temp files, writable payloads and dropped payloads (presence required) fail too");
  sub->add_flag("--json", opts->json, "Print one JSON object");
  sub->add_option("--remote", opts->remote,
                  "Check the remote NAME instead: every manifest entry exists there with the right size\n"
                  "(and hash, where the store can tell); local payloads are not read")
    ->type_name("NAME");
  sub->footer(exit_status_help("verify", "problems found (with --remote: the remote lacks or damaged some payloads)"));
  sub->callback([&ctx, opts] { run_verify(ctx, *opts); });
}

} // namespace dsm

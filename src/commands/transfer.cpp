#include "commands/transfer.hpp"

#include "commands/context.hpp"
#include "remote/transfer.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

namespace dsm {

void add_transfer_options(CLI::App* sub, TransferCliOptions& options, const std::string& verb,
                          const std::string& direction) {
  sub->add_option("TARGET", options.sync.targets,
                  "Dataset name, NAME@VERSION, or a path in the data directory (default: every payload in the "
                  "manifest)");
  sub->add_option("--remote", options.sync.remote,
                  "Remote to " + verb + " " + direction + " (default: the default remote)")
      ->type_name("NAME");
  sub->add_option("--jobs,-j", options.sync.jobs, "Parallel transfers, 1 to 256")
      ->type_name("N")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  sub->add_flag("--json", options.json,
                "Print one JSON object (store, transferred, bytes, skipped, seconds, problems)");
}

SyncOptions sync_options(const Context& ctx, const TransferCliOptions& options) {
  SyncOptions o = options.sync;
  o.work_dir = ctx.work_dir;
  o.progress = ctx.show_progress();
  return o;
}

void finish_transfer(const Context& ctx, const TransferReport& report, const std::string& verb, bool json) {
  const bool push = verb == "push";
  if (json) {
    std::cout << nlohmann::json{{"store", report.store},     {"transferred", report.done},
                                {"bytes", report.bytes},     {"skipped", report.skipped},
                                {"seconds", report.seconds}, {"problems", report.problems},
                                {"linked", report.linked}}
                     .dump(2)
              << "\n";
  } else if (!ctx.quiet) {
    char timing[32];
    std::snprintf(timing, sizeof timing, "%.2f s", report.seconds);
    std::cout << (push ? "pushed " : "pulled ") << report.done << " payload" << (report.done == 1 ? "" : "s")
              << " (" << remote::human_bytes(report.bytes) << ") " << (push ? "to " : "from ") << report.store
              << " in " << timing << "; " << report.skipped << (push ? " already there" : " already present");
    if (report.linked > 0) {
      std::cout << "; " << report.linked << " stored once, as hard links to identical payloads here";
    }
    std::cout << "\n";
  }
  std::cout.flush();
  throw_if_failed(report, push ? "pushing" : "pulling");
}

} // namespace dsm

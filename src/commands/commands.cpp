#include "commands/commands.hpp"

#include "ops/sync.hpp"
#include "remote/transfer.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

namespace dsm {

const std::vector<CommandSpec>& commands() {
  // One row per command; see the checklist in commands.hpp.
  static const std::vector<CommandSpec> k_commands = {
    {"add", register_add, Needs::repo, OnSignal::stop},
    {"compress", register_compress, Needs::repo, OnSignal::stop},
    {"diff", register_diff, Needs::nothing, OnSignal::die},
    {"doctor", register_doctor, Needs::nothing, OnSignal::die},
    {"export", register_export, Needs::repo, OnSignal::stop},
    {"hook", register_hook, Needs::nothing, OnSignal::die},
    {"init", register_init, Needs::nothing, OnSignal::die},
    {"log", register_log, Needs::repo, OnSignal::die},
    {"ls", register_ls, Needs::repo, OnSignal::die},
    {"path", register_path, Needs::repo, OnSignal::die},
    {"pull", register_pull, Needs::repo, OnSignal::stop},
    {"push", register_push, Needs::repo, OnSignal::stop},
    {"remote", register_remote, Needs::repo, OnSignal::die},
    {"repair", register_repair, Needs::repo, OnSignal::stop},
    {"show", register_show, Needs::nothing, OnSignal::die},
    {"status", register_status, Needs::repo, OnSignal::stop},
    {"verify", register_verify, Needs::repo, OnSignal::stop},
  };
  return k_commands;
}

std::string exit_status_help() {
  return "EXIT STATUS\n"
         "  0    all good\n"
         "  1    problems found (verification failed, hook refused)\n"
         "  2    error (usage, not a repository, invalid input, I/O)\n"
         "  130  interrupted\n";
}

void add_transfer_options(CLI::App* sub, SyncOptions& options, bool& json, const std::string& verb,
                          const std::string& direction) {
  sub->add_option("TARGET", options.targets,
                  "Dataset name, NAME@VERSION, or a path in the data directory (default: every payload in the "
                  "manifest)");
  sub->add_option("--remote", options.remote, "Remote to " + verb + " " + direction + " (default: the default remote)")
      ->type_name("NAME");
  sub->add_option("--jobs,-j", options.jobs, "Parallel transfers")->check(CLI::Range(1, 256))->capture_default_str();
  sub->add_flag("--json", json, "Print one JSON object (store, transferred, bytes, skipped, seconds, problems)");
}

void finish_transfer(const TransferReport& report, const std::string& verb, bool json) {
  const bool push = verb == "push";
  if (json) {
    std::cout << nlohmann::json{{"store", report.store},     {"transferred", report.done},
                                {"bytes", report.bytes},     {"skipped", report.skipped},
                                {"seconds", report.seconds}, {"problems", report.problems}}
                   .dump(2)
              << "\n";
    std::cout.flush();
    throw_if_failed(report, push ? "pushing" : "pulling");
    return;
  }
  char timing[32];
  std::snprintf(timing, sizeof timing, "%.2f s", report.seconds);
  std::cout << (push ? "pushed " : "pulled ") << report.done << " payload" << (report.done == 1 ? "" : "s") << " ("
            << remote::human_bytes(report.bytes) << ") " << (push ? "to " : "from ") << report.store << " in "
            << timing << "; " << report.skipped << (push ? " already there" : " already present") << "\n";
  std::cout.flush();
  throw_if_failed(report, push ? "pushing" : "pulling");
}

} // namespace dsm

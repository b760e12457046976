// dsm doctor [--json] [--history N]: repository health (src/ops/doctor.cpp).
#include "commands/commands.hpp"
#include "ops/doctor.hpp"
#include "dsm/error.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

namespace dsm {

namespace {

struct DoctorCommandOptions {
  bool json = false;
  size_t history = 100;
};

void run_doctor_command(Context& ctx, const DoctorCommandOptions& opts) {
  DoctorReport report = run_doctor(ctx.work_dir, DoctorOptions{opts.history});
  if (opts.json) {
    std::cout << to_json(report).dump(2) << "\n";
  } else {
    for (const auto& c : report.checks) {
      if (c.findings.empty()) {
        std::cout << (c.skipped ? "skip     " : "ok       ") << c.name << ": " << c.summary << "\n";
        continue;
      }
      for (const auto& f : c.findings) {
        std::cout << "PROBLEM  " << c.name << ": " << f.message << "\n";
      }
    }
  }
  if (size_t n = report.problems(); n > 0) {
    throw Error(std::to_string(n) + (n == 1 ? " problem" : " problems") + " found by 'dsm doctor'",
                k_exit_problems);
  }
}

} // namespace

void register_doctor(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<DoctorCommandOptions>();
  CLI::App* sub = app.add_subcommand("doctor", "Check the repository's health (config, .gitignore, hook, history)");
  sub->footer(
    "Checks the health of the dsm repository around the current directory, for people\n"
    "and CI: the configuration is valid; the data directory exists and holds no source\n"
    "code; the managed .gitignore block is intact; dsm's pre-commit hook is installed\n"
    "and current; no array payload (by extension or content) or oversized file is\n"
    "tracked in the index or reachable in the last N commits; the manifest and the\n"
    "sidecars agree. Every problem is printed with its fix. Hashes are not re-checked\n"
    "(that is 'dsm verify').\n\n" +
    exit_status_help("doctor", "problems found (each printed with its fix)"));
  sub->add_flag("--json", opts->json, "Print one JSON object: {root, ok, problems, checks: [{name, ok, skipped, "
                                      "summary, findings: [{path, message}]}]}");
  sub->add_option("--history", opts->history, "Commits of history to scan for payloads (default 100)")
    ->type_name("N")
    ->check(CLI::NonNegativeNumber);
  sub->callback([&ctx, opts] { run_doctor_command(ctx, *opts); });
}

} // namespace dsm

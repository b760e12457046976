// dsm du [TARGET...] [--remote R] [--offline] [--json]: options and
// output; the work is ops/du.cpp.
#include "ops/du.hpp"
#include "commands/commands.hpp"
#include "remote/transfer.hpp"
#include "repo/repository.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

namespace dsm {

namespace {

struct DuCliOptions {
  DuOptions du;
  bool json = false;
};

nlohmann::json entry_json(const DuEntry& e) {
  nlohmann::json j = {{"name", e.name},
                      {"versions", e.versions},
                      {"present", e.present},
                      {"bytes_here", e.bytes_here},
                      {"drop_frees", e.drop_frees},
                      {"gc_frees", e.gc_frees}};
  j["bytes_only_here"] = e.bytes_only_here ? nlohmann::json(*e.bytes_only_here) : nlohmann::json(nullptr);
  return j;
}

void print_row(const DuEntry& e) {
  std::string only = e.bytes_only_here ? remote::human_bytes(*e.bytes_only_here) : "?";
  std::printf("%-24s %8zu %8zu %12s %12s %12s %12s\n", e.name.empty() ? "(other files)" : e.name.c_str(),
              e.versions, e.present, remote::human_bytes(e.bytes_here).c_str(), only.c_str(),
              remote::human_bytes(e.drop_frees).c_str(), remote::human_bytes(e.gc_frees).c_str());
}

void run_du(Context& ctx, DuCliOptions& cli) {
  cli.du.work_dir = ctx.work_dir;
  DuReport r = disk_usage(*ctx.repo, cli.du);
  if (cli.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const DuEntry& e : r.datasets) {
      list.push_back(entry_json(e));
    }
    std::cout << nlohmann::json{{"datasets", list},
                                {"total", entry_json(r.total)},
                                {"drop_remote", r.drop_remote},
                                {"notes", r.notes}}
                     .dump(2)
              << "\n";
    return;
  }
  std::cout.flush();
  std::printf("%-24s %8s %8s %12s %12s %12s %12s\n", "DATASET", "VERSIONS", "HERE", "BYTES HERE", "ONLY HERE",
              "DROP FREES", "GC FREES");
  for (const DuEntry& e : r.datasets) {
    print_row(e);
  }
  print_row(r.total);
  std::fflush(stdout);
  for (const std::string& n : r.notes) {
    std::cerr << "dsm: " << n << "\n";
  }
}

} // namespace

void register_du(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<DuCliOptions>();
  CLI::App* sub = app.add_subcommand(
      "du", "Show where the disk goes, per dataset: versions in the manifest, payloads here, their\n"
            "bytes (each file once, hard links counted once), the bytes no remote holds (ONLY HERE:\n"
            "deleting them would lose them; '?' when a remote could not be asked), what 'dsm drop'\n"
            "would free (payloads the drop remote holds) and what 'dsm gc' would free (unreferenced\n"
            "files past the default grace period; the total also counts files 'dsm repair' set aside).");
  sub->add_option("TARGET", o->du.targets, "Dataset NAME, NAME@VERSION, or a path in the data directory");
  sub->add_option("--remote", o->du.remote, "The remote 'dsm drop' would use (default: the default remote)")
      ->type_name("NAME");
  sub->add_flag("--offline", o->du.offline, "Ask no remote (ONLY HERE and DROP FREES are then unknown or 0)");
  sub->add_flag("--json", o->json, "Print one JSON object (datasets, total, drop_remote, notes)");
  sub->footer("See docs/guide.md, \"Freeing disk\".\n\n" + exit_status_help("du"));
  sub->callback([&ctx, o] { run_du(ctx, *o); });
}

} // namespace dsm

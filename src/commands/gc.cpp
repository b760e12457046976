// dsm gc [--grace DAYS] [--history] | dsm gc --remote R [--yes]: options
// and output; the work is ops/gc.cpp.
#include "ops/gc.hpp"
#include "commands/commands.hpp"
#include "dsm/error.hpp"
#include "remote/transfer.hpp"
#include "repo/repository.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

namespace dsm {

namespace {

struct GcCliOptions {
  double grace_days = k_default_grace_days;
  bool history = false;
  std::string remote;
  bool yes = false;
  bool dry_run = false;
  bool json = false;
  unsigned jobs = 8;
};

void run_gc_remote(Context& ctx, const GcCliOptions& cli) {
  if (cli.history) {
    throw Error("--history is for the local gc; 'dsm gc --remote' already keeps what any commit lists");
  }
  RemoteGcOptions o;
  o.remote = cli.remote;
  o.grace_days = cli.grace_days;
  o.yes = cli.yes && !cli.dry_run;
  o.jobs = cli.jobs;
  RemoteGcReport r = gc_remote(*ctx.repo, o);
  if (cli.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const RemoteGcObject& obj : r.deletable) {
      list.push_back({{"sha256", obj.sha256}, {"bytes", obj.bytes}});
    }
    std::cout << nlohmann::json{{"store", r.store},        {"dry_run", !r.deleted},
                                {"objects", r.objects},    {"referenced", r.referenced},
                                {"within_grace", r.young}, {"deletable", list},
                                {"bytes", r.bytes}}
                     .dump(2)
              << "\n";
    return;
  }
  for (const RemoteGcObject& obj : r.deletable) {
    std::cout << (r.deleted ? "deleted " : "would delete ") << obj.sha256 << " ("
              << remote::human_bytes(obj.bytes) << ")\n";
  }
  std::cout << r.store << ": " << r.objects << " objects, " << r.referenced << " referenced, " << r.young
            << " unreferenced but within the grace period; " << (r.deleted ? "deleted " : "would delete ")
            << r.deletable.size() << " (" << remote::human_bytes(r.bytes) << ")\n";
  if (!r.deleted && !r.deletable.empty()) {
    std::cout << "dry run: another clone may reference objects this one has not fetched; once every clone's\n"
                 "branches are pushed and fetched here, run again with --yes to delete\n";
  }
}

void run_gc(Context& ctx, const GcCliOptions& cli) {
  if (!cli.remote.empty()) {
    run_gc_remote(ctx, cli);
    return;
  }
  if (cli.yes) {
    throw Error("--yes is for 'dsm gc --remote R'; the local gc deletes without asking (see --dry-run)");
  }
  GcOptions o;
  o.grace_days = cli.grace_days;
  o.history = cli.history;
  o.dry_run = cli.dry_run;
  o.jobs = cli.jobs;
  GcReport r = gc_local(*ctx.repo, o);
  if (cli.json) {
    auto list = [](const std::vector<GcItem>& items) {
      nlohmann::json a = nlohmann::json::array();
      for (const GcItem& i : items) {
        a.push_back({{"path", i.path.string()}, {"bytes", i.bytes}, {"why", i.why}});
      }
      return a;
    };
    std::cout << nlohmann::json{{"dry_run", cli.dry_run},
                                {"deleted", list(r.deleted)},
                                {"kept", list(r.kept)},
                                {"bytes_freed", r.bytes}}
                     .dump(2)
              << "\n";
    return;
  }
  for (const GcItem& i : r.deleted) {
    std::cout << (cli.dry_run ? "would delete " : "deleted ") << i.path.string() << "  (" << i.why << ")\n";
  }
  if (!ctx.quiet) {
    for (const GcItem& i : r.kept) {
      std::cout << "kept " << i.path.string() << "  (" << i.why << ")\n";
    }
    std::cout << (cli.dry_run ? "would free " : "freed ") << remote::human_bytes(r.bytes) << " ("
              << r.deleted.size() << (r.deleted.size() == 1 ? " file" : " files") << "; " << r.kept.size()
              << " kept)\n";
  }
}

} // namespace

void register_gc(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<GcCliOptions>();
  CLI::App* sub = app.add_subcommand(
      "gc", "Delete what nothing needs.\n"
            "Locally: temp files of interrupted writes, files 'dsm repair' set aside, and payloads\n"
            "that no commit, ref, stash entry or the index lists, once older than the grace period.\n"
            "A payload listed by any branch, tag, remote-tracking ref, the stash, the index or the\n"
            "working manifest is never deleted. With --history it also deletes payloads that only\n"
            "older commits list (versions 'dsm rm' removed, then committed), once the default\n"
            "remote verifiably holds them (size and SHA-256; S3 objects are downloaded and hashed).\n"
            "\n"
            "With --remote R: deletes objects on R that no commit reachable from any ref of this\n"
            "clone (local and remote-tracking), the stash, the index or the working manifest lists,\n"
            "stored longer ago than the grace period. This is a DRY RUN unless --yes: another clone\n"
            "may reference objects this one has not fetched (an unpushed branch, a teammate's work),\n"
            "and only you can know that every clone's branches are pushed and fetched here.");
  sub->add_option("--grace", o->grace_days,
                  "Keep unreferenced files changed (or objects stored) fewer than DAYS days ago; 0: no grace")
      ->type_name("DAYS")
      ->capture_default_str();
  sub->add_flag("--history", o->history,
                "Also delete local payloads only older commits list, once the default remote holds them");
  sub->add_option("--remote", o->remote, "Collect garbage on this remote instead (a dry run unless --yes)")
      ->type_name("NAME");
  sub->add_flag("--yes", o->yes, "With --remote: really delete the unreferenced objects");
  sub->add_flag("-n,--dry-run", o->dry_run, "Print what would be deleted; delete nothing");
  sub->add_option("--jobs,-j", o->jobs, "Parallel remote checks")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  sub->add_flag("--json", o->json, "Print one JSON object");
  sub->footer("See docs/guide.md, \"Freeing disk\", and docs/guarantees.md.\n\n" + exit_status_help("gc"));
  sub->callback([&ctx, o] { run_gc(ctx, *o); });
}

} // namespace dsm

// dsm rm TARGET... [--all] [--dry-run] [--json]: options and output; the
// work is ops/remove.cpp.
#include "commands/commands.hpp"
#include "ops/remove.hpp"
#include "repo/repository.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

namespace dsm {

namespace {

struct RmCliOptions {
  RemoveOptions remove;
  bool json = false;
};

void run_rm(Context& ctx, RmCliOptions& cli) {
  cli.remove.work_dir = ctx.work_dir;
  RemoveReport r = remove_versions(*ctx.repo, cli.remove);
  const bool dry = cli.remove.dry_run;
  if (cli.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const RemovedVersion& v : r.removed) {
      list.push_back({{"version", v.label},
                      {"lines", v.lines},
                      {"payload", v.payload.string()},
                      {"payload_present", v.payload_present},
                      {"sidecar_deleted", v.sidecar_deleted}});
    }
    std::cout << nlohmann::json{{"dry_run", dry}, {"removed", list}, {"staged", r.staged}}.dump(2) << "\n";
    return;
  }
  for (const RemovedVersion& v : r.removed) {
    std::cout << (dry ? "would remove " : "removed ") << v.label << " (" << v.payload.string() << ")\n";
  }
  if (ctx.quiet) {
    return;
  }
  bool kept = false;
  for (const RemovedVersion& v : r.removed) {
    kept = kept || v.payload_present;
  }
  if (dry) {
    std::cout << "nothing changed (--dry-run)\n";
  } else {
    std::cout << "the manifest and sidecars are staged: commit with git commit\n";
    if (kept) {
      std::cout
          << "payloads stay on disk until 'dsm gc' (once committed, 'dsm gc --history' deletes them when a "
             "remote holds them)\n";
    }
  }
}

} // namespace

void register_rm(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<RmCliOptions>();
  CLI::App* sub = app.add_subcommand(
      "rm", "Remove versions from the manifest, as 'git rm' removes files: their manifest lines go\n"
            "and their sidecars are deleted, both staged, ready to commit. The payloads stay on disk\n"
            "until 'dsm gc' deletes them, so nothing is lost before the removal is committed and a\n"
            "remote holds the data. Sequence numbers are never reused: a later 'dsm add' continues\n"
            "after the highest number any commit has used for the name.");
  sub->add_option("TARGET", o->remove.targets,
                  "NAME@N, NAME@latest, NAME@~N or a payload path; a NAME (every version) needs --all")
      ->required();
  sub->add_flag("--all", o->remove.all, "A dataset NAME (or a directory) removes every version it names");
  sub->add_flag("-n,--dry-run", o->remove.dry_run, "Print what would be removed; change nothing");
  sub->add_flag("--json", o->json, "Print one JSON object (dry_run, removed, staged)");
  sub->footer("See docs/guide.md, \"Freeing disk\".\n\n" + exit_status_help("rm"));
  sub->callback([&ctx, o] { run_rm(ctx, *o); });
}

} // namespace dsm

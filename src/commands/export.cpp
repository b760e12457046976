// dsm export TARGET --out FILE [--force]: write the .npy that was added.
#include "commands/commands.hpp"
#include "ops/export.hpp"
#include "repo/datasets.hpp"
#include "dsm/error.hpp"
#include "util/interrupt.hpp"
#include "repo/repository.hpp"
#include "repo/sidecar.hpp"

#include "util/progress.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

namespace dsm {

namespace {

struct ExportCliOptions {
  std::string target;
  std::string out;
  bool force = false;
  bool json = false;
};

void run_export(Context& ctx, const ExportCliOptions& opts) {
  const Repository& repo = *ctx.repo;
  Manifest manifest = load_manifest(repo);
  DatasetIndex index = index_datasets(repo, manifest);
  DatasetVersion v = resolve_version(repo, manifest, index, ctx.work_dir, opts.target);
  Sidecar sidecar = Sidecar::load(Repository::sidecar_path(v.path));
  ExportSource source = export_source_for(sidecar, v.path);
  fs::path out(opts.out);
  out = ctx.from_work_dir(out);
  check_export_target(repo, out);
  util::Progress progress("export", ctx.show_progress());
  ExportResult r = export_original(source, out, opts.force ? Overwrite::yes : Overwrite::no, &progress);
  progress.finish();
  if (opts.json) {
    std::cout << nlohmann::json{{"name", v.name},     {"version", v.seq},   {"out", out.string()},
                                {"size", r.size},     {"sha256", r.sha256}, {"verified", true}}
                   .dump(2)
              << "\n";
  } else {
    std::cout << out.string() << "\n";
  }
}

} // namespace

void register_export(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<ExportCliOptions>();
  CLI::App* sub = app.add_subcommand(
    "export", "Write the .npy that was added as a version, bit for bit: a plain copy, a compressed\n"
              "version (.npz made by --compress) decompressed, or a chunked version reassembled.\n"
              "The result is checked against the original's SHA-256 recorded in the sidecar\n"
              "before it appears at FILE (written atomically). Prints FILE's absolute path.");
  sub->add_option("TARGET", opts->target, "NAME (latest version), NAME@VERSION, or a payload path")->required();
  sub->add_option("--out,-o", opts->out, "The .npy file to write")->required()->type_name("FILE");
  sub->add_flag("--force,-f", opts->force, "Replace FILE if it exists");
  sub->add_flag("--json", opts->json, "Print one JSON object");
  sub->footer("A version whose stored bytes do not rebuild the original (corruption) exits 1 and\n"
              "writes nothing.\n\n" +
              exit_status_help("export", "the stored bytes do not rebuild the original (corruption)"));
  sub->callback([&ctx, opts] { run_export(ctx, *opts); });
}

} // namespace dsm

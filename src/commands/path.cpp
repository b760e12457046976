// dsm path NAME[@VERSION]: the absolute path of a stored payload, for scripts.
#include "commands/commands.hpp"
#include "repo/datasets.hpp"
#include "dsm/error.hpp"
#include "repo/repository.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>
#include <system_error>

namespace dsm {

namespace {

struct PathCliOptions {
  std::string target;
  bool json = false;
};

void run_path(Context& ctx, const PathCliOptions& opts) {
  const Repository& repo = *ctx.repo;
  Manifest manifest = load_manifest(repo);
  DatasetIndex index = index_datasets(repo, manifest);
  DatasetVersion v = resolve_version(repo, manifest, index, ctx.work_dir, opts.target);
  std::error_code ec;
  bool present = fs::exists(v.path, ec);
  if (opts.json) {
    std::cout << nlohmann::json{{"name", v.name}, {"version", v.seq},    {"path", v.path.string()},
                                {"sha256", v.sha256}, {"present", present}}
                   .dump(2)
              << "\n";
  } else {
    std::cout << v.path.string() << "\n";
  }
  if (!present) {
    std::cout.flush();
    throw Error("payload " + quote(v.path.string()) + " is listed in the manifest but missing on disk");
  }
}

} // namespace

void register_path(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<PathCliOptions>();
  CLI::App* sub = app.add_subcommand(
    "path", "Print the absolute path of a dataset's latest (or given) version, for scripts:\n"
            "  np.load(\"$(dsm path features)\")");
  sub->add_option("TARGET", opts->target, "NAME (latest version) or NAME@VERSION")->required();
  sub->add_flag("--json", opts->json, "Print one JSON object");
  sub->footer(exit_status_help("path"));
  sub->callback([&ctx, opts] { run_path(ctx, *opts); });
}

} // namespace dsm

// dsm compress TARGET [--level LEVEL]: a stored version, compressed, as the
// next version of its dataset (nothing is rewritten in place).
#include "commands/commands.hpp"
#include "format/compress_add.hpp"
#include "ops/export.hpp"
#include "ops/add.hpp"
#include "repo/datasets.hpp"
#include "dsm/error.hpp"
#include "util/interrupt.hpp"
#include "repo/repository.hpp"
#include "repo/sidecar.hpp"
#include "util/file.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <iostream>

namespace dsm {

namespace {

struct CompressCliOptions {
  std::string target;
  std::string level = "auto";
  bool json = false;
};

void run_compress(Context& ctx, const CompressCliOptions& opts) {
  const Repository& repo = *ctx.repo;
  int level = parse_compress_level(opts.level);
  Manifest manifest = load_manifest(repo);
  DatasetIndex index = index_datasets(repo, manifest);
  DatasetVersion v = resolve_version(repo, manifest, index, ctx.work_dir, opts.target);
  Sidecar old = Sidecar::load(Repository::sidecar_path(v.path));
  ExportSource source = export_source_for(old, v.path);

  // The original .npy, rebuilt and checked against its recorded SHA-256 so
  // that corruption is never compressed into a fresh-looking version. A
  // plain version is read in place; others are exported to a temporary file.
  repo.ensure_local_dir();
  fs::path input = v.path;
  fs::path temp;
  struct Cleanup {
    fs::path p;
    ~Cleanup() {
      if (!p.empty()) {
        std::error_code ec;
        fs::remove(p, ec);
      }
    }
  } cleanup;
  if (source.kind != ExportSource::Kind::npy) {
    temp = repo.local_dir() / ("compress-" + std::to_string(::getpid()) + ".npy");
    cleanup.p = temp;
    export_original(source, temp, Overwrite::yes);
    input = temp;
  }
  AddRequest req;
  req.files = {input};
  req.name = v.name;
  req.meta_yaml = old.meta_yaml;
  req.message = old.message;
  req.compress = level;
  req.transfer = temp.empty() ? Transfer::copy : Transfer::move;
  req.source_label = "dsm compress " + v.name + "@" + std::to_string(v.seq) + " (" + v.path.string() + ")";
  req.expect_sha256 = source.original_sha256;
  AddResult r = add_files(repo, req);
  for (const auto& w : r.warnings) {
    std::cerr << "dsm: warning: " << w << "\n";
  }
  const AddedPayload& a = r.added.at(0);
  if (!ctx.quiet && a.sidecar.compression) {
    std::cerr << "dsm: " << a.sidecar.name << "@" << a.sidecar.version << ": " << *a.sidecar.compression << "\n";
  }
  if (opts.json) {
    std::cout << nlohmann::json{{"path", a.path.string()},       {"name", a.sidecar.name},
                                {"version", a.sidecar.version},  {"from_version", v.seq},
                                {"size", a.sidecar.size},        {"sha256", a.sidecar.sha256},
                                {"original_size", source.original_size}}
                   .dump(2)
              << "\n";
  } else {
    std::cout << a.path.string() << "\n";
  }
}

} // namespace

void register_compress(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<CompressCliOptions>();
  CLI::App* sub = app.add_subcommand(
    "compress", "Store a compressed copy of a version as the dataset's next version: a single-member\n"
                ".npz (np.load(path)[NAME], NAME the last name segment) made with parallel deflate.\n"
                "The old version is left as it is. Metadata and message are carried over; the sidecar\n"
                "records the original .npy's size and SHA-256, so 'dsm export' can rebuild it bit for\n"
                "bit. Prints the new payload's path; says on stderr which engine was used and why.");
  sub->add_option("TARGET", opts->target, "NAME (latest version), NAME@VERSION, or a payload path")->required();
  sub->add_option("--level,-l", opts->level,
                  "auto (default: measured on the first block), 0 store, 1 fastest (ISA-L) .. 12 smallest "
                  "(libdeflate); see docs/compression.md")
    ->type_name("LEVEL");
  sub->add_flag("--json", opts->json, "Print one JSON object");
  sub->footer("When deflate would save less than 1.5% the member is stored uncompressed (said on stderr).\n"
              "A version that no longer matches its recorded SHA-256 is refused (exit 1).\n\n" +
              exit_status_help());
  sub->callback([&ctx, opts] { run_compress(ctx, *opts); });
}

} // namespace dsm

// dsm compress TARGET [--level LEVEL]: a stored version, compressed, as the
// next version of its dataset (nothing is rewritten in place).
// Options and output; the work is ops/compress.cpp.
#include "commands/commands.hpp"
#include "format/compress_add.hpp"
#include "ops/compress.hpp"

#include "util/progress.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

namespace dsm {

namespace {

struct CompressCliOptions {
  std::string target;
  std::string level = "auto";
  bool json = false;
};

void run_compress(Context& ctx, const CompressCliOptions& opts) {
  util::Progress progress("compress", ctx.show_progress());
  CompressResult c =
    compress_version(*ctx.repo, ctx.work_dir, opts.target, parse_compress_level(opts.level), &progress);
  progress.finish();
  const AddResult& r = c.added;
  for (const auto& w : r.warnings) {
    std::cerr << "dsm: warning: " << w << "\n";
  }
  const AddedPayload& a = r.added.at(0);
  if (!ctx.quiet && a.compression) {
    std::cerr << "dsm: " << a.name << "@" << a.version << ": " << *a.compression << "\n";
  }
  if (opts.json) {
    std::cout << nlohmann::json{{"path", a.path.string()},       {"name", a.name},
                                {"version", a.version},          {"from_version", c.from_version},
                                {"size", a.size},                {"sha256", a.sha256},
                                {"original_size", c.original_size}}
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
              exit_status_help("compress", "a version no longer matches its recorded SHA-256"));
  sub->callback([&ctx, opts] { run_compress(ctx, *opts); });
}

} // namespace dsm

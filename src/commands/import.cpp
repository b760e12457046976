// dsm import FILE.pkl --name NAME: a pickle of arrays, read safely, stored
// as a dataset (the work: ops/import_pickle.cpp, python/dsm/_pickle.py).
#include "commands/commands.hpp"
#include "ops/import_pickle.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

namespace dsm {

namespace {

struct ImportCliOptions {
  std::string file;
  std::string name;
  std::optional<std::string> message;
};

void run_import(Context& ctx, const ImportCliOptions& opts) {
  ImportRequest req;
  req.file = opts.file;
  req.name = opts.name;
  req.message = opts.message;
  req.work_dir = ctx.work_dir;
  std::cout.flush();
  exec_import_pickle(req);
}

} // namespace

void register_import(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<ImportCliOptions>();
  CLI::App* sub = app.add_subcommand(
    "import", "Store the arrays in a pickle (a dict or list of arrays and scalars, or one array) as a dataset,\n"
              "the way Python's dsm.import_pickle does: the pickle is read with a restricted unpickler that\n"
              "allows only NumPy's array reconstruction and builtin containers and scalars, so a pickle that\n"
              "names anything else (os.system, subprocess.Popen, builtins.eval, ...) is refused by name\n"
              "before it runs, and nothing is stored. Arrays become .npz members named by their key path,\n"
              "scalars go in the sidecar's meta (docs/python.md). Needs dsm's Python package.");
  sub->add_option("FILE", opts->file, "The pickle file")->required();
  sub->add_option("--name", opts->name, "Dataset name")->type_name("NAME")->required();
  sub->add_option("--message", opts->message, "A message recorded in the sidecar (default: imported from FILE)");
  sub->footer(exit_status_help("import"));
  sub->callback([&ctx, opts] { run_import(ctx, *opts); });
}

} // namespace dsm

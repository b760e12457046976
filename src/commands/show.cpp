// dsm show FILE [--json]: placeholder registration; the format engine
// (issue #2) implements run_show.
#include "commands/commands.hpp"
#include "dsm/error.hpp"

#include <CLI/CLI.hpp>

namespace dsm {

namespace {
struct ShowOptions {
  std::string target;
  bool json = false;
};
} // namespace

void register_show(CLI::App& app, Context& /*ctx*/) {
  auto opts = std::make_shared<ShowOptions>();
  CLI::App* sub = app.add_subcommand("show", "Describe a .npy/.npz file or a stored dataset");
  sub->add_option("TARGET", opts->target, "A .npy or .npz file")->required();
  sub->add_flag("--json", opts->json, "Print one JSON object");
  sub->callback([opts] { throw Error("show: not implemented yet"); });
}

} // namespace dsm

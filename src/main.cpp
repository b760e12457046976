// dsm: thin main. Parses the command line, prepares the Context the chosen
// command needs, runs it, and is the only place that catches errors.
#include "commands/commands.hpp"
#include "dsm/error.hpp"
#include "dsm/version.hpp"
#include "util/interrupt.hpp"

#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <unistd.h>

namespace {

int finish_stdout() {
  // A full disk or closed pipe on stdout is an error, not a silent success.
  std::cout.flush();
  if (!std::cout || std::fflush(stdout) != 0 || std::ferror(stdout)) {
    std::cerr << "dsm: error: cannot write to standard output\n";
    return dsm::k_exit_error;
  }
  return dsm::k_exit_ok;
}

// CLI11 writes a flag with an optional value as "--compress{auto}" in help,
// its own syntax for the value a bare flag takes, not something to type.
class Formatter : public CLI::Formatter {
public:
  std::string make_option_name(const CLI::Option* opt, bool positional) const override {
    std::string name = CLI::Formatter::make_option_name(opt, positional);
    for (size_t open = name.find('{'); open != std::string::npos; open = name.find('{', open)) {
      size_t close = name.find('}', open);
      if (close == std::string::npos) {
        break;
      }
      name.erase(open, close - open + 1);
    }
    return name;
  }
};

} // namespace

int main(int argc, char** argv) {
  dsm::Context ctx;
  ctx.stderr_is_tty = ::isatty(STDERR_FILENO) == 1;
  CLI::App app{"dsm: a dataset repository manager for NumPy arrays inside git work trees.\n"
               "Keeps .npy/.npz payloads out of git, under timestamped names, with metadata\n"
               "sidecars and a sha256sum-compatible manifest. See 'dsm COMMAND --help'.",
               "dsm"};
  app.formatter(std::make_shared<Formatter>());
  app.footer(dsm::exit_status_help());
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("dsm ") + dsm::k_version);
  std::string chdir;
  app.add_option("-C", chdir, "Run as if dsm was started in DIR")->type_name("DIR");
  app.add_flag("-q,--quiet", ctx.quiet, "Print only errors on stderr");

  for (const auto& spec : dsm::commands()) {
    spec.register_fn(app, ctx);
  }
  // Runs after parsing, before the chosen subcommand's callback: resolve -C
  // and open what the command needs, once.
  app.parse_complete_callback([&] {
    std::error_code ec;
    ctx.work_dir = std::filesystem::current_path(ec);
    if (ec) {
      throw dsm::Error(std::string("cannot determine the current directory: ") + ec.message());
    }
    if (!chdir.empty()) {
      ctx.work_dir = std::filesystem::absolute(ctx.work_dir / chdir).lexically_normal();
      if (!std::filesystem::is_directory(ctx.work_dir)) {
        throw dsm::Error("cannot change to " + dsm::quote(chdir) + ": not a directory");
      }
    }
    for (const auto& spec : dsm::commands()) {
      CLI::App* sub = app.get_subcommand(spec.name);
      if (sub && sub->parsed()) {
        if (spec.on_signal == dsm::OnSignal::stop) {
          dsm::install_interrupt_handlers();
        }
        dsm::prepare_context(ctx, spec.needs);
      }
    }
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 uses 0 for --help/--version and 100+ for usage errors; a usage
    // error reads like every other error (scripts grep 'dsm: error: ').
    if (e.get_exit_code() == 0) {
      app.exit(e);
      return finish_stdout();
    }
    std::cout.flush();
    std::cerr << "dsm: error: " << e.what() << "\n(run 'dsm --help', or 'dsm COMMAND --help', for usage)\n";
    return dsm::k_exit_error;
  } catch (const dsm::Error& e) {
    std::cout.flush();
    for (const std::string& problem : e.problems()) {
      std::cerr << "dsm: error: " << problem << "\n";
    }
    std::cerr << "dsm: error: " << e.what() << "\n";
    return e.exit_code();
  } catch (const std::exception& e) {
    std::cout.flush();
    std::cerr << "dsm: error: " << e.what() << "\n";
    return dsm::k_exit_error;
  }
  return finish_stdout();
}

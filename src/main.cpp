// dsm: thin main. Parses the command line, prepares the Context the chosen
// command needs, runs it, and is the only place that catches errors.
#include "commands/commands.hpp"
#include "dsm/error.hpp"
#include "dsm/version.hpp"
#include "util/interrupt.hpp"
#include "util/text.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <csignal>
#include <iomanip>
#include <optional>
#include <sstream>
#include <vector>
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

// How the top-level help groups the commands (git's "These are common Git
// commands used in various situations"); a command missing here is listed
// under the last group.
constexpr const char* k_groups[] = {"start a repository", "save, find and read versions", "check and repair",
                                    "share through a remote", "work with git", "other commands"};

const char* group_of(const std::string& name) {
  static const std::pair<const char*, int> k_members[] = {
    {"init", 0},   {"add", 1},     {"ls", 1},     {"log", 1},     {"path", 1},   {"show", 1},
    {"diff", 1},   {"export", 1},  {"compress", 1}, {"import", 1}, {"verify", 2}, {"status", 2},
    {"repair", 2}, {"doctor", 2},  {"resolve", 2}, {"remote", 3}, {"push", 3},   {"pull", 3},
    {"hook", 4},   {"merge-driver", 4},
  };
  for (const auto& [member, group] : k_members) {
    if (name == member) {
      return k_groups[group];
    }
  }
  return k_groups[std::size(k_groups) - 1];
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

  // An option's value as people write it: the type name the command gave
  // ("N", "NAME", "DIR"), never CLI11's own ("UINT:INT in [1 - 256]=8",
  // "TEXT ... REQUIRED"). A validator's description (after ':') and the
  // default go to the description; a positional's name says it all.
  std::string make_option_opts(const CLI::Option* opt) const override {
    if (opt->get_type_size() == 0) {
      return "";
    }
    std::string out;
    if (!opt->nonpositional()) {
      return opt->get_expected_max() > 1 ? " ..." : "";
    }
    std::string type = opt->get_type_name();
    type = type.substr(0, type.find(':'));
    static const std::pair<const char*, const char*> k_cli11_names[] = {
      {"TEXT", "VALUE"}, {"UINT", "N"}, {"INT", "N"}, {"FLOAT", "X"}, {"NUMBER", "X"}};
    for (const auto& [cli11, ours] : k_cli11_names) {
      if (type == cli11) {
        type = ours;
      }
    }
    if (!type.empty()) {
      out += " " + type;
    }
    if (opt->get_expected_max() > 1) {
      out += " ...";
    }
    return out;
  }

  std::string make_option_desc(const CLI::Option* opt) const override {
    std::string desc = opt->get_description();
    if (opt->nonpositional() && opt->get_required()) {
      desc += " (required)";
    }
    if (!opt->get_default_str().empty() && opt->get_type_size() != 0 && desc.find("default") == std::string::npos) {
      desc += " (default: " + opt->get_default_str() + ")";
    }
    return desc;
  }

  // The top-level help lists commands as git's does: grouped, one line each
  // (the first line of the command's description); `dsm COMMAND --help`
  // has the rest.
  std::string make_subcommands(const CLI::App* app, CLI::AppFormatMode mode) const override {
    if (app->get_parent() != nullptr || mode != CLI::AppFormatMode::Normal) {
      return CLI::Formatter::make_subcommands(app, mode);
    }
    std::ostringstream out;
    for (const char* group : k_groups) {
      bool header = false;
      for (const CLI::App* sub : app->get_subcommands({})) {
        if (group_of(sub->get_name()) != group) {
          continue;
        }
        if (!header) {
          out << "\n" << group << "\n";
          header = true;
        }
        std::string line = sub->get_description().substr(0, sub->get_description().find('\n'));
        out << "   " << std::left << std::setw(14) << sub->get_name() << line << "\n";
      }
    }
    return out.str();
  }
};

// The most similar command names to a mistyped `word`.
std::vector<std::string> similar_commands(const std::string& word) {
  std::vector<std::string> names;
  for (const auto& spec : dsm::commands()) {
    names.emplace_back(spec.name);
  }
  return dsm::util::most_similar(word, names);
}

// The first word that is not a global option: the command the user meant.
std::optional<std::string> command_word(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-C") {
      ++i; // its DIR
      continue;
    }
    if (a == "--") {
      return i + 1 < argc ? std::optional<std::string>(argv[i + 1]) : std::nullopt;
    }
    if (!a.empty() && a[0] == '-') {
      continue;
    }
    return a;
  }
  return std::nullopt;
}

bool is_command(const std::string& word) {
  for (const auto& spec : dsm::commands()) {
    if (word == spec.name) {
      return true;
    }
  }
  return false;
}

} // namespace

int main(int argc, char** argv) {
  // `dsm help [COMMAND]` is `dsm [COMMAND] --help`; a word that names no
  // command is said so, with the closest commands, before parsing (CLI11
  // would only say that a subcommand is required).
  std::vector<char*> args(argv, argv + argc);
  std::string help_flag = "--help";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-C") {
      ++i;
      continue;
    }
    if (a.empty() || a[0] != '-' || a == "--") {
      break; // the command: its options are its own
    }
    if (a != "-q" && a != "--quiet" && a != "--no-progress" && a != "-h" && a != "--help" && a != "--version" && !a.starts_with("-C")) {
      std::cerr << "dsm: error: unknown option " << dsm::quote(a) << "\n"
                << "(run 'dsm --help', or 'dsm COMMAND --help', for usage)\n";
      return dsm::k_exit_error;
    }
  }
  if (std::optional<std::string> word = command_word(argc, argv)) {
    if (*word == "help") {
      auto at = std::find_if(args.begin() + 1, args.end(), [](const char* a) { return std::string(a) == "help"; });
      *at = help_flag.data();
      if (at + 1 != args.end()) {
        std::iter_swap(at, at + 1); // `help add` -> `add --help`
      }
    } else if (!is_command(*word)) {
      std::cerr << "dsm: " << dsm::quote(*word) << " is not a dsm command. See 'dsm --help'.\n";
      std::vector<std::string> similar = similar_commands(*word);
      if (!similar.empty()) {
        std::cerr << "\nThe most similar command" << (similar.size() == 1 ? " is" : "s are") << "\n";
        for (const std::string& name : similar) {
          std::cerr << "\t" << name << "\n";
        }
      }
      return dsm::k_exit_error;
    }
  }
  argc = static_cast<int>(args.size());
  argv = args.data();

  dsm::Context ctx;
  ctx.stderr_is_tty = ::isatty(STDERR_FILENO) == 1;
  CLI::App app{"dsm: a dataset repository manager for NumPy arrays inside git work trees.\n"
               "Keeps .npy/.npz payloads out of git, under timestamped names, with metadata\n"
               "sidecars and a sha256sum-compatible manifest. See 'dsm COMMAND --help'.",
               "dsm"};
  app.formatter(std::make_shared<Formatter>());
  // Each command's help lists the statuses it can return; these are all.
  app.footer("EXIT STATUS\n"
             "  0    success\n"
             "  1    problems found (verification failed, hook refused, arrays differ, ...)\n"
             "  2    error (usage, not a repository, invalid input, I/O)\n"
             "  130  interrupted\n");
  app.require_subcommand(1);
  // Global options work after the command too (`dsm init -q`), as git's do.
  app.fallthrough();
  app.set_version_flag("--version", std::string("dsm ") + dsm::k_version);
  std::string chdir;
  app.add_option("-C", chdir, "Run as if dsm was started in DIR")->type_name("DIR");
  app.add_flag("-q,--quiet", ctx.quiet, "Print only errors and the output asked for (no summaries, no progress)");
  app.add_flag("--no-progress", ctx.no_progress, "No progress line on stderr (it is drawn on a terminal only)");

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
  } catch (const dsm::ExitWith& e) {
    int rc = finish_stdout();
    return rc != dsm::k_exit_ok ? rc : e.code;
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

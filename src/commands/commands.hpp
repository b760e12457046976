// The command table. One file per subcommand: src/commands/<name>.cpp.
//
// Adding a command:
//   1. src/commands/<name>.cpp with `void register_<name>(CLI::App&, Context&)`
//      that binds an options struct and sets a callback calling run_<name>.
//   2. Declare register_<name> below and add a row to k_commands in
//      commands.cpp (alphabetical, one row a line).
//   3. Help text: a description, every option (with a type_name, so no
//      CLI11 type shows), and the EXIT STATUS section (exit_status_help with
//      what exit 1 means, if it can return 1).
//   4. Tests: tests/e2e/test_<name>.py (real binary, real git), unit tests
//      for any new library code.
//   5. Docs: docs/guide.md (and the page the command belongs to: sharing,
//      hooks, formats) and, if user-visible, the README. Man pages and
//      completion follow from the help and this table.
#pragma once

#include "commands/context.hpp"

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace dsm {

// What main must prepare before a command runs.
enum class Needs {
  nothing, // works anywhere (show FILE, init finds its own way)
  repo,    // an initialised dsm repository around work_dir
};

// What Ctrl-C (SIGINT, SIGTERM, SIGHUP) does while the command runs.
enum class OnSignal {
  die,  // the default action: the command writes nothing that a kill could leave half-done
  stop, // main installs util/interrupt.hpp's handlers: the command polls
        // check_interrupted(), removes its temp files and exits 130
};

struct CommandSpec {
  const char* name;
  void (*register_fn)(CLI::App& app, Context& ctx);
  Needs needs;
  OnSignal on_signal;
};

const std::vector<CommandSpec>& commands();

// Opens ctx.repo for Needs::repo (commands/context.cpp).
void prepare_context(Context& ctx, Needs needs);

// Thrown by a command whose exit status is its answer, to end with `code`
// and nothing on stderr: `dsm diff` exits 1 when the arrays differ, as
// diff(1) does, and the difference was its output. Caught in main.
struct ExitWith {
  int code;
};

// The EXIT STATUS section `command`'s help ends with, listing only the
// statuses it can return: 0 and 2 always; 1 when `problems` says what it
// means for this command (nullptr: the command never returns 1); 130 when
// the command table says the command stops cleanly on Ctrl-C.
std::string exit_status_help(const std::string& command, const char* problems = nullptr);

// Declarations of every register_<name>, in table order (alphabetical).
void register_add(CLI::App& app, Context& ctx);
void register_compress(CLI::App& app, Context& ctx);
void register_diff(CLI::App& app, Context& ctx);
void register_doctor(CLI::App& app, Context& ctx);
void register_drop(CLI::App& app, Context& ctx);
void register_du(CLI::App& app, Context& ctx);
void register_export(CLI::App& app, Context& ctx);
void register_gc(CLI::App& app, Context& ctx);
void register_hook(CLI::App& app, Context& ctx);
void register_import(CLI::App& app, Context& ctx);
void register_init(CLI::App& app, Context& ctx);
void register_log(CLI::App& app, Context& ctx);
void register_ls(CLI::App& app, Context& ctx);
void register_merge_driver(CLI::App& app, Context& ctx);
void register_path(CLI::App& app, Context& ctx);
void register_pull(CLI::App& app, Context& ctx);
void register_push(CLI::App& app, Context& ctx);
void register_remote(CLI::App& app, Context& ctx);
void register_repair(CLI::App& app, Context& ctx);
void register_resolve(CLI::App& app, Context& ctx);
void register_rm(CLI::App& app, Context& ctx);
void register_show(CLI::App& app, Context& ctx);
void register_status(CLI::App& app, Context& ctx);
void register_verify(CLI::App& app, Context& ctx);

} // namespace dsm

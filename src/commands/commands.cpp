#include "commands/commands.hpp"


namespace dsm {

const std::vector<CommandSpec>& commands() {
  // One row per command; see the checklist in commands.hpp.
  static const std::vector<CommandSpec> k_commands = {
    {"add", register_add, Needs::repo, OnSignal::stop},
    {"compress", register_compress, Needs::repo, OnSignal::stop},
    {"diff", register_diff, Needs::nothing, OnSignal::die},
    {"doctor", register_doctor, Needs::nothing, OnSignal::die},
    {"drop", register_drop, Needs::repo, OnSignal::stop},
    {"du", register_du, Needs::repo, OnSignal::die},
    {"export", register_export, Needs::repo, OnSignal::stop},
    {"gc", register_gc, Needs::repo, OnSignal::stop},
    {"hook", register_hook, Needs::nothing, OnSignal::die},
    {"import", register_import, Needs::repo, OnSignal::die},
    {"init", register_init, Needs::nothing, OnSignal::die},
    {"log", register_log, Needs::repo, OnSignal::die},
    {"ls", register_ls, Needs::repo, OnSignal::die},
    {"merge-driver", register_merge_driver, Needs::nothing, OnSignal::die},
    {"path", register_path, Needs::repo, OnSignal::die},
    {"pull", register_pull, Needs::repo, OnSignal::stop},
    {"push", register_push, Needs::repo, OnSignal::stop},
    {"remote", register_remote, Needs::repo, OnSignal::die},
    {"repair", register_repair, Needs::repo, OnSignal::stop},
    {"resolve", register_resolve, Needs::repo, OnSignal::die},
    {"rm", register_rm, Needs::repo, OnSignal::die},
    {"show", register_show, Needs::nothing, OnSignal::die},
    {"status", register_status, Needs::repo, OnSignal::stop},
    {"verify", register_verify, Needs::repo, OnSignal::stop},
  };
  return k_commands;
}

std::string exit_status_help(const std::string& command, const char* problems) {
  std::string out = "EXIT STATUS\n  0    success\n";
  if (problems != nullptr) {
    out += std::string("  1    ") + problems + "\n";
  }
  out += "  2    error (usage, not a repository, invalid input, I/O)\n";
  for (const CommandSpec& spec : commands()) {
    if (command == spec.name && spec.on_signal == OnSignal::stop) {
      out += "  130  interrupted (Ctrl-C): nothing partial is left behind\n";
    }
  }
  return out;
}

} // namespace dsm

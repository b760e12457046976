#include "commands/commands.hpp"

namespace dsm {

const std::vector<CommandSpec>& commands() {
  // One row per command; see the checklist in commands.hpp.
  static const std::vector<CommandSpec> k_commands = {
    {"show", register_show, Needs::nothing},

    {"init", register_init, Needs::nothing},

    {"add", register_add, Needs::repo},

    {"verify", register_verify, Needs::repo},

    {"status", register_status, Needs::repo},

    {"ls", register_ls, Needs::repo},

    {"log", register_log, Needs::repo},

    {"path", register_path, Needs::repo},

    {"remote", register_remote, Needs::repo},

    {"push", register_push, Needs::repo},

    {"pull", register_pull, Needs::repo},

    {"hook", register_hook, Needs::nothing},

    {"doctor", register_doctor, Needs::nothing},

    {"repair", register_repair, Needs::repo},

    {"compress", register_compress, Needs::repo},

    {"export", register_export, Needs::repo},

  };
  return k_commands;
}

std::string exit_status_help() {
  return "EXIT STATUS\n"
         "  0    all good\n"
         "  1    problems found (verification failed, hook refused)\n"
         "  2    error (usage, not a repository, invalid input, I/O)\n"
         "  130  interrupted\n";
}

} // namespace dsm

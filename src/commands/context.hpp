// The one Context every command receives. Data only: global options, the
// open repository (when the command needs one) and output settings.
#pragma once

#include <filesystem>
#include <memory>

namespace dsm {

class Repository;

struct Context {
  Context();
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  // Directory the command acts from: the process cwd, or -C DIR resolved
  // against it. Relative FILE arguments resolve against this.
  std::filesystem::path work_dir;
  // -q: only errors on stderr.
  bool quiet = false;
  // stderr is a terminal: progress bars allowed.
  bool stderr_is_tty = false;
  // --no-progress.
  bool no_progress = false;
  // Draw a progress line (util/progress.hpp): on a terminal only, never
  // with -q or --no-progress.
  bool show_progress() const { return stderr_is_tty && !quiet && !no_progress; }
  // A FILE argument as the user meant it: absolute, relative paths taken
  // from work_dir (so `-C DIR` applies), lexically normalised.
  std::filesystem::path from_work_dir(const std::filesystem::path& p) const;

  // The dsm repository around work_dir, opened by main before the command
  // runs when the command's table entry says Needs::repo. Null otherwise.
  std::unique_ptr<Repository> repo;
};

} // namespace dsm

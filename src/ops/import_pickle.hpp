// `dsm import FILE.pkl --name NAME`: a pickle of arrays stored as a dataset,
// read by the Python package's restricted unpickler (python/dsm/_pickle.py):
// only NumPy's array reconstruction and builtin containers and scalars may
// load; any other global is refused by name before it runs.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace dsm {

namespace fs = std::filesystem;

struct ImportRequest {
  fs::path file;                      // as given (relative to work_dir)
  std::string name;
  std::optional<std::string> message;
  fs::path work_dir;                  // the repository is the one around it
};

// Replaces this process with `/usr/bin/python3 -m dsm import ...` (its exit
// status and messages are the command's: "dsm: error: ...", 0/1/2/130),
// finding the package beside this binary (<bin>/python in a build tree,
// <bin>/../<python dir> once installed) before the interpreter's own path.
// Throws Error when the package or the interpreter is not there.
[[noreturn]] void exec_import_pickle(const ImportRequest& request);

} // namespace dsm

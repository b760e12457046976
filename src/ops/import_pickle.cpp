#include "ops/import_pickle.hpp"

#include "dsm/error.hpp"
#include "util/file.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

namespace dsm {

namespace {

constexpr const char* k_python = "/usr/bin/python3";

// Where the package that matches this binary lives, if anywhere.
std::optional<fs::path> package_dir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) {
    return std::nullopt;
  }
  std::vector<fs::path> candidates = {exe.parent_path() / "python"};
#ifdef DSM_PYTHON_INSTALL_DIR
  candidates.push_back(exe.parent_path().parent_path() / DSM_PYTHON_INSTALL_DIR);
#endif
  for (const fs::path& dir : candidates) {
    if (fs::exists(dir / "dsm" / "__init__.py", ec)) {
      return dir;
    }
  }
  return std::nullopt;
}

} // namespace

void exec_import_pickle(const ImportRequest& request) {
  std::optional<fs::path> dir = package_dir();
  if (!dir) {
    throw Error("dsm import needs dsm's Python package, which was not built with this dsm (configure with "
                "-DDSM_PYTHON=ON after scripts/install-deps.sh)");
  }
  if (::access(k_python, X_OK) != 0) {
    throw Error(std::string("dsm import needs ") + k_python + ": " + util::errno_message(errno));
  }
  std::string path = dir->string();
  if (const char* old = std::getenv("PYTHONPATH"); old != nullptr && *old != '\0') {
    path += ":" + std::string(old);
  }
  ::setenv("PYTHONPATH", path.c_str(), 1);
  std::vector<std::string> args = {k_python, "-m", "dsm", "import", request.file.string(), "--name", request.name,
                                   "--repo", request.work_dir.string()};
  if (request.message) {
    args.push_back("--message");
    args.push_back(*request.message);
  }
  std::vector<char*> argv;
  for (std::string& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  ::execv(k_python, argv.data());
  throw Error(std::string("cannot run ") + k_python + ": " + util::errno_message(errno));
}

} // namespace dsm

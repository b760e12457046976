#include "repo/gitattributes.hpp"

#include "git/git.hpp"
#include "git/references.hpp"
#include "repo/gitignore.hpp"
#include "repo/manifest.hpp"
#include "repo/repository.hpp"
#include "util/file.hpp"

#include <system_error>

namespace dsm::gitattributes {

std::string render_block(const std::string& data_dir_rel) {
  std::string dir = "/" + gitignore::escape_pattern(data_dir_rel);
  std::string out(gitignore::k_begin);
  out += '\n';
  out += dir + "/" + k_manifest_name + " -text merge=" + k_driver + "\n";
  out += dir + "/**/*" + k_sidecar_suffix + " -text\n";
  out += gitignore::k_end;
  out += '\n';
  return out;
}

bool intact(const Repository& repo) {
  fs::path file = repo.root() / ".gitattributes";
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    return false;
  }
  return gitignore::check_block(util::read_file(file, 16u << 20), render_block(repo.data_dir_relative())) ==
         gitignore::BlockState::intact;
}

bool ensure(const Repository& repo) {
  fs::path file = repo.root() / ".gitattributes";
  std::error_code ec;
  std::string text;
  if (fs::exists(file, ec)) {
    text = util::read_file(file, 16u << 20);
  }
  std::string block = render_block(repo.data_dir_relative());
  if (gitignore::check_block(text, block) == gitignore::BlockState::intact) {
    return false;
  }
  std::string fixed = gitignore::repair_text(text, block);
  if (fixed == text) {
    return false;
  }
  util::write_file_atomic(file, fixed, 0644);
  return true;
}

bool driver_configured(const Repository& repo) {
  std::optional<std::string> driver = repo.git().config_string(std::string("merge.") + k_driver + ".driver");
  return driver && *driver == k_driver_command;
}

bool ensure_driver_config(const Repository& repo) {
  if (driver_configured(repo)) {
    return false;
  }
  git::set_local_config(repo.git(), std::string("merge.") + k_driver + ".name",
                        "dsm manifest merge (by path; see docs/sharing.md)");
  git::set_local_config(repo.git(), std::string("merge.") + k_driver + ".driver", k_driver_command);
  return true;
}

} // namespace dsm::gitattributes

// Installing dsm's hooks (rules in hook_install.hpp and docs/hooks.md).
#include "git/hook_install.hpp"

#include "dsm/error.hpp"
#include "git/git.hpp"
#include "pre_commit_template.hpp"
#include "pre_push_template.hpp"
#include "util/file.hpp"

#include <cerrno>
#include <cstdio>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>

namespace dsm {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view k_version_marker = "# dsm-hook-version:";
// The first shim dsm shipped, before versions were recorded.
constexpr std::string_view k_unversioned_marker = "# dsm pre-commit hook shim";
std::string chained_name(Hook hook) { return std::string(hook_name(hook)) + ".dsm-chained"; }
std::string backup_name(Hook hook) { return std::string(hook_name(hook)) + ".dsm-backup"; }

bool exists_nofollow(const fs::path& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0;
}

void make_executable(const fs::path& p) {
  if (::chmod(p.c_str(), 0755) != 0) {
    throw Error("cannot make " + quote(p.string()) + " executable: " + util::errno_message(errno));
  }
}

void rename_or_throw(const fs::path& from, const fs::path& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) {
    throw Error("cannot move " + quote(from.string()) + " to " + quote(to.string()) + ": " +
                util::errno_message(errno));
  }
}

void write_hook(const fs::path& path, Hook hook) { util::write_file_atomic(path, hook_template(hook), 0755); }

std::string read_hook_text(const fs::path& path) {
  // A hook is a small script; anything huge is certainly not dsm's.
  std::error_code ec;
  if (fs::is_symlink(path, ec) || !fs::is_regular_file(path, ec) || fs::file_size(path, ec) > (1u << 20)) {
    return {};
  }
  return util::read_file(path);
}

} // namespace

const char* hook_name(Hook hook) { return hook == Hook::pre_push ? "pre-push" : "pre-commit"; }

const char* hook_template(Hook hook) {
  return hook == Hook::pre_push ? generated::k_pre_push_template : generated::k_pre_commit_template;
}

int parse_hook_version(const std::string& text) {
  size_t at = text.find(k_version_marker);
  if (at != std::string::npos) {
    size_t i = at + k_version_marker.size();
    while (i < text.size() && text[i] == ' ') {
      ++i;
    }
    int v = 0;
    bool digits = false;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && v < 100000) {
      v = v * 10 + (text[i] - '0');
      digits = true;
      ++i;
    }
    return digits ? v : -1;
  }
  if (text.find(k_unversioned_marker) != std::string::npos && text.find("dsm hook pre-commit") != std::string::npos) {
    return 0;
  }
  return -1;
}

int current_hook_version(Hook hook) { return parse_hook_version(hook_template(hook)); }

HookInstallResult install_hook(const git::Repo& repo, Hook hook, HookForce force) {
  fs::path dir = repo.hooks_dir();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    throw Error("cannot create hooks directory " + quote(dir.string()) + ": " + ec.message());
  }
  HookInstallResult r;
  r.hook = hook;
  r.hook_path = dir / hook_name(hook);
  fs::path chained = dir / chained_name(hook);
  if (exists_nofollow(chained)) {
    r.chained_path = chained;
  }
  if (!exists_nofollow(r.hook_path)) {
    write_hook(r.hook_path, hook);
    r.action = HookInstallResult::Action::installed;
    return r;
  }
  std::string text = read_hook_text(r.hook_path);
  int version = parse_hook_version(text);
  if (version >= 0) {
    if (text == hook_template(hook)) {
      make_executable(r.hook_path); // someone may have cleared the bit
      r.action = HookInstallResult::Action::unchanged;
    } else {
      write_hook(r.hook_path, hook);
      r.action = HookInstallResult::Action::upgraded;
      r.old_version = version;
    }
    return r;
  }
  if (force == HookForce::yes) {
    r.backup_path = dir / backup_name(hook);
    rename_or_throw(r.hook_path, r.backup_path);
    write_hook(r.hook_path, hook);
    r.action = HookInstallResult::Action::replaced;
    return r;
  }
  if (exists_nofollow(chained)) {
    throw Error(std::string("cannot install the ") + hook_name(hook) + " hook: " + quote(r.hook_path.string()) +
                " is another tool's hook, and " + quote(chained.string()) +
                " already holds a chained hook; merge them by hand, or run 'dsm hook install --force' to replace " +
                quote(r.hook_path.string()));
  }
  // Rename keeps the foreign hook's mode, owner and (for a symlink, whose
  // target is relative to this same directory) its target.
  rename_or_throw(r.hook_path, chained);
  try {
    write_hook(r.hook_path, hook);
  } catch (...) {
    std::rename(chained.c_str(), r.hook_path.c_str()); // put it back as it was
    throw;
  }
  r.chained_path = chained;
  r.action = HookInstallResult::Action::chained;
  return r;
}

std::string describe(const HookInstallResult& r) {
  std::string hook = quote(r.hook_path.string());
  const std::string name = hook_name(r.hook);
  switch (r.action) {
  case HookInstallResult::Action::installed:
    return "installed " + name + " hook " + hook;
  case HookInstallResult::Action::upgraded:
    if (r.old_version == current_hook_version(r.hook)) {
      return "restored " + name + " hook " + hook + " (it had been edited)";
    }
    return "upgraded " + name + " hook " + hook + " (version " + std::to_string(r.old_version) + " -> " +
           std::to_string(current_hook_version(r.hook)) + ")";
  case HookInstallResult::Action::unchanged:
    return name + " hook " + hook + " is already installed and current";
  case HookInstallResult::Action::chained:
    return "installed " + name + " hook " + hook + "; the existing hook was kept as " +
           quote(r.chained_path.string()) + " and runs first: both must pass";
  case HookInstallResult::Action::replaced:
    return "replaced the existing " + name + " hook " + hook + " (--force); it was saved as " +
           quote(r.backup_path.string()) + " and no longer runs";
  }
  return {};
}

HookStatus hook_status(const git::Repo& repo, Hook hook) {
  HookStatus s;
  s.hook = hook;
  fs::path dir = repo.hooks_dir();
  s.hook_path = dir / hook_name(hook);
  s.chained = exists_nofollow(dir / chained_name(hook));
  if (!exists_nofollow(s.hook_path)) {
    s.state = HookStatus::State::missing;
    return s;
  }
  int version = parse_hook_version(read_hook_text(s.hook_path));
  if (version < 0) {
    s.state = HookStatus::State::foreign;
    return s;
  }
  s.version = version;
  if (::access(s.hook_path.c_str(), X_OK) != 0) {
    s.state = HookStatus::State::not_executable;
  } else if (version != current_hook_version(hook)) {
    s.state = HookStatus::State::outdated;
  } else {
    s.state = HookStatus::State::current;
  }
  return s;
}

bool framework_hook_runs_dsm(const git::Repo& repo) {
  if (read_hook_text(repo.hooks_dir() / "pre-commit").find("File generated by pre-commit") == std::string::npos) {
    return false;
  }
  fs::path config = repo.work_tree() / ".pre-commit-config.yaml";
  std::error_code ec;
  if (!fs::is_regular_file(config, ec) || fs::file_size(config, ec) > (1u << 20)) {
    return false;
  }
  std::string text = util::read_file(config);
  return text.find("dsm-check") != std::string::npos || text.find("dsm hook pre-commit") != std::string::npos;
}

} // namespace dsm

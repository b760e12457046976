#include "ops/init.hpp"

#include "repo/config.hpp"
#include "dsm/error.hpp"
#include "repo/gitattributes.hpp"
#include "repo/gitignore.hpp"
#include "repo/manifest.hpp"
#include "repo/repository.hpp"
#include "git/git.hpp"
#include "util/file.hpp"

#include <system_error>

namespace dsm {

namespace {

// --data-dir as the config stores it: relative to the root, '/'-separated.
std::string data_dir_relative_to_root(const fs::path& root, const fs::path& work_dir, const std::string& typed) {
  if (typed.empty()) {
    throw Error("--data-dir is empty");
  }
  fs::path abs = (fs::path(typed).is_absolute() ? fs::path(typed) : work_dir / typed).lexically_normal();
  fs::path rel = abs.lexically_relative(root);
  std::string s = rel.generic_string();
  while (s.size() > 1 && s.back() == '/') {
    s.pop_back();
  }
  if (rel.empty() || s == "." ) {
    throw Error("refusing data directory " + quote(typed) + ": it is the repository root itself");
  }
  if (s == ".." || s.starts_with("../")) {
    throw Error("refusing data directory " + quote(typed) + ": it is outside the work tree " +
                quote(root.string()));
  }
  return s;
}

void mkdirs(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    throw Error("cannot create directory " + quote(dir.string()) + ": " + ec.message());
  }
}

} // namespace

InitResult init_repository(const fs::path& work_dir, const InitOptions& options) {
  git::Repo git = git::Repo::discover(work_dir);
  fs::path root = git.work_tree();
  fs::path config_file = root / k_config_file;
  std::error_code ec;
  InitResult result;
  result.root = root;

  Config config;
  bool exists = fs::exists(config_file, ec);
  if (exists) {
    config = Config::load(config_file);
    if (options.data_dir) {
      std::string wanted = data_dir_relative_to_root(root, work_dir, *options.data_dir);
      if (fs::path(wanted).lexically_normal() != fs::path(config.data_dir).lexically_normal()) {
        throw Error("already initialised with data_dir " + quote(config.data_dir) + " in " +
                    quote(config_file.string()) + "; edit it there to move the data directory");
      }
    }
  } else if (options.data_dir) {
    config.data_dir = data_dir_relative_to_root(root, work_dir, *options.data_dir);
  }
  try {
    validate_data_dir(config.data_dir);
  } catch (const Error& e) {
    throw Error(std::string("refusing ") + e.what());
  }
  fs::path data_dir = resolve_data_dir(root, config);
  result.data_dir = data_dir;

  // Code already tracked in the data dir would vanish from git's view under
  // the ignore block (payload patterns) or get mixed with datasets.
  std::string rel = fs::path(config.data_dir).lexically_normal().generic_string();
  while (!rel.empty() && rel.back() == '/') {
    rel.pop_back();
  }
  for (const std::string& tracked : git.tracked_under(rel)) {
    std::string name = fs::path(tracked).filename().string();
    bool ours = tracked == rel + "/" + k_manifest_name ||
                (name.size() > 5 && name.compare(name.size() - 5, 5, ".yaml") == 0);
    if (!ours) {
      throw Error("refusing data directory " + quote(rel) + ": it already holds tracked files (e.g. " +
                  quote(tracked) + "); choose another with --data-dir");
    }
  }
  if (fs::exists(data_dir, ec) && !fs::is_directory(data_dir, ec)) {
    throw Error("refusing data directory " + quote(rel) + ": it exists and is not a directory");
  }

  if (!exists) {
    mkdirs(root / k_dsm_dir);
    util::write_file_atomic(config_file, config.serialize());
    result.created = true;
  }
  if (!fs::exists(data_dir, ec)) {
    mkdirs(data_dir);
    result.created_data_dir = true;
  }
  fs::path manifest = data_dir / k_manifest_name;
  if (!fs::exists(manifest, ec)) {
    util::write_file_atomic(manifest, "");
    result.created_manifest = true;
  } else {
    // A clone made with core.autocrlf=true before .gitattributes said -text
    // checked the manifest out with CR LF: dsm writes LF only, and the LF
    // text is what git has (autocrlf converts back on add).
    std::string text = util::read_file(manifest);
    if (text.find("\r\n") != std::string::npos) {
      std::string lf;
      lf.reserve(text.size());
      for (size_t i = 0; i < text.size(); ++i) {
        if (!(text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n')) {
          lf += text[i];
        }
      }
      Manifest::parse(lf, manifest.string()); // only a manifest that is valid with LF
      util::write_file_atomic(manifest, lf);
      result.fixed_line_endings = true;
    }
  }
  Repository repo(std::move(git), config);
  result.changed_gitignore = gitignore::ensure(repo);
  // Manifest and sidecars are never end-of-line converted; the manifest
  // merges with dsm's driver (docs/sharing.md, "Branches and merges").
  result.changed_gitattributes = gitattributes::ensure(repo);
  result.configured_merge_driver = gitattributes::ensure_driver_config(repo);
  return result;
}

} // namespace dsm

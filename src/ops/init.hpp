// `dsm init`: makes the git work tree around a directory a dsm repository.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace dsm {

namespace fs = std::filesystem;

struct InitOptions {
  // --data-dir as typed: relative to `work_dir`, or absolute inside the
  // work tree. nullopt: keep the configured one, or "data".
  std::optional<std::string> data_dir;
};

struct InitResult {
  fs::path root;
  fs::path data_dir;
  bool created = false;         // config written now (first init)
  bool changed_gitignore = false;
  bool changed_gitattributes = false;   // the managed .gitattributes block written
  bool configured_merge_driver = false; // merge.dsm.* set in .git/config
  bool fixed_line_endings = false;      // a CR LF manifest rewritten with LF
  bool created_manifest = false;
  bool created_data_dir = false;
};

// Creates (or repairs, idempotently) .dsm/config.yaml, the data dir, the
// manifest, the managed .gitignore and .gitattributes blocks and the merge
// driver's entry in .git/config (repo/gitattributes.hpp). Refuses (Error, exit 2):
// outside a git work tree; a data dir that is the root, outside the work
// tree, inside .git/.dsm, or already holds tracked files other than
// sidecars and the manifest; a different --data-dir on an initialised repo.
InitResult init_repository(const fs::path& work_dir, const InitOptions& options);

} // namespace dsm

// The managed block dsm keeps in the work tree's root `.gitattributes`: the
// manifest and sidecars are never end-of-line converted (a clone with
// core.autocrlf=true checks them out with LF, as dsm writes them), and the
// manifest merges with dsm's merge driver (`dsm merge-driver`, named in
// .git/config by `dsm init`).
//
//   # >>> dsm managed block: do not edit (run 'dsm init' to repair)
//   /data/manifest-sha256.txt -text merge=dsm
//   /data/**/*.yaml -text
//   # <<< dsm managed block
//
// Lines outside the markers belong to the user and are never touched (the
// same block rules as .gitignore's, repo/gitignore.hpp).
#pragma once

#include <string>

namespace dsm {
class Repository;
}

namespace dsm::gitattributes {

// The merge driver's name in .gitattributes and .git/config.
inline constexpr const char* k_driver = "dsm";
// What .git/config's merge.dsm.driver runs (%O base, %A ours and the
// result, %B theirs, %P the path).
inline constexpr const char* k_driver_command = "dsm merge-driver %O %A %B %P";

std::string render_block(const std::string& data_dir_rel);

// Repairs `<root>/.gitattributes` atomically; returns true when it changed.
bool ensure(const Repository& repo);
// True when the block is there and intact.
bool intact(const Repository& repo);

// Sets merge.dsm.name and merge.dsm.driver in .git/config (shared by every
// worktree); returns true when something changed.
bool ensure_driver_config(const Repository& repo);
// True when .git/config (or any config git reads) names dsm's driver.
bool driver_configured(const Repository& repo);

} // namespace dsm::gitattributes

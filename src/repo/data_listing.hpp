// The data directory in one parallel listing (util::list_tree): every entry,
// plus the lstat facts of payloads and sidecars. `dsm status` and `dsm
// verify` take existence and stat facts from it instead of a path lookup
// per file, and find untracked, temp and orphan files in the same pass.
#pragma once

#include "repo/statcache.hpp"
#include "util/walk.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace dsm {

class Repository;

enum class SidecarStats { no, yes };

// Payloads always get their lstat facts; sidecars when asked (`verify
// --fast` trusts a sidecar by them, status compares them with git's index).
// Throws dsm::Error "cannot scan '<dir>': ..." when a directory cannot be
// read (see util::list_tree).
std::vector<util::ListedEntry> list_data_dir(const Repository& repo, SidecarStats sidecars);

StatFacts facts_of(const util::FileStat& st);

// The lstat facts of `rel` (at `abs`): from `listing` when it has them (a
// null listing: none was made), else lstat(). Returns 0 or the errno;
// ENOENT when the listing has no such entry.
int stat_listed(const std::vector<util::ListedEntry>* listing, const std::string& rel, const std::filesystem::path& abs,
                util::FileStat& out);

} // namespace dsm

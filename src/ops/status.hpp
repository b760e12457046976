// `dsm status`: what changed in the data directory, like `git status`.
// No hashing for payloads whose stat facts match a trusted stat-cache entry;
// a payload with no trusted entry (first run after a clone, or racily
// clean) is hashed once and remembered.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace dsm {

class Repository;
namespace fs = std::filesystem;

struct StatusReport {
  std::vector<fs::path> untracked;   // payloads no manifest line covers
  std::vector<fs::path> missing;     // manifest entries without a payload
  std::vector<fs::path> changed;     // stat changed since added/verified (content differs or unknown)
  std::vector<fs::path> uncommitted; // sidecars/manifest not as committed in HEAD
  std::vector<fs::path> temp;        // leftover temp files
  // Payloads the working manifest lacks but a ref, the stash or the index
  // lists (repo/referenced.hpp), with where from: kept, information only.
  std::vector<std::pair<fs::path, std::string>> referenced;
  // Files `dsm repair` moved to .dsm/local/orphans/ (move one back into the
  // data dir to restore it; delete it when no longer needed).
  std::vector<fs::path> set_aside;
  // Committed versions (HEAD's manifest) whose payload is here and which no
  // remote is known to hold (repo/known_objects.hpp: what push, pull,
  // verify --remote and doctor saw; no network): their only copy may be
  // this one. Information, not part of clean(). `no_remote`: none is
  // configured.
  std::vector<fs::path> unpushed;
  bool no_remote = false;
  uint64_t payloads = 0;             // manifest entries
  uint64_t hashed = 0;               // payloads hashed because no trusted cache entry existed
  bool clean() const {
    return untracked.empty() && missing.empty() && changed.empty() && uncommitted.empty() && temp.empty();
  }
};

StatusReport status(const Repository& repo);
nlohmann::json to_json(const StatusReport& r);

} // namespace dsm

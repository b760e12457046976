// `dsm verify`: prove the data directory is intact. Every problem is
// recorded (never stop at the first); the command prints them and a summary.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace dsm::util {
class Progress;
}

namespace dsm {

class Repository;
namespace fs = std::filesystem;

enum class Problem {
  failed,    // FAILED: checksum mismatch, unreadable, not a regular file, corrupt
  missing,   // MISSING: a manifest entry's payload, or a payload's sidecar
  mismatch,  // MISMATCH: sidecar disagrees with manifest or file
  untracked, // UNTRACKED: payload in the data dir that no manifest line covers
  orphan,    // ORPHAN: sidecar without a payload
  temp,      // TEMP: leftover temporary file of an interrupted write
  writable,  // WRITABLE: a payload whose permissions were widened
  referenced, // REFERENCED: not in the working manifest, but a ref, the stash or the
              // index lists it (repo/referenced.hpp): information, never a problem
  dropped,    // DROPPED: absent here because `dsm drop` deleted it once a remote
              // verifiably held it (repo/dropped.hpp): a problem only with --strict
};

struct Finding {
  Problem kind = Problem::failed;
  fs::path path;      // absolute
  std::string detail; // "" or what is wrong
};

struct VerifyOptions {
  std::vector<std::string> targets; // empty: everything (+ the untracked scan)
  fs::path work_dir;
  unsigned jobs = 0;   // 0: hardware_concurrency
  bool fast = false;   // trust the stat cache
  bool strict = false; // untracked, temp, writable and dropped count as problems
  // Counts every byte hashed (and those --fast trusts), so a terminal's
  // line moves within one large file; null: no progress.
  util::Progress* progress = nullptr;
};

struct VerifyReport {
  std::vector<Finding> findings; // sorted by path
  uint64_t checked = 0;          // manifest entries examined
  uint64_t hashed_bytes = 0;
  uint64_t skipped_fast = 0;     // unchanged entries trusted from the stat cache
  // Findings that make the exit status 1 (untracked etc. only with strict).
  uint64_t problems = 0;
  bool ok() const { return problems == 0; }
};

VerifyReport verify(const Repository& repo, const VerifyOptions& options);

// "FAILED", "MISSING", ...
const char* problem_tag(Problem p);
// `<TAG> <path>[: detail]`
std::string format_finding(const Finding& f);
std::string summary_line(const VerifyReport& r, bool fast);
nlohmann::json to_json(const VerifyReport& r);

} // namespace dsm

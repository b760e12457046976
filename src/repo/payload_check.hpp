// Checking a payload in the work tree against what a sidecar or the manifest
// records (size, SHA-256), for the pre-commit hook and doctor. Hashing is the
// expensive part, so only payloads a commit touches are checked, and (with
// the stat cache) only those changed since they were last verified.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dsm {

class Repository;
class StatCache;

// The facts of a sidecar the hook needs (its full format is the repository
// layer's): the payload file name, size and SHA-256.
struct SidecarFacts {
  std::string file;
  std::optional<uint64_t> size;
  std::string sha256;
  // A chunked version (`dsm add --chunk-size`): its chunk files, each with
  // its own manifest line; size and sha256 above are the whole array's.
  struct Chunk {
    std::string file;
    uint64_t size = 0;
    std::string sha256;
  };
  std::vector<Chunk> chunks;
};

// Parses the YAML text of a sidecar with the repository layer's parser;
// throws dsm::Error ('<file>':<line>: what is wrong).
SidecarFacts parse_sidecar_facts(const std::string& text, const std::string& file);

struct PayloadProblem {
  enum class Kind { missing, changed, unreadable };
  Kind kind;
  std::string what; // "missing from the work tree", "content differs from ..."
};

class PayloadChecker {
public:
  explicit PayloadChecker(const Repository& repo);
  ~PayloadChecker();
  PayloadChecker(const PayloadChecker&) = delete;
  PayloadChecker& operator=(const PayloadChecker&) = delete;

  // nullopt when `abs` exists as a regular file with `size` (if given) and
  // `sha256`.
  std::optional<PayloadProblem> check(const std::filesystem::path& abs, std::optional<uint64_t> size,
                                      const std::string& sha256);

private:
  const Repository& m_repo;
  std::unique_ptr<StatCache> m_cache; // loaded on the first hash, saved on destruction
};

} // namespace dsm

// The dsm repository: a git work tree with `.dsm/config.yaml`, a data
// directory holding payloads and their sidecars, and the manifest.
//
// Layout (paths relative to the work-tree root):
//   .dsm/config.yaml                 committed configuration (dsm/config.hpp)
//   .dsm/local/                      gitignored local state: lock, stat cache,
//                                    dropped payloads (repo/dropped.hpp),
//                                    committed numbers (seqcache: repo/referenced.hpp),
//                                    staged sidecars' facts (repo/sidecar_facts_cache.hpp)
//   <data_dir>/manifest-sha256.txt   committed manifest (dsm/manifest.hpp)
//   <data_dir>/<name>/<stem>.npy     payload (gitignored, read-only)
//   <data_dir>/<name>/<stem>.npy.yaml  its sidecar (committed)
//
// Everything printed is absolute; everything committed is relative.
#pragma once

#include "repo/config.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace dsm {

namespace git {
class Repo;
}

namespace fs = std::filesystem;

inline constexpr const char* k_dsm_dir = ".dsm";
inline constexpr const char* k_config_file = ".dsm/config.yaml";
inline constexpr const char* k_local_dir = ".dsm/local";
inline constexpr const char* k_sidecar_suffix = ".yaml";

class Repository {
public:
  // Finds the git work tree around `start` and its `.dsm/config.yaml`.
  // Throws Error (exit 2): not in a git work tree; "not a dsm repository
  // (run 'dsm init')"; invalid config.
  static std::unique_ptr<Repository> open(const fs::path& start);
  // For `dsm init`: the git work tree and a config not yet on disk.
  Repository(git::Repo git, Config config);
  ~Repository();
  Repository(const Repository&) = delete;
  Repository& operator=(const Repository&) = delete;

  const fs::path& root() const { return m_root; }         // absolute work-tree root
  const fs::path& data_dir() const { return m_data_dir; } // absolute
  const Config& config() const { return m_config; }
  git::Repo& git() const { return *m_git; }

  fs::path config_path() const { return m_root / k_config_file; }
  fs::path manifest_path() const;
  fs::path local_dir() const { return m_root / k_local_dir; }
  fs::path lock_path() const { return local_dir() / "lock"; }
  fs::path statcache_path() const { return local_dir() / "statcache"; }
  // `<payload>.yaml`.
  static fs::path sidecar_path(const fs::path& payload);
  // The payload of a sidecar path, or nullopt when `p` is not a sidecar name.
  static std::optional<fs::path> payload_of_sidecar(const fs::path& p);

  // `abs` relative to the data dir ('/'-separated), or nullopt when it is
  // not inside it. Purely lexical: `abs` must be absolute and normalised.
  std::optional<std::string> data_relative(const fs::path& abs) const;
  // The data dir relative to the root ('/'-separated, no trailing slash).
  std::string data_dir_relative() const;

  // Creates .dsm/local if missing (it is local state; cheap to recreate).
  void ensure_local_dir() const;

private:
  std::unique_ptr<git::Repo> m_git;
  Config m_config;
  fs::path m_root;
  fs::path m_data_dir;
};

// The data dir of `config` under `root`, checked: not the root, not outside
// it (also after resolving symlinks of existing components). Throws Error.
fs::path resolve_data_dir(const fs::path& root, const Config& config);

} // namespace dsm

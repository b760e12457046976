// `.dsm/config.yaml`: the committed configuration of a dsm repository.
//
// Grammar (a YAML mapping; every key optional except `version`; an unknown
// key is an error naming '<file>':<line>):
//
//   version: 1                      # config format version; newer is refused
//   data_dir: data                  # relative to the work-tree root
//   extensions: [.npy, .npz]        # payload extensions dsm manages
//   naming: "{name}_{date}_{seq}"   # payload file stem; {name} = last name segment
//   max_git_file_size: 10485760     # largest file the pre-commit hook lets into git
//   remotes:                        # NAME -> remote (used by push/pull)
//     origin: {url: "s3://bucket/prefix", endpoint: "http://...", region: "us-east-1", default: true}
//
// serialize() writes exactly this layout, keys in this order, so the file is
// canonical and diffs stay small.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace dsm {

namespace fs = std::filesystem;

inline constexpr int k_config_version = 1;
inline constexpr uint64_t k_default_max_git_file_size = 10ull << 20;
inline constexpr const char* k_default_naming = "{name}_{date}_{seq}";

struct RemoteConfig {
  std::string name;                    // key under `remotes`
  std::string url;                     // required
  std::optional<std::string> endpoint; // e.g. an S3-compatible server
  std::optional<std::string> region;
  bool is_default = false;             // `default: true`; at most one remote
};

struct Config {
  int version = k_config_version;
  std::string data_dir = "data";
  std::vector<std::string> extensions = {".npy", ".npz"};
  std::string naming = k_default_naming;
  uint64_t max_git_file_size = k_default_max_git_file_size;
  std::vector<RemoteConfig> remotes; // sorted by name
  // git pathspecs ("tests/fixtures/*.npy", ":(glob)**/golden/*.npz") of
  // files the hook accepts in commits: small test fixtures that belong in git.
  std::vector<std::string> allow;

  // Parses and validates; `file` names the source in messages
  // ("'<file>':<line>: unknown key 'x'"). Throws dsm::Error (exit 2).
  static Config parse(const std::string& text, const std::string& file);
  static Config load(const fs::path& file);
  std::string serialize() const;

  const RemoteConfig* find_remote(const std::string& name) const;
  // The remote marked default, or the only remote; nullptr otherwise.
  const RemoteConfig* default_remote() const;
  // True when `filename` ends with one of `extensions`.
  bool is_payload_name(const std::string& filename) const;
};

// Checks a data_dir value: relative, normalised, no `..`, not the root
// itself, not inside .git or .dsm. Throws dsm::Error naming why.
void validate_data_dir(const std::string& data_dir);

// Checks a naming pattern: {name}, {date} and {seq} once each, other
// characters from [A-Za-z0-9._-]. Throws dsm::Error naming why.
void validate_naming(const std::string& naming);

} // namespace dsm

// Shared by `dsm remote`, `push`, `pull` and `verify --remote`: choosing a
// configured remote, opening its store, and selecting manifest entries by
// TARGET (dataset name, name@VERSION, or a path).
#pragma once

#include "dsm/config.hpp"
#include "dsm/manifest.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace dsm {

class Repository;
struct Context;

namespace remote {
class ObjectStore;
}

// --remote NAME, or the default remote (the one marked default, or the only
// one). Throws Error naming what to do when there is none.
const RemoteConfig& choose_remote(const Repository& repo, const std::string& name);

// Opens the store of a configured remote (credentials from the environment).
std::unique_ptr<remote::ObjectStore> open_remote(const Repository& repo, const RemoteConfig& remote);

// The repository's manifest (empty when the file does not exist yet).
Manifest load_manifest_for_remote(const Repository& repo);

// The manifest entries TARGETs name, in manifest order, without duplicates;
// every entry when targets is empty. A TARGET is a dataset name (every
// version), NAME@VERSION, or a path to a payload or a directory inside the
// data directory (relative to work_dir). Throws Error (exit 2) for a TARGET
// that matches nothing.
std::vector<ManifestEntry> select_entries(const Repository& repo, const Manifest& manifest,
                                          const std::vector<std::string>& targets, const fs::path& work_dir);

// `size` from a payload's sidecar, if the sidecar exists and says so.
std::optional<uint64_t> sidecar_size(const fs::path& payload);

// `dsm verify --remote NAME [TARGET...]`: every selected manifest entry must
// exist on the remote with the right size (and hash, where the store can
// tell). Prints one line per problem and a summary; returns the exit code
// (0 all present, 1 problems found).
// Each problem once on stderr ("dsm: error: …"), then the one-line summary
// push and pull end with ("pushed 3 payloads (1.0 MiB)
// to remote 'team' in 0.20 s; 2 already there"); then throws with `worst`
// when any transfer failed, so both commands report and fail alike.
void finish_transfer(const std::string& verb, const std::string& preposition, size_t done, uint64_t bytes,
                     const std::string& store, double seconds, const std::string& skipped,
                     const std::vector<std::string>& problems,
                     int worst);

int verify_remote(Context& ctx, const std::string& remote_name, const std::vector<std::string>& targets,
                  unsigned jobs);

// Which payloads a remote can restore, for `status` and `ls` ("absent here,
// on remote 'origin': dsm pull"). `name` empty: the default remote, and
// nothing (nullopt) when no remote is configured or none is the default.
// A remote that cannot be reached (offline, credentials) is not an error
// for these read-only views: `error` says why and `present` stays empty.
struct RemoteAvailability {
  std::string remote;               // its name
  std::set<std::string> present;    // the SHA-256s of `shas` it holds
  std::string error;                // "" or why it could not be asked
};
std::optional<RemoteAvailability> remote_availability(const Repository& repo, const std::string& name,
                                                      const std::vector<std::string>& shas);

// Default --jobs for transfers: network-bound, so more than the cores.
inline constexpr unsigned k_default_transfer_jobs = 8;

// The options push and pull share: TARGET..., --remote NAME, --jobs N.
// `direction` is "to" or "from" (the remote), for --remote's help.
void add_transfer_options(CLI::App* sub, std::vector<std::string>& targets, std::string& remote, unsigned& jobs,
                          const std::string& verb, const std::string& direction);

} // namespace dsm

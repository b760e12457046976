// Sharing payloads with a remote: `dsm push`, `dsm pull`, `dsm verify
// --remote`, and what status and ls ask ("which of these can the remote
// restore?"). Every function acts on the manifest entries that TARGETs
// select through the one resolver (repo/datasets.hpp: resolve_targets), and
// throws dsm::Error; commands/push.cpp, pull.cpp, verify.cpp, status.cpp and
// ls.cpp only print. The C++ API (include/dsm/api.hpp) calls the same
// functions.
#pragma once

#include "repo/config.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace dsm {

class Repository;
namespace fs = std::filesystem;

namespace remote {
class ObjectStore;
}

// Default --jobs for transfers: network-bound, so more than the cores.
inline constexpr unsigned k_default_transfer_jobs = 8;

// --remote NAME, or the default remote (the one marked default, or the only
// one). Throws Error naming what to do when there is none.
const RemoteConfig& choose_remote(const Repository& repo, const std::string& name);

// Opens the store of a configured remote (credentials from the environment).
// What an operation does to a remote: read (pull, verify --remote, drop's
// check, doctor) or write (push, the pre-push hook, gc --remote).
enum class RemoteAccess { read, write };

// Trust is local (docs/guarantees.md, "Threat model"): .dsm/config.yaml
// comes with a clone, so a remote is used only as this clone trusts it
// (trust_remote, recorded in .git/config, never committed): an s3:// remote
// is contacted with credentials only once trusted, and never over plain
// http to a host other than loopback without the opt-in; a directory
// remote is read untrusted (pull checks every byte against the manifest)
// but written to only once trusted, so a hostile clone cannot make `git
// push` copy this clone's data to a directory of its choosing. Otherwise
// throws "remote 'x' is not trusted here".
std::unique_ptr<remote::ObjectStore> open_remote(const Repository& repo, const RemoteConfig& remote,
                                                 RemoteAccess access);

// `dsm remote trust NAME [--allow-http]`: trusts the remote as configured
// now (its URL and endpoint: a later pull that changes either needs a new
// trust). `dsm remote add` calls it for what it adds. nullopt untrusts.
void trust_remote(const Repository& repo, const RemoteConfig& remote, bool allow_http);
void untrust_remote(const Repository& repo, const std::string& name);
// Whether open_remote would refuse `remote` (the message), or nullopt.
std::optional<std::string> untrusted_reason(const Repository& repo, const RemoteConfig& remote,
                                            RemoteAccess access);

// What push, pull and verify --remote act on.
struct SyncOptions {
  std::vector<std::string> targets; // TARGET...: empty means every manifest entry
  // Instead of TARGETs: these (data-relative payload path, SHA-256) pairs,
  // which need not be in the working manifest (the pre-push hook's: the
  // manifests of the commits being pushed; a path may come with several
  // hashes). push only.
  std::optional<std::vector<std::pair<std::string, std::string>>> entries;
  std::string remote; // --remote NAME; empty: the default remote
  unsigned jobs = k_default_transfer_jobs;
  fs::path work_dir;     // relative TARGET paths resolve against it
  bool progress = false; // a progress bar on stderr (a terminal)
  // push --force: objects the remote holds are checked (hashed where the
  // store can tell, otherwise assumed bad) and those that fail are
  // uploaded again, from a local copy verified as it is sent.
  bool force = false;
  // Called before a damaged remote object is replaced (push), with a
  // one-line note for stderr; may be empty.
  std::function<void(const std::string&)> note;
};

// The outcome of a push or pull. A failed transfer of one payload does not
// stop the others: `problems` lists each once, `exit_code` is the worst.
struct TransferReport {
  std::string store;  // the store's description ("remote 'team' (/srv/x)")
  size_t done = 0;    // payloads transferred
  uint64_t bytes = 0; // their bytes
  size_t skipped = 0; // already there (push) or already present (pull)
  size_t linked = 0;  // pull: stored as hard links to identical payloads here (nothing downloaded)
  double seconds = 0;
  std::vector<std::string> problems;
  int exit_code = 0; // 0, 1 (problems found), 2 (error) or 130 (interrupted)
};

// Uploads the selected payloads the remote does not hold, each hashed as it
// is sent and abandoned before it becomes visible if its bytes do not match
// the manifest. Objects are named by content: identical payloads go up once.
// What the remote holds afterwards (sent or already there) is added to its
// record (repo/known_objects.hpp); pull and verify_remote record too.
TransferReport push(const Repository& repo, const SyncOptions& options);

// Downloads the selected payloads missing here: each to a hidden temp file,
// re-hashed on arrival, renamed into place (read-only) only on a match.
// Payloads already present are checked, never replaced.
TransferReport pull(const Repository& repo, const SyncOptions& options);

// Throws the Error that ends a push or pull with problems (each problem
// listed, then "N problems while pushing to …"); nothing when all went well.
void throw_if_failed(const TransferReport& report, const std::string& verb);

// `dsm verify --remote`: every selected entry must exist on the remote with
// the right size, and hash right where the store can tell.
struct RemoteCheckReport {
  std::string store;
  size_t checked = 0;
  bool hashes_checked = false;       // the store hashed its objects (directory)
  std::vector<std::string> problems; // "MISSING <path>: …" / "FAILED <path>: …"
};
RemoteCheckReport verify_remote(const Repository& repo, const SyncOptions& options);

// Which payloads a remote can restore, for `status` and `ls` ("absent here,
// on remote 'origin': dsm pull"). `name` empty: the default remote, and
// nothing (nullopt) when no remote is configured or none is the default.
// A remote that cannot be reached (offline, credentials) is not an error
// for these read-only views: `error` says why and `present` stays empty.
// What it finds present is added to the remote's record
// (repo/known_objects.hpp).
struct RemoteAvailability {
  std::string remote;            // its name
  std::set<std::string> present; // the SHA-256s of `shas` it holds
  std::string error;             // "" or why it could not be asked
};
std::optional<RemoteAvailability> remote_availability(const Repository& repo, const std::string& name,
                                                      const std::vector<std::string>& shas);

// For `dsm drop` and `dsm gc --history`: which of `sizes` (SHA-256 ->
// expected size) the remote `name` (empty: the default) verifiably holds.
// An object counts when it has the expected size and its bytes hash to its
// name: by the store's own hash where it can tell (a directory), otherwise
// by downloading it into a temp file under .dsm/local, hashed on arrival
// and discarded (S3). Never trusts a listing alone. Throws when the remote
// cannot be chosen, opened or reached: nothing can be verified then.
struct RemoteCopies {
  std::string remote;                         // its name
  std::string store;                          // "remote 'team'"
  std::set<std::string> verified;             // held, right size, right hash
  std::map<std::string, std::string> why_not; // sha -> why it does not count
};
RemoteCopies verify_remote_copies(const Repository& repo, const std::string& name,
                                  const std::map<std::string, uint64_t>& sizes, unsigned jobs);

} // namespace dsm

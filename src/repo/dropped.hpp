// `.dsm/local/dropped`: the payloads `dsm drop` deleted here because a
// remote verifiably held them. It is how `dsm verify`, `dsm status` and
// `dsm doctor` tell a dropped payload (not here, on remote R: `dsm pull`
// brings it back; exit 0) from a lost one (MISSING; exit 1).
//
// Why a local record and not a question to the remote: verify and status
// work offline and never wait on a network, and a payload deleted by hand
// must stay MISSING even when a remote happens to hold it; only `dsm drop`,
// which checked the remote's copy first, writes a line. It is local state
// (another clone has its own), never committed.
//
// Format, version 1 (one valid encoding; read back strictly):
//   "dsm dropped 1" LF
//   line = sha256 " " remote-name LF     ; sorted by sha256, one per sha256
// Keyed by content, as remote objects are: two versions with the same bytes
// share a line. A line stays when the payload comes back (`dsm pull`): it
// is only read for payloads that are absent, and then still true.
// Rewritten whole (util::AtomicFile) under the repository lock.
#pragma once

#include <map>
#include <optional>
#include <string>

namespace dsm {

class Repository;

class DroppedRecord {
public:
  // Missing file: empty. Throws Error naming the file when it is damaged.
  static DroppedRecord load(const Repository& repo);
  // Written atomically (temp, fsync, rename, fsync dir). Hold RepoLock.
  void save(const Repository& repo) const;

  // The remote a payload with this hash was dropped for, or nullopt.
  std::optional<std::string> remote_of(const std::string& sha256) const;
  void add(const std::string& sha256, const std::string& remote) { m_by_sha[sha256] = remote; }
  bool erase(const std::string& sha256) { return m_by_sha.erase(sha256) > 0; }
  bool empty() const { return m_by_sha.empty(); }
  const std::map<std::string, std::string>& entries() const { return m_by_sha; }

private:
  std::map<std::string, std::string> m_by_sha;
};

} // namespace dsm

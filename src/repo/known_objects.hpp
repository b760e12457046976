// What this clone has seen a remote hold: the SHA-256s of the objects a
// push uploaded or found there, a pull downloaded, `dsm verify --remote`
// found intact and `dsm doctor` found present. `dsm status` answers "which
// committed versions does no remote hold?" from it without the network.
//
// File: .dsm/local/remotes/NAME/known-objects, one lowercase hex SHA-256 per
// line, sorted, unique; renamed into place whole, without fsync
// (util::write_cache_atomic): a crash can only shorten it. It is a
// record, not a guarantee: two dsm processes adding at once may lose one's
// additions (then a version looks unpushed until the next push or doctor,
// the safe direction), and an object removed from the remote behind dsm's
// back stays listed until `dsm doctor`, which asks the remote, says so.
// Lines that are not a SHA-256 are ignored.
#pragma once

#include <string>
#include <vector>

namespace dsm {

class Repository;

class KnownObjects {
public:
  // The record of remote `name`; empty when there is none.
  static KnownObjects load(const Repository& repo, const std::string& name);
  // The records of every configured remote, merged.
  static KnownObjects load_all(const Repository& repo);
  // Adds `shas` to remote `name`'s record (a no-op when none is new).
  static void add(const Repository& repo, const std::string& name, const std::vector<std::string>& shas);

  bool contains(const std::string& sha256) const;
  size_t size() const { return m_shas.size(); }

private:
  std::vector<std::string> m_shas; // sorted, unique
};

} // namespace dsm

// Identical payloads stored once (issue #14): when a payload's bytes equal a
// payload already in the data directory (same SHA-256), `dsm add`, `dsm
// pull` and `dsm resolve` store it as a hard link to the existing read-only
// file, and a copy where a link is impossible (another filesystem, a link
// count limit, a filesystem without hard links).
//
// Why this is safe: payloads are write-once and read-only, and nothing dsm
// does modifies one in place (verify, export and diff read; drop and gc
// unlink one name; repair only narrows permissions), so two names of one
// inode can never diverge. The file linked is the one opened and checked:
// below the data dir through no symlink, regular, read-only, and its content
// vouched for by the stat cache or hashed; the link is made from the open
// descriptor (/proc/self/fd), so a path swapped after the check is never
// linked.
#pragma once

#include "repo/statcache.hpp"
#include "util/file.hpp"

#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace dsm {

class Manifest;
class Repository;
namespace fs = std::filesystem;

struct IdenticalPayload {
  std::string rel; // its manifest path
  util::Fd fd;     // open for reading, checked
};

// Finds, among the payloads of a manifest, one here whose bytes are a given
// SHA-256 (checked as described above). The manifest is indexed by hash on
// the first question, so an add or a pull of 10,000 files asks cheaply.
class IdenticalFinder {
public:
  IdenticalFinder(const Repository& repo, const Manifest& manifest) : m_repo(repo), m_manifest(manifest) {}
  // A payload other than `exclude_rel`, or nullopt.
  std::optional<IdenticalPayload> find(const std::string& sha256, const std::string& exclude_rel = "");

private:
  const Repository& m_repo;
  const Manifest& m_manifest;
  std::optional<std::multimap<std::string, std::string>> m_by_sha; // sha -> manifest path
  std::optional<StatCache> m_cache;
};

enum class LinkResult {
  linked,     // `dest` is now another name of the file
  exists,     // `dest` exists already: nothing done
  impossible, // links do not work here: store a copy instead
};

// Makes `dest` (absent) another name of the open file `src`. Never replaces.
// Throws on other errors.
LinkResult link_payload(const util::Fd& src, const fs::path& dest);

} // namespace dsm

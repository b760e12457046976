// The sidecar facts cache, `.dsm/local/sidecar-facts` (local, gitignored):
// what a sidecar says about its payload (file, size, sha256), keyed by the
// git blob id of the sidecar's bytes. `dsm add` records the sidecars it
// writes; the pre-commit hook records those it had to parse. The hook then
// checks a staged sidecar whose blob id is listed without reading or
// parsing it: a blob id names exactly one content, and the parse of one
// content always gives the same facts. With 30,000 new sidecars staged,
// parsing them was most of the hook's time (issue 17).
//
// Only sidecars of single-file versions are cached (a chunked version's
// sidecar lists its chunks and is parsed). It is a cache: a line that does
// not parse is dropped, and a lost or damaged file only costs parsing.
//
// Format (text, LF):
//   dsm-sidecar-facts 1
//   <blob id> <sha256> <size> <file>
// file is percent-encoded like the manifest's paths.
#pragma once

#include "repo/payload_check.hpp"

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace dsm {

class Repository;
namespace fs = std::filesystem;

class SidecarFactsCache {
public:
  static fs::path path_in(const Repository& repo);
  // A missing, unreadable or foreign file is an empty cache, never an error.
  static SidecarFactsCache load(const fs::path& file);

  // The facts of the sidecar whose blob id is `blob_id`, if known.
  const SidecarFacts* find(std::string_view blob_id) const;
  // Facts with chunks, or without a size, are not recorded.
  void record(const std::string& blob_id, const SidecarFacts& facts);
  bool dirty() const { return m_dirty; }
  size_t size() const { return m_entries.size(); }
  // Rewrites the file (temp + rename, no fsync) with the entries `keep`
  // accepts. Errors are swallowed: a cache never fails a command.
  void save(const fs::path& file, const std::function<bool(const std::string& blob_id)>& keep) const;

private:
  std::unordered_map<std::string, SidecarFacts> m_entries;
  bool m_dirty = false;
};

// For `dsm add` (under the activity lock): appends the facts of the
// sidecars it writes, a line at a time, so memory does not grow with the
// number of files. A file over half the size the loader reads is started
// afresh. Never fails the add: on any error the rest is skipped, and a
// hook rewriting the file at the same moment may drop lines, which only
// costs parsing those sidecars.
class SidecarFactsAppender {
public:
  explicit SidecarFactsAppender(fs::path file); // SidecarFactsCache::path_in(repo)
  ~SidecarFactsAppender();
  SidecarFactsAppender(const SidecarFactsAppender&) = delete;
  SidecarFactsAppender& operator=(const SidecarFactsAppender&) = delete;

  // `sidecar_text`: the exact bytes written (its blob id is computed here).
  void add(std::string_view sidecar_text, const SidecarFacts& facts);
  void flush();

private:
  fs::path m_file;
  int m_fd = -1;
  std::string m_buffer;
};

} // namespace dsm

// `<data_dir>/manifest-sha256.txt`: one line per stored payload.
//
// Grammar (exactly one valid encoding, so `git diff` and merges stay clean
// and `cd <data_dir> && sha256sum --strict -c manifest-sha256.txt` passes):
//
//   line   = hash "  " path LF           ; two spaces, LF only, final LF
//   hash   = 64 lowercase hex digits      ; SHA-256 of the payload
//   path   = relative to the data dir, '/'-separated, no "." or ".."
//            segments; LF, CR and '%' percent-encoded as %0A, %0D, %25
//            (BagIt, RFC 8493 section 2.1.3)
//
// Lines are sorted by (encoded) path bytes; no duplicates, no blank lines,
// no comments. Anything else is an error naming '<file>':<line>.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsm {

inline constexpr const char* k_manifest_name = "manifest-sha256.txt";

struct ManifestEntry {
  std::string path;   // decoded, relative to the data dir
  std::string sha256; // 64 lowercase hex
};

class Manifest {
public:
  // Parses manifest text; `file` names it in messages. Throws dsm::Error
  // ("'<file>':<line>: ...", exit 2).
  static Manifest parse(const std::string& text, const std::string& file);
  // Canonical text: sorted, LF, final newline (empty manifest = "").
  std::string serialize() const;
  // The canonical text of this manifest with the entries `more` yields
  // merged in (a path listed already takes the new hash), handed to `out`
  // in pieces of about 64 KiB. `more` fills its argument with the next
  // entry, in increasing order of (encoded) path, and returns false after
  // the last; the views must stay valid until the next call. `dsm add` of
  // 100,000 files writes its manifest this way: no map node per new line
  // and never the whole text at once.
  struct Line {
    std::string_view path; // decoded, relative to the data dir
    std::string_view sha256;
  };
  void write_with(const std::function<bool(Line&)>& more, const std::function<void(std::string_view)>& out) const;

  // The entry's hash, or nullptr.
  const std::string* find(const std::string& path) const;
  // Inserts or replaces.
  void set(const std::string& path, const std::string& sha256);
  bool erase(const std::string& path);
  size_t size() const { return m_entries.size(); }
  bool empty() const { return m_entries.empty(); }
  // Entries sorted by path.
  std::vector<ManifestEntry> entries() const;
  const std::map<std::string, std::string>& map() const { return m_entries; }

private:
  // Keyed by decoded path. Sorting by decoded bytes equals sorting by encoded
  // bytes except around '%', CR and LF, so serialize() sorts encoded lines.
  std::map<std::string, std::string> m_entries;
};

// BagIt percent-encoding of a manifest path (only %, LF, CR).
std::string manifest_encode_path(const std::string& path);
// The inverse; nullopt on a malformed escape or an escape BagIt does not use.
std::optional<std::string> manifest_decode_path(const std::string& encoded);
// True for a path a manifest may hold: relative, '/'-separated, no empty,
// "." or ".." segments, no NUL.
bool manifest_path_ok(const std::string& path);

} // namespace dsm

#include "repo/referenced.hpp"

#include "dsm/error.hpp"
#include "git/git.hpp"
#include "git/references.hpp"
#include "repo/manifest.hpp"
#include "repo/naming.hpp"
#include "repo/repository.hpp"
#include "util/file.hpp"
#include "util/sha256.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <set>
#include <string_view>
#include <system_error>

namespace dsm {

namespace {

// The cache of the manifests' part (m_source, m_elsewhere), keyed by which
// manifest blob each source holds: .dsm/local/referenced. Grammar:
//   dsm-referenced 1
//   D <data dir, relative to the root>
//   K <blob id> <source>        one per RefBlob, in blobs_at_refs order
//   --
//   S <K index> <path>          path as the manifest encodes it
//   E <sha256>
//   end
// The key lines must match exactly, else the cache is rebuilt: a new commit,
// branch or stash entry, a changed index, a moved data dir. Written without
// fsync (util::write_cache_atomic): a file cut short after a crash lacks
// "end", or has a line that does not parse, and is rebuilt.
constexpr std::string_view k_cache_version = "dsm-referenced 1\n";

std::string cache_key(const std::string& data_rel, const std::vector<git::RefBlob>& blobs) {
  std::string key(k_cache_version);
  key += "D " + data_rel + "\n";
  for (const git::RefBlob& b : blobs) {
    key += "K " + b.oid + " " + b.source + "\n";
  }
  key += "--\n";
  return key;
}

} // namespace

bool Referenced::load_cache(const fs::path& path, const std::string& key, const std::vector<git::RefBlob>& blobs) {
  std::string text;
  try {
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      return false;
    }
    text = util::read_file(path);
  } catch (const Error&) {
    return false;
  }
  if (text.compare(0, key.size(), key) != 0) {
    return false;
  }
  size_t at = key.size();
  bool complete = false;
  while (at < text.size() && !complete) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) {
      return false; // torn: rebuild
    }
    std::string_view line(text.data() + at, end - at);
    at = end + 1;
    if (line == "end") {
      complete = true;
    } else if (line.starts_with("E ")) {
      m_elsewhere.emplace(line.substr(2));
    } else if (line.starts_with("S ")) {
      size_t space = line.find(' ', 2);
      size_t index = 0;
      auto [ptr, err] = std::from_chars(line.data() + 2, line.data() + std::min(space, line.size()), index);
      std::optional<std::string> rel =
        space == std::string_view::npos ? std::nullopt : manifest_decode_path(std::string(line.substr(space + 1)));
      if (err != std::errc() || ptr != line.data() + space || index >= blobs.size() || !rel) {
        return false;
      }
      m_source.emplace(std::move(*rel), blobs[index].source);
    } else {
      return false;
    }
  }
  return complete && at == text.size();
}

void Referenced::save_cache(const Repository& repo, const fs::path& path, const std::string& key,
                            const std::vector<git::RefBlob>& blobs) const {
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < blobs.size(); ++i) {
    index.emplace(blobs[i].source, i);
  }
  std::string text = key;
  for (const auto& [rel, from] : m_source) {
    text += "S " + std::to_string(index.at(from)) + " " + manifest_encode_path(rel) + "\n";
  }
  for (const std::string& sha : m_elsewhere) {
    text += "E " + sha + "\n";
  }
  text += "end\n";
  try {
    repo.ensure_local_dir();
    util::write_cache_atomic(path, text);
  } catch (const Error&) {
    // A cache: the next run computes it again.
  }
}

Referenced Referenced::load(const Repository& repo) {
  Referenced r;
  const std::string data_rel = repo.data_dir_relative();
  std::vector<git::RefBlob> blobs = git::blobs_at_refs(repo.git(), data_rel + "/" + k_manifest_name);
  const fs::path cache = repo.local_dir() / "referenced";
  const std::string key = cache_key(data_rel, blobs);
  if (!r.load_cache(cache, key, blobs)) {
    r.m_source.clear();
    r.m_elsewhere.clear();
    std::set<std::string> parsed;
    std::set<std::string> parsed_elsewhere;
    for (const git::RefBlob& b : blobs) {
      bool elsewhere = b.source != "HEAD" && b.source != "the index";
      bool first = parsed.insert(b.oid).second;
      bool first_elsewhere = elsewhere && parsed_elsewhere.insert(b.oid).second;
      if (!first && !first_elsewhere) {
        continue;
      }
      Manifest m;
      try {
        m = Manifest::parse(repo.git().read_blob(b.oid), b.source);
      } catch (const Error&) {
        continue; // a manifest with conflict markers (stage entries, old commits): nothing to read
      }
      for (const auto& [path, hash] : m.map()) {
        r.m_source.emplace(path, b.source);
        if (elsewhere) {
          r.m_elsewhere.insert(hash);
        }
      }
    }
    r.save_cache(repo, cache, key, blobs);
  }
  const std::string prefix = data_rel + "/";
  for (const std::string& path : repo.git().tracked_under(data_rel)) {
    r.m_tracked.insert(path.substr(prefix.size()));
  }
  for (const git::IndexConflict& c : git::index_conflicts(repo.git())) {
    if (c.path.starts_with(prefix)) {
      r.m_tracked.insert(c.path.substr(prefix.size()));
    }
  }
  return r;
}

std::optional<std::string> Referenced::source(const std::string& rel) const {
  auto it = m_source.find(rel);
  if (it == m_source.end()) {
    return std::nullopt;
  }
  return it->second;
}

bool Referenced::sidecar_tracked(const std::string& rel) const { return m_tracked.count(rel + k_sidecar_suffix) > 0; }

namespace {

constexpr const char* k_history_header = "dsm history 1";

// Adds every "<sha256>  <path>" line of `text` (a manifest, or the cache's
// body). Lenient: a manifest committed with conflict markers still names
// payloads on its valid lines, and what history lists is kept, so skipping
// a damaged manifest could let gc delete what it names.
template <typename Add>
void scan_manifest_lines(std::string_view text, Add add) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, (nl == std::string::npos ? text.size() : nl) - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    if (line.size() < 67 || line.substr(64, 2) != "  " || !util::is_sha256_hex(line.substr(0, 64))) {
      continue;
    }
    if (std::optional<std::string> path = manifest_decode_path(std::string(line.substr(66)))) {
      add(std::string(line.substr(0, 64)), std::move(*path));
    }
  }
}

} // namespace

History History::load(const Repository& repo, Cached cached) {
  History h;
  auto add = [&h](std::string hash, std::string path) {
    h.m_paths.insert(path);
    h.m_hashes.insert(hash);
    h.m_path_hash.emplace(std::move(path), std::move(hash));
  };
  const fs::path cache_path = repo.local_dir() / "history";
  std::set<std::string> known; // manifest blobs whose lines are in h
  if (cached == Cached::yes) {
    // "dsm history 1", "blob <oid>" lines, manifest lines, "end": a cache
    // without its last line is incomplete and ignored.
    try {
      std::string text = util::read_file(cache_path, 512u << 20);
      if (text.starts_with(std::string(k_history_header) + "\n") && text.ends_with("\nend\n")) {
        size_t pos = 0;
        while (pos < text.size()) {
          size_t nl = text.find('\n', pos);
          std::string_view line(text.data() + pos, nl - pos);
          pos = nl + 1;
          if (line.starts_with("blob ") && line.size() == 45) {
            known.insert(std::string(line.substr(5)));
          }
        }
        scan_manifest_lines(text, add);
      }
    } catch (const Error&) {
      // missing or unreadable: rebuilt below
    }
  }
  const std::string file = repo.data_dir_relative() + "/" + k_manifest_name;
  bool changed = false;
  for (const std::string& oid : git::blobs_in_history(repo.git(), file)) {
    if (known.insert(oid).second) {
      scan_manifest_lines(repo.git().read_blob(oid), add);
      changed = true;
    }
  }
  if (cached == Cached::yes && changed) {
    std::string out = std::string(k_history_header) + "\n";
    for (const std::string& oid : known) {
      out += "blob " + oid + "\n";
    }
    for (const auto& [path, hash] : h.m_path_hash) {
      out += hash + "  " + manifest_encode_path(path) + "\n";
    }
    out += "end\n";
    try {
      repo.ensure_local_dir();
      util::write_file_atomic(cache_path, out);
    } catch (const Error&) {
      // an optimisation: the next view reads the manifests again
    }
  }
  return h;
}

std::set<std::string> History::hashes_at(const std::string& rel) const {
  std::set<std::string> out;
  for (auto it = m_path_hash.lower_bound({rel, ""}); it != m_path_hash.end() && it->first == rel; ++it) {
    out.insert(it->second);
  }
  return out;
}

namespace {

constexpr const char* k_seqcache_header = "dsm seqcache 1";

// The dataset and number of a manifest path: `<name>/<stem>.<ext>`, or a
// chunk `<name>/<stem>/part-NNNN.npy`.
std::optional<std::pair<std::string, uint64_t>> version_of_path(const Config& config, const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) {
    return std::nullopt;
  }
  std::string dir = path.substr(0, slash);
  if (auto seq = match_seq(config, dir, path.substr(slash + 1))) {
    return std::make_pair(dir, *seq);
  }
  size_t up = dir.rfind('/');
  if (up == std::string::npos) {
    return std::nullopt;
  }
  std::string name = dir.substr(0, up);
  if (auto seq = match_seq(config, name, dir.substr(up + 1))) {
    return std::make_pair(name, *seq);
  }
  return std::nullopt;
}

} // namespace

HistorySeq HistorySeq::load(const Repository& repo) {
  HistorySeq h;
  const fs::path cache_path = repo.local_dir() / "seqcache";
  std::set<std::string> known;
  // The cache: trusted only when whole and for this naming pattern.
  try {
    std::string text = util::read_file(cache_path, 64u << 20);
    std::set<std::string> blobs;
    std::map<std::string, uint64_t> max;
    size_t pos = 0;
    size_t line_no = 0;
    bool ok = true;
    while (ok && pos < text.size()) {
      size_t nl = text.find('\n', pos);
      if (nl == std::string::npos) {
        ok = false;
        break;
      }
      std::string line = text.substr(pos, nl - pos);
      pos = nl + 1;
      ++line_no;
      if (line_no == 1) {
        ok = line == k_seqcache_header;
      } else if (line_no == 2) {
        ok = line == "naming " + repo.config().naming;
      } else if (line.starts_with("blob ") && line.size() == 45) {
        blobs.insert(line.substr(5));
      } else if (line.starts_with("seq ")) {
        size_t sp = line.find(' ', 4);
        ok = sp != std::string::npos && sp > 4;
        if (ok) {
          max[line.substr(sp + 1)] = std::strtoull(line.c_str() + 4, nullptr, 10);
        }
      } else {
        ok = false;
      }
    }
    if (ok && line_no >= 2) {
      known = std::move(blobs);
      h.m_max = std::move(max);
    }
  } catch (const Error&) {
    // missing or unreadable: rebuilt below
  }
  const std::string file = repo.data_dir_relative() + "/" + k_manifest_name;
  bool changed = false;
  for (const std::string& oid : git::blobs_in_history(repo.git(), file)) {
    if (known.count(oid)) {
      continue;
    }
    std::string text = repo.git().read_blob(oid);
    size_t pos = 0;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      std::string_view line(text.data() + pos, (nl == std::string::npos ? text.size() : nl) - pos);
      pos = nl == std::string::npos ? text.size() : nl + 1;
      if (line.size() < 67 || line.substr(64, 2) != "  ") {
        continue; // lenient, as History: any line naming a version counts
      }
      std::optional<std::string> path = manifest_decode_path(std::string(line.substr(66)));
      if (!path) {
        continue;
      }
      if (auto v = version_of_path(repo.config(), *path)) {
        uint64_t& best = h.m_max[v->first];
        best = std::max(best, v->second);
      }
    }
    known.insert(oid);
    changed = true;
  }
  if (changed) {
    std::string out = std::string(k_seqcache_header) + "\nnaming " + repo.config().naming + "\n";
    for (const std::string& oid : known) {
      out += "blob " + oid + "\n";
    }
    for (const auto& [name, seq] : h.m_max) {
      out += "seq " + std::to_string(seq) + " " + name + "\n";
    }
    try {
      repo.ensure_local_dir();
      util::write_file_atomic(cache_path, out);
    } catch (const Error&) {
      // an optimisation: the next add reads the manifests again
    }
  }
  return h;
}

uint64_t HistorySeq::max_seq(const std::string& name) const {
  auto it = m_max.find(name);
  return it == m_max.end() ? 0 : it->second;
}

const Referenced& LazyReferenced::get() {
  if (!m_value) {
    m_value = Referenced::load(m_repo);
  }
  return *m_value;
}

const History& LazyReferenced::history() {
  if (!m_history) {
    m_history = History::load(m_repo, History::Cached::yes);
  }
  return *m_history;
}

} // namespace dsm

#include "repo/referenced.hpp"

#include "dsm/error.hpp"
#include "git/git.hpp"
#include "git/references.hpp"
#include "repo/manifest.hpp"
#include "repo/repository.hpp"

#include "util/file.hpp"

#include <algorithm>
#include <charconv>
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

const Referenced& LazyReferenced::get() {
  if (!m_value) {
    m_value = Referenced::load(m_repo);
  }
  return *m_value;
}

} // namespace dsm

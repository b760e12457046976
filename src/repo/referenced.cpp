#include "repo/referenced.hpp"

#include "dsm/error.hpp"
#include "git/git.hpp"
#include "git/references.hpp"
#include "repo/manifest.hpp"
#include "repo/naming.hpp"
#include "repo/repository.hpp"
#include "util/sha256.hpp"

#include <set>
#include <string_view>

namespace dsm {

Referenced Referenced::load(const Repository& repo) {
  Referenced r;
  const std::string data_rel = repo.data_dir_relative();
  std::set<std::string> parsed;
  std::set<std::string> parsed_elsewhere;
  for (const git::RefBlob& b : git::blobs_at_refs(repo.git(), data_rel + "/" + k_manifest_name)) {
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

History History::load(const Repository& repo) {
  History h;
  const std::string file = repo.data_dir_relative() + "/" + k_manifest_name;
  for (const std::string& oid : git::blobs_in_history(repo.git(), file)) {
    // Read leniently: a manifest committed with conflict markers still
    // names payloads on its valid lines, and what history lists is kept,
    // so skipping a damaged manifest could let gc delete what it names.
    std::string text = repo.git().read_blob(oid);
    size_t pos = 0;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      std::string_view line(text.data() + pos, (nl == std::string::npos ? text.size() : nl) - pos);
      pos = nl == std::string::npos ? text.size() : nl + 1;
      if (line.size() < 67 || line.substr(64, 2) != "  " || !util::is_sha256_hex(line.substr(0, 64))) {
        continue;
      }
      std::optional<std::string> path = manifest_decode_path(std::string(line.substr(66)));
      if (!path) {
        continue;
      }
      std::string hash(line.substr(0, 64));
      h.m_paths.insert(*path);
      h.m_path_hash.emplace(*path, hash);
      h.m_hashes.insert(hash);
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

uint64_t History::max_seq(const Repository& repo, const std::string& name) const {
  uint64_t best = 0;
  const std::string prefix = name + "/";
  for (auto it = m_paths.lower_bound(prefix); it != m_paths.end() && it->starts_with(prefix); ++it) {
    // `<stem>.<ext>`, or a chunked version's `<stem>/part-NNNN.npy`.
    std::string rest = it->substr(prefix.size());
    std::string first = rest.substr(0, rest.find('/'));
    if (auto s = match_seq(repo.config(), name, first)) {
      best = std::max(best, *s);
    }
  }
  return best;
}

const Referenced& LazyReferenced::get() {
  if (!m_value) {
    m_value = Referenced::load(m_repo);
  }
  return *m_value;
}

const History& LazyReferenced::history() {
  if (!m_history) {
    m_history = History::load(m_repo);
  }
  return *m_history;
}

} // namespace dsm

#include "repo/referenced.hpp"

#include "dsm/error.hpp"
#include "git/git.hpp"
#include "git/references.hpp"
#include "repo/manifest.hpp"
#include "repo/repository.hpp"

#include <set>

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

const Referenced& LazyReferenced::get() {
  if (!m_value) {
    m_value = Referenced::load(m_repo);
  }
  return *m_value;
}

} // namespace dsm

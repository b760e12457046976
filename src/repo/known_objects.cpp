// The record of objects seen on each remote: see known_objects.hpp.
#include "repo/known_objects.hpp"
#include "util/sha256.hpp"

#include "dsm/error.hpp"
#include "repo/config.hpp"
#include "repo/repository.hpp"
#include "util/file.hpp"

#include <algorithm>
#include <iterator>
#include <system_error>

namespace dsm {

namespace {

fs::path record_path(const Repository& repo, const std::string& name) {
  return repo.local_dir() / "remotes" / name / "known-objects";
}

// Appends the SHA-256 lines of the record at `path` (none when absent).
void read_record(const fs::path& path, std::vector<std::string>& out) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    return;
  }
  std::string text = util::read_file(path);
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) {
      end = text.size();
    }
    std::string_view line(text.data() + start, end - start);
    if (util::is_sha256_hex(line)) {
      out.emplace_back(line);
    }
    start = end + 1;
  }
}

void sort_unique(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

} // namespace

KnownObjects KnownObjects::load(const Repository& repo, const std::string& name) {
  KnownObjects k;
  read_record(record_path(repo, name), k.m_shas);
  sort_unique(k.m_shas);
  return k;
}

KnownObjects KnownObjects::load_all(const Repository& repo) {
  KnownObjects k;
  for (const RemoteConfig& rc : repo.config().remotes) {
    read_record(record_path(repo, rc.name), k.m_shas);
  }
  sort_unique(k.m_shas);
  return k;
}

void KnownObjects::add(const Repository& repo, const std::string& name,
                       const std::vector<std::string>& shas) {
  KnownObjects k = load(repo, name);
  std::vector<std::string> fresh;
  for (const std::string& s : shas) {
    if (util::is_sha256_hex(s) && !k.contains(s)) {
      fresh.push_back(s);
    }
  }
  if (fresh.empty()) {
    return;
  }
  sort_unique(fresh);
  std::vector<std::string> merged;
  merged.reserve(k.m_shas.size() + fresh.size());
  std::merge(k.m_shas.begin(), k.m_shas.end(), fresh.begin(), fresh.end(), std::back_inserter(merged));
  std::string text;
  text.reserve(merged.size() * 65);
  for (const std::string& s : merged) {
    text += s;
    text += '\n';
  }
  fs::path path = record_path(repo, name);
  util::make_dirs_below(repo.root(), path.parent_path());
  // Renamed into place without fsync: lost or cut short by a crash, the
  // record only lists fewer objects (versions look unpushed until the next
  // push or doctor), never more.
  util::write_cache_atomic(path, text);
}

bool KnownObjects::contains(const std::string& sha256) const {
  return std::binary_search(m_shas.begin(), m_shas.end(), sha256);
}

} // namespace dsm

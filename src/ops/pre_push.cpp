// The pre-push hook's work: see pre_push.hpp.
#include "ops/pre_push.hpp"
#include "util/sha256.hpp"

#include "dsm/error.hpp"
#include "git/git.hpp"
#include "git/references.hpp"
#include "repo/manifest.hpp"
#include "repo/repository.hpp"

#include <algorithm>
#include <set>
#include <sstream>

namespace dsm {

namespace {

// A git object id: SHA-1, or SHA-256 in a repository of that format.
bool is_object_id(const std::string& s) {
  return util::is_lower_hex(s, 40) || util::is_lower_hex(s, 64);
}

bool all_zeros(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == '0'; });
}

} // namespace

bool PushedRef::deletes() const {
  return all_zeros(local_sha);
}

std::vector<PushedRef> parse_pre_push_input(std::istream& in) {
  std::vector<PushedRef> out;
  std::string line;
  size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (line.find_first_not_of(" \t") == std::string::npos) {
      continue;
    }
    std::istringstream fields(line);
    PushedRef r;
    std::string extra;
    if (!(fields >> r.local_ref >> r.local_sha >> r.remote_ref >> r.remote_sha) || (fields >> extra) ||
        !is_object_id(r.local_sha) || !is_object_id(r.remote_sha)) {
      throw Error("pre-push input line " + std::to_string(number) +
                  " is not '<local ref> <local id> <remote ref> "
                  "<remote id>': " +
                  quote(line));
    }
    out.push_back(std::move(r));
  }
  return out;
}

PrePushReport pre_push(const Repository& repo, const std::vector<PushedRef>& refs, SyncOptions options) {
  PrePushReport report;
  std::vector<std::string> tips;
  std::vector<std::string> hide;
  for (const PushedRef& r : refs) {
    if (r.deletes()) {
      continue;
    }
    tips.push_back(r.local_sha);
    if (!all_zeros(r.remote_sha)) {
      hide.push_back(r.remote_sha);
    }
  }
  if (tips.empty()) {
    return report;
  }
  const std::string manifest_path = repo.data_dir_relative() + "/" + k_manifest_name;
  git::UnpushedBlobs blobs = git::blobs_in_unpushed_commits(repo.git(), tips, hide, manifest_path);
  report.commits = blobs.commits;
  report.manifests = blobs.blobs.size();
  auto read = [&](const std::string& oid) {
    return Manifest::parse(repo.git().read_blob(oid), manifest_path + " (blob " + oid.substr(0, 12) + ")");
  };
  std::set<std::pair<std::string, std::string>> entries;
  for (const std::string& oid : blobs.blobs) {
    Manifest m;
    try {
      m = read(oid);
    } catch (const Error& e) {
      throw Error("cannot tell which payloads this push needs: a pushed commit's manifest is unreadable: " +
                  std::string(e.what()));
    }
    for (const auto& [path, hash] : m.map()) {
      entries.emplace(path, hash);
    }
  }
  for (const std::string& oid : blobs.boundary_blobs) {
    try {
      Manifest pushed_before = read(oid);
      for (const auto& kv : pushed_before.map()) {
        entries.erase(kv);
      }
    } catch (const Error&) {
      // An unreadable manifest the remote already has: subtract nothing.
    }
  }
  report.entries = entries.size();
  if (entries.empty()) {
    return report; // nothing references data: no remote needed
  }
  options.targets.clear();
  options.entries.emplace(entries.begin(), entries.end());
  report.transfer = push(repo, options);
  report.pushed = true;
  return report;
}

} // namespace dsm

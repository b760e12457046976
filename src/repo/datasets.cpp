#include "repo/datasets.hpp"

#include "format/chunk.hpp"
#include "dsm/error.hpp"
#include "repo/naming.hpp"
#include "repo/repository.hpp"
#include "util/file.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <set>
#include <system_error>

namespace dsm {

namespace {

std::optional<uint64_t> parse_version(const std::string& s) {
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  return std::stoull(s);
}

// The second version numbered `seq`, when two payloads claim it (two
// branches merged); nullptr when the number is unambiguous.
const DatasetVersion* duplicate_of(const std::vector<DatasetVersion>& list, uint64_t seq) {
  const DatasetVersion* first = nullptr;
  for (const auto& dv : list) {
    if (dv.seq == seq) {
      if (first) {
        return &dv;
      }
      first = &dv;
    }
  }
  return nullptr;
}

[[noreturn]] void throw_duplicate(const std::string& name, const DatasetVersion& dv) {
  throw Error(quote(name + "@" + std::to_string(dv.seq)) + " is claimed by two payloads (e.g. " + quote(dv.rel) +
              "), from two branches merged: run 'dsm resolve' to renumber one");
}

std::vector<std::string> rels_of(const DatasetVersion& dv) {
  return dv.parts.empty() ? std::vector<std::string>{dv.rel} : dv.parts;
}

} // namespace

const std::vector<DatasetVersion>* DatasetIndex::find(const std::string& name) const {
  auto it = by_name.find(name);
  return it == by_name.end() ? nullptr : &it->second;
}

const std::vector<DatasetVersion>& DatasetIndex::get(const std::string& name) const {
  if (const auto* list = find(name)) {
    return *list;
  }
  // The names closest to the mistyped one, by the measure that suggests
  // commands.
  std::vector<std::string> names;
  names.reserve(by_name.size());
  for (const auto& entry : by_name) {
    names.push_back(entry.first);
  }
  std::vector<std::string> similar = util::most_similar(name, names);
  std::string hint;
  size_t shown = std::min<size_t>(similar.size(), 3);
  for (size_t i = 0; i < shown; ++i) {
    hint += (i == 0 ? "; did you mean " : (i + 1 == shown ? " or " : ", ")) + quote(similar[i]);
  }
  throw Error("no dataset named " + quote(name) + (hint.empty() ? "" : hint + "?") + " (see 'dsm ls')");
}

std::vector<std::vector<const DatasetVersion*>> duplicate_versions(const DatasetIndex& index) {
  std::vector<std::vector<const DatasetVersion*>> out;
  for (const auto& [name, list] : index.by_name) {
    for (size_t i = 0; i < list.size();) {
      size_t j = i + 1;
      while (j < list.size() && list[j].seq == list[i].seq) {
        ++j;
      }
      if (j - i > 1) {
        std::vector<const DatasetVersion*> group;
        for (size_t k = i; k < j; ++k) {
          group.push_back(&list[k]);
        }
        out.push_back(std::move(group));
      }
      i = j;
    }
  }
  return out;
}

Manifest load_manifest(const Repository& repo) {
  fs::path p = repo.manifest_path();
  std::error_code ec;
  if (!fs::exists(p, ec)) {
    return Manifest();
  }
  return Manifest::parse(util::read_file(p), p.string());
}

DatasetIndex index_datasets(const Repository& repo, const Manifest& manifest) {
  DatasetIndex index;
  for (const auto& [rel, sha] : manifest.map()) {
    size_t slash = rel.rfind('/');
    if (slash == std::string::npos) {
      continue;
    }
    std::string name = rel.substr(0, slash);
    // <NAME>/<stem>/part-NNNN.npy: a chunk of version <seq> of NAME. The
    // manifest is sorted, so a version's chunks come together.
    if (size_t dir_slash = name.rfind('/'); dir_slash != std::string::npos && is_chunk_file_name(rel.substr(slash + 1))) {
      std::string dname = name.substr(0, dir_slash);
      std::string stem = name.substr(dir_slash + 1);
      std::optional<uint64_t> cseq;
      if (name_ok(dname) && stem.find('.') == std::string::npos) {
        cseq = match_seq(repo.config(), dname, stem);
      }
      if (cseq) {
        auto& list = index.by_name[dname];
        if (list.empty() || list.back().rel != name) {
          list.push_back({dname, *cseq, name, "", repo.data_dir() / name, {}});
        }
        list.back().parts.push_back(rel);
        continue;
      }
    }
    if (!name_ok(name)) {
      continue;
    }
    std::optional<uint64_t> seq = match_seq(repo.config(), name, rel.substr(slash + 1));
    if (!seq) {
      continue;
    }
    index.by_name[name].push_back({name, *seq, rel, sha, repo.data_dir() / rel, {}});
  }
  for (auto& [name, versions] : index.by_name) {
    std::sort(versions.begin(), versions.end(),
              [](const DatasetVersion& a, const DatasetVersion& b) { return a.seq < b.seq; });
  }
  return index;
}

std::vector<std::string> resolve_target(const Repository& repo, const Manifest& manifest, const DatasetIndex& index,
                                        const fs::path& work_dir, const std::string& target, Versions versions) {
  size_t at = target.rfind('@');
  if (at != std::string::npos && at > 0) {
    std::string name = target.substr(0, at);
    std::string spec = target.substr(at + 1);
    std::optional<uint64_t> v = parse_version(spec);
    // NAME@latest, NAME@~N: by position from the newest (@~0 is the newest).
    std::optional<uint64_t> back;
    if (spec == "latest") {
      back = 0;
    } else if (spec.size() > 1 && spec[0] == '~') {
      back = parse_version(spec.substr(1));
    }
    if (name_ok(name) && back) {
      const auto* list = &index.get(name);
      if (*back >= list->size()) {
        throw Error("dataset " + quote(name) + " has " + std::to_string(list->size()) +
                    (list->size() == 1 ? " version" : " versions") + ": " + quote(target) + " goes back too far");
      }
      return rels_of((*list)[list->size() - 1 - static_cast<size_t>(*back)]);
    }
    if (name_ok(name) && v) {
      const auto* list = &index.get(name);
      if (const DatasetVersion* dup = duplicate_of(*list, *v)) {
        throw_duplicate(name, *dup);
      }
      for (const auto& dv : *list) {
        if (dv.seq == *v) {
          return rels_of(dv);
        }
      }
      throw Error("dataset " + quote(name) + " has no version " + std::to_string(*v) + " (latest is " +
                  std::to_string(list->back().seq) + ")");
    }
  }
  // A path that exists (or is inside the data dir) wins over a name.
  fs::path p(target);
  fs::path abs = (p.is_absolute() ? p : work_dir / p).lexically_normal();
  std::error_code ec;
  bool exists = fs::symlink_status(abs, ec).type() != fs::file_type::not_found && !ec;
  std::optional<std::string> rel = repo.data_relative(abs);
  if (exists || (rel && !name_ok(target))) {
    if (!rel) {
      throw Error(quote(target) + " is not inside the data directory " + quote(repo.data_dir().string()));
    }
    for (const auto& [n, list] : index.by_name) {
      for (const auto& dv : list) {
        if (!dv.parts.empty() && dv.rel == *rel) {
          return dv.parts; // a chunked version's directory
        }
      }
    }
    if (auto payload = Repository::payload_of_sidecar(abs); payload && !manifest.find(*rel)) {
      if (auto prel = repo.data_relative(*payload); prel && manifest.find(*prel)) {
        return {*prel};
      }
    }
    if (manifest.find(*rel)) {
      return {*rel};
    }
    std::vector<std::string> out;
    std::string prefix = rel->empty() ? "" : *rel + "/";
    for (auto it = manifest.map().lower_bound(prefix); it != manifest.map().end(); ++it) {
      if (it->first.compare(0, prefix.size(), prefix) != 0) {
        break;
      }
      out.push_back(it->first);
    }
    if (out.empty()) {
      throw Error("no manifest entry for " + quote(abs.string()));
    }
    if (versions == Versions::latest && out.size() > 1) {
      throw Error(quote(target) + " is a directory; name one payload or a dataset");
    }
    return out;
  }
  if (name_ok(target)) {
    const auto* list = &index.get(target);
    if (versions == Versions::latest) {
      if (const DatasetVersion* dup = duplicate_of(*list, list->back().seq)) {
        throw_duplicate(target, *dup);
      }
      return rels_of(list->back());
    }
    std::vector<std::string> out;
    for (const auto& dv : *list) {
      for (const std::string& r : rels_of(dv)) {
        out.push_back(r);
      }
    }
    return out;
  }
  throw Error("no dataset or file " + quote(target));
}

std::vector<std::string> resolve_targets(const Repository& repo, const Manifest& manifest, const fs::path& work_dir,
                                         const std::vector<std::string>& targets) {
  std::vector<std::string> out;
  if (targets.empty()) {
    out.reserve(manifest.map().size());
    for (const auto& [rel, sha] : manifest.map()) {
      out.push_back(rel);
    }
    return out;
  }
  DatasetIndex index = index_datasets(repo, manifest);
  std::set<std::string> chosen;
  for (const std::string& t : targets) {
    for (std::string& rel : resolve_target(repo, manifest, index, work_dir, t, Versions::all)) {
      chosen.insert(std::move(rel));
    }
  }
  out.assign(chosen.begin(), chosen.end()); // the manifest's order: sorted by path
  return out;
}

DatasetVersion resolve_version(const Repository& repo, const Manifest& manifest, const DatasetIndex& index,
                               const fs::path& work_dir, const std::string& target) {
  std::vector<std::string> rels = resolve_target(repo, manifest, index, work_dir, target, Versions::latest);
  const std::string& rel = rels.front();
  for (const auto& [name, list] : index.by_name) {
    for (const auto& dv : list) {
      if (dv.rel == rel || (!dv.parts.empty() && std::find(dv.parts.begin(), dv.parts.end(), rel) != dv.parts.end())) {
        return dv;
      }
    }
  }
  DatasetVersion dv;
  dv.rel = rel;
  dv.sha256 = *manifest.find(rel);
  dv.path = repo.data_dir() / rel;
  return dv;
}

} // namespace dsm

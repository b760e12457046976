#include "ops/merge.hpp"

#include "dsm/error.hpp"
#include "util/file.hpp"

#include <filesystem>
#include <optional>
#include <set>

namespace dsm {

namespace fs = std::filesystem;

namespace {

std::optional<std::string> hash_of(const Manifest& m, const std::string& path) {
  const std::string* h = m.find(path);
  return h ? std::optional<std::string>(*h) : std::nullopt;
}

Manifest load_side(const std::string& file, const std::string& display) {
  std::error_code ec;
  if (file.empty() || !fs::exists(file, ec)) {
    return Manifest{}; // git passes an empty file for a side without the path
  }
  return Manifest::parse(util::read_file(file), display);
}

} // namespace

ManifestMerge merge_manifests(const Manifest& base, const Manifest& ours, const Manifest& theirs) {
  std::set<std::string> paths;
  for (const Manifest* m : {&base, &ours, &theirs}) {
    for (const auto& [p, h] : m->map()) {
      paths.insert(p);
    }
  }
  ManifestMerge out;
  for (const std::string& p : paths) {
    std::optional<std::string> b = hash_of(base, p);
    std::optional<std::string> o = hash_of(ours, p);
    std::optional<std::string> t = hash_of(theirs, p);
    std::optional<std::string> result;
    if (o == t || t == b) {
      result = o;
    } else if (o == b) {
      result = t;
    } else if (!o || !t) {
      result = o ? o : t;
    } else {
      result = o;
      out.conflicts.push_back({p, *o, *t});
    }
    if (result) {
      out.merged.set(p, *result);
    }
  }
  return out;
}

void run_merge_driver(const std::string& base, const std::string& ours, const std::string& theirs,
                     const std::string& display_path) {
  const std::string shown = display_path.empty() ? ours : display_path;
  Manifest b = load_side(base, shown + " (common ancestor)");
  Manifest o = load_side(ours, shown + " (ours)");
  Manifest t = load_side(theirs, shown + " (theirs)");
  ManifestMerge m = merge_manifests(b, o, t);
  util::write_file_atomic(ours, m.merged.serialize(), 0644);
  if (!m.conflicts.empty()) {
    size_t n = m.conflicts.size();
    throw Error("merge conflict in " + quote(shown) + ": " + std::to_string(n) + " version" +
                    (n == 1 ? " differs" : "s differ") + " on the two sides (e.g. " +
                    quote(m.conflicts.front().path) +
                    "); ours is kept for now: run 'dsm resolve' to keep both under different numbers",
                k_exit_problems);
  }
}

} // namespace dsm

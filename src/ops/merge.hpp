// Merging manifests by path: what `dsm merge-driver` (git's merge driver for
// the manifest, set up by `dsm init`) and `dsm resolve` compute.
//
// Three-way, one path at a time (b = base, o = ours, t = theirs, each a hash
// or absent):
//   o == t            o  (the same line on both sides is one line)
//   o == b            t  (only theirs changed it: added, replaced or removed)
//   t == b            o  (only ours changed it)
//   one side absent   the other (removed on one side, changed on the other:
//                     the data is kept)
//   otherwise         a conflict: two different payloads claim one path (the
//                     same NAME, day and number on two branches). The merged
//                     manifest keeps ours; `dsm resolve` gives theirs the
//                     next free number.
// Different names added on two branches never conflict, and the result is
// canonical (sorted, LF), so `sha256sum --strict -c` still passes.
#pragma once

#include "repo/manifest.hpp"

#include <string>
#include <vector>

namespace dsm {

struct PathConflict {
  std::string path;   // manifest path, relative to the data dir
  std::string ours;   // hash kept in the merged manifest
  std::string theirs; // hash `dsm resolve` renumbers
};

struct ManifestMerge {
  Manifest merged;
  std::vector<PathConflict> conflicts; // sorted by path
};

ManifestMerge merge_manifests(const Manifest& base, const Manifest& ours, const Manifest& theirs);

// `dsm merge-driver BASE OURS THEIRS [PATH]`: merges the three manifest
// files and writes the result over OURS (as git expects). With conflicts it
// throws Error (exit 1, naming 'dsm resolve') after writing: OURS then holds
// a manifest every dsm command reads, and git marks the path unmerged. A
// side that does not parse is an Error (exit 2) with OURS left as it was.
void run_merge_driver(const std::string& base, const std::string& ours, const std::string& theirs,
                     const std::string& display_path);

} // namespace dsm

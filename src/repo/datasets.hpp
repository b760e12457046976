// Datasets as the manifest lists them, and command-line targets.
//
// A manifest path `<NAME>/<stem>.<ext>` whose stem matches the naming
// pattern for NAME's last segment is version <seq> of dataset NAME. Other
// manifest lines (hand-added files) are still verified but belong to no
// dataset.
//
// A TARGET is, in this order: `NAME@VERSION` (VERSION = the sequence
// number, "3" or "003"), `NAME@latest` (the newest version) or `NAME@~N`
// (N versions before the newest: @~0 is the newest, @~1 the one before,
// counted in the manifest's versions, not sequence numbers); an existing path (file or directory, relative to
// the current directory) inside the data dir; a dataset NAME.
#pragma once

#include "repo/manifest.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dsm {

class Repository;
namespace fs = std::filesystem;

struct DatasetVersion {
  std::string name;
  uint64_t seq = 0;
  std::string rel;    // manifest path (relative to the data dir)
  std::string sha256;
  fs::path path;      // absolute payload path (a chunked version: its directory)
  // A chunked version (`dsm add --chunk-size`): the manifest paths of its
  // chunks, in order; `rel` is then the directory and `sha256` is empty.
  std::vector<std::string> parts;
};

struct DatasetIndex {
  // name -> versions, ascending by seq.
  std::map<std::string, std::vector<DatasetVersion>> by_name;
  const std::vector<DatasetVersion>* find(const std::string& name) const;
  // The versions of `name`; throws Error "no dataset named 'featurs'; did
  // you mean 'features'? (see 'dsm ls')", with the most similar names.
  const std::vector<DatasetVersion>& get(const std::string& name) const;
};

// Versions that share one NAME@N (two branches merged, each adding its own
// version N, on the same day or not): each group has two or more, in the
// index's order. `dsm resolve` renumbers them; until then verify and doctor
// report them and NAME@N (or NAME, when N is the latest) is an error.
std::vector<std::vector<const DatasetVersion*>> duplicate_versions(const DatasetIndex& index);

// The manifest of `repo` (empty when the file is missing).
Manifest load_manifest(const Repository& repo);
DatasetIndex index_datasets(const Repository& repo, const Manifest& manifest);

enum class Versions { all, latest };

// Manifest paths selected by `target`. With Versions::latest a NAME selects
// its newest version only. Throws Error (exit 2) naming the target when
// nothing matches.
std::vector<std::string> resolve_target(const Repository& repo, const Manifest& manifest, const DatasetIndex& index,
                                        const fs::path& work_dir, const std::string& target, Versions versions);

// The manifest paths that TARGETs select (each as resolve_target with
// Versions::all: a NAME is every version, a chunked version every part), in
// manifest order without duplicates; every manifest path when `targets` is
// empty. What push, pull, verify and verify --remote act on.
std::vector<std::string> resolve_targets(const Repository& repo, const Manifest& manifest, const fs::path& work_dir,
                                         const std::vector<std::string>& targets);

// One version: NAME (latest), NAME@VERSION, or a payload path. Throws.
DatasetVersion resolve_version(const Repository& repo, const Manifest& manifest, const DatasetIndex& index,
                               const fs::path& work_dir, const std::string& target);

} // namespace dsm

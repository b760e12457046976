#include "ops/compress.hpp"

#include "dsm/error.hpp"
#include "ops/export.hpp"
#include "repo/datasets.hpp"
#include "repo/repository.hpp"
#include "repo/sidecar.hpp"

#include <system_error>
#include <unistd.h>

namespace dsm {

namespace {

// Removes a temporary file when the scope ends, however it ends.
struct RemoveOnExit {
  fs::path path;
  ~RemoveOnExit() {
    if (!path.empty()) {
      std::error_code ec;
      fs::remove(path, ec);
    }
  }
};

} // namespace

CompressResult compress_version(const Repository& repo, const fs::path& work_dir, const std::string& target,
                                int level, util::Progress* progress) {
  Manifest manifest = load_manifest(repo);
  DatasetIndex index = index_datasets(repo, manifest);
  DatasetVersion v = resolve_version(repo, manifest, index, work_dir, target);
  Sidecar old = Sidecar::load(Repository::sidecar_path(v.path));
  ExportSource source = export_source_for(old, v.path);

  // A plain version is read in place; others are rebuilt into a temporary
  // file first (checked against the original's SHA-256 on the way).
  repo.ensure_local_dir();
  fs::path input = v.path;
  RemoveOnExit temp;
  if (source.kind != ExportSource::Kind::npy) {
    temp.path = repo.local_dir() / ("compress-" + std::to_string(::getpid()) + ".npy");
    export_original(source, temp.path, Overwrite::yes);
    input = temp.path;
  }
  AddRequest req;
  req.files = {input.string()};
  req.name = v.name;
  req.meta_yaml = old.meta_yaml;
  req.message = old.message;
  req.compress = level;
  req.transfer = temp.path.empty() ? Transfer::copy : Transfer::move;
  req.source_label = "dsm compress " + v.name + "@" + std::to_string(v.seq) + " (" + v.path.string() + ")";
  req.expect_sha256 = source.original_sha256;
  req.in_data_dir = InDataDir::allow; // a stored version, re-stored compressed
  req.progress = progress;
  CompressResult out;
  out.added = add_files(repo, req);
  out.from_version = v.seq;
  out.original_size = source.original_size;
  return out;
}

} // namespace dsm

// What an unlisted file in the data dir is, for repair, verify and status,
// and how dsm recognises a payload and sidecar it wrote itself.
#pragma once

#include "repo/sidecar.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <utility>

namespace dsm {

class Repository;
namespace fs = std::filesystem;

// What an unlisted file in the data dir is, for repair, verify and status.
enum class Leftover {
  temp,             // .dsm-tmp-*: an interrupted write
  unfinished_add,   // dsm-named payload, complete sidecar, no manifest line
  unsidecared_add,  // dsm-named payload without a (valid) sidecar, no manifest line
  foreign,          // a payload-like file dsm did not name (placed by hand)
  not_regular,      // a symlink, directory or device where a payload could be
};

// Classifies `abs` (inside the data dir, not listed in the manifest, not a
// directory). Never hashes; never throws.
Leftover classify_leftover(const Repository& repo, const fs::path& abs);
// True for a temp file's data-relative path: its name, or one of its
// directories (the staging directory of a chunked add), starts with
// .dsm-tmp-.
bool is_temp_path(const std::string& rel);
// One-line explanation for verify/status ("unfinished dsm add: ...").
std::string explain_leftover(Leftover kind);

// `<name>/<file>` relative to the data dir -> (name, file); name empty when
// the file sits at the top of the data dir (dsm never puts payloads there).
std::pair<std::string, std::string> split_data_rel(const std::string& rel);

// The sidecar beside `payload` (a file, or a chunked version's directory),
// when it is one dsm wrote for exactly that name and file.
std::optional<Sidecar> matching_sidecar(const Repository& repo, const fs::path& payload);

// True when the source `sc` records is still a regular file holding the
// bytes that were added (its `original`, for a compressed or chunked
// version): the stored payload of an unfinished add is then not the only
// copy, so `dsm repair` may roll the add back and `dsm gc` may delete it.
bool source_still_holds(const Sidecar& sc);

// A chunk of a chunked version (`dsm add --chunk-size`):
// `<name>/<stem>/part-NNNN.npy` with <stem> dsm's name for a version of
// <name>. Returns the version's directory.
std::optional<fs::path> chunk_dir_of(const Repository& repo, const std::string& rel, const fs::path& abs);

// The sidecar of a chunked version's directory, when it is one dsm wrote
// for exactly that directory.
std::optional<Sidecar> matching_chunk_sidecar(const Repository& repo, const fs::path& dir);

} // namespace dsm

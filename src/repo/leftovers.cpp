// What an unlisted file in the data dir is: see leftovers.hpp.
#include "repo/leftovers.hpp"

#include "dsm/error.hpp"
#include "format/chunk.hpp"
#include "format/file_hash.hpp"
#include "repo/naming.hpp"
#include "repo/repository.hpp"
#include "util/file.hpp"

#include <sys/stat.h>

namespace dsm {

std::pair<std::string, std::string> split_data_rel(const std::string& rel) {
  size_t slash = rel.rfind('/');
  if (slash == std::string::npos) {
    return {"", rel};
  }
  return {rel.substr(0, slash), rel.substr(slash + 1)};
}

std::optional<Sidecar> matching_sidecar(const Repository& repo, const fs::path& payload) {
  std::optional<std::string> rel = repo.data_relative(payload);
  if (!rel) {
    return std::nullopt;
  }
  auto [name, file] = split_data_rel(*rel);
  fs::path sc = Repository::sidecar_path(payload);
  struct stat st {};
  if (::lstat(sc.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return std::nullopt;
  }
  try {
    Sidecar s = Sidecar::load(sc);
    if (s.name != name || s.file != file) {
      return std::nullopt;
    }
    return s;
  } catch (const Error&) {
    return std::nullopt;
  }
}

std::optional<fs::path> chunk_dir_of(const Repository& repo, const std::string& rel, const fs::path& abs) {
  auto [dir, file] = split_data_rel(rel);
  if (!is_chunk_file_name(file)) {
    return std::nullopt;
  }
  auto [name, stem] = split_data_rel(dir);
  if (name.empty() || !name_ok(name) || stem.find('.') != std::string::npos || !match_seq(repo.config(), name, stem)) {
    return std::nullopt;
  }
  return abs.parent_path();
}

std::optional<Sidecar> matching_chunk_sidecar(const Repository& repo, const fs::path& dir) {
  std::optional<Sidecar> s = matching_sidecar(repo, dir); // name and stem as the directory says
  if (!s || s->format != "chunks" || s->chunks.empty() || !s->original) {
    return std::nullopt;
  }
  return s;
}

bool source_still_holds(const Sidecar& sc) {
  uint64_t size = sc.original ? sc.original->size : sc.size;
  const std::string& sha = sc.original ? sc.original->sha256 : sc.sha256;
  struct stat st {};
  if (sc.source.empty() || ::stat(sc.source.c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<uint64_t>(st.st_size) != size) {
    return false;
  }
  try {
    return sha256_file(sc.source) == sha;
  } catch (const Error& e) {
    if (e.exit_code() == k_exit_interrupted) {
      throw;
    }
    return false; // unreadable: not a copy anyone can rely on
  }
}

Leftover classify_leftover(const Repository& repo, const fs::path& abs) {
  std::string fname = abs.filename().string();
  if (fname.starts_with(util::k_temp_prefix)) {
    return Leftover::temp;
  }
  std::optional<std::string> rel = repo.data_relative(abs);
  if (rel && is_temp_path(*rel)) {
    return Leftover::temp;
  }
  struct stat st {};
  if (::lstat(abs.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return Leftover::not_regular;
  }
  if (!rel) {
    return Leftover::foreign;
  }
  if (auto dir = chunk_dir_of(repo, *rel, abs)) {
    return matching_chunk_sidecar(repo, *dir) ? Leftover::unfinished_add : Leftover::unsidecared_add;
  }
  auto [name, file] = split_data_rel(*rel);
  if (name.empty() || !name_ok(name) || !match_seq(repo.config(), name, file) || !repo.config().is_payload_name(file)) {
    return Leftover::foreign;
  }
  return matching_sidecar(repo, abs) ? Leftover::unfinished_add : Leftover::unsidecared_add;
}

bool is_temp_path(const std::string& rel) {
  // A file inside a hidden staging directory belongs to a chunked add that
  // never published its directory.
  for (const auto& part : fs::path(rel)) {
    if (part.string().starts_with(util::k_temp_prefix)) {
      return true;
    }
  }
  return false;
}

std::string explain_leftover(Leftover kind) {
  switch (kind) {
  case Leftover::temp:
    return "leftover temporary file of an interrupted write ('dsm repair' removes it)";
  case Leftover::unfinished_add:
    return "unfinished 'dsm add' (payload and sidecar written, no manifest line; 'dsm repair' rolls it back)";
  case Leftover::unsidecared_add:
    return "unfinished 'dsm add' (payload written, no sidecar, no manifest line; 'dsm repair' sets it aside)";
  case Leftover::foreign:
    return "not stored by 'dsm add' (add it with 'dsm add' or remove it)";
  case Leftover::not_regular:
    return "not a regular file (never followed)";
  }
  return "";
}

} // namespace dsm

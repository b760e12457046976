#include "format/file_hash.hpp"
#include "ops/repair.hpp"

#include "format/chunk.hpp"
#include "dsm/error.hpp"
#include "util/interrupt.hpp"
#include "repo/lock.hpp"
#include "repo/manifest.hpp"
#include "repo/naming.hpp"
#include "repo/referenced.hpp"
#include "repo/repository.hpp"
#include "repo/sidecar.hpp"
#include "util/file.hpp"
#include "util/sha256.hpp"

#include <cerrno>
#include <ctime>
#include <fcntl.h>
#include <set>
#include <sys/file.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace dsm {

namespace {

// Temp files in .dsm/local belong to commands that hold no ActivityLock
// (the lock's own temp, the stat cache of verify/status). None of them
// keeps a temp file open for long, so one this old is a leftover.
constexpr std::time_t k_local_temp_age = 60;


// Streams a file through SHA-256 (no format parsing: a leftover may be
// anything). nullopt when it cannot be read.
std::optional<std::string> hash_file(const fs::path& p) {
  try {
    return sha256_file(p);
  } catch (const Error& e) {
    if (e.exit_code() == k_exit_interrupted) {
      throw;
    }
    return std::nullopt;
  }
}





void unlink_or_throw(const fs::path& p) {
  if (::unlink(p.c_str()) != 0 && errno != ENOENT) {
    throw Error("cannot remove " + quote(p.string()) + ": " + util::errno_message(errno));
  }
}

// Moves `from` to `to` (a fresh name), across filesystems by copy + fsync +
// unlink: the data dir may be its own mount.
void move_file(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::create_directories(to.parent_path(), ec);
  if (ec) {
    throw Error("cannot create directory " + quote(to.parent_path().string()) + ": " + ec.message());
  }
  if (::link(from.c_str(), to.c_str()) == 0) {
    util::fsync_dir(to.parent_path());
    unlink_or_throw(from);
    util::fsync_dir(from.parent_path());
    return;
  }
  if (errno != EXDEV) {
    throw Error("cannot move " + quote(from.string()) + " to " + quote(to.string()) + ": " +
                util::errno_message(errno));
  }
  util::Fd in = util::open_read(from);
  util::AtomicFile out(to, 0444);
  std::vector<uint8_t> buf(1 << 20);
  while (size_t n = util::read_some(in.get(), buf.data(), buf.size(), from)) {
    out.write(buf.data(), n);
  }
  out.commit(util::AtomicFile::Replace::no);
  unlink_or_throw(from);
  util::fsync_dir(from.parent_path());
}

fs::path free_name(const fs::path& want) {
  std::error_code ec;
  if (fs::symlink_status(want, ec).type() == fs::file_type::not_found) {
    return want;
  }
  for (int i = 2;; ++i) {
    fs::path p = want;
    p += "." + std::to_string(i);
    if (fs::symlink_status(p, ec).type() == fs::file_type::not_found) {
      return p;
    }
  }
}

} // namespace



size_t RepairReport::left_alone() const {
  size_t n = 0;
  for (const auto& a : actions) {
    n += a.kind == RepairAction::Kind::left_alone ? 1 : 0;
  }
  return n;
}

RepairReport repair(const Repository& repo, const RepairOptions& options) {
  RepairReport report;
  const bool dry = options.dry_run;
  // First no add may be alive (their temps would look like leftovers), then
  // the repository lock (no other command is rewriting the manifest).
  ActivityLock activity(repo, ActivityLock::Mode::exclusive, options.timeout);
  RepoLock lock(repo.lock_path(), options.timeout);

  Manifest manifest;
  fs::path manifest_path = repo.manifest_path();
  std::error_code ec;
  if (fs::exists(manifest_path, ec)) {
    // A manifest that does not parse is an error: repair never guesses
    // which payloads it meant to list.
    manifest = Manifest::parse(util::read_file(manifest_path), manifest_path.string());
  }
  bool manifest_dirty = false;
  std::vector<fs::path> synced_dirs;
  LazyReferenced referenced(repo);

  const fs::path& root = repo.data_dir();
  std::vector<fs::path> files;
  if (fs::is_directory(root, ec)) {
    // Never follows symlinks: a link to a directory outside the repository
    // is reported, not walked.
    fs::recursive_directory_iterator it(root, fs::directory_options::none, ec);
    for (fs::recursive_directory_iterator end; !ec && it != end; it.increment(ec)) {
      fs::file_status s = it->symlink_status(ec);
      if (ec) {
        break;
      }
      if (!fs::is_directory(s)) {
        files.push_back(it->path());
      }
    }
    if (ec) {
      throw Error("cannot scan " + quote(root.string()) + ": " + ec.message());
    }
  }
  std::sort(files.begin(), files.end());

  auto act = [&](RepairAction::Kind kind, const fs::path& p, std::string detail, std::optional<fs::path> to = {}) {
    report.actions.push_back({kind, p, std::move(to), std::move(detail)});
  };

  // Payloads first, so their sidecars are known when the sidecars come up.
  std::vector<fs::path> handled_sidecars;
  std::set<fs::path> temp_dirs;     // staging directories emptied below
  std::set<fs::path> chunk_dirs;    // chunked versions already handled
  // An unfinished chunked add: its directory was published (with or
  // without its sidecar) but the manifest has no line for its chunks. Like
  // a single payload: rolled back while the source still holds the same
  // data, completed when it is the only copy, set aside without a sidecar.
  auto repair_chunk_dir = [&](const fs::path& dir, Leftover kind) {
    std::vector<fs::path> parts;
    for (fs::directory_iterator d(dir, ec), end; !ec && d != end; d.increment(ec)) {
      parts.push_back(d->path());
    }
    std::sort(parts.begin(), parts.end());
    std::string dir_rel = *repo.data_relative(dir);
    if (kind == Leftover::unsidecared_add) {
      fs::path to = free_name(repo.local_dir() / "orphans" / dir_rel);
      act(RepairAction::Kind::set_aside, dir,
          "unfinished chunked 'dsm add' without a sidecar: nothing records its source, so its chunks are kept; "
          "delete them when you no longer need them",
          to);
      if (!dry) {
        for (const fs::path& part : parts) {
          move_file(part, to / part.filename());
        }
        ::rmdir(dir.c_str());
        synced_dirs.push_back(dir.parent_path());
      }
      return;
    }
    std::optional<Sidecar> sc = matching_chunk_sidecar(repo, dir);
    fs::path sc_path = Repository::sidecar_path(dir);
    handled_sidecars.push_back(sc_path);
    bool intact = sc && parts.size() == sc->chunks.size();
    for (size_t i = 0; intact && i < parts.size(); ++i) {
      std::optional<std::string> digest = hash_file(parts[i]);
      intact = parts[i].filename() == sc->chunks[i].file && digest && *digest == sc->chunks[i].sha256;
    }
    if (!intact) {
      act(RepairAction::Kind::left_alone, dir,
          "unfinished chunked 'dsm add' whose chunks do not match its sidecar; check them by hand");
      return;
    }
    if (source_still_holds(*sc)) {
      act(RepairAction::Kind::rolled_back, dir,
          "unfinished chunked 'dsm add' rolled back with its sidecar; the source " + quote(sc->source) +
            " still holds the same data (run 'dsm add' again to store it)");
      if (!dry) {
        unlink_or_throw(sc_path);
        for (const fs::path& part : parts) {
          unlink_or_throw(part);
        }
        if (::rmdir(dir.c_str()) != 0) {
          throw Error("cannot remove " + quote(dir.string()) + ": " + util::errno_message(errno));
        }
        synced_dirs.push_back(dir.parent_path());
      }
      return;
    }
    act(RepairAction::Kind::completed, dir,
        "unfinished chunked 'dsm add' completed: its source " + quote(sc->source) +
          " is gone or changed, so these chunks are the only copy; listed in the manifest");
    for (const auto& c : sc->chunks) {
      manifest.set(dir_rel + "/" + c.file, c.sha256);
    }
    manifest_dirty = true;
    synced_dirs.push_back(dir);
  };
  for (const fs::path& p : files) {
    check_interrupted();
    std::optional<std::string> rel = repo.data_relative(p);
    std::string fname = p.filename().string();
    if (!rel || *rel == k_manifest_name) {
      continue;
    }
    if (chunk_dirs.count(p.parent_path())) {
      continue; // the rest of a chunked version handled as a whole
    }
    Leftover kind = classify_leftover(repo, p);
    if (kind == Leftover::temp) {
      act(RepairAction::Kind::removed_temp, p, explain_leftover(kind));
      if (!dry) {
        unlink_or_throw(p);
      }
      if (is_temp_path(*rel)) {
        temp_dirs.insert(p.parent_path());
      }
      continue;
    }
    if (const std::string* sha = manifest.find(*rel)) {
      // A stored payload whose permissions were widened (verify reports it
      // WRITABLE): read-only again, but only if its bytes are still the
      // ones the manifest records; a changed payload is verify's business.
      struct stat st {};
      if (::lstat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0222) != 0) {
        std::optional<std::string> h = hash_file(p);
        if (h && *h == *sha) {
          act(RepairAction::Kind::made_read_only, p, "write permission removed (stored payloads are read-only)");
          if (!dry && ::chmod(p.c_str(), st.st_mode & ~mode_t{0222}) != 0) {
            throw Error("cannot change permissions of " + quote(p.string()) + ": " + util::errno_message(errno));
          }
        } else {
          act(RepairAction::Kind::left_alone, p, "writable and its bytes no longer match the manifest: see 'dsm verify'");
        }
      }
      continue;
    }
    if (!repo.config().is_payload_name(fname)) {
      continue;
    }
    {
      // Referenced means kept: a version another ref, the stash or the
      // index lists, or whose sidecar git tracks, is nobody's leftover.
      fs::path sidecar_of = p;
      if (auto dir = chunk_dir_of(repo, *rel, p)) {
        sidecar_of = *dir;
      }
      std::string sidecar_rel = repo.data_relative(sidecar_of).value_or(*rel);
      const Referenced& refs = referenced.get();
      std::optional<std::string> from = refs.source(*rel);
      if (from || refs.sidecar_tracked(sidecar_rel)) {
        handled_sidecars.push_back(Repository::sidecar_path(sidecar_of));
        act(RepairAction::Kind::kept, p,
            from ? "a version from " + *from + " (not in this checkout's manifest)"
                 : "git tracks its sidecar but the manifest has no line for it: run 'dsm resolve'");
        continue;
      }
      if (referenced.history().lists_path(*rel)) {
        act(RepairAction::Kind::kept, p, k_removed_note);
        continue;
      }
    }
    if (auto dir = chunk_dir_of(repo, *rel, p);
        dir && (kind == Leftover::unfinished_add || kind == Leftover::unsidecared_add)) {
      if (chunk_dirs.insert(*dir).second) {
        repair_chunk_dir(*dir, kind);
      }
      continue;
    }
    switch (kind) {
    case Leftover::not_regular:
      act(RepairAction::Kind::left_alone, p, "not a regular file where a payload could be; remove it by hand");
      break;
    case Leftover::foreign:
      act(RepairAction::Kind::left_alone, p, explain_leftover(kind));
      break;
    case Leftover::unsidecared_add: {
      fs::path to = free_name(repo.local_dir() / "orphans" / *rel);
      act(RepairAction::Kind::set_aside, p,
          "unfinished 'dsm add' without a sidecar: nothing records its source, so it is kept; delete it when "
          "you no longer need it",
          to);
      if (!dry) {
        move_file(p, to);
      }
      break;
    }
    case Leftover::unfinished_add: {
      std::optional<Sidecar> sc = matching_sidecar(repo, p);
      fs::path sc_path = Repository::sidecar_path(p);
      handled_sidecars.push_back(sc_path);
      std::optional<std::string> digest = hash_file(p);
      if (!sc || !digest || *digest != sc->sha256) {
        act(RepairAction::Kind::left_alone, p,
            "unfinished 'dsm add' whose payload does not match its sidecar's sha256; check it by hand");
        break;
      }
      // A compressed version (`dsm add --compress`) came from the .npy its
      // sidecar records as `original`.
      if (source_still_holds(*sc)) {
        act(RepairAction::Kind::rolled_back, p,
            "unfinished 'dsm add' rolled back with its sidecar; the source " + quote(sc->source) +
              " still holds the same data (run 'dsm add' again to store it)");
        if (!dry) {
          // Sidecar first: if repair dies between the two, the payload is
          // set aside by the next repair, never lost.
          unlink_or_throw(sc_path);
          unlink_or_throw(p);
          synced_dirs.push_back(p.parent_path());
        }
      } else {
        act(RepairAction::Kind::completed, p,
            "unfinished 'dsm add' completed: its source " + quote(sc->source) +
              " is gone or changed, so this payload is the only copy; listed in the manifest");
        manifest.set(*rel, *digest);
        manifest_dirty = true;
        synced_dirs.push_back(p.parent_path());
      }
      break;
    }
    case Leftover::temp:
      break;
    }
  }
  // Staging directories of chunked adds, now empty (deepest first).
  for (auto it = temp_dirs.rbegin(); !dry && it != temp_dirs.rend(); ++it) {
    if (::rmdir(it->c_str()) == 0) {
      synced_dirs.push_back(it->parent_path());
    }
  }
  // Sidecars whose payload is neither on disk nor listed: metadata of a
  // payload someone removed. Only a person knows what it should be.
  for (const fs::path& p : files) {
    std::optional<fs::path> payload = Repository::payload_of_sidecar(p);
    if (!payload || p.filename().string().starts_with(util::k_temp_prefix) ||
        !repo.config().is_payload_name(payload->filename().string())) {
      continue;
    }
    if (std::find(handled_sidecars.begin(), handled_sidecars.end(), p) != handled_sidecars.end()) {
      continue;
    }
    std::optional<std::string> prel = repo.data_relative(*payload);
    if (!prel || manifest.find(*prel) || fs::symlink_status(*payload, ec).type() != fs::file_type::not_found) {
      continue;
    }
    act(RepairAction::Kind::left_alone, p, "sidecar without a payload; restore the payload or remove the sidecar");
  }

  // Old temp files of lock and stat-cache writers.
  std::time_t now = std::time(nullptr);
  for (fs::directory_iterator d(repo.local_dir(), ec), end; !ec && d != end; d.increment(ec)) {
    struct stat st {};
    if (!d->path().filename().string().starts_with(util::k_temp_prefix) || ::lstat(d->path().c_str(), &st) != 0 ||
        now - st.st_mtime < k_local_temp_age) {
      continue;
    }
    act(RepairAction::Kind::removed_temp, d->path(), explain_leftover(Leftover::temp));
    if (!dry) {
      unlink_or_throw(d->path());
    }
  }

  if (!dry) {
    // Removed names and completed payloads must be durable before the
    // manifest that depends on them.
    std::sort(synced_dirs.begin(), synced_dirs.end());
    synced_dirs.erase(std::unique(synced_dirs.begin(), synced_dirs.end()), synced_dirs.end());
    for (const auto& d : synced_dirs) {
      util::fsync_dir(d);
    }
    if (manifest_dirty) {
      util::write_file_atomic(manifest_path, manifest.serialize(), 0644);
    }
  }
  return report;
}

std::string format_action(const RepairAction& a, bool dry_run) {
  std::string verb;
  switch (a.kind) {
  case RepairAction::Kind::removed_temp:
    verb = dry_run ? "would remove" : "removed";
    break;
  case RepairAction::Kind::rolled_back:
    verb = dry_run ? "would roll back" : "rolled back";
    break;
  case RepairAction::Kind::completed:
    verb = dry_run ? "would complete" : "completed";
    break;
  case RepairAction::Kind::set_aside:
    verb = dry_run ? "would move" : "moved";
    break;
  case RepairAction::Kind::made_read_only:
    verb = dry_run ? "would make read-only" : "made read-only";
    break;
  case RepairAction::Kind::left_alone:
    verb = "left alone";
    break;
  case RepairAction::Kind::kept:
    verb = "kept";
    break;
  }
  std::string out = verb + " " + a.path.string();
  if (a.to) {
    out += " to " + a.to->string();
  }
  return out + ": " + a.detail;
}

} // namespace dsm

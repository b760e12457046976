#include "ops/add.hpp"

#include "util/progress.hpp"
#include "util/parallel_copy.hpp"
#include "format/chunk.hpp"
#include "format/compress_add.hpp"
#include "util/crash.hpp"
#include "ops/export.hpp"
#include "format/file_hash.hpp"
#include "util/staged.hpp"
#include "dsm/error.hpp"
#include "format/format.hpp"
#include "util/interrupt.hpp"
#include "repo/lock.hpp"
#include "repo/manifest.hpp"
#include "repo/naming.hpp"
#include "repo/lock.hpp"
#include "repo/datasets.hpp"
#include "repo/dedupe.hpp"
#include "repo/referenced.hpp"
#include "repo/repository.hpp"
#include "repo/statcache.hpp"
#include "git/git.hpp"
#include "util/beneath.hpp"
#include "util/file.hpp"
#include "util/sha256.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <map>
#include <sys/stat.h>
#include <unistd.h>

namespace dsm {

namespace {

struct Pending {
  fs::path source;
  std::string name;
  std::unique_ptr<StagedFile> staged;
  bool linked_source = false; // --move on the same filesystem: staged is a hard link
  FileInfo info;
  fs::path final_path;
  uint64_t version = 0; // the sequence number; the sidecar itself is built into the result
  // --chunk-size: the parts, staged in a hidden directory.
  std::unique_ptr<StagedDir> staged_dir;
  ChunkSummary chunks;
  // --compress / --chunk-size: the .npy that was added, and the engine.
  std::optional<Sidecar::Original> original;
  std::optional<std::string> compression;
};

std::string stem_of(const fs::path& p) { return p.stem().string(); }

void mkdirs(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    throw Error("cannot create directory " + quote(dir.string()) + ": " + ec.message());
  }
}

Manifest read_manifest(const Repository& repo) {
  fs::path p = repo.manifest_path();
  std::error_code ec;
  if (!fs::exists(p, ec)) {
    return Manifest();
  }
  return Manifest::parse(util::read_file(p), p.string());
}

// Highest sequence number of `name` in use anywhere: manifest lines, every
// manifest in history (a version `dsm rm` removed and a commit forgot), and
// every file on disk (payloads, sidecars, leftovers of crashed adds), so a
// number is never reused.
uint64_t max_seq(const Repository& repo, const Manifest& manifest, const HistorySeq& history, const std::string& name,
                 const fs::path& dir) {
  uint64_t best = history.max_seq(name);
  std::string prefix = name + "/";
  for (auto it = manifest.map().lower_bound(prefix); it != manifest.map().end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) {
      break;
    }
    std::string rest = it->first.substr(prefix.size());
    if (rest.find('/') != std::string::npos) {
      continue; // a nested name
    }
    if (auto s = match_seq(repo.config(), name, rest)) {
      best = std::max(best, *s);
    }
  }
  std::error_code ec;
  for (fs::directory_iterator d(dir, ec), end; !ec && d != end; d.increment(ec)) {
    if (auto s = match_seq(repo.config(), name, d->path().filename().string())) {
      best = std::max(best, *s);
    }
  }
  if (ec) {
    throw Error("cannot list " + quote(dir.string()) + ": " + ec.message());
  }
  return best;
}

// --compress and --chunk-size take .npy files only; say so before any
// byte is written rather than failing inside the splitter.
void require_npy(int fd, const fs::path& path, const char* option) {
  char magic[6] = {};
  if (::pread(fd, magic, sizeof magic, 0) != static_cast<ssize_t>(sizeof magic) ||
      std::memcmp(magic, "\x93NUMPY", 6) != 0) {
    throw Error("cannot add " + quote(path.string()) + " with " + option + ": it is not a .npy file");
  }
}

// From this size on, a copy is made by the kernel on a second thread while
// this one scans the copy (util/parallel_copy.hpp); below it, one thread
// reading, hashing and writing each slice costs less than starting one.
constexpr uint64_t k_parallel_copy_min = 32u << 20;

// The large-file copy: hash, header and statistics are taken from the
// stored copy as it fills, so they describe exactly what was stored.
FileInfo scan_parallel_copy(Pending& p, int src, uint64_t size, ScanOptions opts) {
  util::Fd copy = util::open_read(p.staged->temp_path());
  ParallelCopy copier(src, p.staged->fd(), size, p.source, p.staged->temp_path());
  opts.final_size = size;
  opts.ready = [&copier](uint64_t end) { copier.wait_for(end); };
  FileInfo info = scan_fd(copy.get(), p.source, opts);
  copier.finish();
  return info;
}

// A source whose size, mtime or ctime moved while it was read may have been
// read torn (a writer mid-way): refused, whatever path the copy took.
void require_unchanged(const fs::path& source, int fd, const struct stat& before) {
  struct stat after {};
  if (::fstat(fd, &after) != 0) {
    throw Error("cannot stat " + quote(source.string()) + ": " + util::errno_message(errno));
  }
  if (after.st_size != before.st_size || after.st_mtim.tv_sec != before.st_mtim.tv_sec ||
      after.st_mtim.tv_nsec != before.st_mtim.tv_nsec || after.st_ctim.tv_sec != before.st_ctim.tv_sec ||
      after.st_ctim.tv_nsec != before.st_ctim.tv_nsec) {
    throw Error("cannot add " + quote(source.string()) +
                ": it changed while being copied; nothing was stored (add it again once it is complete)");
  }
}

// Copies (or splits, compresses, links) the open source into the staging
// area and fills p.info from what was staged.
// Scan options that count the bytes read on the request's progress line.
ScanOptions counted(const AddRequest& request) {
  ScanOptions opts;
  if (util::Progress* progress = request.progress) {
    opts.on_read = [progress](size_t n) { progress->add_bytes(static_cast<int64_t>(n)); };
  }
  return opts;
}

void stage_copy(const Repository& repo, Pending& p, const AddRequest& request, int src, const struct stat& st) {
  Transfer transfer = request.chunk_bytes || request.compress ? Transfer::copy : request.transfer;
  AllowPickle allow_pickle = request.allow_pickle;
  std::string hint = last_segment(p.name);
  if (request.chunk_bytes) {
    require_npy(src, p.source, "--chunk-size");
    // The parts are written as the source streams past, into a hidden
    // directory that appears under its final name only when complete.
    p.staged_dir = std::make_unique<StagedDir>(repo.data_dir(), hint);
    NpyChunker chunker(p.staged_dir->path(), *request.chunk_bytes, p.source);
    ScanOptions copts = counted(request);
    copts.sink = [&chunker](const uint8_t* data, size_t size) {
      check_interrupted();
      chunker.write(data, size);
    };
    p.info = scan_fd(src, p.source, copts);
    p.chunks = chunker.finish();
    p.original = Sidecar::Original{p.info.size, p.info.sha256,
                                   util::to_hex(reinterpret_cast<const uint8_t*>(p.chunks.original_header.data()),
                                                p.chunks.original_header.size())};
    return;
  }
  if (request.compress) {
    require_npy(src, p.source, "--compress");
    p.staged = std::make_unique<StagedFile>(repo.data_dir(), hint);
    CompressSettings settings;
    settings.level = *request.compress;
    NpzCompressor compressor(p.staged->fd(), p.staged->temp_path(), hint, settings);
    ScanOptions copts = counted(request);
    copts.sink = [&compressor](const uint8_t* data, size_t size) {
      check_interrupted();
      compressor.write(data, size);
    };
    FileInfo npy = scan_fd(src, p.source, copts);
    if (npy.object() && allow_pickle == AllowPickle::no) {
      throw Error("refusing " + quote(p.source.string()) +
                  ": it holds object (pickled) arrays, which run code when loaded; use --allow-pickle to store it anyway");
    }
    NpzCompressor::Summary summary = compressor.finish();
    util::Fd written = util::open_read(p.staged->temp_path());
    p.info = npz_info_from(npy, summary, p.staged->temp_path(), sha256_fd(written.get(), p.staged->temp_path()));
    p.original = Sidecar::Original{npy.size, npy.sha256, ""};
    p.compression = std::string(summary.deflate.stored() ? "" : "deflate, ") + summary.deflate.reason;
    return;
  }
  if (transfer == Transfer::move) {
    p.staged = StagedFile::link_from(p.source, repo.data_dir(), hint);
    p.linked_source = p.staged != nullptr;
  }
  if (!p.linked_source && static_cast<uint64_t>(st.st_size) >= k_parallel_copy_min) {
    p.staged = std::make_unique<StagedFile>(repo.data_dir(), hint);
    p.info = scan_parallel_copy(p, src, static_cast<uint64_t>(st.st_size), counted(request));
  } else {
    ScanOptions opts = counted(request);
    if (!p.linked_source) {
      p.staged = std::make_unique<StagedFile>(repo.data_dir(), hint);
      StagedFile* out = p.staged.get();
      opts.sink = [out](const uint8_t* data, size_t size) {
        check_interrupted();
        out->write(data, size);
      };
    }
    p.info = scan_fd(src, p.source, opts);
  }
  p.info.path.clear(); // the source path is in p.source; thousands of copies add up
  if (p.info.object() && allow_pickle == AllowPickle::no) {
    throw Error("refusing " + quote(p.source.string()) +
                ": it holds object (pickled) arrays, which run code when loaded; use --allow-pickle to store it anyway");
  }
  if (!p.linked_source && p.staged) {
    // The copy must be the bytes we hashed.
    struct stat out_st {};
    if (::fstat(p.staged->fd(), &out_st) != 0 || static_cast<uint64_t>(out_st.st_size) != p.info.size) {
      throw Error("cannot copy " + quote(p.source.string()) + ": short write to " +
                  quote(p.staged->temp_path().string()));
    }
  }
}

void stage(const Repository& repo, Pending& p, const AddRequest& request) {
  check_interrupted();
  if (request.transfer == Transfer::move) {
    // --move takes the file itself (a hard link, then unlink): a symlink
    // would be stored as the link, its target chmodded, and the version
    // lost with the link. Copying what it points to is what plain add does.
    struct stat lst {};
    if (::lstat(p.source.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode)) {
      throw Error("refusing --move of " + quote(p.source.string()) +
                  ": it is a symlink (add it without --move to store a copy of its target)");
    }
  }
  // Opened without blocking, then checked: a FIFO or a device is refused
  // at once, like a directory, instead of waiting for a writer.
  util::RegularFile f = util::open_regular(p.source, "cannot add");
  int src = f.fd.get();
  const struct stat& st = f.st;
  stage_copy(repo, p, request, src, st);
  if (p.linked_source) {
    // The link is of the path: it must be the file that was opened.
    struct stat linked {};
    if (::fstat(p.staged->fd(), &linked) != 0 || linked.st_dev != st.st_dev || linked.st_ino != st.st_ino ||
        !S_ISREG(linked.st_mode)) {
      throw Error("cannot add " + quote(p.source.string()) +
                  ": it was replaced while being added; nothing was stored (add it again)");
    }
  } else {
    require_unchanged(p.source, src, st);
  }
}

} // namespace

AddResult add_files(const Repository& repo, const AddRequest& request) {
  AddResult result;
  if (request.files.empty()) {
    throw Error("nothing to add");
  }
  if (!request.items.empty() && request.items.size() != request.files.size()) {
    throw Error("internal error: " + std::to_string(request.items.size()) + " items for " +
                std::to_string(request.files.size()) + " files");
  }
  // Validate every name before writing anything.
  std::vector<Pending> pending(request.files.size());
  for (size_t i = 0; i < request.files.size(); ++i) {
    Pending& p = pending[i];
    p.source = request.files[i];
    if (!request.items.empty() || request.name) {
      p.name = request.items.empty() ? *request.name : request.items[i].name;
      validate_name(p.name, repo.config());
    } else {
      p.name = stem_of(p.source);
      if (!name_ok(p.name)) {
        throw Error("cannot derive a dataset name from " + quote(p.source.filename().string()) +
                    " (a name is '/'-separated segments of [A-Za-z0-9][A-Za-z0-9._-]*); use --name");
      }
      validate_name(p.name, repo.config());
    }
    if (request.transfer == Transfer::move && repo.data_relative(p.source)) {
      throw Error("refusing --move of " + quote(p.source.string()) +
                  ": it is inside the data directory (stored payloads are never moved)");
    }
    if (request.in_data_dir == InDataDir::refuse && repo.data_relative(p.source)) {
      throw Error("refusing to add " + quote(p.source.string()) +
                  ": it is inside the data directory, so it is stored already ('dsm ls' and 'dsm path NAME' "
                  "name stored versions; 'dsm compress' stores a version compressed)");
    }
  }
  if (!fs::is_directory(repo.data_dir())) {
    mkdirs(repo.data_dir());
  }
  // Held until add returns: `dsm repair` waits for it, so it never takes
  // the temp files below for leftovers of a crash (dsm/repair.hpp).
  repo.ensure_local_dir();
  ActivityLock activity(repo, ActivityLock::Mode::shared, lock_timeout_from_env());

  // 1. Stage: copy + hash + parse in one pass, outside the lock.
  std::vector<StagedFile*> staged;
  // Many files: each is closed as soon as it is staged (sync_staged and
  // chmod reopen it by name), so an add of 100,000 files holds a handful of
  // descriptors, not one per file (RLIMIT_NOFILE is often 1,024).
  const bool close_early = pending.size() >= k_syncfs_threshold;
  if (request.progress) {
    uint64_t total = 0;
    for (const Pending& p : pending) {
      std::error_code ec;
      uintmax_t size = fs::file_size(p.source, ec);
      total += ec ? 0 : static_cast<uint64_t>(size);
    }
    request.progress->set_total(pending.size(), total);
  }
  for (Pending& p : pending) {
    stage(repo, p, request);
    if (request.progress) {
      request.progress->item_done();
    }
    if (close_early && p.staged) {
      p.staged->close();
    }
    std::string added_sha = p.original ? p.original->sha256 : p.info.sha256;
    if (request.expect_sha256 && added_sha != *request.expect_sha256) {
      throw Error(quote(p.source.string()) + " does not match its recorded sha256 (" + *request.expect_sha256 +
                    "); run 'dsm verify'",
                  k_exit_problems);
    }
    if (p.staged) {
      staged.push_back(p.staged.get());
    }
  }
  for (Pending& p : pending) {
    if (!p.linked_source && p.staged) {
      p.staged->chmod(0444);
    }
  }
  sync_staged(staged);
  for (Pending& p : pending) {
    if (!p.staged) {
      continue; // chunk parts were synced as they were closed
    }
    if (p.linked_source) {
      p.staged->chmod(0444); // the inode is the source's; it is going away
    }
    p.staged->close();
  }
  crash_point("add-payload-temp");
  check_interrupted();

  // Facts that do not depend on the lock.
  std::time_t now = std::time(nullptr);
  std::string date = utc_date(now);
  std::string created = utc_timestamp(now);
  std::optional<std::string> author;
  const char* env_name = std::getenv("GIT_AUTHOR_NAME");
  const char* env_email = std::getenv("GIT_AUTHOR_EMAIL");
  if (env_name && *env_name) {
    // git itself lets the environment override the configured author.
    author = std::string(env_name) + " <" + (env_email ? env_email : "") + ">";
  } else if (auto id = repo.git().identity()) {
    author = id->name + " <" + id->email + ">";
  } else {
    result.warnings.push_back("git has no identity, so the sidecar's author is null; set one with "
                              "git config user.name 'Your Name' && git config user.email you@example.com");
  }
  std::optional<std::string> head = repo.git().head_commit();
  std::optional<std::string> branch = repo.git().branch();
  std::string host = host_name();
  // Outside the lock: a walk of the whole history (references.hpp), each
  // manifest read once ever (repo/referenced.hpp, HistorySeq).
  const HistorySeq history = HistorySeq::load(repo);

  // 2-4. Under the lock: numbers, payload names, sidecars, manifest.
  repo.ensure_local_dir();
  RepoLock lock(repo.lock_path(), lock_timeout_from_env());
  check_interrupted();
  Manifest manifest = read_manifest(repo);
  std::map<std::string, uint64_t> next; // name -> next free number
  std::vector<fs::path> dirs;
  // Identical payloads stored once: bytes a listed payload holds already
  // become another name of that file (found once per distinct hash).
  IdenticalFinder finder(repo, manifest);
  std::map<std::string, std::optional<IdenticalPayload>> identical;
  std::vector<std::optional<std::string>> linked_to(pending.size());
  for (size_t i = 0; i < pending.size(); ++i) {
    Pending& p = pending[i];
    fs::path dir = repo.data_dir() / p.name;
    auto it = next.find(p.name);
    if (it == next.end()) {
      // Once per name: one path per file adds up over 10,000 files. The
      // name's directory gets new entries; its parents only when a
      // directory was created in them.
      for (fs::path& parent : util::make_dirs_below(repo.data_dir(), dir)) {
        dirs.push_back(std::move(parent));
      }
      dirs.push_back(dir);
      it = next.emplace(p.name, max_seq(repo, manifest, history, p.name, dir) + 1).first;
    }
    // A chunked version is a directory named by the stem alone.
    std::string ext = p.staged_dir ? "" : p.info.format == Format::npy ? ".npy" : ".npz";
    while (true) {
      uint64_t seq = it->second++;
      fs::path target = dir / (payload_stem(repo.config(), p.name, date, seq) + ext);
      // Another file of that number (a sidecar left by a crash) also
      // blocks it: numbers are never reused.
      if (fs::exists(Repository::sidecar_path(target))) {
        continue;
      }
      if (!p.staged_dir) {
        auto found = identical.find(p.info.sha256);
        if (found == identical.end()) {
          found = identical.emplace(p.info.sha256, finder.find(p.info.sha256)).first;
        }
        if (found->second) {
          LinkResult linked = link_payload(found->second->fd, target);
          if (linked == LinkResult::exists) {
            continue; // that number is taken: the next one
          }
          if (linked == LinkResult::linked) {
            linked_to[i] = found->second->rel;
            p.final_path = target;
            p.staged.reset(); // the copy is not needed: its temp goes
            p.version = seq;
            break;
          }
          found->second.reset(); // links impossible here: store copies
        }
      }
      if (p.staged_dir ? p.staged_dir->publish_noreplace(target) : p.staged->publish_noreplace(target)) {
        p.final_path = target;
        p.staged.reset(); // published: nothing left to clean up, and its path is memory
        p.version = seq;
        break;
      }
    }
  }
  crash_point("add-payload");

  std::vector<std::unique_ptr<StagedFile>> sidecars;
  std::vector<StagedFile*> sidecar_ptrs;
  // Each sidecar is built once, in place in the result: holding a second
  // copy per file (and both lists whole) was most of the memory of an add
  // of 10,000 files.
  result.added.reserve(pending.size());
  const DatasetIndex before = index_datasets(repo, manifest); // the latest version of each name, for notes
  for (size_t i = 0; i < pending.size(); ++i) {
    Pending& p = pending[i];
    AddedPayload& added = result.added.emplace_back(); // its path is moved in at the end
    if (const auto* versions = before.find(p.name); versions && !versions->empty() && !p.staged_dir &&
                                                      versions->back().sha256 == p.info.sha256) {
      added.notes.push_back("same bytes as " + p.name + "@" + std::to_string(versions->back().seq));
    }
    if (linked_to[i]) {
      added.notes.push_back("stored once: a hard link to " + quote(*linked_to[i]) + " (identical bytes)");
    }
    Sidecar& s = added.sidecar;
    s.version = p.version;
    s.name = p.name;
    s.file = p.final_path.filename().string();
    s.created = created;
    s.author = author;
    s.git_commit = head;
    s.branch = branch;
    s.source = request.source_label.value_or(p.source.string());
    s.host = host;
    s.set_facts(p.info);
    s.pickled = p.info.object();
    s.original = p.original;
    s.compression = p.compression;
    if (p.staged_dir) {
      s.format = "chunks";
      s.chunk_axis = p.chunks.axis;
      for (const ChunkRecord& c : p.chunks.chunks) {
        s.chunks.push_back({c.file, c.row_begin, c.row_end, c.size, c.sha256});
      }
    }
    s.message = request.items.empty() ? request.message : request.items[i].message;
    s.meta_yaml = request.items.empty() ? request.meta_yaml : request.items[i].meta_yaml;
    // The sidecar now holds the facts; keep only the hash (memory stays
    // flat-ish when one add takes 10,000 files).
    FileInfo slim;
    slim.format = p.info.format;
    slim.size = p.info.size;
    slim.sha256 = std::move(p.info.sha256);
    p.info = std::move(slim);
    auto f = std::make_unique<StagedFile>(p.final_path.parent_path(), s.file + k_sidecar_suffix);
    f->write(s.to_yaml());
    f->chmod(0644);
    if (close_early) {
      f->close();
    }
    sidecar_ptrs.push_back(f.get());
    sidecars.push_back(std::move(f));
  }
  sync_staged(sidecar_ptrs);
  for (size_t i = 0; i < pending.size(); ++i) {
    sidecars[i]->close();
    if (!sidecars[i]->publish_noreplace(Repository::sidecar_path(pending[i].final_path))) {
      throw Error("cannot write sidecar " + quote(Repository::sidecar_path(pending[i].final_path).string()) +
                  ": it already exists");
    }
    sidecars[i].reset();
  }
  crash_point("add-sidecar");
  // Payload and sidecar names must be durable before the manifest names them.
  std::sort(dirs.begin(), dirs.end());
  dirs.erase(std::unique(dirs.begin(), dirs.end()), dirs.end());
  sync_dirs(dirs);

  for (Pending& p : pending) {
    if (p.staged_dir) {
      for (const ChunkRecord& c : p.chunks.chunks) {
        manifest.set(*repo.data_relative(p.final_path / c.file), c.sha256);
      }
    } else {
      manifest.set(*repo.data_relative(p.final_path), p.info.sha256);
    }
  }
  {
    util::AtomicFile mf(repo.manifest_path(), 0644);
    mf.write(manifest.serialize());
    crash_point("add-manifest-temp");
    mf.commit();
  }
  crash_point("add-manifest");
  lock.release();

  // 5. --move: the stored copy is durable and listed; only now drop the source.
  if (request.transfer == Transfer::move) {
    for (size_t i = 0; i < pending.size(); ++i) {
      Pending& p = pending[i];
      if (!p.linked_source) {
        // Copied (or compressed, or split): read the stored bytes back
        // before trusting them.
        std::string again_sha;
        if (p.staged_dir || p.compression) {
          ExportSource back = export_source_for(result.added[i].sidecar, p.final_path);
          util::Sha256 h;
          stream_original(back, [&h](const uint8_t* d, size_t n) { h.update(d, n); });
          again_sha = h.hex_digest();
        } else {
          ScanOptions hash_only;
          hash_only.stats = false;
          again_sha = scan_file(p.final_path, hash_only).sha256;
        }
        if (again_sha != (p.original ? p.original->sha256 : p.info.sha256)) {
          throw Error("not removing " + quote(p.source.string()) + ": the stored copy " +
                      quote(p.final_path.string()) + " does not read back the same");
        }
      }
      if (::unlink(p.source.c_str()) != 0 && errno != ENOENT) {
        result.warnings.push_back("stored " + p.final_path.string() + " but cannot remove " + p.source.string() +
                                  ": " + util::errno_message(errno));
      }
    }
  }

  // Remember what we just hashed (an optimisation; never fails the add).
  StatCache cache = StatCache::load(repo.statcache_path());
  for (Pending& p : pending) {
    struct stat st {};
    if (p.staged_dir) {
      for (const ChunkRecord& c : p.chunks.chunks) {
        if (::stat((p.final_path / c.file).c_str(), &st) == 0) {
          cache.record(*repo.data_relative(p.final_path / c.file), StatFacts::from(st), c.sha256);
        }
      }
    } else if (::stat(p.final_path.c_str(), &st) == 0) {
      cache.record(*repo.data_relative(p.final_path), StatFacts::from(st), p.info.sha256);
    }
  }
  cache.save(repo.statcache_path());

  for (size_t i = 0; i < pending.size(); ++i) {
    result.added[i].path = std::move(pending[i].final_path);
  }

  return result;
}

} // namespace dsm

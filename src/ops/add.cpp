#include "ops/add.hpp"

#include "dsm/error.hpp"
#include "format/chunk.hpp"
#include "format/compress_add.hpp"
#include "format/file_hash.hpp"
#include "format/format.hpp"
#include "git/git.hpp"
#include "ops/export.hpp"
#include "repo/datasets.hpp"
#include "repo/dedupe.hpp"
#include "repo/lock.hpp"
#include "repo/manifest.hpp"
#include "repo/naming.hpp"
#include "repo/referenced.hpp"
#include "repo/repository.hpp"
#include "repo/sidecar_facts_cache.hpp"
#include "repo/statcache.hpp"
#include "util/beneath.hpp"
#include "util/crash.hpp"
#include "util/file.hpp"
#include "util/interrupt.hpp"
#include "util/parallel_copy.hpp"
#include "util/progress.hpp"
#include "util/sha256.hpp"
#include "util/staged.hpp"

#include <algorithm>
#include <array>
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

struct PendingExtra;

// One per file, kept small: an add of 100,000 files holds 100,000 of them
// (issue #17). The sidecar's text beyond the version's name and number is
// in the TailSpill, not here; the final path follows from name, date,
// version and format (final_path).
struct Pending {
  std::string name;
  // The staged payload until it is published, then the staged sidecar.
  std::unique_ptr<StagedFile> staged;
  std::unique_ptr<PendingExtra> extra; // --chunk-size, --compress only
  std::array<uint8_t, 32> sha256{};    // as the sidecar records it
  uint64_t size = 0;
  uint64_t version = 0;              // the sequence number, once published
  uint64_t same_as = k_none;         // "same bytes as NAME@N"
  uint32_t tail_size = 0;            // the sidecar's tail, next in the spill
  uint32_t linked_to = k_not_linked; // index in `links`: "stored once: a hard link to REL"
  Format format = Format::npy;
  bool linked_source = false; // --move on the same filesystem: staged is a hard link
  static constexpr uint64_t k_none = UINT64_MAX;
  static constexpr uint32_t k_not_linked = UINT32_MAX;
};

struct PendingExtra {
  // --chunk-size: the parts, staged in a hidden directory.
  std::unique_ptr<StagedDir> staged_dir;
  ChunkSummary chunks;
  // --compress / --chunk-size: the .npy that was added, and the engine.
  std::optional<Sidecar::Original> original;
  std::optional<std::string> compression;
};

bool chunked(const Pending& p) {
  return p.extra && p.extra->staged_dir;
}

std::string hex(const std::array<uint8_t, 32>& raw) {
  return util::to_hex(raw.data(), raw.size());
}

std::array<uint8_t, 32> raw_sha(const std::string& hex_text) {
  std::array<uint8_t, 32> out{};
  if (!util::sha256_from_hex(hex_text, out)) {
    throw Error("internal error: not a SHA-256 digest: " + quote(hex_text));
  }
  return out;
}

// The sidecars' tails (Sidecar::yaml_tail), written as each file is staged
// and read back once its number is known: an add of 100,000 files would
// otherwise hold some 50 MB of sidecar text or of facts to make it from.
// Kept in memory up to 1 MiB; beyond, in an unnamed file in .dsm/local
// (O_TMPFILE: nothing is left behind whatever happens to the process).
class TailSpill {
public:
  explicit TailSpill(fs::path dir) : m_dir(std::move(dir)) {}

  // Returns the size of the text; texts are read back in order.
  uint32_t append(const std::string& text) {
    if (text.size() > UINT32_MAX) {
      throw Error("a sidecar of " + std::to_string(text.size()) + " bytes is too large");
    }
    m_buf += text;
    if (m_buf.size() >= k_buffer) {
      flush();
    }
    return static_cast<uint32_t>(text.size());
  }

  std::string read(uint64_t at, uint32_t size) {
    std::string out(size, '\0');
    if (at >= m_flushed) {
      out.assign(m_buf, at - m_flushed, size);
      return out;
    }
    flush();
    size_t done = 0;
    while (done < size) {
      ssize_t n = ::pread(m_fd.get(), out.data() + done, size - done, static_cast<off_t>(at + done));
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        throw Error("cannot read back the sidecars being written: " +
                    util::errno_message(n < 0 ? errno : EIO));
      }
      done += static_cast<size_t>(n);
    }
    return out;
  }

private:
  static constexpr size_t k_buffer = 1 << 20;

  void flush() {
    if (m_buf.empty()) {
      return;
    }
    if (m_fd.get() < 0) {
      int fd = ::open(m_dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
      if (fd < 0) {
        // No O_TMPFILE here: a named file, unlinked at once.
        fs::path named = m_dir / (std::string(util::k_temp_prefix) + "add-sidecars." + temp_token());
        fd = ::open(named.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) {
          throw Error("cannot create a temporary file in " + quote(m_dir.string()) + ": " +
                      util::errno_message(errno));
        }
        ::unlink(named.c_str());
      }
      m_fd = util::Fd(fd);
    }
    util::write_all(m_fd.get(), m_buf.data(), m_buf.size(), m_dir);
    m_flushed += m_buf.size();
    m_buf.clear();
  }

  fs::path m_dir;
  util::Fd m_fd;
  std::string m_buf;
  uint64_t m_flushed = 0;
};

std::string stem_of(const fs::path& p) {
  return p.stem().string();
}

// The i-th file of the request, absolute and lexically normal.
fs::path source_path(const AddRequest& request, size_t i) {
  fs::path p(request.files[i]);
  return (p.is_absolute() ? p : request.base / p).lexically_normal();
}

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
uint64_t max_seq(const Repository& repo, const Manifest& manifest, const HistorySeq& history,
                 const std::string& name, const fs::path& dir) {
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
FileInfo scan_parallel_copy(Pending& p, const fs::path& source, int src, uint64_t size, ScanOptions opts) {
  fs::path temp = p.staged->temp_path();
  util::Fd copy = util::open_read(temp);
  ParallelCopy copier(src, p.staged->fd(), size, source, temp);
  opts.final_size = size;
  opts.ready = [&copier](uint64_t end) { copier.wait_for(end); };
  FileInfo info = scan_fd(copy.get(), source, opts);
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

// Scan options that count the bytes read on the request's progress line.
ScanOptions counted(const AddRequest& request) {
  ScanOptions opts;
  if (util::Progress* progress = request.progress) {
    opts.on_read = [progress](size_t n) { progress->add_bytes(static_cast<int64_t>(n)); };
  }
  return opts;
}

void refuse_pickle(const FileInfo& info, const fs::path& source, const AddRequest& request) {
  if (info.object() && request.allow_pickle == AllowPickle::no) {
    throw Error("refusing " + quote(source.string()) +
                ": it holds object (pickled) arrays, which run code when loaded; use --allow-pickle to store "
                "it anyway");
  }
}

// Copies (or splits, compresses, links) the open source into the staging
// area; returns what was staged, as the sidecar describes it.
FileInfo stage_copy(const Repository& repo, Pending& p, const fs::path& source, const AddRequest& request,
                    int src, const struct stat& st) {
  Transfer transfer = request.chunk_bytes || request.compress ? Transfer::copy : request.transfer;
  std::string hint = last_segment(p.name);
  if (request.chunk_bytes) {
    require_npy(src, source, "--chunk-size");
    // The parts are written as the source streams past, into a hidden
    // directory that appears under its final name only when complete.
    p.extra = std::make_unique<PendingExtra>();
    p.extra->staged_dir = std::make_unique<StagedDir>(repo.data_dir(), hint);
    NpyChunker chunker(p.extra->staged_dir->path(), *request.chunk_bytes, source);
    ScanOptions copts = counted(request);
    copts.sink = [&chunker](const uint8_t* data, size_t size) {
      check_interrupted();
      chunker.write(data, size);
    };
    FileInfo info = scan_fd(src, source, copts);
    p.extra->chunks = chunker.finish();
    const std::string& header = p.extra->chunks.original_header;
    p.extra->original = Sidecar::Original{
        info.size, info.sha256, util::to_hex(reinterpret_cast<const uint8_t*>(header.data()), header.size())};
    return info;
  }
  if (request.compress) {
    require_npy(src, source, "--compress");
    p.extra = std::make_unique<PendingExtra>();
    p.staged = std::make_unique<StagedFile>(repo.data_dir(), hint);
    fs::path temp = p.staged->temp_path();
    CompressSettings settings;
    settings.level = *request.compress;
    NpzCompressor compressor(p.staged->fd(), temp, hint, settings);
    ScanOptions copts = counted(request);
    copts.sink = [&compressor](const uint8_t* data, size_t size) {
      check_interrupted();
      compressor.write(data, size);
    };
    FileInfo npy = scan_fd(src, source, copts);
    refuse_pickle(npy, source, request);
    NpzCompressor::Summary summary = compressor.finish();
    util::Fd written = util::open_read(temp);
    FileInfo info = npz_info_from(npy, summary, temp, sha256_fd(written.get(), temp));
    p.extra->original = Sidecar::Original{npy.size, npy.sha256, ""};
    p.extra->compression = std::string(summary.deflate.stored() ? "" : "deflate, ") + summary.deflate.reason;
    return info;
  }
  if (transfer == Transfer::move) {
    p.staged = StagedFile::link_from(source, repo.data_dir(), hint);
    p.linked_source = p.staged != nullptr;
  }
  FileInfo info;
  if (!p.linked_source && static_cast<uint64_t>(st.st_size) >= k_parallel_copy_min) {
    p.staged = std::make_unique<StagedFile>(repo.data_dir(), hint);
    info = scan_parallel_copy(p, source, src, static_cast<uint64_t>(st.st_size), counted(request));
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
    info = scan_fd(src, source, opts);
  }
  refuse_pickle(info, source, request);
  if (!p.linked_source && p.staged) {
    // The copy must be the bytes we hashed.
    struct stat out_st {};
    if (::fstat(p.staged->fd(), &out_st) != 0 || static_cast<uint64_t>(out_st.st_size) != info.size) {
      throw Error("cannot copy " + quote(source.string()) + ": short write to " +
                  quote(p.staged->temp_path().string()));
    }
  }
  return info;
}

FileInfo stage(const Repository& repo, Pending& p, const fs::path& source, const AddRequest& request) {
  check_interrupted();
  if (request.transfer == Transfer::move) {
    // --move takes the file itself (a hard link, then unlink): a symlink
    // would be stored as the link, its target chmodded, and the version
    // lost with the link. Copying what it points to is what plain add does.
    struct stat lst {};
    if (::lstat(source.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode)) {
      throw Error("refusing --move of " + quote(source.string()) +
                  ": it is a symlink (add it without --move to store a copy of its target)");
    }
  }
  // Opened without blocking, then checked: a FIFO or a device is refused
  // at once, like a directory, instead of waiting for a writer.
  util::RegularFile f = util::open_regular(source, "cannot add");
  int src = f.fd.get();
  const struct stat& st = f.st;
  FileInfo info = stage_copy(repo, p, source, request, src, st);
  if (p.linked_source) {
    // The link is of the path: it must be the file that was opened.
    struct stat linked {};
    if (::fstat(p.staged->fd(), &linked) != 0 || linked.st_dev != st.st_dev || linked.st_ino != st.st_ino ||
        !S_ISREG(linked.st_mode)) {
      throw Error("cannot add " + quote(source.string()) +
                  ": it was replaced while being added; nothing was stored (add it again)");
    }
  } else {
    require_unchanged(source, src, st);
  }
  return info;
}

// What every sidecar of this add says alike.
struct Common {
  std::string date;    // in payload names
  std::string created; // in sidecars
  std::optional<std::string> author;
  std::optional<std::string> head;
  std::optional<std::string> branch;
  std::string host;
};

// The sidecar's text after `file:`, from what was staged.
std::string sidecar_tail(const Pending& p, const FileInfo& info, const Common& common, const fs::path& source,
                         const AddRequest& request, size_t i) {
  Sidecar s;
  s.created = common.created;
  s.author = common.author;
  s.git_commit = common.head;
  s.branch = common.branch;
  s.source = request.source_label.value_or(source.string());
  s.host = common.host;
  s.set_facts(info);
  s.pickled = info.object();
  if (p.extra) {
    s.original = p.extra->original;
    s.compression = p.extra->compression;
    if (p.extra->staged_dir) {
      s.format = "chunks";
      s.chunk_axis = p.extra->chunks.axis;
      for (const ChunkRecord& c : p.extra->chunks.chunks) {
        s.chunks.push_back({c.file, c.row_begin, c.row_end, c.size, c.sha256});
      }
    }
  }
  s.message = request.items.empty() ? request.message : request.items[i].message;
  s.meta_yaml = request.items.empty() ? request.meta_yaml : request.items[i].meta_yaml;
  return s.yaml_tail();
}

// The version's payload (a chunked version: its directory), relative to the
// data dir; known once its number is.
std::string rel_path(const Repository& repo, const Pending& p, const std::string& date) {
  std::string ext = chunked(p) ? "" : p.format == Format::npy ? ".npy" : ".npz";
  return p.name + "/" + payload_stem(repo.config(), p.name, date, p.version) + ext;
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
  if (request.files.size() >= Pending::k_not_linked) {
    throw Error("cannot add " + std::to_string(request.files.size()) + " files in one command");
  }
  // Validate every name before writing anything.
  std::vector<Pending> pending(request.files.size());
  for (size_t i = 0; i < request.files.size(); ++i) {
    Pending& p = pending[i];
    const fs::path source = source_path(request, i);
    if (!request.items.empty() || request.name) {
      p.name = request.items.empty() ? *request.name : request.items[i].name;
      validate_name(p.name, repo.config());
    } else {
      p.name = stem_of(source);
      if (!name_ok(p.name)) {
        throw Error("cannot derive a dataset name from " + quote(source.filename().string()) +
                    " (a name is '/'-separated segments of [A-Za-z0-9][A-Za-z0-9._-]*); use --name");
      }
      validate_name(p.name, repo.config());
    }
    if (request.transfer == Transfer::move && repo.data_relative(source)) {
      throw Error("refusing --move of " + quote(source.string()) +
                  ": it is inside the data directory (stored payloads are never moved)");
    }
    if (request.in_data_dir == InDataDir::refuse && repo.data_relative(source)) {
      throw Error("refusing to add " + quote(source.string()) +
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

  // Facts that do not depend on the lock, known before staging: each
  // sidecar's text but its name and number is written as its file is staged.
  Common common;
  std::time_t now = std::time(nullptr);
  common.date = utc_date(now);
  common.created = utc_timestamp(now);
  const char* env_name = std::getenv("GIT_AUTHOR_NAME");
  const char* env_email = std::getenv("GIT_AUTHOR_EMAIL");
  if (env_name && *env_name) {
    // git itself lets the environment override the configured author.
    common.author = std::string(env_name) + " <" + (env_email ? env_email : "") + ">";
  } else if (auto id = repo.git().identity()) {
    common.author = id->name + " <" + id->email + ">";
  } else {
    result.warnings.push_back("git has no identity, so the sidecar's author is null; set one with "
                              "git config user.name 'Your Name' && git config user.email you@example.com");
  }
  common.head = repo.git().head_commit();
  common.branch = repo.git().branch();
  common.host = host_name();
  TailSpill tails(repo.local_dir());

  // 1. Stage: copy + hash + parse in one pass, outside the lock.
  // Many files: each is closed as soon as it is staged (sync_staged
  // reopens it by name), so an add of 100,000 files holds a handful of
  // descriptors, not one per file (RLIMIT_NOFILE is often 1,024).
  const bool close_early = pending.size() >= k_syncfs_threshold;
  if (request.progress) {
    uint64_t total = 0;
    for (size_t i = 0; i < request.files.size(); ++i) {
      std::error_code ec;
      uintmax_t size = fs::file_size(source_path(request, i), ec);
      total += ec ? 0 : static_cast<uint64_t>(size);
    }
    request.progress->set_total(pending.size(), total);
  }
  std::vector<StagedFile*> staged;
  for (size_t i = 0; i < pending.size(); ++i) {
    Pending& p = pending[i];
    const fs::path source = source_path(request, i);
    FileInfo info = stage(repo, p, source, request);
    if (request.progress) {
      request.progress->item_done();
    }
    if (p.staged && !p.linked_source) {
      p.staged->chmod(0444);
    }
    if (close_early && p.staged) {
      p.staged->close();
    }
    const std::string& added_sha = p.extra && p.extra->original ? p.extra->original->sha256 : info.sha256;
    if (request.expect_sha256 && added_sha != *request.expect_sha256) {
      throw Error(quote(source.string()) + " does not match its recorded sha256 (" + *request.expect_sha256 +
                      "); run 'dsm verify'",
                  k_exit_problems);
    }
    p.sha256 = raw_sha(info.sha256);
    p.size = info.size;
    p.format = info.format;
    p.tail_size = tails.append(sidecar_tail(p, info, common, source, request, i));
    if (p.staged) {
      staged.push_back(p.staged.get());
    }
  }
  sync_staged(staged);
  staged = {};
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

  // Outside the lock: a walk of the whole history (references.hpp), each
  // manifest read once ever (repo/referenced.hpp, HistorySeq).
  const HistorySeq history = HistorySeq::load(repo);

  // 2-4. Under the lock: numbers, payload names, sidecars, manifest.
  repo.ensure_local_dir();
  RepoLock lock(repo.lock_path(), lock_timeout_from_env());
  check_interrupted();
  const Manifest manifest = read_manifest(repo);
  DirsToSync dirs;
  // Identical payloads stored once: bytes a listed payload holds already
  // become another name of that file (found once per distinct hash; at
  // most k_identical_cached answers kept, each holding a descriptor).
  IdenticalFinder finder(repo, manifest);
  constexpr size_t k_identical_cached = 256;
  std::map<std::string, std::optional<IdenticalPayload>> identical;
  std::vector<std::string> links; // what payloads were linked to, for notes
  // Files of one name get its successive numbers in the order given; the
  // name's directory and highest number are looked up once per name.
  std::vector<uint32_t> by_name(pending.size());
  for (size_t i = 0; i < by_name.size(); ++i) {
    by_name[i] = static_cast<uint32_t>(i);
  }
  std::stable_sort(by_name.begin(), by_name.end(),
                   [&pending](uint32_t a, uint32_t b) { return pending[a].name < pending[b].name; });
  for (size_t g = 0; g < by_name.size();) {
    const std::string& name = pending[by_name[g]].name;
    fs::path dir = repo.data_dir() / name;
    // The name's directory gets new entries; its parents only when a
    // directory was created in them.
    for (fs::path& parent : util::make_dirs_below(repo.data_dir(), dir)) {
      dirs.add(parent);
    }
    dirs.add(dir);
    uint64_t next = max_seq(repo, manifest, history, name, dir) + 1;
    for (; g < by_name.size() && pending[by_name[g]].name == name; ++g) {
      Pending& p = pending[by_name[g]];
      // A chunked version is a directory named by the stem alone.
      std::string ext = chunked(p) ? "" : p.format == Format::npy ? ".npy" : ".npz";
      std::string sha = hex(p.sha256);
      while (true) {
        uint64_t seq = next++;
        fs::path target = dir / (payload_stem(repo.config(), p.name, common.date, seq) + ext);
        // Another file of that number (a sidecar left by a crash) also
        // blocks it: numbers are never reused.
        if (fs::exists(Repository::sidecar_path(target))) {
          continue;
        }
        if (!chunked(p)) {
          auto found = identical.find(sha);
          if (found == identical.end()) {
            if (identical.size() >= k_identical_cached) {
              identical.clear();
            }
            found = identical.emplace(sha, finder.find(sha)).first;
          }
          if (found->second) {
            LinkResult linked = link_payload(found->second->fd, target);
            if (linked == LinkResult::exists) {
              continue; // that number is taken: the next one
            }
            if (linked == LinkResult::linked) {
              if (links.empty() || links.back() != found->second->rel) {
                links.push_back(found->second->rel);
              }
              p.linked_to = static_cast<uint32_t>(links.size() - 1);
              p.staged.reset(); // the copy is not needed: its temp goes
              p.version = seq;
              break;
            }
            found->second.reset(); // links impossible here: store copies
          }
        }
        if (chunked(p) ? p.extra->staged_dir->publish_noreplace(target)
                       : p.staged->publish_noreplace(target)) {
          p.staged.reset(); // published: nothing left to clean up, and its path is memory
          p.version = seq;
          break;
        }
      }
    }
  }
  crash_point("add-payload");
  by_name = {};

  // Each sidecar: its name and number, then the rest as staged, written to
  // a temp named after its payload and this add's token, so that nothing
  // is kept per file until all are synced and published (a StagedFile
  // each was 14 MB at 100,000 files). If the add fails before then, every
  // temp written so far is removed (a published one's is gone already).
  const std::string token = temp_token();
  auto sidecar_temp = [&token](const fs::path& payload) {
    return payload.parent_path() /
           (std::string(util::k_temp_prefix) + payload.filename().string() + k_sidecar_suffix + "." + token);
  };
  size_t written = 0;
  struct RemoveTemps {
    std::function<void()> remove;
    ~RemoveTemps() {
      try {
        if (remove) {
          remove();
        }
      } catch (...) {
        // Left for `dsm repair` (temps of a failed add), never a crash here.
      }
    }
  } remove_temps{[&] {
    for (size_t i = 0; i < written; ++i) {
      ::unlink(sidecar_temp(repo.data_dir() / rel_path(repo, pending[i], common.date)).c_str());
    }
  }};
  {
    const DatasetIndex before = index_datasets(repo, manifest); // the latest version of each name, for notes
    FilesToSync to_sync;
    // What the pre-commit hook would parse out of each sidecar, so it need
    // not (repo/sidecar_facts_cache.hpp).
    SidecarFactsAppender facts(SidecarFactsCache::path_in(repo));
    uint64_t tail_at = 0;
    for (Pending& p : pending) {
      if (const auto* versions = before.find(p.name);
          versions && !versions->empty() && !chunked(p) && versions->back().sha256 == hex(p.sha256)) {
        p.same_as = versions->back().seq;
      }
      fs::path payload = repo.data_dir() / rel_path(repo, p, common.date);
      Sidecar s;
      s.name = p.name;
      s.version = p.version;
      s.file = payload.filename().string();
      std::string text = s.yaml_head() + tails.read(tail_at, p.tail_size);
      tail_at += p.tail_size;
      fs::path temp = sidecar_temp(payload);
      util::Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (fd.get() < 0) {
        throw Error("cannot create " + quote(temp.string()) + ": " + util::errno_message(errno));
      }
      ++written;
      util::write_all(fd.get(), text.data(), text.size(), temp);
      if (::fchmod(fd.get(), 0644) != 0) {
        throw Error("cannot set permissions of " + quote(temp.string()) + ": " + util::errno_message(errno));
      }
      to_sync.add(temp, fd.get());
      if (::close(fd.release()) != 0) {
        throw Error("cannot close " + quote(temp.string()) + ": " + util::errno_message(errno));
      }
      // A sidecar with a large --meta is left to the hook's parser and its
      // limits (16 MiB, about 262,000 values), which 64 KiB cannot reach.
      if (!chunked(p) && text.size() <= (64u << 10)) {
        facts.add(text, SidecarFacts{s.file, p.size, hex(p.sha256), {}});
      }
    }
    facts.flush();
    to_sync.sync();
  }
  for (const Pending& p : pending) {
    fs::path payload = repo.data_dir() / rel_path(repo, p, common.date);
    fs::path sidecar = Repository::sidecar_path(payload);
    if (!publish_noreplace(sidecar_temp(payload), sidecar)) {
      throw Error("cannot write sidecar " + quote(sidecar.string()) + ": it already exists");
    }
  }
  remove_temps.remove = nullptr;
  crash_point("add-sidecar");
  // Payload and sidecar names must be durable before the manifest names them.
  dirs.sync();

  // The new manifest lines (a chunked version: one per chunk), in path
  // order: merged into the listed ones as the manifest is written, and
  // recorded in the stat cache the same way.
  struct NewLine {
    std::string rel;
    uint32_t file;  // index in `pending`
    uint32_t chunk; // index in its chunks, or UINT32_MAX
  };
  std::vector<NewLine> lines;
  lines.reserve(pending.size());
  for (size_t i = 0; i < pending.size(); ++i) {
    const Pending& p = pending[i];
    std::string rel = rel_path(repo, p, common.date);
    if (chunked(p)) {
      for (size_t c = 0; c < p.extra->chunks.chunks.size(); ++c) {
        lines.push_back(
            {rel + "/" + p.extra->chunks.chunks[c].file, static_cast<uint32_t>(i), static_cast<uint32_t>(c)});
      }
    } else {
      lines.push_back({std::move(rel), static_cast<uint32_t>(i), UINT32_MAX});
    }
  }
  std::sort(lines.begin(), lines.end(), [](const NewLine& a, const NewLine& b) { return a.rel < b.rel; });
  auto line_sha = [&pending](const NewLine& l) {
    const Pending& p = pending[l.file];
    return l.chunk == UINT32_MAX ? hex(p.sha256) : p.extra->chunks.chunks[l.chunk].sha256;
  };
  {
    util::AtomicFile mf(repo.manifest_path(), 0644);
    size_t at = 0;
    std::string sha;
    manifest.write_with(
        [&](Manifest::Line& out) {
          if (at == lines.size()) {
            return false;
          }
          sha = line_sha(lines[at]);
          out.path = lines[at].rel;
          out.sha256 = sha;
          ++at;
          return true;
        },
        [&mf](std::string_view piece) { mf.write(piece); });
    crash_point("add-manifest-temp");
    mf.commit();
  }
  crash_point("add-manifest");
  lock.release();

  // 5. --move: the stored copy is durable and listed; only now drop the source.
  if (request.transfer == Transfer::move) {
    for (size_t i = 0; i < pending.size(); ++i) {
      const Pending& p = pending[i];
      const fs::path source = source_path(request, i);
      fs::path final_path = repo.data_dir() / rel_path(repo, p, common.date);
      if (!p.linked_source) {
        // Copied (or compressed, or split): read the stored bytes back
        // before trusting them.
        std::string again_sha;
        if (p.extra) {
          ExportSource back =
              export_source_for(Sidecar::load(Repository::sidecar_path(final_path)), final_path);
          util::Sha256 h;
          stream_original(back, [&h](const uint8_t* d, size_t n) { h.update(d, n); });
          again_sha = h.hex_digest();
        } else {
          ScanOptions hash_only;
          hash_only.stats = false;
          again_sha = scan_file(final_path, hash_only).sha256;
        }
        if (again_sha != (p.extra && p.extra->original ? p.extra->original->sha256 : hex(p.sha256))) {
          throw Error("not removing " + quote(source.string()) + ": the stored copy " +
                      quote(final_path.string()) + " does not read back the same");
        }
      }
      if (::unlink(source.c_str()) != 0 && errno != ENOENT) {
        result.warnings.push_back("stored " + final_path.string() + " but cannot remove " + source.string() +
                                  ": " + util::errno_message(errno));
      }
    }
  }

  // Remember what we just hashed (an optimisation; never fails the add).
  {
    StatCache cache = StatCache::load(repo.statcache_path());
    size_t at = 0;
    std::string sha;
    cache.save_with(repo.statcache_path(), [&](StatCache::Recorded& out) {
      while (at < lines.size()) {
        const NewLine& l = lines[at++];
        struct stat st {};
        if (::stat((repo.data_dir() / l.rel).c_str(), &st) != 0) {
          continue;
        }
        sha = line_sha(l);
        out.rel = l.rel;
        out.facts = StatFacts::from(st);
        out.sha256 = sha;
        return true;
      }
      return false;
    });
  }
  lines = {};

  for (size_t i = 0; i < pending.size(); ++i) {
    Pending& p = pending[i];
    AddedPayload a;
    a.path = repo.data_dir() / rel_path(repo, p, common.date);
    a.name = std::move(p.name);
    a.version = p.version;
    a.size = p.size;
    a.sha256 = hex(p.sha256);
    if (p.extra) {
      if (p.extra->original) {
        a.original_sha256 = p.extra->original->sha256;
      }
      a.compression = p.extra->compression;
    }
    if (p.same_as != Pending::k_none) {
      a.notes.push_back("same bytes as " + a.name + "@" + std::to_string(p.same_as));
    }
    if (p.linked_to != Pending::k_not_linked) {
      a.notes.push_back("stored once: a hard link to " + quote(links[p.linked_to]) + " (identical bytes)");
    }
    p.extra.reset();
    if (request.on_added) {
      request.on_added(a);
    } else {
      result.added.push_back(std::move(a));
    }
  }
  return result;
}

} // namespace dsm

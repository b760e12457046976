// push, pull and verify --remote: see sync.hpp.
#include "ops/sync.hpp"

#include "dsm/error.hpp"
#include "format/file_hash.hpp"
#include "git/git.hpp"
#include "remote/hashing_io.hpp"
#include "remote/store.hpp"
#include "remote/transfer.hpp"
#include "repo/datasets.hpp"
#include "repo/dedupe.hpp"
#include "repo/known_objects.hpp"
#include "repo/lock.hpp"
#include "repo/manifest.hpp"
#include "repo/repository.hpp"
#include "repo/sidecar.hpp"
#include "util/beneath.hpp"
#include "util/file.hpp"
#include "util/interrupt.hpp"
#include "util/progress.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <sys/stat.h>
#include <unistd.h>

namespace dsm {

namespace {

// Above this many objects, one listing of the store (1,000 keys per S3
// request) beats a request per object; a directory store answers stat() at
// the cost of a local lstat, so it is always asked directly.
constexpr size_t k_list_threshold = 32;

// The size each of `shas` has on the store, or nullopt where it holds none.
std::vector<std::optional<uint64_t>> remote_sizes(remote::ObjectStore& store,
                                                  const std::vector<std::string>& shas, unsigned jobs) {
  std::vector<std::optional<uint64_t>> out(shas.size());
  if (!store.cheap_stat() && shas.size() > k_list_threshold) {
    auto listed = store.list();
    for (size_t i = 0; i < shas.size(); ++i) {
      if (auto it = listed.find(shas[i]); it != listed.end()) {
        out[i] = it->second;
      }
    }
    return out;
  }
  auto failures = remote::run_parallel(shas.size(), jobs, [&](size_t i) { out[i] = store.stat(shas[i]); });
  if (!failures.empty()) {
    throw Error(failures.front().message, failures.front().exit_code);
  }
  return out;
}

struct Selected {
  std::string rel;
  std::string sha256;
  fs::path path; // absolute
};

std::vector<Selected> select(const Repository& repo, const SyncOptions& o) {
  std::vector<Selected> out;
  if (o.entries) {
    for (const auto& [rel, sha] : *o.entries) {
      out.push_back({rel, sha, repo.data_dir() / rel});
    }
    return out;
  }
  Manifest manifest = load_manifest(repo);
  for (std::string& rel : resolve_targets(repo, manifest, o.work_dir, o.targets)) {
    std::string sha = *manifest.find(rel);
    fs::path p = repo.data_dir() / rel;
    out.push_back({std::move(rel), std::move(sha), std::move(p)});
  }
  return out;
}

// `size` from a payload's sidecar, when it has a valid one (read below the
// data dir, through no symlink). A chunk has none of its own: its size is
// in the version's sidecar, which the local file answers first anyway.
std::optional<uint64_t> sidecar_size(const Repository& repo, const Selected& e) {
  try {
    std::optional<util::RegularFile> f =
        util::open_regular_beneath(repo.data_dir(), e.rel + k_sidecar_suffix);
    if (!f) {
      return std::nullopt;
    }
    return Sidecar::load_fd(f->fd.get(), Repository::sidecar_path(e.path)).size;
  } catch (const Error&) {
    return std::nullopt;
  }
}

// What is at a payload's path, never following a symlink below the data
// dir: nullopt when nothing; throws when a parent directory is a symlink.
std::optional<struct stat> payload_stat(const Repository& repo, const Selected& e) {
  return util::lstat_beneath(repo.data_dir(), e.rel);
}

// Size of a regular file at the payload's path, else nullopt (a symlink,
// a FIFO, a symlinked parent directory: none is ever read).
std::optional<uint64_t> regular_size(const Repository& repo, const Selected& e) {
  try {
    std::optional<struct stat> st = payload_stat(repo, e);
    if (st && S_ISREG(st->st_mode)) {
      return static_cast<uint64_t>(st->st_size);
    }
  } catch (const Error&) {
  }
  return std::nullopt;
}

// The payload opened for reading under util/beneath.hpp's rule; throws
// naming the path when it is missing, a symlink or not a regular file.
util::RegularFile open_payload(const Repository& repo, const Selected& e) {
  std::optional<util::RegularFile> f = util::open_regular_beneath(repo.data_dir(), e.rel);
  if (!f) {
    throw Error("cannot open " + quote(e.path.string()) + ": " + util::errno_message(ENOENT));
  }
  return std::move(*f);
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

// The host of "http://host:port/path" (userinfo dropped).
std::string url_host(const std::string& url) {
  size_t start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  size_t end = url.find_first_of("/?#", start);
  std::string auth = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (size_t at = auth.rfind('@'); at != std::string::npos) {
    auth = auth.substr(at + 1);
  }
  if (!auth.empty() && auth.front() == '[') {
    size_t close = auth.find(']');
    return auth.substr(0, close == std::string::npos ? auth.size() : close + 1);
  }
  return auth.substr(0, auth.find(':'));
}

// What trust is given to: the remote as configured now.
std::string trust_identity(const RemoteConfig& rc) {
  return rc.url + " " + rc.endpoint.value_or("");
}
std::string trust_key(const std::string& name) {
  return "dsm.remote." + name + ".trusted";
}
std::string allow_http_key(const std::string& name) {
  return "dsm.remote." + name + ".allowhttp";
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void record(TransferReport& r, const std::string& problem, int code) {
  r.problems.push_back(problem);
  r.exit_code = std::max(r.exit_code, code);
}

// Adds what a remote was seen to hold to its record. The record only
// informs `dsm status`, so failing to write it never fails a transfer.
void remember(const Repository& repo, const std::string& remote, const std::vector<std::string>& shas) {
  try {
    KnownObjects::add(repo, remote, shas);
  } catch (const Error&) {
  }
}

} // namespace

const RemoteConfig& choose_remote(const Repository& repo, const std::string& name) {
  const Config& config = repo.config();
  if (!name.empty()) {
    const RemoteConfig* r = config.find_remote(name);
    if (r == nullptr) {
      throw Error("no remote named " + quote(name) + " (see 'dsm remote list')");
    }
    return *r;
  }
  if (config.remotes.empty()) {
    throw Error("no remote configured: add one with 'dsm remote add NAME URL'");
  }
  const RemoteConfig* r = config.default_remote();
  if (r == nullptr) {
    throw Error("several remotes and none is the default: use --remote NAME, or 'dsm remote add NAME URL "
                "--default'");
  }
  return *r;
}

std::optional<std::string> untrusted_reason(const Repository& repo, const RemoteConfig& rc,
                                            RemoteAccess access) {
  // A directory remote is reached without credentials, and what is read
  // from it is checked against the manifest: reading needs no trust.
  // Writing does: the committed config comes with a clone, and push (run by
  // the pre-push hook on `git push`) would copy this clone's data wherever
  // it points.
  if (rc.url.rfind("s3://", 0) != 0 && access == RemoteAccess::read) {
    return std::nullopt;
  }
  std::optional<std::string> trusted = repo.git().config_string(trust_key(rc.name));
  if (!trusted || *trusted != trust_identity(rc)) {
    return "remote " + quote(rc.name) + " is not trusted here (dsm remote trust " + rc.name + ")" +
           (trusted ? ": its URL or endpoint changed since it was trusted" : "");
  }
  if (rc.endpoint && rc.endpoint->rfind("http://", 0) == 0 && !is_loopback(url_host(*rc.endpoint)) &&
      repo.git().config_string(allow_http_key(rc.name)) != "true") {
    return "remote " + quote(rc.name) + ": refusing to send credentials over plain http to " +
           quote(url_host(*rc.endpoint)) + " (use an https:// endpoint, or 'dsm remote trust " + rc.name +
           " --allow-http')";
  }
  return std::nullopt;
}

void trust_remote(const Repository& repo, const RemoteConfig& rc, bool allow_http) {
  repo.git().set_local_config(trust_key(rc.name), trust_identity(rc));
  repo.git().set_local_config(allow_http_key(rc.name),
                              allow_http ? std::optional<std::string>("true") : std::nullopt);
}

void untrust_remote(const Repository& repo, const std::string& name) {
  repo.git().set_local_config(trust_key(name), std::nullopt);
  repo.git().set_local_config(allow_http_key(name), std::nullopt);
}

std::unique_ptr<remote::ObjectStore> open_remote(const Repository& repo, const RemoteConfig& rc,
                                                 RemoteAccess access) {
  if (std::optional<std::string> why = untrusted_reason(repo, rc, access)) {
    throw Error(*why);
  }
  remote::RemoteSpec spec{rc.name, rc.url, rc.endpoint.value_or(""), rc.region.value_or("")};
  remote::StoreOptions options;
  options.state_dir = repo.local_dir() / "remotes" / rc.name;
  return remote::open_store(spec, options);
}

namespace {

// What push, pull and verify --remote start from: the chosen remote, opened
// (trust checked), and the manifest entries the TARGETs select. Callers bind
// its members by name, not with a structured binding: their lambdas capture
// them, which clang before 16 refuses for structured bindings.
struct Session {
  std::string remote; // its name
  std::unique_ptr<remote::ObjectStore> store;
  std::vector<Selected> entries;
};

Session open_session(const Repository& repo, const SyncOptions& o, RemoteAccess access) {
  const RemoteConfig& rc = choose_remote(repo, o.remote);
  std::unique_ptr<remote::ObjectStore> store = open_remote(repo, rc, access);
  return Session{rc.name, std::move(store), select(repo, o)};
}

} // namespace

std::optional<RemoteAvailability> remote_availability(const Repository& repo, const std::string& name,
                                                      const std::vector<std::string>& shas) {
  const Config& config = repo.config();
  const RemoteConfig* rc = name.empty() ? config.default_remote() : &choose_remote(repo, name);
  if (rc == nullptr || shas.empty()) {
    return std::nullopt;
  }
  RemoteAvailability out;
  out.remote = rc->name;
  try {
    std::unique_ptr<remote::ObjectStore> store = open_remote(repo, *rc, RemoteAccess::read);
    store->check_access();
    std::vector<std::optional<uint64_t>> sizes = remote_sizes(*store, shas, k_default_transfer_jobs);
    for (size_t i = 0; i < shas.size(); ++i) {
      if (sizes[i]) {
        out.present.insert(shas[i]);
      }
    }
    remember(repo, rc->name, {out.present.begin(), out.present.end()});
  } catch (const Error& e) {
    if (e.exit_code() == k_exit_interrupted) {
      throw;
    }
    out.present.clear();
    out.error = e.what();
  }
  return out;
}

TransferReport push(const Repository& repo, const SyncOptions& o) {
  auto start = std::chrono::steady_clock::now();
  Session session = open_session(repo, o, RemoteAccess::write);
  const std::unique_ptr<remote::ObjectStore>& store = session.store;
  std::vector<Selected>& entries = session.entries;
  TransferReport report;
  report.store = store->describe();

  // One upload per distinct content; remember payloads absent here.
  struct Upload {
    std::string sha;
    fs::path path; // the local payload (the first one, when several share content)
    uint64_t size = 0;
  };
  std::map<std::string, Upload> by_sha;
  std::map<std::string, fs::path> absent;        // sha -> a path that should hold it
  std::map<std::string, const Selected*> source; // sha -> the entry uploaded
  for (const Selected& e : entries) {
    std::optional<struct stat> st;
    try {
      st = payload_stat(repo, e);
    } catch (const Error& err) {
      record(report, "cannot push: " + std::string(err.what()), k_exit_problems);
      continue;
    }
    if (st && !S_ISREG(st->st_mode)) {
      // A symlink (perhaps committed by someone else) is never followed:
      // its target may be any file of this machine.
      record(report,
             "cannot push " + quote(e.path.string()) + ": " +
                 (S_ISLNK(st->st_mode)
                      ? "it is a symlink, and dsm never follows symlinks inside the repository"
                      : "not a regular file"),
             k_exit_problems);
      continue;
    }
    if (st) {
      if (by_sha.try_emplace(e.sha256, Upload{e.sha256, e.path, static_cast<uint64_t>(st->st_size)}).second) {
        source[e.sha256] = &e;
      }
    } else {
      absent.try_emplace(e.sha256, e.path);
    }
  }
  store->check_access();

  std::vector<Upload> candidates;
  std::vector<std::string> shas;
  for (auto& [sha, u] : by_sha) {
    candidates.push_back(u);
    shas.push_back(sha);
  }
  std::vector<std::string> absent_shas;
  for (auto& [sha, p] : absent) {
    if (by_sha.count(sha) == 0) {
      absent_shas.push_back(sha);
      shas.push_back(sha);
    }
  }
  std::vector<std::optional<uint64_t>> have = remote_sizes(*store, shas, o.jobs);

  std::vector<Upload> todo;
  uint64_t todo_bytes = 0;
  std::vector<bool> replace;
  std::vector<bool> bad_remote(candidates.size(), false);
  if (o.force) {
    // --force: every object present with the right size is hashed where
    // the store can (a directory); where it cannot (S3), sent again.
    auto check = remote::run_parallel(candidates.size(), o.jobs, [&](size_t i) {
      if (have[i] && *have[i] == candidates[i].size) {
        std::optional<std::string> h = store->hash_object(candidates[i].sha);
        bad_remote[i] = !h || *h != candidates[i].sha;
      }
    });
    for (const auto& f : check) {
      record(report, f.message, f.exit_code);
    }
  }
  for (size_t i = 0; i < candidates.size(); ++i) {
    const Upload& u = candidates[i];
    if (!have[i]) {
      todo.push_back(u);
      replace.push_back(false);
      todo_bytes += u.size;
    } else if (bad_remote[i]) {
      if (o.note) {
        o.note("replacing object " + quote(remote::object_key(u.sha)) + " on " + report.store +
               " (--force: it does not hash to its name, or the store cannot tell)");
      }
      todo.push_back(u);
      replace.push_back(true);
      todo_bytes += u.size;
    } else if (*have[i] != u.size) {
      // The name fixes the content, so an object of the wrong size is a
      // damaged or truncated copy (a store that is not atomic, a disk
      // error), never other valid content: replace it with the payload,
      // which is verified against the name as it is sent.
      if (o.note) {
        o.note("replacing damaged object " + quote(remote::object_key(u.sha)) + " on " + report.store + " (" +
               std::to_string(*have[i]) + " bytes, expected " + std::to_string(u.size) + ")");
      }
      todo.push_back(u);
      replace.push_back(false);
      todo_bytes += u.size;
    }
  }
  for (size_t i = 0; i < absent_shas.size(); ++i) {
    if (!have[candidates.size() + i]) {
      record(report,
             "cannot push " + quote(absent.at(absent_shas[i]).string()) +
                 ": the payload is missing here and " + report.store + " does not have it",
             k_exit_problems);
    }
  }

  util::Progress progress("push", o.progress);
  progress.set_total(todo.size(), todo_bytes);
  // Also where Ctrl-C stops a transfer: every store reports its blocks
  // here, so the worker throws Error("interrupted", 130) between blocks and
  // the store's own cleanup (temp file, abandoned multipart) runs.
  remote::ProgressFn on_bytes = [&](int64_t d) {
    check_interrupted();
    progress.add_bytes(d);
  };
  auto failures = remote::run_parallel(todo.size(), o.jobs, [&](size_t i) {
    // Opened below the data dir through no symlink, and sent only if it is
    // still the regular file of the size planned.
    util::RegularFile f = open_payload(repo, *source.at(todo[i].sha));
    if (static_cast<uint64_t>(f.st.st_size) != todo[i].size) {
      throw Error("cannot push " + quote(todo[i].path.string()) + ": it changed while pushing",
                  k_exit_problems);
    }
    if (replace[i]) {
      // The local copy is verified in full before anything is replaced.
      std::string actual = sha256_fd(f.fd.get(), todo[i].path);
      if (actual != todo[i].sha) {
        throw Error(remote::local_corrupt_message(todo[i].path, todo[i].sha, actual), k_exit_problems);
      }
    }
    store->put(todo[i].sha, f.fd.get(), todo[i].path, todo[i].size, on_bytes,
               replace[i] ? remote::ObjectStore::Replace::yes : remote::ObjectStore::Replace::no);
    progress.item_done();
  });
  progress.finish();

  report.bytes = todo_bytes;
  std::vector<bool> failed(todo.size(), false);
  for (const auto& f : failures) {
    record(report, f.message, f.exit_code);
    report.bytes -= todo[f.index].size;
    failed[f.index] = true;
  }
  // What the remote now holds: what was sent, what was there intact, and
  // what is absent here but there.
  std::vector<std::string> held;
  std::set<std::string> sent_or_failed;
  for (size_t i = 0; i < todo.size(); ++i) {
    sent_or_failed.insert(todo[i].sha);
    if (!failed[i]) {
      held.push_back(todo[i].sha);
    }
  }
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (have[i] && sent_or_failed.count(candidates[i].sha) == 0) {
      held.push_back(candidates[i].sha);
    }
  }
  for (size_t i = 0; i < absent_shas.size(); ++i) {
    if (have[candidates.size() + i]) {
      held.push_back(absent_shas[i]);
    }
  }
  remember(repo, session.remote, held);
  report.done = todo.size() - failures.size();
  report.skipped = candidates.size() - todo.size();
  report.seconds = seconds_since(start);
  return report;
}

TransferReport pull(const Repository& repo, const SyncOptions& o) {
  auto start = std::chrono::steady_clock::now();
  Session session = open_session(repo, o, RemoteAccess::read);
  const std::unique_ptr<remote::ObjectStore>& store = session.store;
  std::vector<Selected>& entries = session.entries;
  TransferReport report;
  report.store = store->describe();
  // Held until pull returns, as add holds it: `dsm repair` waits, so it
  // never takes this pull's temp files for leftovers of a crash.
  repo.ensure_local_dir();
  ActivityLock activity(repo, ActivityLock::Mode::shared, lock_timeout_from_env());

  std::vector<Selected> present;
  std::vector<Selected> todo;
  std::vector<std::optional<uint64_t>> todo_sizes;
  uint64_t todo_bytes = 0;
  for (Selected& e : entries) {
    std::optional<struct stat> st;
    try {
      st = payload_stat(repo, e);
    } catch (const Error& err) {
      record(report, "cannot pull: " + std::string(err.what()), k_exit_problems);
      continue;
    }
    if (st) {
      present.push_back(std::move(e));
    } else {
      todo_sizes.push_back(sidecar_size(repo, e));
      todo_bytes += todo_sizes.back().value_or(0);
      todo.push_back(std::move(e));
    }
  }

  // Present payloads must be the right ones: a pull never replaces a file,
  // so say so when one differs from the manifest.
  auto check_failures = remote::run_parallel(present.size(), o.jobs, [&](size_t i) {
    const fs::path& p = present[i].path;
    std::string actual = sha256_fd(open_payload(repo, present[i]).fd.get(), p);
    if (actual != present[i].sha256) {
      throw Error("local payload " + quote(p.string()) + " does not match the manifest (its SHA-256 is " +
                      actual + "); not replaced: move it away and pull again",
                  k_exit_problems);
    }
  });
  for (const auto& f : check_failures) {
    record(report, f.message, f.exit_code);
  }

  // Identical payloads stored once: bytes a payload here holds already
  // become another name of that file (repo/dedupe.hpp); of several missing
  // names of one content, one is downloaded and the others linked to it.
  const Manifest manifest = load_manifest(repo);
  IdenticalFinder finder(repo, manifest);
  std::vector<Selected> fetch;
  std::vector<std::optional<uint64_t>> fetch_sizes;
  std::vector<Selected> link_later;
  std::set<std::string> fetching;
  for (size_t i = 0; i < todo.size(); ++i) {
    if (std::optional<IdenticalPayload> same = finder.find(todo[i].sha256)) {
      for (const fs::path& d : util::make_dirs_below(repo.data_dir(), todo[i].path.parent_path())) {
        util::fsync_dir(d); // a directory created for the link is durable too
      }
      if (link_payload(same->fd, todo[i].path) == LinkResult::linked) {
        ++report.linked;
        continue;
      }
    }
    if (!fetching.insert(todo[i].sha256).second) {
      link_later.push_back(todo[i]);
      continue;
    }
    fetch.push_back(todo[i]);
    fetch_sizes.push_back(todo_sizes[i]);
  }
  todo = std::move(fetch);
  todo_sizes = std::move(fetch_sizes);

  std::vector<remote::Failure> failures;
  if (!todo.empty()) {
    store->check_access();
    util::Progress progress("pull", o.progress);
    progress.set_total(todo.size(), todo_bytes);
    remote::ProgressFn on_bytes = [&](int64_t d) { // Ctrl-C: as push's
      check_interrupted();
      progress.add_bytes(d);
    };
    failures = remote::run_parallel(todo.size(), o.jobs, [&](size_t i) {
      const fs::path& dest = todo[i].path;
      util::make_dirs_below(repo.data_dir(), dest.parent_path());
      util::AtomicFile out(dest, 0444);
      try {
        store->get(todo[i].sha256, out, on_bytes, todo_sizes[i]);
      } catch (const Error& e) {
        if (e.exit_code() == k_exit_interrupted) {
          throw;
        }
        throw Error(std::string(e.what()) + " (for " + quote(dest.string()) + ")", e.exit_code());
      }
      try {
        out.commit(util::AtomicFile::Replace::no);
      } catch (const Error&) {
        // Another pull (or an add of the same bytes) put it there first:
        // fine when it holds the right content.
        std::optional<util::RegularFile> there = util::open_regular_beneath(repo.data_dir(), todo[i].rel);
        if (!there || sha256_fd(there->fd.get(), dest) != todo[i].sha256) {
          throw;
        }
      }
      progress.item_done();
    });
    progress.finish();
  }
  std::vector<bool> failed(todo.size(), false);
  for (const auto& f : failures) {
    failed[f.index] = true;
    record(report, f.message, f.exit_code);
  }
  std::vector<std::string> held;
  for (size_t i = 0; i < todo.size(); ++i) {
    if (!failed[i]) {
      report.bytes += regular_size(repo, todo[i]).value_or(0);
      held.push_back(todo[i].sha256);
    }
  }
  remember(repo, session.remote, held);
  // The other names of content just downloaded.
  const Manifest after = load_manifest(repo);
  IdenticalFinder downloaded(repo, after);
  for (const Selected& e : link_later) {
    std::optional<IdenticalPayload> same = downloaded.find(e.sha256, e.rel);
    if (same && link_payload(same->fd, e.path) == LinkResult::linked) {
      ++report.linked;
      continue;
    }
    if (!same) {
      record(report, "cannot pull " + quote(e.path.string()) + ": its content did not arrive (see above)",
             k_exit_problems);
      continue;
    }
    // Links impossible here: a copy of the verified file.
    try {
      util::AtomicFile out(e.path, 0444);
      std::vector<char> buf(1u << 20);
      uint64_t off = 0;
      while (true) {
        ssize_t n = ::pread(same->fd.get(), buf.data(), buf.size(), static_cast<off_t>(off));
        if (n < 0) {
          throw Error("cannot read " + quote((repo.data_dir() / same->rel).string()) + ": " +
                      util::errno_message(errno));
        }
        if (n == 0) {
          break;
        }
        out.write(buf.data(), static_cast<size_t>(n));
        off += static_cast<uint64_t>(n);
      }
      out.commit(util::AtomicFile::Replace::no);
      ++report.done;
    } catch (const Error& err) {
      record(report, err.what(), k_exit_problems);
    }
  }
  report.done += todo.size() - failures.size();
  report.skipped = present.size();
  report.seconds = seconds_since(start);
  return report;
}

void throw_if_failed(const TransferReport& report, const std::string& verb) {
  if (report.exit_code == k_exit_ok) {
    return;
  }
  // Each problem once: every worker stopped by Ctrl-C reports "interrupted",
  // and the final error says that.
  std::vector<std::string> unique;
  for (const std::string& p : report.problems) {
    if (p != "interrupted" && std::find(unique.begin(), unique.end(), p) == unique.end()) {
      unique.push_back(p);
    }
  }
  if (report.exit_code == k_exit_interrupted) {
    throw Error("interrupted: nothing partial was left behind; run it again to resume", report.exit_code,
                std::move(unique));
  }
  size_t n = report.problems.size();
  throw Error(std::to_string(n) + " problem" + (n == 1 ? "" : "s") + " while " + verb + " " +
                  (verb == "pushing" ? "to " : "from ") + report.store,
              report.exit_code, std::move(unique));
}

RemoteCheckReport verify_remote(const Repository& repo, const SyncOptions& o) {
  Session session = open_session(repo, o, RemoteAccess::read);
  const std::unique_ptr<remote::ObjectStore>& store = session.store;
  std::vector<Selected>& entries = session.entries;
  store->check_access();
  RemoteCheckReport report;
  report.store = store->describe();
  report.checked = entries.size();
  report.hashes_checked = store->cheap_stat();

  // Expected sizes: the local payload, else its sidecar.
  std::vector<std::optional<uint64_t>> expected(entries.size());
  std::vector<std::string> shas(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    expected[i] = regular_size(repo, entries[i]);
    if (!expected[i]) {
      expected[i] = sidecar_size(repo, entries[i]);
    }
    shas[i] = entries[i].sha256;
  }
  std::vector<std::optional<uint64_t>> actual = remote_sizes(*store, shas, o.jobs);
  std::vector<std::string> problems(entries.size());
  auto hash_failures = remote::run_parallel(entries.size(), o.jobs, [&](size_t i) {
    const std::string p = entries[i].path.string();
    const std::string key = remote::object_key(entries[i].sha256);
    if (!actual[i]) {
      problems[i] = "MISSING " + p + ": no object " + quote(key) + " on " + report.store;
      return;
    }
    if (expected[i] && *expected[i] != *actual[i]) {
      problems[i] = "FAILED " + p + ": object " + quote(key) + " on " + report.store + " has " +
                    std::to_string(*actual[i]) + " bytes, expected " + std::to_string(*expected[i]);
      return;
    }
    if (auto h = store->hash_object(entries[i].sha256); h && *h != entries[i].sha256) {
      problems[i] = "FAILED " + p + ": object " + quote(key) + " on " + report.store +
                    " is corrupt (its content hashes to " + *h + ")";
    }
  });
  if (!hash_failures.empty()) {
    throw Error(hash_failures.front().message, hash_failures.front().exit_code);
  }
  std::vector<std::string> held;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (problems[i].empty()) {
      held.push_back(entries[i].sha256);
    } else {
      report.problems.push_back(std::move(problems[i]));
    }
  }
  remember(repo, session.remote, held);
  return report;
}

RemoteCopies verify_remote_copies(const Repository& repo, const std::string& name,
                                  const std::map<std::string, uint64_t>& sizes, unsigned jobs) {
  const RemoteConfig& rc = choose_remote(repo, name);
  std::unique_ptr<remote::ObjectStore> store = open_remote(repo, rc, RemoteAccess::read);
  store->check_access();
  RemoteCopies out;
  out.remote = rc.name;
  out.store = store->describe();
  std::vector<std::string> shas;
  for (const auto& [sha, size] : sizes) {
    shas.push_back(sha);
  }
  std::vector<std::optional<uint64_t>> have = remote_sizes(*store, shas, jobs);
  std::vector<std::string> problems(shas.size());
  repo.ensure_local_dir();
  auto failures = remote::run_parallel(shas.size(), jobs, [&](size_t i) {
    const std::string& sha = shas[i];
    const std::string key = quote(remote::object_key(sha));
    uint64_t expected = sizes.at(sha);
    if (!have[i]) {
      problems[i] = out.store + " has no object " + key;
      return;
    }
    if (*have[i] != expected) {
      problems[i] = "object " + key + " on " + out.store + " has " + std::to_string(*have[i]) +
                    " bytes, expected " + std::to_string(expected);
      return;
    }
    std::optional<std::string> h;
    try {
      h = store->hash_object(sha);
    } catch (const Error& e) {
      if (e.exit_code() == k_exit_interrupted) {
        throw;
      }
      problems[i] = e.what();
      return;
    }
    if (!h) {
      // The store cannot hash in place: download, hash on arrival, discard.
      util::AtomicFile scratch(repo.local_dir() / (".verify-" + sha), 0600);
      try {
        store->get(sha, scratch, remote::ProgressFn(), expected);
        h = sha; // get() refuses bytes that do not hash to the name
      } catch (const Error& e) {
        if (e.exit_code() == k_exit_interrupted) {
          throw;
        }
        problems[i] = e.what();
        return;
      }
    }
    if (*h != sha) {
      problems[i] = "object " + key + " on " + out.store + " is corrupt (its content hashes to " + *h + ")";
    }
  });
  if (!failures.empty()) {
    throw Error(failures.front().message, failures.front().exit_code);
  }
  for (size_t i = 0; i < shas.size(); ++i) {
    if (problems[i].empty()) {
      out.verified.insert(shas[i]);
    } else {
      out.why_not[shas[i]] = problems[i];
    }
  }
  return out;
}

} // namespace dsm

#include "util/text.hpp"
#include "ops/verify.hpp"
#include "repo/dropped.hpp"
#include "repo/referenced.hpp"

#include "format/chunk.hpp"
#include "repo/data_listing.hpp"
#include "format/file_hash.hpp"
#include "util/progress.hpp"
#include "repo/datasets.hpp"
#include "dsm/error.hpp"
#include "format/format.hpp"
#include "util/interrupt.hpp"
#include "repo/leftovers.hpp"
#include "repo/naming.hpp"
#include "repo/repository.hpp"
#include "repo/sidecar.hpp"
#include "repo/statcache.hpp"
#include "util/walk.hpp"
#include "util/file.hpp"
#include "util/sha256.hpp"
#include "util/slices.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <set>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace dsm {

namespace {

struct Job {
  std::string rel;
  std::string sha256;
  fs::path path;
  util::FileStat st;
  int stat_errno = 0;
};

struct CacheUpdate {
  std::string rel;
  StatFacts facts;
  std::string sha256;
};

bool counts(Problem p, bool strict) {
  switch (p) {
  case Problem::failed:
  case Problem::missing:
  case Problem::mismatch:
  case Problem::orphan:
    return true;
  case Problem::untracked:
  case Problem::temp:
  case Problem::writable:
  case Problem::dropped:
    return strict;
  case Problem::referenced:
    return false;
  }
  return true;
}

std::string kind_of(const util::FileStat& st) {
  if (S_ISLNK(st.mode)) {
    return "a symlink";
  }
  if (S_ISDIR(st.mode)) {
    return "a directory";
  }
  return "not a regular file";
}


// Stat-cache entry "the sidecar of `rel` with these bytes agreed with a
// payload with this hash". The key starts with '/', which no data-relative
// path does, so it never meets a payload's or a sidecar's own entry.
std::string agreed_key(const std::string& rel) { return "/sidecar-agreed/" + rel; }

// Binds the payload hash to the sidecar's exact bytes; the tag changes when
// what verify checks in a sidecar changes, so older entries stop matching.
std::string agreed_pair_digest(const std::string& payload_sha256, const std::string& sidecar_text) {
  util::Sha256 h;
  const std::string tag = "dsm verify sidecar check 1\n" + payload_sha256 + "\n";
  h.update(tag.data(), tag.size());
  h.update(sidecar_text.data(), sidecar_text.size());
  return h.hex_digest();
}

class Verifier {
public:
  Verifier(const Repository& repo, const VerifyOptions& opts)
      : m_repo(repo), m_opts(opts), m_dropped(DroppedRecord::load(repo)) {
    m_cache = StatCache::load(repo.statcache_path());
  }

  VerifyReport run() {
    Manifest manifest = load_manifest(m_repo);
    std::vector<std::string> rels = resolve_targets(m_repo, manifest, m_opts.work_dir, m_opts.targets);
    std::error_code ec;
    if (m_opts.targets.empty() && fs::is_directory(m_repo.data_dir(), ec)) {
      // The whole data dir: one parallel listing gives every payload's and
      // sidecar's stat facts and, later, the files the manifest does not
      // explain (no path lookup per file).
      m_listing = list_data_dir(m_repo, SidecarStats::yes);
      m_listed = true;
    }
    std::vector<Job> jobs(rels.size());
    uint64_t total = 0;
    for (size_t i = 0; i < rels.size(); ++i) {
      Job& j = jobs[i];
      j.rel = rels[i];
      j.sha256 = *manifest.find(j.rel);
      j.path = m_repo.data_dir() / j.rel;
      j.stat_errno = stat_of(j.rel, j.path, j.st);
      if (j.stat_errno == 0 && S_ISREG(j.st.mode)) {
        total += j.st.size;
      }
    }
    // Largest first: one huge file must not be the last to start.
    std::sort(jobs.begin(), jobs.end(), [](const Job& a, const Job& b) { return a.st.size > b.st.size; });
    if (m_opts.progress) {
      m_opts.progress->set_total(jobs.size(), total);
    }
    run_parallel(jobs);
    for (const Job& j : jobs) {
      if (j.stat_errno == ENOENT) {
        m_missing.insert(j.rel);
      }
    }
    if (m_opts.targets.empty()) {
      scan_data_dir(manifest);
      // Two versions with one number (two branches merged): dsm path and
      // dsm ls would disagree about NAME@N, so it is a problem until
      // `dsm resolve` renumbers one.
      DatasetIndex index = index_datasets(m_repo, manifest); // the groups point into it
      for (const auto& group : duplicate_versions(index)) {
        for (size_t k = 1; k < group.size(); ++k) {
          add(Problem::mismatch, group[k]->path,
              quote(group[k]->name + "@" + std::to_string(group[k]->seq)) + " is also " + quote(group[0]->rel) +
                ": two versions share one number; run 'dsm resolve'");
        }
      }
    }
    for (const auto& u : m_updates) {
      m_cache.record(u.rel, u.facts, u.sha256);
    }
    for (const auto& rel : m_forget) {
      m_cache.forget(rel);
    }
    if (m_cache.dirty()) {
      m_cache.save(m_repo.statcache_path());
    }
    VerifyReport r;
    r.findings = std::move(m_findings);
    std::sort(r.findings.begin(), r.findings.end(), [](const Finding& a, const Finding& b) {
      return a.path != b.path ? a.path < b.path : a.kind < b.kind;
    });
    r.checked = jobs.size();
    r.hashed_bytes = m_hashed;
    r.skipped_fast = m_skipped;
    for (const auto& f : r.findings) {
      r.problems += counts(f.kind, m_opts.strict) ? 1 : 0;
    }
    return r;
  }

private:
  void add(Problem kind, const fs::path& path, std::string detail = "") {
    // Built in place, not from a braced temporary: GCC 12 at -O2 with
    // ASan miscompiles the temporary's destruction here (a bad-free report
    // on every finding).
    std::lock_guard<std::mutex> g(m_mutex);
    Finding& f = m_findings.emplace_back();
    f.kind = kind;
    f.path = path;
    f.detail = std::move(detail);
  }

  void run_parallel(std::vector<Job>& jobs) {
    unsigned n = m_opts.jobs ? m_opts.jobs : std::max(1u, std::thread::hardware_concurrency());
    n = static_cast<unsigned>(std::min<size_t>(n, std::max<size_t>(jobs.size(), 1)));
    std::atomic<size_t> next{0};
    std::atomic<bool> stop{false};
    std::exception_ptr error;
    auto worker = [&] {
      try {
        while (!stop) {
          size_t i = next++;
          if (i >= jobs.size() || interrupted()) {
            break;
          }
          check_counted(jobs[i]);
        }
      } catch (...) {
        std::lock_guard<std::mutex> g(m_mutex);
        if (!error) {
          error = std::current_exception();
        }
        stop = true;
      }
    };
    std::vector<std::thread> threads;
    for (unsigned t = 1; t < n; ++t) {
      threads.emplace_back(worker);
    }
    worker();
    for (auto& t : threads) {
      t.join();
    }
    if (error) {
      std::rethrow_exception(error);
    }
    check_interrupted();
  }

  // check(j), with every byte of j counted on the progress line: those the
  // scan read as it read them, the rest (skipped, unreadable) at the end.
  void check_counted(const Job& j) {
    uint64_t read = 0;
    check(j, read);
    if (m_opts.progress) {
      uint64_t size = j.stat_errno == 0 && S_ISREG(j.st.mode) ? j.st.size : 0;
      if (read < size) {
        m_opts.progress->add_bytes(static_cast<int64_t>(size - read));
      }
      m_opts.progress->item_done();
    }
  }

  void check(const Job& j, uint64_t& read) {
    if (j.stat_errno == ENOENT) {
      if (std::optional<std::string> remote = m_dropped.remote_of(j.sha256)) {
        add(Problem::dropped, j.path, "not here, on remote " + quote(*remote) + " ('dsm drop'; 'dsm pull' brings it back)");
      } else {
        add(Problem::missing, j.path);
      }
      check_sidecar_only(j);
      return;
    }
    if (j.stat_errno != 0) {
      add(Problem::failed, j.path, "cannot stat: " + util::errno_message(j.stat_errno));
      return;
    }
    if (!S_ISREG(j.st.mode)) {
      add(Problem::failed, j.path, "is " + kind_of(j.st) + ", not a regular file");
      return;
    }
    if ((j.st.mode & 0222) != 0) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(j.st.mode & 07777));
      add(Problem::writable, j.path, std::string("permissions ") + buf + " allow writing (stored payloads are read-only)");
    }
    StatFacts facts = facts_of(j.st);
    fs::path sidecar_path = Repository::sidecar_path(j.path);
    std::string sidecar_rel = j.rel + k_sidecar_suffix;
    // A chunk of a chunked version is described by its directory's sidecar.
    std::optional<std::string> chunk_file;
    if (std::string f = j.path.filename().string(); is_chunk_file_name(f)) {
      fs::path dir_sidecar = Repository::sidecar_path(j.path.parent_path());
      std::string dir_sidecar_rel = j.rel.substr(0, j.rel.rfind('/')) + k_sidecar_suffix;
      util::FileStat dst;
      if (stat_of(dir_sidecar_rel, dir_sidecar, dst) == 0) {
        sidecar_path = dir_sidecar;
        sidecar_rel = dir_sidecar_rel;
        chunk_file = f;
      }
    }
    if (m_opts.fast) {
      std::optional<std::string> cached = m_cache.trusted_hash(j.rel, facts);
      if (cached && *cached == j.sha256) {
        util::FileStat sst;
        if (stat_of(sidecar_rel, sidecar_path, sst) == 0) {
          std::optional<std::string> sc = m_cache.trusted_hash(sidecar_rel, facts_of(sst));
          if (sc && *sc == j.sha256) {
            ++m_skipped;
            return; // payload and sidecar both unchanged since verified
          }
        }
      }
    }
    FileInfo info;
    bool parsed = false;
    std::string parse_error;
    try {
      util::Fd fd = util::open_read(j.path);
      ScanOptions so;
      so.stats = false;
      if (m_opts.progress) {
        util::Progress* progress = m_opts.progress;
        so.on_read = [progress, &read](size_t n) {
          read += n;
          progress->add_bytes(static_cast<int64_t>(n));
        };
      }
      info = scan_fd(fd.get(), j.path, so);
      parsed = true;
    } catch (const Error& e) {
      parse_error = e.what();
    }
    m_hashed += facts.size;
    if (!parsed) {
      std::string h;
      try {
        h = sha256_file(j.path); // no parsing: tells "changed" from "stored corrupt"
      } catch (const Error& e) {
        add(Problem::failed, j.path, e.what());
        return;
      }
      if (h != j.sha256) {
        add(Problem::failed, j.path, "checksum mismatch");
      } else {
        add(Problem::failed, j.path, "matches the manifest but is not a valid array file: " + parse_error);
      }
      forget(j.rel);
      return;
    }
    if (info.sha256 != j.sha256) {
      add(Problem::failed, j.path, "checksum mismatch");
      forget(j.rel);
      return;
    }
    // The payload is right; now its sidecar.
    util::FileStat sst;
    if (stat_of(sidecar_rel, sidecar_path, sst) != 0) {
      add(Problem::missing, sidecar_path, "sidecar of " + j.path.filename().string());
      remember(j.rel, facts, j.sha256);
      return;
    }
    // The sidecar check below is a function of the sidecar's bytes and the
    // payload's bytes alone, and yaml-cpp is most of verify's CPU on many
    // small datasets: when this exact pair (every byte of both read again
    // just now) agreed before, skip the parse.
    std::string text;
    try {
      text = util::read_file(sidecar_path, 16u << 20);
    } catch (const Error& e) {
      add(Problem::failed, sidecar_path, e.what());
      remember(j.rel, facts, j.sha256);
      return;
    }
    const std::string pair = agreed_pair_digest(j.sha256, text);
    std::optional<StatCache::Entry> agreed = m_cache.find(agreed_key(j.rel));
    if (agreed && agreed->sha256 == pair) {
      remember(j.rel, facts, j.sha256);
      remember(j.rel + k_sidecar_suffix, facts_of(sst), j.sha256);
      return;
    }
    Sidecar sc;
    try {
      sc = Sidecar::parse(text, sidecar_path.string());
    } catch (const Error& e) {
      add(Problem::failed, sidecar_path, e.what());
      remember(j.rel, facts, j.sha256);
      return;
    }
    bool agree = true;
    if (chunk_file) {
      check_chunk(j, sc, sidecar_path, *chunk_file, info);
      remember(j.rel, facts, j.sha256);
      return;
    }
    if (sc.sha256 != j.sha256) {
      add(Problem::mismatch, sidecar_path, "sidecar says sha256 " + sc.sha256 + ", manifest says " + j.sha256);
      agree = false;
    }
    if (std::optional<std::string> d = identity_difference(j.rel, sc)) {
      add(Problem::mismatch, sidecar_path, *d);
      agree = false;
    }
    for (const std::string& d : compare_facts(sc, info)) {
      if (d.starts_with("sidecar says sha256 ")) {
        continue; // reported against the manifest above
      }
      add(Problem::mismatch, j.path, d);
      agree = false;
    }
    remember(j.rel, facts, j.sha256);
    if (agree) {
      remember(j.rel + k_sidecar_suffix, facts_of(sst), j.sha256);
      remember(agreed_key(j.rel), facts_of(sst), pair);
    } else {
      std::lock_guard<std::mutex> g(m_mutex);
      m_forget.push_back(agreed_key(j.rel));
    }
  }

  // The file name is the one source of a version's name and number (the
  // resolver reads them from it, under the configured naming pattern); a
  // sidecar that says otherwise has been edited or copied, and is reported
  // rather than believed.
  std::optional<std::string> identity_difference(const std::string& payload_rel, const Sidecar& sc) const {
    auto [name, file] = split_data_rel(payload_rel);
    if (name.empty() || !name_ok(name)) {
      return std::nullopt; // a hand-added file: no dataset identity to check
    }
    std::optional<uint64_t> seq = match_seq(m_repo.config(), name, file);
    if (!seq) {
      return std::nullopt;
    }
    if (sc.name != name) {
      return "sidecar says name " + quote(sc.name) + ", its path says " + quote(name);
    }
    if (sc.version != *seq) {
      return "sidecar says version " + std::to_string(sc.version) + ", its file name says version " +
             std::to_string(*seq);
    }
    return std::nullopt;
  }

  // A chunk against its version's sidecar: listed, same hash and size, and a
  // header that is the original's with the recorded number of rows.
  void check_chunk(const Job& j, const Sidecar& sc, const fs::path& sidecar_path, const std::string& file,
                   const FileInfo& info) {
    const Sidecar::Chunk* rec = nullptr;
    for (const auto& c : sc.chunks) {
      if (c.file == file) {
        rec = &c;
      }
    }
    if (rec == nullptr) {
      add(Problem::mismatch, j.path, "not listed in its version's sidecar " + sidecar_path.string());
      return;
    }
    if (rec == &sc.chunks.front()) { // the version's identity, reported once
      if (std::optional<std::string> d = identity_difference(j.rel.substr(0, j.rel.rfind('/')), sc)) {
        add(Problem::mismatch, sidecar_path, *d);
      }
    }
    if (rec->sha256 != j.sha256) {
      add(Problem::mismatch, sidecar_path,
          "sidecar says sha256 " + rec->sha256 + " for " + file + ", manifest says " + j.sha256);
    }
    if (rec->size != info.size) {
      add(Problem::mismatch, j.path,
          "sidecar says size " + std::to_string(rec->size) + ", file says size " + std::to_string(info.size));
    }
    if (sc.npy && info.npy) {
      std::vector<uint64_t> shape = sc.npy->shape;
      if (sc.chunk_axis < shape.size()) {
        shape[sc.chunk_axis] = rec->row_end - rec->row_begin;
      }
      if (ArrayFacts::from(*info.npy).descr != sc.npy->descr || info.npy->fortran_order != sc.npy->fortran_order ||
          info.npy->shape != shape) {
        add(Problem::mismatch, j.path, "header does not match the rows " + std::to_string(rec->row_begin) + ".." +
                                         std::to_string(rec->row_end) + " its sidecar records");
      }
    }
  }

  // The payload is gone; its sidecar may still tell something.
  void check_sidecar_only(const Job& j) { forget(j.rel); }

  void remember(const std::string& rel, const StatFacts& f, const std::string& sha) {
    std::lock_guard<std::mutex> g(m_mutex);
    m_updates.push_back({rel, f, sha});
  }
  void forget(const std::string& rel) {
    std::lock_guard<std::mutex> g(m_mutex);
    m_forget.push_back(rel);
    m_forget.push_back(rel + k_sidecar_suffix);
    m_forget.push_back(agreed_key(rel));
  }

  // Files in the data dir that the manifest does not explain.
  void scan_data_dir(const Manifest& manifest) {
    std::error_code ec;
    const fs::path& root = m_repo.data_dir();
    if (!fs::is_directory(root, ec)) {
      if (!manifest.empty()) {
        add(Problem::missing, root, "data directory");
      }
      return;
    }
    for (const util::ListedEntry& e : m_listing) {
      const std::string& rel = e.rel;
      if (e.type == util::EntryType::directory || rel == k_manifest_name) {
        continue;
      }
      size_t slash = rel.rfind('/');
      std::string fname = slash == std::string::npos ? rel : rel.substr(slash + 1);
      if (is_temp_path(rel)) {
        add(Problem::temp, root / rel, explain_leftover(Leftover::temp));
        continue;
      }
      if (manifest.find(rel)) {
        continue;
      }
      if (e.type == util::EntryType::symlink) {
        add(Problem::untracked, root / rel, "symlink not in the manifest (never followed)");
        continue;
      }
      if (m_repo.config().is_payload_name(fname)) {
        fs::path p = root / rel;
        // A version another ref, the stash or the index lists (a checkout,
        // a stash, a merge in progress): kept, never a crashed add.
        std::string sidecar_rel = rel;
        if (auto dir = chunk_dir_of(m_repo, rel, p)) {
          sidecar_rel = m_repo.data_relative(*dir).value_or(rel);
        }
        const Referenced& refs = m_referenced.get();
        std::optional<std::string> from = refs.source(rel);
        if (refs.sidecar_tracked(sidecar_rel)) {
          add(Problem::mismatch, p,
              "git tracks its sidecar but the manifest has no line for it" +
                (from ? " (" + *from + " lists it)" : std::string()) +
                ": a merge resolved by hand? run 'dsm resolve'");
          continue;
        }
        if (from) {
          add(Problem::referenced, p, "a version from " + *from + " (not in this checkout's manifest; kept)");
          continue;
        }
        if (m_referenced.history().lists_path(rel)) {
          add(Problem::referenced, p, k_removed_note);
          continue;
        }
        // Say what it is: a crashed add (and what repair does) or a stray.
        add(Problem::untracked, p, explain_leftover(classify_leftover(m_repo, p)));
        continue;
      }
      if (rel.ends_with(k_sidecar_suffix)) {
        std::string payload_rel = rel.substr(0, rel.size() - std::strlen(k_sidecar_suffix));
        if (manifest.find(payload_rel) && !m_missing.count(payload_rel)) {
          continue; // a listed payload that was there when checked
        }
        if (const std::string* sha = manifest.find(payload_rel); sha && m_dropped.remote_of(*sha)) {
          continue; // the sidecar of a dropped payload: the version exists, on a remote
        }
        size_t pslash = payload_rel.rfind('/');
        std::string pname = pslash == std::string::npos ? payload_rel : payload_rel.substr(pslash + 1);
        if (m_repo.config().is_payload_name(pname) && util::find_listed(m_listing, payload_rel) == nullptr) {
          add(Problem::orphan, root / rel, "sidecar without a payload");
        }
        // else an untracked payload's sidecar: the payload is reported
      }
    }
  }

  int stat_of(const std::string& rel, const fs::path& p, util::FileStat& out) const {
    return stat_listed(m_listed ? &m_listing : nullptr, rel, p, out);
  }

  const Repository& m_repo;
  LazyReferenced m_referenced{m_repo};
  const VerifyOptions& m_opts;
  DroppedRecord m_dropped; // payloads `dsm drop` deleted: absent is not lost
  StatCache m_cache;
  std::mutex m_mutex;
  std::vector<Finding> m_findings;
  std::vector<CacheUpdate> m_updates;
  std::vector<std::string> m_forget;
  std::set<std::string> m_missing; // listed payloads that lstat() did not find
  std::vector<util::ListedEntry> m_listing; // the whole data dir, when verifying all of it
  bool m_listed = false;
  std::atomic<uint64_t> m_hashed{0};
  std::atomic<uint64_t> m_skipped{0};
};


} // namespace

VerifyReport verify(const Repository& repo, const VerifyOptions& options) {
  Verifier v(repo, options);
  return v.run();
}

const char* problem_tag(Problem p) {
  switch (p) {
  case Problem::failed:
    return "FAILED";
  case Problem::missing:
    return "MISSING";
  case Problem::mismatch:
    return "MISMATCH";
  case Problem::untracked:
    return "UNTRACKED";
  case Problem::orphan:
    return "ORPHAN";
  case Problem::temp:
    return "TEMP";
  case Problem::writable:
    return "WRITABLE";
  case Problem::referenced:
    return "REFERENCED";
  case Problem::dropped:
    return "DROPPED";
  }
  return "?";
}

std::string format_finding(const Finding& f) {
  std::string s = std::string(problem_tag(f.kind)) + " " + f.path.string();
  if (!f.detail.empty()) {
    s += ": " + f.detail;
  }
  return s;
}

std::string summary_line(const VerifyReport& r, bool fast) {
  size_t n[9] = {};
  for (const auto& f : r.findings) {
    ++n[static_cast<int>(f.kind)];
  }
  std::string s = "verified " + std::to_string(r.checked) + (r.checked == 1 ? " payload" : " payloads") + " (" +
                  util::human_size(r.hashed_bytes) + " hashed";
  if (fast) {
    s += ", " + std::to_string(r.skipped_fast) + " unchanged skipped by --fast";
  }
  s += "): ";
  if (r.findings.empty()) {
    return s + "all good";
  }
  std::vector<std::string> parts;
  const char* names[] = {"failed", "missing", "mismatched", "untracked", "orphaned sidecars", "temp files",
                         "writable", "versions from other refs", "dropped (on a remote)"};
  for (int k = 0; k < 9; ++k) {
    if (n[k]) {
      parts.push_back(std::to_string(n[k]) + " " + names[k]);
    }
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    s += (i ? ", " : "") + parts[i];
  }
  s += r.ok() ? " (not errors; --strict counts them)" : "";
  return s;
}

nlohmann::json to_json(const VerifyReport& r) {
  nlohmann::json j;
  j["ok"] = r.ok();
  j["checked"] = r.checked;
  j["hashed_bytes"] = r.hashed_bytes;
  j["skipped_fast"] = r.skipped_fast;
  j["problems"] = r.problems;
  j["findings"] = nlohmann::json::array();
  for (const auto& f : r.findings) {
    std::string kind = problem_tag(f.kind);
    std::transform(kind.begin(), kind.end(), kind.begin(), [](char c) { return static_cast<char>(std::tolower(c)); });
    j["findings"].push_back({{"kind", kind}, {"path", f.path.string()}, {"detail", f.detail}});
  }
  return j;
}

} // namespace dsm

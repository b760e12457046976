// dsm pull [TARGET...] [--remote NAME] [--jobs N]
//
// Downloads the payloads the manifest references (or the TARGETs name) that
// are missing locally. Each download goes to a hidden temp file beside its
// destination, is re-hashed on arrival, and only a match is renamed into
// place (read-only, like every payload); a corrupt object is refused and
// leaves nothing behind.
#include "core/file_hash.hpp"
#include "commands/commands.hpp"
#include "commands/remote_common.hpp"
#include "dsm/error.hpp"
#include "dsm/interrupt.hpp"
#include "dsm/repository.hpp"
#include "remote/store.hpp"
#include "remote/transfer.hpp"
#include "util/file.hpp"
#include "util/sha256.hpp"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <set>
#include <sys/stat.h>

namespace dsm {

namespace {

struct PullOptions {
  std::vector<std::string> targets;
  std::string remote;
  unsigned jobs = k_default_transfer_jobs;
};


void run_pull(Context& ctx, const PullOptions& o) {
  install_interrupt_handlers(); // Ctrl-C: workers stop, temp files are removed, exit 130
  auto start = std::chrono::steady_clock::now();
  Repository& repo = *ctx.repo;
  const RemoteConfig& rc = choose_remote(repo, o.remote);
  std::unique_ptr<remote::ObjectStore> store = open_remote(repo, rc);
  Manifest manifest = load_manifest_for_remote(repo);
  std::vector<ManifestEntry> entries = select_entries(repo, manifest, o.targets, ctx.work_dir);

  std::vector<ManifestEntry> present;
  std::vector<ManifestEntry> todo;
  uint64_t todo_bytes = 0;
  for (const auto& e : entries) {
    fs::path p = repo.data_dir() / e.path;
    struct stat st {};
    if (::lstat(p.c_str(), &st) == 0) {
      present.push_back(e);
    } else {
      todo.push_back(e);
      todo_bytes += sidecar_size(p).value_or(0);
    }
  }

  std::vector<std::string> problems;
  int worst = k_exit_ok;
  // Present payloads must be the right ones: a pull never replaces a file,
  // so say so when one differs from the manifest.
  auto check_failures = remote::run_parallel(present.size(), o.jobs, [&](size_t i) {
    fs::path p = repo.data_dir() / present[i].path;
    std::string actual = sha256_file(p);
    if (actual != present[i].sha256) {
      throw Error("local payload " + quote(p.string()) + " does not match the manifest (its SHA-256 is " + actual +
                      "); not replaced: move it away and pull again",
                  k_exit_problems);
    }
  });
  for (const auto& f : check_failures) {
    problems.push_back(f.message);
    worst = std::max(worst, f.exit_code);
  }

  std::vector<remote::Failure> failures;
  if (!todo.empty()) {
    store->check_access();
    remote::Progress progress("pull", todo.size(), todo_bytes, ctx.stderr_is_tty && !ctx.quiet);
    remote::ProgressFn on_bytes = [&](int64_t d) { progress.add_bytes(d); };
    failures = remote::run_parallel(todo.size(), o.jobs, [&](size_t i) {
      fs::path dest = repo.data_dir() / todo[i].path;
      util::make_dirs_below(repo.data_dir(), dest.parent_path());
      util::AtomicFile out(dest, 0444);
      try {
        store->get(todo[i].sha256, out, on_bytes);
      } catch (const Error& e) {
        if (e.exit_code() == k_exit_interrupted) {
          throw;
        }
        throw Error(std::string(e.what()) + " (for " + quote(dest.string()) + ")", e.exit_code());
      }
      out.commit(util::AtomicFile::Replace::no);
      progress.item_done();
    });
    progress.finish();
  }
  uint64_t pulled_bytes = 0;
  {
    std::vector<bool> failed(todo.size(), false);
    for (const auto& f : failures) {
      failed[f.index] = true;
      problems.push_back(f.message);
      worst = std::max(worst, f.exit_code);
    }
    for (size_t i = 0; i < todo.size(); ++i) {
      struct stat st {};
      fs::path p = repo.data_dir() / todo[i].path;
      if (!failed[i] && ::stat(p.c_str(), &st) == 0) {
        pulled_bytes += static_cast<uint64_t>(st.st_size);
      }
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  size_t pulled = todo.size() - failures.size();
  finish_transfer("pulled", "from", pulled, pulled_bytes, store->describe(), secs, std::to_string(present.size()) + " already present", problems, worst);
}

} // namespace

void register_pull(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<PullOptions>();
  CLI::App* sub = app.add_subcommand("pull", "Download payloads that are missing locally");
  add_transfer_options(sub, o->targets, o->remote, o->jobs, "pull", "from");
  sub->footer("Every download is checked against its SHA-256 before it is renamed into place (read-only);\n"
              "a corrupt object is refused and nothing is written. Payloads already present are checked\n"
              "and kept, so an interrupted pull resumes. See docs/sharing.md.\n\n" +
              exit_status_help());
  sub->callback([&ctx, o] { run_pull(ctx, *o); });
}

} // namespace dsm

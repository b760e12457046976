// dsm push [TARGET...] [--remote NAME] [--jobs N]
//
// Uploads every payload the manifest references (or the TARGETs name) that
// the remote does not hold yet. Each payload is hashed as it is sent and the
// upload abandoned before it becomes visible if the bytes do not match the
// manifest: a corrupt payload is never pushed. Objects are named by content,
// so identical payloads go up once and nothing is ever overwritten.
#include "commands/commands.hpp"
#include "commands/remote_common.hpp"
#include "dsm/error.hpp"
#include "dsm/interrupt.hpp"
#include "dsm/repository.hpp"
#include "remote/store.hpp"
#include "remote/transfer.hpp"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <set>
#include <map>
#include <sys/stat.h>

namespace dsm {

namespace {

struct PushOptions {
  std::vector<std::string> targets;
  std::string remote;
  unsigned jobs = k_default_transfer_jobs;
};

struct Upload {
  std::string sha;
  fs::path path; // the local payload (the first one, when several share content)
  uint64_t size = 0;
};

void run_push(Context& ctx, const PushOptions& o) {
  install_interrupt_handlers(); // Ctrl-C: workers stop, temp files are removed, exit 130
  auto start = std::chrono::steady_clock::now();
  Repository& repo = *ctx.repo;
  const RemoteConfig& rc = choose_remote(repo, o.remote);
  std::unique_ptr<remote::ObjectStore> store = open_remote(repo, rc);
  Manifest manifest = load_manifest_for_remote(repo);
  std::vector<ManifestEntry> entries = select_entries(repo, manifest, o.targets, ctx.work_dir);

  // One upload per distinct content; remember payloads absent locally.
  std::map<std::string, Upload> by_sha;
  std::map<std::string, fs::path> absent; // sha -> a path that should hold it
  for (const auto& e : entries) {
    fs::path p = repo.data_dir() / e.path;
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      by_sha.try_emplace(e.sha256, Upload{e.sha256, p, static_cast<uint64_t>(st.st_size)});
    } else {
      absent.try_emplace(e.sha256, p);
    }
  }
  store->check_access();

  std::vector<Upload> candidates;
  for (auto& [sha, u] : by_sha) {
    candidates.push_back(u);
  }
  std::vector<std::string> absent_shas;
  for (auto& [sha, p] : absent) {
    if (by_sha.count(sha) == 0) {
      absent_shas.push_back(sha);
    }
  }
  // Which objects the remote already holds: one listing (1,000 keys per
  // request) beats thousands of HEADs; a directory answers stat() at once.
  const size_t n_check = candidates.size() + absent_shas.size();
  std::vector<std::optional<uint64_t>> have(n_check);
  auto sha_at = [&](size_t i) -> const std::string& {
    return i < candidates.size() ? candidates[i].sha : absent_shas[i - candidates.size()];
  };
  if (!store->cheap_stat() && n_check > 32) {
    auto listed = store->list();
    for (size_t i = 0; i < n_check; ++i) {
      auto it = listed.find(sha_at(i));
      if (it != listed.end()) {
        have[i] = it->second;
      }
    }
  } else {
    auto failures = remote::run_parallel(n_check, o.jobs, [&](size_t i) { have[i] = store->stat(sha_at(i)); });
    if (!failures.empty()) {
      throw Error(failures.front().message, failures.front().exit_code);
    }
  }

  std::vector<std::string> problems;
  int worst = k_exit_ok;
  std::vector<Upload> todo;
  uint64_t todo_bytes = 0;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const Upload& u = candidates[i];
    if (!have[i]) {
      todo.push_back(u);
      todo_bytes += u.size;
    } else if (*have[i] != u.size) {
      // The name fixes the content, so an object of the wrong size is a
      // damaged or truncated copy (a store that is not atomic, a disk
      // error), never other valid content: replace it with the payload,
      // which is verified against the name as it is sent.
      if (!ctx.quiet) {
        std::cerr << "dsm: replacing damaged object " << quote(remote::object_key(u.sha)) << " on "
                  << store->describe() << " (" << *have[i] << " bytes, expected " << u.size << ")\n";
      }
      todo.push_back(u);
      todo_bytes += u.size;
    }
  }
  for (size_t i = 0; i < absent_shas.size(); ++i) {
    if (!have[candidates.size() + i]) {
      problems.push_back("cannot push " + quote(absent.at(absent_shas[i]).string()) +
                         ": the payload is missing here and " + store->describe() + " does not have it");
      worst = std::max<int>(worst, k_exit_problems);
    }
  }

  remote::Progress progress("push", todo.size(), todo_bytes, ctx.stderr_is_tty && !ctx.quiet);
  remote::ProgressFn on_bytes = [&](int64_t d) { progress.add_bytes(d); };
  auto failures = remote::run_parallel(todo.size(), o.jobs, [&](size_t i) {
    store->put(todo[i].sha, todo[i].path, todo[i].size, on_bytes);
    progress.item_done();
  });
  progress.finish();

  uint64_t pushed_bytes = todo_bytes;
  for (const auto& f : failures) {
    problems.push_back(f.message);
    worst = std::max(worst, f.exit_code);
    pushed_bytes -= todo[f.index].size;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  size_t pushed = todo.size() - failures.size();
  finish_transfer("pushed", "to", pushed, pushed_bytes, store->describe(), secs, std::to_string(candidates.size() - todo.size()) + " already there", problems, worst);
}

} // namespace

void register_push(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<PushOptions>();
  CLI::App* sub = app.add_subcommand("push", "Upload payloads the remote does not hold yet");
  add_transfer_options(sub, o->targets, o->remote, o->jobs, "push", "to");
  sub->footer("Each payload's SHA-256 is checked against the manifest as it is sent; a corrupt payload is\n"
              "never pushed. Already-present objects are skipped, so an interrupted push resumes where it\n"
              "stopped. See docs/sharing.md.\n\n" +
              exit_status_help());
  sub->callback([&ctx, o] { run_push(ctx, *o); });
}

} // namespace dsm

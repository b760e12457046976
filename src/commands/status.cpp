// dsm status: what changed in the data directory.
#include "commands/commands.hpp"
#include "ops/sync.hpp"
#include "repo/datasets.hpp"
#include "dsm/error.hpp"
#include "util/interrupt.hpp"
#include "repo/repository.hpp"
#include "ops/status.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>
#include <optional>
#include <set>

namespace dsm {

namespace {

struct StatusCliOptions {
  bool json = false;
  bool check = false;
  bool offline = false;
  std::string remote;
};

// Missing payloads a remote holds, keyed by absolute path.
struct MissingOnRemote {
  std::optional<RemoteAvailability> availability;
  std::set<fs::path> present;
};

MissingOnRemote ask_remote(const Repository& repo, const StatusReport& r, const StatusCliOptions& opts) {
  MissingOnRemote out;
  if (r.missing.empty() || opts.offline) {
    return out;
  }
  Manifest manifest = load_manifest(repo);
  std::vector<std::string> shas;
  std::vector<std::pair<fs::path, std::string>> pairs;
  for (const fs::path& p : r.missing) {
    std::optional<std::string> rel = repo.data_relative(p);
    const std::string* sha = rel ? manifest.find(*rel) : nullptr;
    if (sha) {
      shas.push_back(*sha);
      pairs.emplace_back(p, *sha);
    }
  }
  out.availability = remote_availability(repo, opts.remote, shas);
  if (out.availability) {
    for (const auto& [p, sha] : pairs) {
      if (out.availability->present.count(sha) != 0) {
        out.present.insert(p);
      }
    }
  }
  return out;
}

void section(const char* title, const std::vector<fs::path>& paths) {
  if (paths.empty()) {
    return;
  }
  std::cout << title << "\n";
  for (const auto& p : paths) {
    std::cout << "  " << p.string() << "\n";
  }
}

// Committed versions no remote holds: listed up to a screenful (JSON has
// them all); with no remote configured, one line says so.
void print_unpushed(const StatusReport& r) {
  constexpr size_t k_shown = 20;
  if (r.unpushed.empty()) {
    return;
  }
  const size_t n = r.unpushed.size();
  if (r.no_remote) {
    std::cout << n << " committed version" << (n == 1 ? " is" : "s are")
              << " on no remote: none is configured (dsm remote add NAME URL, then dsm push)\n";
    return;
  }
  std::cout << "committed versions no remote holds, as far as this clone knows (dsm push; dsm doctor asks the "
               "remote):\n";
  for (size_t i = 0; i < std::min(n, k_shown); ++i) {
    std::cout << "  " << r.unpushed[i].string() << "\n";
  }
  if (n > k_shown) {
    std::cout << "  ... and " << (n - k_shown) << " more\n";
  }
}

void run_status(Context& ctx, const StatusCliOptions& opts) {
  StatusReport r = status(*ctx.repo);
  MissingOnRemote on_remote = ask_remote(*ctx.repo, r, opts);
  const std::optional<RemoteAvailability>& av = on_remote.availability;
  if (opts.json) {
    nlohmann::json j = to_json(r);
    if (av) {
      nlohmann::json paths = nlohmann::json::array();
      for (const auto& p : on_remote.present) {
        paths.push_back(p.string());
      }
      j["remote"] = {{"name", av->remote}, {"missing_available", paths}};
      if (!av->error.empty()) {
        j["remote"]["error"] = av->error;
      }
    }
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << "data directory " << ctx.repo->data_dir().string() << ": " << r.payloads
              << (r.payloads == 1 ? " payload" : " payloads") << " in the manifest\n";
    section("new payloads, not in the manifest (dsm add them, or delete them):", r.untracked);
    if (!r.missing.empty()) {
      std::cout << "missing payloads (listed in the manifest, not on disk):\n";
      for (const auto& p : r.missing) {
        std::cout << "  " << p.string();
        if (av && av->error.empty()) {
          std::cout << (on_remote.present.count(p) ? "  (on remote " + quote(av->remote) + ": dsm pull)"
                                                   : "  (not on remote " + quote(av->remote) + " either)");
        }
        std::cout << "\n";
      }
      if (av && !av->error.empty()) {
        std::cout << "  (could not ask remote " << quote(av->remote) << ": " << av->error << ")\n";
      }
    }
    if (!r.dropped.empty()) {
      std::cout << "dropped here, on a remote ('dsm pull' brings them back):\n";
      for (const auto& [p, remote] : r.dropped) {
        std::cout << "  " << p.string() << "  (on remote " << quote(remote) << ")\n";
      }
    }
    section("changed since added or last verified (run 'dsm verify'):", r.changed);
    section("not committed to git (git add + git commit them):", r.uncommitted);
    section("leftover temporary files of interrupted writes (safe to delete):", r.temp);
    if (!r.referenced.empty()) {
      std::cout << "versions from other refs, not in this checkout's manifest (kept):\n";
      for (const auto& [p, from] : r.referenced) {
        std::cout << "  " << p.string() << "  (" << from << ")\n";
      }
    }
    section("set aside by 'dsm repair' (move back into the data dir to restore, or delete):", r.set_aside);
    print_unpushed(r);
    if (r.clean()) {
      std::cout << (r.unpushed.empty() ? "nothing to report: " : "")
                << "payloads match the manifest, sidecars are committed\n";
    }
  }
  if (opts.check && !r.clean()) {
    std::cout.flush();
    throw Error("the data directory has changes", k_exit_problems);
  }
}

} // namespace

void register_status(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<StatusCliOptions>();
  CLI::App* sub = app.add_subcommand(
    "status", "Show what changed in the data directory, like 'git status' for data:\n"
              "new (untracked) payloads, missing payloads, payloads whose size or mtime changed\n"
              "since they were added or last verified, sidecars and manifest not as committed\n"
              "(new, or edited since: judged from git's index like git status), leftover temp\n"
              "files, and committed versions no remote is known to hold (from what push, pull and\n"
              "verify --remote saw, without the network; 'dsm doctor' asks the remote).\n"
              "Fast: payloads are hashed only when dsm has no cached state for them (the first\n"
              "run after a clone). Missing payloads are looked up on\n"
              "the default remote (or --remote NAME), so a fresh clone shows what 'dsm pull'\n"
              "restores; an unreachable remote is noted, never an error.");
  sub->add_flag("--json", opts->json, "Print one JSON object");
  sub->add_flag("--check", opts->check, "Exit 1 when there is anything to report");
  sub->add_option("--remote", opts->remote,
                  "For missing payloads, ask this remote whether 'dsm pull' can restore them\n"
                  "(default: the default remote, when one is configured)")
    ->type_name("NAME");
  sub->add_flag("--offline", opts->offline, "Do not ask any remote about missing payloads");
  sub->footer(exit_status_help("status", "--check: the data directory has changes"));
  sub->callback([&ctx, opts] { run_status(ctx, *opts); });
}

} // namespace dsm

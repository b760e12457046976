// dsm ls: every dataset with its number of versions and latest version.
#include "util/text.hpp"
#include "commands/commands.hpp"
#include "ops/sync.hpp"
#include "dsm/error.hpp"
#include "repo/catalog.hpp"
#include "repo/repository.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iomanip>
#include <iostream>
#include <set>
#include <sys/stat.h>

namespace dsm {

namespace {

struct LsCliOptions {
  bool json = false;
  bool offline = false;
  std::string remote;
};

bool present_locally(const fs::path& payload) {
  struct stat st {};
  return ::lstat(payload.c_str(), &st) == 0;
}

void run_ls(Context& ctx, const LsCliOptions& opts) {
  const Repository& repo = *ctx.repo;
  Manifest manifest = load_manifest(repo);
  DatasetIndex index = index_datasets(repo, manifest);
  struct Row {
    std::string name, versions, latest, date, shape, dtype, size, where;
  };
  // Latest versions absent here (a fresh clone): can a remote restore them?
  std::set<std::string> absent_names;
  std::vector<std::string> absent;
  for (const auto& [name, list] : index.by_name) {
    if (!present_locally(list.back().path)) {
      absent_names.insert(name);
      absent.push_back(list.back().sha256);
    }
  }
  std::optional<RemoteAvailability> av;
  if (!opts.offline) {
    av = remote_availability(repo, opts.remote, absent);
    if (av && !av->error.empty()) {
      std::cerr << "dsm: warning: could not ask remote " << quote(av->remote) << ": " << av->error << "\n";
    }
  }
  std::vector<Row> rows;
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& [name, list] : index.by_name) {
    VersionRecord rec = load_version(list.back());
    Row row{name, std::to_string(list.size()), std::to_string(list.back().seq), "?", "?", "?", "?", ""};
    nlohmann::json j = {{"name", name},
                        {"versions", list.size()},
                        {"latest", list.back().seq},
                        {"path", list.back().path.string()},
                        {"sha256", list.back().sha256}};
    const bool local = absent_names.count(name) == 0;
    j["local"] = local;
    if (!local) {
      bool on_remote = av && av->present.count(list.back().sha256) != 0;
      j["on_remote"] = on_remote ? nlohmann::json(av->remote) : nlohmann::json(nullptr);
      row.where = on_remote ? "  (not here; on remote " + quote(av->remote) + ": dsm pull)" : "  (payload missing)";
    }
    if (rec.sidecar) {
      const Sidecar& s = *rec.sidecar;
      row.date = s.created.substr(0, 10);
      row.shape = shape_summary(s);
      row.dtype = dtype_summary(s);
      row.size = util::human_size(s.size);
      j["created"] = s.created;
      j["format"] = s.format;
      j["size"] = s.size;
      j["shape"] = s.npy ? nlohmann::json(s.npy->shape) : nlohmann::json(nullptr);
      j["dtype"] = s.npy ? nlohmann::json(s.npy->descr) : nlohmann::json(nullptr);
    } else {
      j["sidecar_error"] = rec.sidecar_error;
    }
    rows.push_back(row);
    arr.push_back(j);
  }
  if (opts.json) {
    std::cout << arr.dump(2) << "\n";
    return;
  }
  if (rows.empty()) {
    std::cout << "no datasets yet (add one with 'dsm add FILE.npy')\n";
    return;
  }
  Row header{"NAME", "VERSIONS", "LATEST", "DATE", "SHAPE", "DTYPE", "SIZE", ""};
  size_t w[6] = {};
  auto widen = [&w](const Row& r) {
    const std::string* cols[] = {&r.name, &r.versions, &r.latest, &r.date, &r.shape, &r.dtype};
    for (int i = 0; i < 6; ++i) {
      w[i] = std::max(w[i], cols[i]->size());
    }
  };
  widen(header);
  for (const auto& r : rows) {
    widen(r);
  }
  auto print = [&w](const Row& r) {
    const std::string* cols[] = {&r.name, &r.versions, &r.latest, &r.date, &r.shape, &r.dtype};
    for (int i = 0; i < 6; ++i) {
      std::cout << std::left << std::setw(static_cast<int>(w[i]) + 2) << *cols[i];
    }
    std::cout << r.size << r.where << "\n";
  };
  print(header);
  for (const auto& r : rows) {
    print(r);
  }
}

} // namespace

void register_ls(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<LsCliOptions>();
  CLI::App* sub = app.add_subcommand("ls", "List every dataset: its number of versions, and the latest version's "
                                           "number, date, shape, dtype and size; a latest version whose payload is not\n"
                                           "here is marked, with whether the default remote holds it");
  sub->add_flag("--json", opts->json, "Print a JSON list");
  sub->add_option("--remote", opts->remote,
                  "For latest versions whose payload is not here, ask this remote whether\n"
                  "'dsm pull' can restore them (default: the default remote, if any)")
    ->type_name("NAME");
  sub->add_flag("--offline", opts->offline, "Do not ask any remote");
  sub->footer(exit_status_help("ls"));
  sub->callback([&ctx, opts] { run_ls(ctx, *opts); });
}

} // namespace dsm

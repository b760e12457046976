// dsm log [NAME]: every version of a dataset (or of every dataset), newest first.
#include "util/text.hpp"
#include "commands/commands.hpp"
#include "repo/catalog.hpp"
#include "dsm/error.hpp"
#include "repo/naming.hpp"
#include "repo/repository.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>

namespace dsm {

namespace {

struct LogCliOptions {
  std::string name;
  bool json = false;
};

void run_log(Context& ctx, const LogCliOptions& opts) {
  const Repository& repo = *ctx.repo;
  Manifest manifest = load_manifest(repo);
  DatasetIndex index = index_datasets(repo, manifest);
  // The versions to show, newest first: one dataset's by number, or (no
  // NAME) every dataset's by creation time, as `git log` shows every branch's
  // commits by date.
  std::vector<VersionRecord> records;
  if (opts.name.empty()) {
    for (const auto& [name, list] : index.by_name) {
      for (const DatasetVersion& v : list) {
        records.push_back(load_version(v));
      }
    }
    std::stable_sort(records.begin(), records.end(), [](const VersionRecord& a, const VersionRecord& b) {
      std::string ca = a.sidecar ? a.sidecar->created : "";
      std::string cb = b.sidecar ? b.sidecar->created : "";
      if (ca != cb) {
        return ca > cb;
      }
      if (a.version.name != b.version.name) {
        return a.version.name < b.version.name;
      }
      return a.version.seq > b.version.seq;
    });
  } else {
    std::string name = opts.name;
    // Accept a payload path too: log its dataset.
    if (!index.find(name)) {
      DatasetVersion v = resolve_version(repo, manifest, index, ctx.work_dir, name);
      if (v.name.empty()) {
        throw Error(quote(opts.name) + " belongs to no dataset");
      }
      name = v.name;
    }
    const auto& list = index.get(name);
    for (auto it = list.rbegin(); it != list.rend(); ++it) {
      records.push_back(load_version(*it));
    }
  }
  nlohmann::json arr = nlohmann::json::array();
  bool first = true;
  for (const VersionRecord& rec : records) {
    const DatasetVersion& v = rec.version;
    if (opts.json) {
      nlohmann::json j = rec.sidecar ? rec.sidecar->to_json() : nlohmann::json::object();
      j["name"] = v.name;
      j["path"] = v.path.string();
      j["version"] = v.seq;
      // A chunked version has one manifest line per chunk; its sidecar's
      // sha256 is the whole array's (as one .npy).
      j["sha256"] = v.parts.empty() || !rec.sidecar ? v.sha256 : rec.sidecar->sha256;
      if (!rec.sidecar) {
        j["sidecar_error"] = rec.sidecar_error;
      }
      arr.push_back(j);
      continue;
    }
    if (!first) {
      std::cout << "\n";
    }
    first = false;
    std::cout << v.name << "@" << v.seq << "  " << v.path.string() << "\n";
    if (!rec.sidecar) {
      std::cout << "  (sidecar unreadable: " << rec.sidecar_error << ")\n";
      std::cout << "  sha256 " << v.sha256.substr(0, 12) << "\n";
      continue;
    }
    const Sidecar& s = *rec.sidecar;
    std::cout << "  date    " << s.created << "\n";
    std::cout << "  author  " << s.author.value_or("(unknown)") << "\n";
    std::cout << "  shape   " << shape_summary(s) << "  dtype " << dtype_summary(s) << "  size " << s.size << " ("
              << util::human_size(s.size) << ")  sha256 " << (v.parts.empty() ? v.sha256 : s.sha256).substr(0, 12)
              << "\n";
    if (!v.parts.empty()) {
      std::cout << "  chunks  " << v.parts.size() << " parts in " << v.path.string() << "\n";
    } else if (s.compression) {
      std::cout << "  stored  " << *s.compression << "\n";
    }
    if (s.message) {
      std::cout << "  message " << *s.message << "\n";
    }
  }
  if (opts.json) {
    std::cout << arr.dump(2) << "\n";
  }
}

} // namespace

void register_log(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<LogCliOptions>();
  CLI::App* sub = app.add_subcommand(
    "log", "Show every version of a dataset, newest first: path, date, author, message,\nshape, dtype, size and "
           "short hash. Without NAME, every dataset's versions, newest first.");
  sub->add_option("NAME", opts->name, "Dataset name (or a payload path); default: every dataset");
  sub->add_flag("--json", opts->json, "Print a JSON list, newest first");
  sub->footer(exit_status_help("log"));
  sub->callback([&ctx, opts] { run_log(ctx, *opts); });
}

} // namespace dsm

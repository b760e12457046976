// dsm show FILE [--json]: describe a .npy/.npz file, anywhere on disk.

#include "commands/commands.hpp"
#include "util/text.hpp"
#include "dsm/error.hpp"
#include "repo/datasets.hpp"
#include "format/format.hpp"
#include "repo/repository.hpp"
#include "repo/sidecar.hpp"
#include "util/file.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>

namespace dsm {

namespace {

struct ShowOptions {
  std::string target;
  bool json = false;
};



std::string stats_text(const NpyInfo& npy) {
  if (!npy.stats) {
    return "none (" + npy.stats_skipped + ")";
  }
  const Stats& s = *npy.stats;
  std::string min;
  std::string max;
  switch (s.kind) {
  case Stats::Kind::signed_integer:
    min = std::to_string(s.min_int);
    max = std::to_string(s.max_int);
    break;
  case Stats::Kind::unsigned_integer:
    min = std::to_string(s.min_uint);
    max = std::to_string(s.max_uint);
    break;
  case Stats::Kind::floating:
    min = util::short_number(s.min);
    max = util::short_number(s.max);
    break;
  }
  std::string out = "min " + min + "  max " + max + "  mean " + util::short_number(s.mean);
  if (s.nan > 0 || s.inf > 0 || s.kind == Stats::Kind::floating) {
    out += "  nan " + std::to_string(s.nan) + "  inf " + std::to_string(s.inf);
  }
  return out;
}

void print_sidecar(const fs::path& sidecar, const std::string& text) {
  std::cout << "  sidecar  " << sidecar.string() << "\n";
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::cout << "    " << line << "\n";
  }
}

enum class OutputFormat { human, json };

// One-line summary of an array (dtype, shape, order, stats) for listings.
std::string describe_array(const NpyInfo& npy) {
  // A plain type string reads better without Python's quotes.
  std::string dtype = npy.descr;
  if (dtype.size() >= 2 && dtype.front() == '\'' && dtype.back() == '\'' &&
      dtype.find_first_of("[(") == std::string::npos) {
    dtype = dtype.substr(1, dtype.size() - 2);
  }
  std::string s = dtype + "  " + shape_text(npy.shape, ShapeStyle::tuple) + "  " + (npy.fortran_order ? "F" : "C") + " order";
  if (npy.object) {
    s += "  (object array: pickled, not read)";
  }
  return s;
}

void print_file_info(std::ostream& out, const FileInfo& info, OutputFormat format) {
  if (format == OutputFormat::json) {
    out << to_json(info).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return;
  }
  out << info.path.string() << "\n";
  if (info.format == Format::npy && info.npy) {
    const NpyInfo& n = *info.npy;
    out << "  format   npy " << n.version << ", " << info.size << " bytes\n";
    out << "  sha256   " << info.sha256 << "\n";
    out << "  array    " << describe_array(n) << "\n";
    if (n.object) {
      out << "  payload  " << n.payload_bytes << " bytes of pickle at offset " << n.data_offset;
    } else {
      out << "  payload  " << n.count << " x " << n.itemsize << " bytes = " << n.payload_bytes
          << " bytes at offset " << n.data_offset;
    }
    if (n.trailing_bytes > 0) {
      out << ", " << n.trailing_bytes << " trailing bytes";
    }
    out << "\n";
    out << "  stats    " << stats_text(n) << "\n";
    return;
  }
  out << "  format   npz, " << info.size << " bytes, " << info.members.size()
      << (info.members.size() == 1 ? " member\n" : " members\n");
  out << "  sha256   " << info.sha256 << "\n";
  for (const auto& m : info.members) {
    out << "  member   " << m.name << ": ";
    if (!m.npy) {
      out << "not an array, " << m.member_size << " bytes\n";
      continue;
    }
    out << describe_array(*m.npy) << ", " << m.member_size << " bytes";
    if (m.compressed) {
      out << " (" << m.compressed_size << " compressed)";
    }
    if (m.npy->trailing_bytes > 0) {
      out << ", " << m.npy->trailing_bytes << " trailing bytes";
    }
    out << "\n           stats " << stats_text(*m.npy) << "\n";
  }
}

// A chunked version (`dsm add --chunk-size`) is a directory of .npy parts:
// each part is read once (hashed and validated, no statistics: the sidecar
// holds the whole array's) and checked against its manifest line.
void show_chunked(const Repository& repo, const Manifest& manifest, const DatasetVersion& v, const fs::path& sidecar,
                  const std::string& sidecar_text, bool json) {
  nlohmann::json parts = nlohmann::json::array();
  std::vector<std::string> lines;
  uint64_t total = 0;
  size_t mismatched = 0;
  for (const std::string& rel : v.parts) {
    fs::path path = repo.data_dir() / rel;
    util::Fd fd = util::open_read(path);
    ScanOptions so;
    so.stats = false;
    FileInfo info = scan_fd(fd.get(), path, so);
    const std::string* recorded = manifest.find(rel);
    bool same = recorded != nullptr && *recorded == info.sha256;
    mismatched += same ? 0 : 1;
    total += info.size;
    std::string array = info.npy ? describe_array(*info.npy) : std::string("not a .npy");
    parts.push_back({{"path", path.string()},
                     {"size", info.size},
                     {"sha256", info.sha256},
                     {"manifest_sha256", recorded != nullptr ? nlohmann::json(*recorded) : nlohmann::json()},
                     {"array", array}});
    lines.push_back("  part     " + path.filename().string() + ": " + array + ", " + std::to_string(info.size) +
                    " bytes" + (same ? "" : "  WARNING sha256 differs from the manifest"));
  }
  if (json) {
    nlohmann::json j = {{"path", v.path.string()}, {"format", "chunks"}, {"size", total}, {"chunks", parts}};
    j["dataset"] = {{"name", v.name},
                    {"version", v.seq},
                    {"sidecar_path", sidecar.string()},
                    {"sidecar_yaml", sidecar_text}};
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return;
  }
  std::cout << v.name << "@" << v.seq << "\n";
  std::cout << v.path.string() << "\n";
  std::cout << "  format   chunks, " << v.parts.size() << (v.parts.size() == 1 ? " part, " : " parts, ") << total
            << " bytes (the array as one .npy: see the sidecar's 'original')\n";
  for (const std::string& line : lines) {
    std::cout << line << "\n";
  }
  if (mismatched > 0) {
    std::cout << "  WARNING  " << mismatched << " part(s) differ from the manifest: run 'dsm verify'\n";
  }
  print_sidecar(sidecar, sidecar_text);
}

// `show NAME[@VERSION]`: a dataset target when no such file exists and a dsm
// repository is around; the sidecar's metadata is shown with the file facts.
void run_show_dataset(Context& ctx, const ShowOptions& opts) {
  std::unique_ptr<Repository> repo = Repository::open(ctx.work_dir);
  Manifest manifest = load_manifest(*repo);
  DatasetIndex index = index_datasets(*repo, manifest);
  DatasetVersion v = resolve_version(*repo, manifest, index, ctx.work_dir, opts.target);
  fs::path sidecar = Repository::sidecar_path(v.path);
  std::string sidecar_text;
  std::error_code ec;
  std::string sidecar_error = "missing: run 'dsm verify'";
  if (fs::exists(sidecar, ec)) {
    sidecar_text = util::read_file(sidecar, 16u << 20);
    sidecar_error.clear();
    try {
      Sidecar::parse(sidecar_text, sidecar.string());
    } catch (const Error& e) {
      sidecar_error = e.what();
    }
  }
  if (!sidecar_error.empty()) {
    // The text is still shown below: a damaged sidecar is what the user
    // needs to see, with where it is wrong.
    std::cerr << "dsm: warning: sidecar " << (sidecar_text.empty() ? quote(sidecar.string()) + " " : "")
              << sidecar_error << "\n";
  }
  if (!v.parts.empty()) {
    show_chunked(*repo, manifest, v, sidecar, sidecar_text, opts.json);
    return;
  }
  util::Fd fd = util::open_read(v.path);
  FileInfo info = scan_fd(fd.get(), v.path);
  if (opts.json) {
    nlohmann::json j = to_json(info);
    j["dataset"] = {{"name", v.name},
                    {"version", v.seq},
                    {"manifest_sha256", v.sha256},
                    {"sidecar_path", sidecar.string()},
                    {"sidecar_yaml", sidecar_text}};
    if (!sidecar_error.empty()) {
      j["dataset"]["sidecar_error"] = sidecar_error;
    }
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return;
  }
  std::cout << v.name << "@" << v.seq << "\n";
  print_file_info(std::cout, info, OutputFormat::human);
  if (info.sha256 != v.sha256) {
    std::cout << "  WARNING  sha256 differs from the manifest (" << v.sha256 << "): run 'dsm verify'\n";
  }
  print_sidecar(sidecar, sidecar_text);
}

void run_show(Context& ctx, const ShowOptions& opts) {
  std::filesystem::path p = ctx.from_work_dir(opts.target);
  std::error_code ec;
  // A chunked version's directory is a dataset target too.
  if (!fs::exists(p, ec) || fs::is_directory(p, ec)) {
    bool in_repo = false;
    try {
      Repository::open(ctx.work_dir);
      in_repo = true;
    } catch (const Error&) {
    }
    if (in_repo) {
      run_show_dataset(ctx, opts);
      return;
    }
  }
  // Messages name the path as the user wrote it; FileInfo::path is absolute.
  util::Fd fd = util::open_read(p);
  FileInfo info = scan_fd(fd.get(), opts.target);
  info.path = p.lexically_normal();
  print_file_info(std::cout, info, opts.json ? OutputFormat::json : OutputFormat::human);
}

} // namespace

void register_show(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<ShowOptions>();
  CLI::App* sub = app.add_subcommand("show", "Describe a .npy/.npz file or a stored dataset version: format, dtype, shape, sha256, statistics, sidecar");
  sub->add_option("FILE", opts->target, "A .npy or .npz file (recognised by content, not extension), or inside a dsm repository a dataset NAME or NAME@VERSION")
    ->required();
  sub->add_flag("--json", opts->json,
                "Print one JSON object (keys listed in docs/formats.md) instead of the summary");
  sub->footer("Reads the whole file once: SHA-256 of every byte, header validation, and min/max/mean\n"
              "ignoring NaN (as numpy.nanmin/nanmax/nanmean) with NaN and inf counts for numeric arrays.\n"
              "Malformed files are refused with 'dsm: error: ...' and status 2.\n\n" +
              exit_status_help("show"));
  sub->callback([opts, &ctx] { run_show(ctx, *opts); });
}

} // namespace dsm

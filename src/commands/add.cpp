// dsm add FILE... : store arrays as new versions of datasets.
#include "commands/commands.hpp"
#include "format/chunk.hpp"
#include "format/compress_add.hpp"
#include "ops/add.hpp"
#include "dsm/error.hpp"
#include "util/interrupt.hpp"
#include "repo/repository.hpp"

#include "util/progress.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

namespace dsm {

namespace {

struct AddCliOptions {
  std::vector<std::string> files;
  std::string name;
  std::vector<std::string> meta_pairs;
  std::string meta_file;
  std::string message;
  bool message_set = false;
  bool move = false;
  bool allow_pickle = false;
  bool json = false;
  std::string compress;   // "" = not given; "auto" or a level (--compress[=LEVEL])
  std::string chunk_size; // "" = not given
};

// Each stored payload as JSON, as `--json` lists it.
nlohmann::json added_json(const AddedPayload& a) {
  return {{"path", a.path.string()},
          {"name", a.name},
          {"version", a.version},
          {"sha256", a.sha256},
          {"size", a.size},
          {"sidecar", Repository::sidecar_path(a.path).string()},
          {"notes", a.notes}};
}

void run_add(Context& ctx, AddCliOptions& opts) {
  AddRequest req;
  // Relative to the working directory (`-C`): add makes each absolute when
  // it opens it, so 100,000 names are held once, as typed.
  req.files = std::move(opts.files);
  req.base = ctx.work_dir;
  if (!opts.name.empty()) {
    req.name = opts.name;
  }
  std::optional<fs::path> meta_file;
  if (!opts.meta_file.empty()) {
    fs::path p(opts.meta_file);
    meta_file = ctx.from_work_dir(p);
  }
  req.meta_yaml = build_meta(meta_file, opts.meta_pairs);
  if (opts.message_set) {
    req.message = opts.message;
  }
  req.transfer = opts.move ? Transfer::move : Transfer::copy;
  req.allow_pickle = opts.allow_pickle ? AllowPickle::yes : AllowPickle::no;
  if (!opts.compress.empty() && !opts.chunk_size.empty()) {
    throw Error("--compress and --chunk-size cannot be combined (compress a chunked version's parts later)");
  }
  if (!opts.compress.empty()) {
    req.compress = parse_compress_level(opts.compress);
  }
  if (!opts.chunk_size.empty()) {
    req.chunk_bytes = parse_size(opts.chunk_size);
  }

  util::Progress progress("add", ctx.show_progress());
  req.progress = &progress;
  // Printed as add hands each one over (once all are listed), not
  // collected: stdout is the paths, or a JSON list written element by
  // element exactly as nlohmann::json's dump(2) of the whole list would be.
  // An element is held until the next one tells what follows it, so
  // stdout never stops mid-line where a note to stderr would cut in.
  size_t printed = 0;
  std::string held;
  req.on_added = [&](const AddedPayload& a) {
    if (printed++ == 0) {
      progress.finish();
    }
    if (!held.empty()) {
      std::cout << held << ",\n" << std::flush;
    }
    if (!ctx.quiet) {
      if (a.compression) {
        std::cerr << "dsm: " << a.name << "@" << a.version << ": " << *a.compression << "\n";
      }
      for (const std::string& note : a.notes) {
        std::cerr << "dsm: " << a.name << "@" << a.version << ": " << note << "\n";
      }
    }
    if (opts.json) {
      held = printed == 1 ? "[\n  " : "  ";
      for (char c : added_json(a).dump(2)) {
        held += c;
        if (c == '\n') {
          held += "  ";
        }
      }
    } else {
      std::cout << a.path.string() << "\n";
    }
  };
  AddResult r = add_files(*ctx.repo, req);
  progress.finish();
  if (opts.json) {
    std::cout << (printed == 0 ? "[]\n" : held + "\n]\n");
  }
  for (const auto& w : r.warnings) {
    std::cerr << "dsm: warning: " << w << "\n";
  }
}

} // namespace

void register_add(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<AddCliOptions>();
  CLI::App* sub = app.add_subcommand(
    "add", "Store .npy/.npz files as new versions of datasets.\n"
           "Each FILE is checked (a valid .npy or .npz, decided by content), copied into\n"
           "<data_dir>/<NAME>/<last segment>_<YYYYMMDD>_<NNN>.<ext> (read-only), described\n"
           "by a sidecar <payload>.yaml, and listed in <data_dir>/manifest-sha256.txt.\n"
           "Sequence numbers continue across days and are never reused. Prints the\n"
           "absolute path of each stored payload. Commit the sidecars and the manifest.\n"
           "Hash, header and statistics are taken from the stored copy; a FILE that changes\n"
           "while it is copied is refused and nothing is stored.");
  sub->add_option("FILE", opts->files, "Arrays to store (relative to the current directory)")->required();
  sub->add_option("--name", opts->name,
                  "Dataset name (default: each file's stem): '/'-separated segments of "
                  "[A-Za-z0-9][A-Za-z0-9._-]*; with several FILEs they become successive versions")
    ->type_name("NAME")
    ->check([](const std::string& v) { return v.empty() ? std::string("invalid dataset name '': empty") : ""; });
  sub->add_option("-m", opts->meta_pairs, "Metadata KEY=VALUE for the sidecar (VALUE read as YAML); repeatable")
    ->type_name("KEY=VALUE")
    ->allow_extra_args(false);
  sub->add_option("--meta", opts->meta_file, "A YAML mapping of metadata for the sidecar (-m wins on clashes)")
    ->type_name("FILE.yaml");
  sub->add_option("--message", opts->message, "A message recorded in the sidecar")
    ->type_name("TEXT")
    ->each([opts](const std::string&) { opts->message_set = true; });
  sub->add_flag("--move", opts->move,
                "Move instead of copy: rename on the same filesystem, else copy, sync, re-verify, then remove "
                "the source");
  sub->add_flag("--allow-pickle", opts->allow_pickle,
                "Accept object (pickled) arrays; they are flagged 'pickled: true' in the sidecar");
  sub->add_flag("--compress{auto}", opts->compress,
                "Store each .npy as a single-member .npz (np.load(path)[NAME], NAME the last name segment), "
                "compressed in parallel. --compress=LEVEL: 0 store, 1 fastest (ISA-L) .. 12 smallest (libdeflate); "
                "default auto, measured on the first block. Stored uncompressed when deflate saves < 1.5% "
                "(said on stderr). See docs/compression.md")
    ->type_name("[=LEVEL]");
  sub->add_option("--chunk-size", opts->chunk_size,
                  "Split each .npy into chunk files of whole rows (axis 0; the last axis for Fortran order) of "
                  "about SIZE bytes each, e.g. 512MiB, 64KiB, 1GB, 4096: <stem>/part-0001.npy ..., one sidecar "
                  "listing every chunk, one manifest line per chunk")
    ->type_name("SIZE");
  sub->add_flag("--json", opts->json, "Print a JSON list of the stored payloads");
  sub->footer("ENVIRONMENT\n  DSM_LOCK_TIMEOUT  seconds to wait for another dsm add holding the lock (default 30)\n\n" +
              exit_status_help("add"));
  sub->callback([&ctx, opts] { run_add(ctx, *opts); });
}

} // namespace dsm

// dsm diff A [B]: what changed between two versions of an array (or two
// .npy/.npz files anywhere). Options and printing; the work is ops/diff.cpp.
#include "commands/commands.hpp"
#include "util/text.hpp"
#include "dsm/error.hpp"
#include "ops/diff.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>

namespace dsm {

namespace {

struct DiffCliOptions {
  std::string a;
  std::string b;
  double rtol = 0;
  double atol = 0;
  bool equal_nan = false;
  uint64_t show = 5;
  unsigned jobs = 0;
  bool json = false;
};


// JSON text as people read it: strings without their quotes.
std::string plain(const std::string& json_text) {
  if (json_text.size() >= 2 && json_text.front() == '"') {
    try {
      return nlohmann::json::parse(json_text).get<std::string>();
    } catch (const nlohmann::json::exception&) {
    }
  }
  return json_text;
}

// A statistic for the table: 7 significant digits are enough to see a change.
std::string stat_text(const std::string& json_text) {
  std::string t = plain(json_text);
  if (t.find_first_of(".eE") == std::string::npos) {
    return t; // an integer, "nan", "inf"
  }
  try {
    size_t used = 0;
    double v = std::stod(t, &used);
    if (used == t.size()) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.7g", v);
      return buf;
    }
  } catch (const std::exception&) {
  }
  return t;
}

std::string pad(const std::string& s, size_t width) { return s.size() >= width ? s + " " : s + std::string(width - s.size(), ' '); }

std::string shape_text(const std::vector<uint64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    s += (i > 0 ? ", " : "") + std::to_string(shape[i]);
  }
  return s + (shape.size() == 1 ? ",)" : ")");
}

void print_side(std::ostream& out, const char* label, const DiffSide& s) {
  out << label << "  " << s.target;
  if (s.path.string() != s.target) {
    out << "  " << s.path.string();
  }
  out << "  " << s.format;
  if (s.has_shape) {
    out << " " << s.dtype << " " << shape_text(s.shape);
  }
  out << "\n";
}

// "+3", "-0.002": the change from B to A, where both are numbers.
std::string delta(const std::string& a, const std::string& b) {
  try {
    size_t ia = 0;
    size_t ib = 0;
    double x = std::stod(a, &ia);
    double y = std::stod(b, &ib);
    if (ia != a.size() || ib != b.size()) {
      return "";
    }
    double d = x - y;
    return (d > 0 ? "+" : "") + util::short_number(d);
  } catch (const std::exception&) {
    return "";
  }
}

void print_array(std::ostream& out, const ArrayDiff& d, const std::string& indent) {
  if (!d.header.empty()) {
    out << indent << "header\n";
    for (const HeaderDiff& h : d.header) {
      out << indent << "  " << pad(h.field, 12) << h.a << "  |  " << h.b << "\n";
    }
  }
  if (!d.stats.empty()) {
    out << indent << "stats         " << pad("a", 16) << pad("b", 16) << "a - b\n";
    for (const auto& [name, ab] : d.stats) {
      out << indent << "  " << pad(name, 12) << pad(stat_text(ab.first), 16) << pad(stat_text(ab.second), 16)
          << delta(plain(ab.first), plain(ab.second)) << "\n";
    }
  }
  if (!d.elements) {
    if (!d.reason.empty()) {
      out << indent << "elements      not compared: " << d.reason << "\n";
    }
    return;
  }
  const ElementDiff& e = *d.elements;
  char pct[32] = "";
  if (e.compared > 0 && e.differ > 0) {
    std::snprintf(pct, sizeof pct, " (%.4g%%)", 100.0 * static_cast<double>(e.differ) / static_cast<double>(e.compared));
  }
  out << indent << "elements      " << e.compared << " compared, " << e.differ << " differ" << pct << "\n";
  if (e.any_finite && (e.max_abs_diff != 0 || e.differ > 0)) {
    out << indent << "  max diff    " << util::short_number(e.max_abs_diff) << " absolute, " << util::short_number(e.max_rel_diff) << " relative\n";
  }
  if (e.nan_appeared > 0 || e.nan_vanished > 0) {
    out << indent << "  nan         " << e.nan_appeared << " appeared, " << e.nan_vanished << " vanished\n";
  }
  for (const auto& [field, n] : e.fields) {
    if (n > 0) {
      out << indent << "  field       " << field << ": " << n << " differ\n";
    }
  }
  for (size_t i = 0; i < e.first.size(); ++i) {
    const DiffExample& ex = e.first[i];
    std::string idx = "[";
    for (size_t k = 0; k < ex.index.size(); ++k) {
      idx += (k > 0 ? ", " : "") + std::to_string(ex.index[k]);
    }
    idx += "]";
    out << indent << (i == 0 ? "  first       " : "              ") << pad(idx, 10) << "a " << plain(ex.a)
        << "  b " << plain(ex.b) << "\n";
  }
}

void print_report(std::ostream& out, const DiffReport& r, const DiffCliOptions& o) {
  print_side(out, "a", r.a);
  print_side(out, "b", r.b);
  if (!r.meta.empty() || r.message) {
    out << "meta\n";
    for (const auto& [k, ab] : r.meta) {
      out << "  " << pad(k, 12) << ab.first << "  |  " << ab.second << "\n";
    }
    if (r.message) {
      out << "  " << pad("(message)", 12) << r.message->first << "  |  " << r.message->second << "\n";
    }
  }
  if (r.identical) {
    out << "equal (same SHA-256: the elements were not read)\n";
    return;
  }
  if (r.archives) {
    if (!r.added.empty() || !r.removed.empty()) {
      out << "members\n";
      for (const std::string& m : r.added) {
        out << "  added       " << m << "\n";
      }
      for (const std::string& m : r.removed) {
        out << "  removed     " << m << "\n";
      }
    }
    for (const auto& [name, d] : r.members) {
      out << "member " << quote(name) << "\n";
      print_array(out, d, "  ");
    }
  } else {
    print_array(out, r.array, "");
  }
  std::string tol;
  if (o.rtol != 0 || o.atol != 0 || o.equal_nan) {
    tol = " (rtol " + util::short_number(o.rtol) + ", atol " + util::short_number(o.atol) + (o.equal_nan ? ", NaN equals NaN" : "") + ")";
  }
  out << (r.equal ? "equal" : "differ") << tol << "\n";
}

void run_diff(Context& ctx, const DiffCliOptions& opts) {
  DiffOptions o;
  o.a = opts.a;
  o.b = opts.b;
  o.work_dir = ctx.work_dir;
  o.rtol = opts.rtol;
  o.atol = opts.atol;
  o.equal_nan = opts.equal_nan;
  o.show = opts.show;
  o.jobs = opts.jobs;
  DiffReport r = diff(o);
  if (opts.json) {
    std::cout << to_json(r).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    print_report(std::cout, r, opts);
  }
  if (!r.equal) {
    std::cout.flush();
    throw ExitWith{k_exit_problems}; // the output said how they differ
  }
}

} // namespace

void register_diff(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<DiffCliOptions>();
  CLI::App* sub = app.add_subcommand(
    "diff", "Show how an array changed: header, metadata, statistics and elements.\n"
            "A is compared against B as numpy.isclose(A, B, rtol, atol, equal_nan): B is the\n"
            "reference, by default the version before A. Only what differs is printed:\n"
            "  header    dtype, shape, order, .npy version, format\n"
            "  meta      the sidecars' meta keys and messages (reported; not counted as a difference)\n"
            "  stats     count, mean, min, max, nan, inf of each side, with a - b\n"
            "  elements  how many were compared and differ, the largest absolute and relative\n"
            "            difference, NaNs that appeared or vanished, the first differing indices\n"
            "  members   for two .npz files: members added (only in A), removed (only in B), changed\n"
            "Both payloads are read once, side by side; versions with the same SHA-256 are equal\n"
            "at once. A compressed or chunked version compares as the array it holds.");
  sub->add_option("A", opts->a,
                  "NAME (the newest version), NAME@N, NAME@latest, NAME@~N (N before the newest), a payload path,\n"
                  "or any .npy/.npz file")
    ->required();
  sub->add_option("B", opts->b, "The same (default: the version before A)");
  sub->add_option("--rtol", opts->rtol, "Relative tolerance, as numpy.isclose (default 0: exact)")
    ->type_name("X")
    ->check(CLI::NonNegativeNumber);
  sub->add_option("--atol", opts->atol, "Absolute tolerance, as numpy.isclose (default 0: exact)")
    ->type_name("X")
    ->check(CLI::NonNegativeNumber);
  sub->add_flag("--equal-nan", opts->equal_nan, "NaN in both at the same place counts as equal");
  sub->add_option("--show", opts->show, "Differing elements listed with both values")->type_name("N")->capture_default_str();
  sub->add_option("-j,--jobs", opts->jobs, "Threads for large uncompressed pairs (default: number of cores)")
    ->type_name("N");
  sub->add_flag("--json", opts->json, "Print one JSON object (keys listed in docs/formats.md, \"dsm diff --json\")");
  sub->footer("Works outside a repository on plain files (then they are scanned once for hash and statistics).\n\n" +
              exit_status_help("diff", "the arrays differ (0: equal within the tolerance)"));
  sub->callback([&ctx, opts] { run_diff(ctx, *opts); });
}

} // namespace dsm

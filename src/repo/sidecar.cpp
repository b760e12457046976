#include "repo/sidecar.hpp"
#include "repo/yaml_load.hpp"

#include "util/yaml_text.hpp"
#include "dsm/error.hpp"
#include "util/file.hpp"
#include "util/sha256.hpp"

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <sys/stat.h>
#include <regex>
#include <set>

namespace dsm {

namespace {

// Writes user metadata back as YAML without changing what it means.
// yaml-cpp's own emitter drops quotes: a string "12" or 'off' read from
// --meta (or a -m key named off) would come back as a number or a boolean.
// A scalar that was quoted in its source (tag "!") or built from a C++
// string (no tag) is a string: it is written quoted unless it is plainly
// one. Plain scalars (tag "?") keep their implicit type.
//
// `budget` bounds the nodes written: YAML aliases can make a few lines
// expand to billions of nodes (a "billion laughs" sidecar), and every
// reader of a sidecar walks its metadata.
constexpr size_t k_meta_node_budget = 100000;
constexpr size_t k_meta_key_max = 256;

void emit_meta(YAML::Emitter& em, const YAML::Node& n, size_t& budget) {
  if (budget == 0) {
    throw Error("metadata expands to more than " + std::to_string(k_meta_node_budget) +
                " YAML nodes (aliases used as a bomb?)");
  }
  --budget;
  switch (n.Type()) {
  case YAML::NodeType::Map:
    em << YAML::BeginMap;
    for (const auto& kv : n) {
      // YAML limits an implicit key to 1024 characters; a longer one
      // would be written in a form no parser reads back.
      if (kv.first.IsScalar() && kv.first.Scalar().size() > k_meta_key_max) {
        throw Error("metadata key longer than " + std::to_string(k_meta_key_max) + " bytes");
      }
      if (!kv.first.IsScalar()) {
        throw Error("metadata keys must be strings");
      }
      em << YAML::Key;
      emit_meta(em, kv.first, budget);
      em << YAML::Value;
      emit_meta(em, kv.second, budget);
    }
    em << YAML::EndMap;
    return;
  case YAML::NodeType::Sequence:
    em << YAML::BeginSeq;
    for (const auto& item : n) {
      emit_meta(em, item, budget);
    }
    em << YAML::EndSeq;
    return;
  case YAML::NodeType::Scalar:
    if (!yaml_valid_utf8(n.Scalar())) {
      throw Error("metadata is not valid UTF-8: " + yaml_quote(n.Scalar()));
    }
    if (n.Tag() == "?") {
      // A plain scalar means what YAML 1.2's core schema (dsm's JSON,
      // yaml-cpp) reads it as. YAML 1.1 readers (PyYAML) read some plain
      // words otherwise (yes, on, 0777, 1_000, 2023-01-15, 1e-3), so each
      // value is written in the one form both read alike: canonical
      // numbers, true/false, null, and strings quoted unless unambiguous.
      nlohmann::json v = yaml_to_json(n);
      if (v.is_boolean()) {
        em << v.get<bool>();
      } else if (v.is_null()) {
        em << YAML::Null;
      } else if (v.is_number_integer()) {
        em << std::to_string(v.get<int64_t>());
      } else if (v.is_number_float()) {
        em << yaml_double(v.get<double>());
      } else if (yaml_plain_safe(n.Scalar())) {
        em << n.Scalar();
      } else {
        em << YAML::DoubleQuoted << n.Scalar();
      }
      return;
    }
    if (!yaml_plain_safe(n.Scalar())) {
      em << YAML::DoubleQuoted << n.Scalar();
    } else {
      em << n.Scalar();
    }
    return;
  case YAML::NodeType::Null:
  case YAML::NodeType::Undefined:
    em << YAML::Null;
    return;
  }
}


std::string opt_str(const std::optional<std::string>& s) { return s ? yaml_quote(*s) : "null"; }

std::string stats_text(const std::optional<Stats>& s) {
  if (!s) {
    return "null";
  }
  return "{count: " + std::to_string(s->count) + ", min: " + yaml_double(s->min) + ", max: " + yaml_double(s->max) +
         ", mean: " + yaml_double(s->mean) + ", nan: " + std::to_string(s->nan) + ", inf: " + std::to_string(s->inf) +
         "}";
}

void facts_text(std::string& out, const ArrayFacts& f, const std::string& indent) {
  out += indent + "npy_version: " + yaml_quote(f.npy_version) + "\n";
  out += indent + "descr: " + yaml_quote(f.descr) + "\n";
  out += indent + "shape: " + shape_text(f.shape, ShapeStyle::list) + "\n";
  out += indent + "fortran_order: " + (f.fortran_order ? "true" : "false") + "\n";
  out += indent + "stats: " + stats_text(f.stats) + "\n";
}

// --- reading -----------------------------------------------------------

struct Reader {
  const std::string& file;

  [[noreturn]] void fail(const YAML::Node& n, const std::string& what) const {
    throw Error(quote(file) + ":" + std::to_string(n.Mark().line + 1) + ": " + what);
  }
  std::string str(const YAML::Node& n, const char* key) const {
    if (!n.IsScalar()) {
      fail(n, std::string("'") + key + "' must be a string");
    }
    // A raw non-UTF-8 byte cannot be written back (YAML's \xNN is a code
    // point, not a byte), so such a sidecar would change on every rewrite.
    if (!yaml_valid_utf8(n.Scalar())) {
      fail(n, std::string("'") + key + "' is not valid UTF-8 (a sidecar is UTF-8 text)");
    }
    return n.Scalar();
  }
  std::optional<std::string> opt(const YAML::Node& n, const char* key) const {
    if (n.IsNull()) {
      return std::nullopt;
    }
    return str(n, key);
  }
  uint64_t u64(const YAML::Node& n, const char* key) const {
    std::string s = str(n, key);
    if (s.empty() || s.size() > 20 || s.find_first_not_of("0123456789") != std::string::npos) {
      fail(n, std::string("'") + key + "' must be a non-negative integer, not '" + s + "'");
    }
    try {
      return std::stoull(s);
    } catch (const std::exception&) {
      fail(n, std::string("'") + key + "' is out of range");
    }
  }
  bool boolean(const YAML::Node& n, const char* key) const {
    std::string s = str(n, key);
    if (s == "true") {
      return true;
    }
    if (s == "false") {
      return false;
    }
    fail(n, std::string("'") + key + "' must be true or false");
  }
  double dbl(const YAML::Node& n, const char* key) const {
    std::string s = str(n, key);
    if (s == ".nan" || s == ".NaN" || s == ".NAN") {
      return std::nan("");
    }
    if (s == ".inf" || s == "+.inf" || s == ".Inf") {
      return INFINITY;
    }
    if (s == "-.inf" || s == "-.Inf") {
      return -INFINITY;
    }
    try {
      size_t used = 0;
      double v = std::stod(s, &used);
      if (used == s.size()) {
        return v;
      }
    } catch (const std::exception&) {
    }
    fail(n, std::string("'") + key + "' must be a number, not '" + s + "'");
  }
  std::optional<Stats> stats(const YAML::Node& n) const {
    if (n.IsNull()) {
      return std::nullopt;
    }
    if (!n.IsMap()) {
      fail(n, "'stats' must be a mapping or null");
    }
    Stats s;
    for (const auto& kv : n) {
      std::string k = kv.first.Scalar();
      if (k == "count") {
        s.count = u64(kv.second, "count");
      } else if (k == "min") {
        s.min = dbl(kv.second, "min");
      } else if (k == "max") {
        s.max = dbl(kv.second, "max");
      } else if (k == "mean") {
        s.mean = dbl(kv.second, "mean");
      } else if (k == "nan") {
        s.nan = u64(kv.second, "nan");
      } else if (k == "inf") {
        s.inf = u64(kv.second, "inf");
      } else {
        fail(kv.first, "unknown key '" + k + "' in stats");
      }
    }
    return s;
  }
  std::vector<uint64_t> shape(const YAML::Node& n) const {
    if (!n.IsSequence()) {
      fail(n, "'shape' must be a list of integers");
    }
    std::vector<uint64_t> out;
    for (const auto& d : n) {
      out.push_back(u64(d, "shape"));
    }
    return out;
  }
  // Sets a fact key of `f`; false when `key` is not a fact key.
  bool fact(ArrayFacts& f, const std::string& key, const YAML::Node& v) const {
    if (key == "npy_version") {
      f.npy_version = str(v, "npy_version");
    } else if (key == "descr") {
      f.descr = str(v, "descr");
    } else if (key == "shape") {
      f.shape = shape(v);
    } else if (key == "fortran_order") {
      f.fortran_order = boolean(v, "fortran_order");
    } else if (key == "stats") {
      f.stats = stats(v);
    } else {
      return false;
    }
    return true;
  }
};

const std::regex& int_re() {
  static const std::regex re("[-+]?[0-9]+");
  return re;
}
const std::regex& float_re() {
  static const std::regex re(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  return re;
}

} // namespace

ArrayFacts ArrayFacts::from(const NpyInfo& info) {
  ArrayFacts f;
  f.npy_version = info.version;
  f.descr = info.descr;
  // A simple dtype as the bare string NumPy's dtype.str gives ("<f4"),
  // not its quoted repr.
  if (f.descr.size() >= 2 && f.descr.front() == '\'' && f.descr.back() == '\'' &&
      f.descr.find('\'', 1) == f.descr.size() - 1) {
    f.descr = f.descr.substr(1, f.descr.size() - 2);
  }
  f.shape = info.shape;
  f.fortran_order = info.fortran_order;
  f.stats = info.stats;
  return f;
}

void Sidecar::set_facts(const FileInfo& info) {
  format = info.format == Format::npy ? "npy" : "npz";
  size = info.size;
  sha256 = info.sha256;
  npy.reset();
  members.clear();
  if (info.format == Format::npy && info.npy) {
    npy = ArrayFacts::from(*info.npy);
  }
  for (const auto& m : info.members) {
    MemberFacts mf;
    mf.name = m.name;
    if (m.is_npy && m.npy) {
      mf.facts = ArrayFacts::from(*m.npy);
    }
    members.push_back(std::move(mf));
  }
}

std::string Sidecar::to_yaml() const { return yaml_head() + yaml_tail(); }

std::string Sidecar::yaml_head() const {
  std::string out;
  out += "dsm_sidecar: " + std::to_string(sidecar_version) + "\n";
  out += "name: " + yaml_quote(name) + "\n";
  out += "version: " + std::to_string(version) + "\n";
  out += "file: " + yaml_quote(file) + "\n";
  return out;
}

std::string Sidecar::yaml_tail() const {
  std::string out;
  out.reserve(1024);
  out += "created: " + yaml_quote(created) + "\n";
  out += "author: " + opt_str(author) + "\n";
  out += "git_commit: " + opt_str(git_commit) + "\n";
  out += "branch: " + opt_str(branch) + "\n";
  out += "source: " + yaml_quote(source) + "\n";
  out += "host: " + yaml_quote(host) + "\n";
  out += "size: " + std::to_string(size) + "\n";
  out += "sha256: " + yaml_quote(sha256) + "\n";
  out += "format: " + format + "\n";
  if (npy) {
    facts_text(out, *npy, "");
  }
  if (format == "npz") {
    if (members.empty()) {
      out += "members: []\n";
    } else {
      out += "members:\n";
      for (const auto& m : members) {
        out += "  - name: " + yaml_quote(m.name) + "\n";
        if (m.facts) {
          facts_text(out, *m.facts, "    ");
        } else {
          out += "    array: false\n";
        }
      }
    }
  }
  if (pickled) {
    out += "pickled: true\n";
  }
  if (compression) {
    out += "compression: " + yaml_quote(*compression) + "\n";
  }
  if (original) {
    out += "original:\n";
    out += "  size: " + std::to_string(original->size) + "\n";
    out += "  sha256: " + yaml_quote(original->sha256) + "\n";
    if (!original->header_hex.empty()) {
      out += "  header: " + yaml_quote(original->header_hex) + "\n";
    }
  }
  if (format == "chunks") {
    out += "chunk_axis: " + std::to_string(chunk_axis) + "\n";
    out += chunks.empty() ? "chunks: []\n" : "chunks:\n";
    for (const auto& c : chunks) {
      out += "  - {file: " + yaml_quote(c.file) + ", rows: [" + std::to_string(c.row_begin) + ", " +
             std::to_string(c.row_end) + "], size: " + std::to_string(c.size) + ", sha256: " + yaml_quote(c.sha256) +
             "}\n";
    }
  }
  out += "message: " + opt_str(message) + "\n";
  if (meta_yaml == "{}" || meta_yaml.empty()) {
    out += "meta: {}\n";
  } else {
    out += "meta:\n";
    size_t pos = 0;
    while (pos < meta_yaml.size()) {
      size_t nl = meta_yaml.find('\n', pos);
      std::string line = meta_yaml.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
      out += "  " + line + "\n";
      if (nl == std::string::npos) {
        break;
      }
      pos = nl + 1;
    }
  }
  return out;
}

namespace {

// The caps every reader of a sidecar gets (ls, log, show, push, pull, the
// hook, verify, status, the C++ API all parse through Sidecar::parse):
// yaml-cpp holds about 500 bytes per node, so an 8.8 MB sidecar of a flat
// list (4.4 million nodes) took 2 GB and 21 s to list. The size cap is the
// one verify always had; the node cap counts, before any parsing, what
// could become a node (every ',' ':' '-' '[' '{' and line), which bounds
// yaml-cpp at about 130 MB and 1.5 s whatever the file holds. dsm's own
// sidecars stay far below (a chunked version takes about 12 per chunk; the
// metadata is capped at 100,000 nodes anyway).
constexpr size_t k_max_sidecar_bytes = 16u << 20;
constexpr size_t k_max_sidecar_nodes = 1u << 18;

void check_sidecar_caps(const std::string& text, const std::string& file) {
  if (text.size() > k_max_sidecar_bytes) {
    throw Error(quote(file) + ": sidecar too large (" + std::to_string(text.size()) + " bytes; the limit is " +
                std::to_string(k_max_sidecar_bytes) + ")");
  }
  size_t nodes = 0;
  for (char c : text) {
    nodes += c == ',' || c == ':' || c == '-' || c == '[' || c == '{' || c == '\n' ? 1 : 0;
  }
  if (nodes > k_max_sidecar_nodes) {
    throw Error(quote(file) + ": sidecar has too many YAML values (about " + std::to_string(nodes) +
                "; the limit is " + std::to_string(k_max_sidecar_nodes) + ")");
  }
}

} // namespace

Sidecar Sidecar::parse(const std::string& text, const std::string& file) {
  check_sidecar_caps(text, file);
  YAML::Node root = load_yaml(text, file);
  if (!root.IsMap()) {
    throw Error(quote(file) + ":1: a sidecar must be a YAML mapping");
  }
  Reader r{file};
  Sidecar s;
  ArrayFacts facts;
  bool have_facts = false;
  std::set<std::string> seen;
  for (const auto& kv : root) {
    std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "?";
    const YAML::Node& v = kv.second;
    if (!seen.insert(key).second) {
      r.fail(kv.first, "duplicate key '" + key + "'");
    }
    if (key == "dsm_sidecar") {
      uint64_t ver = r.u64(v, "dsm_sidecar");
      if (ver == 0 || ver > static_cast<uint64_t>(k_sidecar_version)) {
        r.fail(v, "sidecar format version " + std::to_string(ver) + " is not supported by this dsm (supports " +
                    std::to_string(k_sidecar_version) + "); upgrade dsm");
      }
      s.sidecar_version = static_cast<int>(ver);
    } else if (key == "name") {
      s.name = r.str(v, "name");
    } else if (key == "version") {
      s.version = r.u64(v, "version");
    } else if (key == "file") {
      s.file = r.str(v, "file");
    } else if (key == "created") {
      s.created = r.str(v, "created");
    } else if (key == "author") {
      s.author = r.opt(v, "author");
    } else if (key == "git_commit") {
      s.git_commit = r.opt(v, "git_commit");
    } else if (key == "branch") {
      s.branch = r.opt(v, "branch");
    } else if (key == "source") {
      s.source = r.opt(v, "source").value_or("");
    } else if (key == "host") {
      s.host = r.opt(v, "host").value_or("");
    } else if (key == "size") {
      s.size = r.u64(v, "size");
    } else if (key == "sha256") {
      s.sha256 = r.str(v, "sha256");
      if (!util::is_sha256_hex(s.sha256)) {
        r.fail(v, "'sha256' must be 64 lowercase hex digits");
      }
    } else if (key == "format") {
      s.format = r.str(v, "format");
      if (s.format != "npy" && s.format != "npz" && s.format != "chunks") {
        r.fail(v, "'format' must be npy, npz or chunks, not '" + s.format + "'");
      }
    } else if (r.fact(facts, key, v)) {
      have_facts = true;
    } else if (key == "members") {
      if (!v.IsSequence()) {
        r.fail(v, "'members' must be a list");
      }
      for (const auto& m : v) {
        if (!m.IsMap()) {
          r.fail(m, "each member must be a mapping");
        }
        MemberFacts mf;
        ArrayFacts mfacts;
        bool array = true;
        for (const auto& mkv : m) {
          std::string mk = mkv.first.Scalar();
          if (mk == "name") {
            mf.name = r.str(mkv.second, "name");
          } else if (mk == "array") {
            array = r.boolean(mkv.second, "array");
          } else if (!r.fact(mfacts, mk, mkv.second)) {
            r.fail(mkv.first, "unknown key '" + mk + "' in member");
          }
        }
        if (array) {
          mf.facts = mfacts;
        }
        s.members.push_back(std::move(mf));
      }
    } else if (key == "compression") {
      s.compression = r.opt(v, "compression");
    } else if (key == "original") {
      if (!v.IsMap()) {
        r.fail(v, "'original' must be a mapping");
      }
      Sidecar::Original o;
      bool have_size = false;
      for (const auto& okv : v) {
        std::string ok = okv.first.Scalar();
        if (ok == "size") {
          o.size = r.u64(okv.second, "size");
          have_size = true;
        } else if (ok == "sha256") {
          o.sha256 = r.str(okv.second, "sha256");
          if (!util::is_sha256_hex(o.sha256)) {
            r.fail(okv.second, "'sha256' must be 64 lowercase hex digits");
          }
        } else if (ok == "header") {
          o.header_hex = r.str(okv.second, "header");
        } else {
          r.fail(okv.first, "unknown key '" + ok + "' in original");
        }
      }
      // Both are what export checks its output against.
      if (!have_size || o.sha256.empty()) {
        r.fail(v, "'original' needs both 'size' and 'sha256'");
      }
      s.original = o;
    } else if (key == "chunk_axis") {
      s.chunk_axis = r.u64(v, "chunk_axis");
    } else if (key == "chunks") {
      if (!v.IsSequence()) {
        r.fail(v, "'chunks' must be a list");
      }
      for (const auto& c : v) {
        if (!c.IsMap()) {
          r.fail(c, "each chunk must be a mapping");
        }
        Sidecar::Chunk ch;
        for (const auto& ckv : c) {
          std::string ck = ckv.first.Scalar();
          if (ck == "file") {
            ch.file = r.str(ckv.second, "file");
          } else if (ck == "rows") {
            std::vector<uint64_t> rows = r.shape(ckv.second);
            if (rows.size() != 2 || rows[0] > rows[1]) {
              r.fail(ckv.second, "'rows' must be [begin, end]");
            }
            ch.row_begin = rows[0];
            ch.row_end = rows[1];
          } else if (ck == "size") {
            ch.size = r.u64(ckv.second, "size");
          } else if (ck == "sha256") {
            ch.sha256 = r.str(ckv.second, "sha256");
            if (!util::is_sha256_hex(ch.sha256)) {
              r.fail(ckv.second, "'sha256' must be 64 lowercase hex digits");
            }
          } else {
            r.fail(ckv.first, "unknown key '" + ck + "' in chunk");
          }
        }
        if (ch.file.empty() || ch.file.find('/') != std::string::npos || ch.file == "..") {
          r.fail(c, "a chunk's 'file' must be a plain file name");
        }
        s.chunks.push_back(std::move(ch));
      }
    } else if (key == "pickled") {
      s.pickled = r.boolean(v, "pickled");
    } else if (key == "message") {
      s.message = r.opt(v, "message");
    } else if (key == "meta") {
      if (!v.IsMap() && !v.IsNull()) {
        r.fail(v, "'meta' must be a mapping");
      }
      if (v.IsMap() && v.size() > 0) {
        YAML::Emitter em;
        size_t budget = k_meta_node_budget;
        try {
          emit_meta(em, v, budget);
        } catch (const Error& e) {
          r.fail(v, e.what());
        }
        s.meta_yaml = em.c_str();
      }
    } else {
      r.fail(kv.first, "unknown key '" + key + "'");
    }
  }
  for (const char* required : {"dsm_sidecar", "name", "version", "file", "size", "sha256", "format"}) {
    if (!seen.count(required)) {
      throw Error(quote(file) + ": missing '" + required + "'");
    }
  }
  if (have_facts) {
    s.npy = facts;
  }
  return s;
}

Sidecar Sidecar::load(const fs::path& path) { return parse(util::read_file(path, 16u << 20), path.string()); }

Sidecar Sidecar::load_fd(int fd, const fs::path& path) {
  constexpr size_t k_max = 16u << 20;
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    throw Error("cannot stat " + quote(path.string()) + ": " + util::errno_message(errno));
  }
  // Read one byte more than fstat says, bounded: a file that grew is seen.
  std::string text(std::min<size_t>(static_cast<size_t>(st.st_size), k_max) + 1, '\0');
  size_t n = util::read_some(fd, text.data(), text.size(), path);
  if (n > k_max || static_cast<uint64_t>(st.st_size) > k_max) {
    throw Error("cannot read " + quote(path.string()) + ": file too large (more than " + std::to_string(k_max) +
                " bytes)");
  }
  text.resize(n);
  return parse(text, path.string());
}

nlohmann::json Sidecar::to_json() const {
  using nlohmann::json;
  auto opt = [](const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); };
  auto stats_json = [](const std::optional<Stats>& st) -> json {
    if (!st) {
      return nullptr;
    }
    auto num = [](double v) -> json { return std::isfinite(v) ? json(v) : json(nullptr); };
    return json{{"count", st->count}, {"min", num(st->min)}, {"max", num(st->max)},
                {"mean", num(st->mean)}, {"nan", st->nan}, {"inf", st->inf}};
  };
  auto facts_json = [&](json& j, const ArrayFacts& f) {
    j["npy_version"] = f.npy_version;
    j["descr"] = f.descr;
    j["shape"] = f.shape;
    j["fortran_order"] = f.fortran_order;
    j["stats"] = stats_json(f.stats);
  };
  json j = json::object();
  j["dsm_sidecar"] = sidecar_version;
  j["name"] = name;
  j["version"] = version;
  j["file"] = file;
  j["created"] = created;
  j["author"] = opt(author);
  j["git_commit"] = opt(git_commit);
  j["branch"] = opt(branch);
  j["source"] = source;
  j["host"] = host;
  j["size"] = size;
  j["sha256"] = sha256;
  j["format"] = format;
  if (npy) {
    facts_json(j, *npy);
  }
  if (format == "npz") {
    j["members"] = json::array();
    for (const auto& m : members) {
      json mj = {{"name", m.name}};
      if (m.facts) {
        facts_json(mj, *m.facts);
      } else {
        mj["array"] = false;
      }
      j["members"].push_back(mj);
    }
  }
  if (compression) {
    j["compression"] = *compression;
  }
  if (original) {
    j["original"] = {{"size", original->size}, {"sha256", original->sha256}};
    if (!original->header_hex.empty()) {
      j["original"]["header"] = original->header_hex;
    }
  }
  if (format == "chunks") {
    j["chunk_axis"] = chunk_axis;
    j["chunks"] = json::array();
    for (const auto& c : chunks) {
      j["chunks"].push_back({{"file", c.file},
                             {"rows", {c.row_begin, c.row_end}},
                             {"size", c.size},
                             {"sha256", c.sha256}});
    }
  }
  j["pickled"] = pickled;
  j["message"] = opt(message);
  j["meta"] = json::object();
  if (!meta_yaml.empty() && meta_yaml != "{}") {
    try {
      j["meta"] = yaml_to_json(YAML::Load(meta_yaml));
    } catch (const YAML::Exception&) {
      j["meta"] = meta_yaml;
    }
  }
  return j;
}

std::vector<std::string> compare_facts(const Sidecar& s, const FileInfo& info) {
  std::vector<std::string> out;
  auto diff = [&out](const std::string& field, const std::string& said, const std::string& found) {
    if (said != found) {
      out.push_back("sidecar says " + field + " " + said + ", file says " + field + " " + found);
    }
  };
  auto facts = [&](const std::string& prefix, const ArrayFacts& f, const NpyInfo& n) {
    diff(prefix + "descr", "'" + f.descr + "'", "'" + ArrayFacts::from(n).descr + "'");
    diff(prefix + "shape", shape_text(f.shape, ShapeStyle::list), shape_text(n.shape, ShapeStyle::list));
    diff(prefix + "fortran_order", f.fortran_order ? "true" : "false", n.fortran_order ? "true" : "false");
  };
  std::string fmt = info.format == Format::npy ? "npy" : "npz";
  diff("format", s.format, fmt);
  diff("size", std::to_string(s.size), std::to_string(info.size));
  diff("sha256", s.sha256, info.sha256);
  if (s.format != fmt) {
    return out;
  }
  if (info.format == Format::npy && info.npy) {
    if (!s.npy) {
      out.push_back("sidecar says no header facts, file says descr '" + info.npy->descr + "'");
    } else {
      facts(std::string(), *s.npy, *info.npy);
    }
  }
  if (info.format == Format::npz) {
    std::string said;
    std::string found;
    for (const auto& m : s.members) {
      said += (said.empty() ? "" : ", ") + m.name;
    }
    for (const auto& m : info.members) {
      found += (found.empty() ? "" : ", ") + m.name;
    }
    diff("members", "[" + said + "]", "[" + found + "]");
    if (said == found) {
      for (size_t i = 0; i < s.members.size() && i < info.members.size(); ++i) {
        const auto& sm = s.members[i];
        const auto& fm = info.members[i];
        if (sm.facts && fm.npy) {
          facts("member '" + sm.name + "' ", *sm.facts, *fm.npy);
        } else if (sm.facts.has_value() != fm.npy.has_value()) {
          diff("member '" + sm.name + "' array", sm.facts ? "true" : "false", fm.npy ? "true" : "false");
        }
      }
    }
  }
  return out;
}

nlohmann::json yaml_to_json(const YAML::Node& node) {
  using nlohmann::json;
  switch (node.Type()) {
  case YAML::NodeType::Null:
  case YAML::NodeType::Undefined:
    return nullptr;
  case YAML::NodeType::Sequence: {
    json arr = json::array();
    for (const auto& n : node) {
      arr.push_back(yaml_to_json(n));
    }
    return arr;
  }
  case YAML::NodeType::Map: {
    json obj = json::object();
    for (const auto& kv : node) {
      obj[kv.first.Scalar()] = yaml_to_json(kv.second);
    }
    return obj;
  }
  case YAML::NodeType::Scalar:
    break;
  }
  const std::string& s = node.Scalar();
  if (node.Tag() == "!") {
    return s; // quoted: always a string
  }
  if (s == "null" || s == "Null" || s == "NULL" || s == "~") {
    return nullptr;
  }
  if (s == "true" || s == "True" || s == "TRUE") {
    return true;
  }
  if (s == "false" || s == "False" || s == "FALSE") {
    return false;
  }
  if (std::regex_match(s, int_re())) {
    try {
      return std::stoll(s);
    } catch (const std::exception&) {
      return s;
    }
  }
  if (std::regex_match(s, float_re())) {
    try {
      return std::stod(s);
    } catch (const std::exception&) {
      return s;
    }
  }
  return s;
}

std::string build_meta(const std::optional<fs::path>& meta_file, const std::vector<std::string>& pairs) {
  YAML::Node meta(YAML::NodeType::Map);
  if (meta_file) {
    std::string text = util::read_user_file(*meta_file, 16u << 20);
    YAML::Node loaded = load_yaml(text, meta_file->string());
    if (!loaded.IsMap() && !loaded.IsNull()) {
      throw Error(quote(meta_file->string()) + ": --meta needs a YAML mapping of KEY: VALUE");
    }
    if (loaded.IsMap()) {
      for (const auto& kv : loaded) {
        meta[kv.first.Scalar()] = kv.second;
      }
    }
  }
  for (const auto& pair : pairs) {
    size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw Error("invalid -m " + quote(pair) + ": expected KEY=VALUE");
    }
    std::string key = pair.substr(0, eq);
    std::string value = pair.substr(eq + 1);
    if (key.find_first_of("\n\r\t") != std::string::npos) {
      throw Error("invalid -m key " + quote(key) + ": control characters");
    }
    YAML::Node v;
    try {
      v = YAML::Load(value);
    } catch (const YAML::Exception& e) {
      throw Error("invalid -m value for " + quote(key) + ": " + e.msg);
    }
    // A value is typed as YAML reads it (42, 0.5, true, null), and an
    // explicit flow structure ([1, 2], {a: 1}) is kept as one; anything else
    // YAML would turn into a structure ("note=see: below", "x=- a") is the
    // text the user typed. An empty value is the empty string, not null.
    bool flow = !value.empty() && (value.front() == '[' || value.front() == '{');
    if (value.empty() || (!v.IsScalar() && !v.IsNull() && !flow)) {
      v = YAML::Node(value);
    }
    meta[key] = v;
  }
  if (meta.size() == 0) {
    return "{}";
  }
  YAML::Emitter em;
  size_t budget = k_meta_node_budget;
  emit_meta(em, meta, budget);
  if (!em.good()) {
    throw Error(std::string("cannot write metadata: ") + em.GetLastError());
  }
  return em.c_str();
}

} // namespace dsm

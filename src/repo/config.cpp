#include "repo/config.hpp"
#include "repo/yaml_load.hpp"

#include "util/yaml_text.hpp"
#include "dsm/error.hpp"
#include "util/file.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>

namespace dsm {

namespace {

std::string where(const std::string& file, const YAML::Node& node) {
  return quote(file) + ":" + std::to_string(node.Mark().line + 1);
}

[[noreturn]] void fail(const std::string& file, const YAML::Node& node, const std::string& what) {
  throw Error(where(file, node) + ": " + what);
}

std::string scalar(const std::string& file, const YAML::Node& node, const std::string& key) {
  if (!node.IsScalar()) {
    fail(file, node, "'" + key + "' must be a string");
  }
  return node.Scalar();
}

uint64_t unsigned_value(const std::string& file, const YAML::Node& node, const std::string& key) {
  std::string s = scalar(file, node, key);
  if (s.empty() || s.size() > 19 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    fail(file, node, "'" + key + "' must be a non-negative integer, not '" + s + "'");
  }
  return std::stoull(s);
}

bool bool_value(const std::string& file, const YAML::Node& node, const std::string& key) {
  std::string s = scalar(file, node, key);
  if (s == "true") {
    return true;
  }
  if (s == "false") {
    return false;
  }
  fail(file, node, "'" + key + "' must be true or false, not '" + s + "'");
}

// One table of known keys: a key missing here is an error, never ignored.
using Setter = void (*)(Config&, const std::string& file, const YAML::Node&);
struct KeySpec {
  const char* key;
  Setter set;
};

RemoteConfig parse_remote(const std::string& file, const std::string& name, const YAML::Node& node) {
  if (!node.IsMap()) {
    fail(file, node, "remote '" + name + "' must be a mapping with at least 'url'");
  }
  RemoteConfig r;
  r.name = name;
  for (const auto& kv : node) {
    std::string k = kv.first.Scalar();
    if (k == "url") {
      r.url = scalar(file, kv.second, k);
    } else if (k == "endpoint") {
      r.endpoint = scalar(file, kv.second, k);
    } else if (k == "region") {
      r.region = scalar(file, kv.second, k);
    } else if (k == "default") {
      r.is_default = bool_value(file, kv.second, k);
    } else {
      fail(file, kv.first, "unknown key '" + k + "' in remote '" + name + "'");
    }
  }
  if (r.url.empty()) {
    fail(file, node, "remote '" + name + "' has no 'url'");
  }
  return r;
}

const KeySpec k_keys[] = {
  {"version",
   [](Config& c, const std::string& f, const YAML::Node& n) {
     uint64_t v = unsigned_value(f, n, "version");
     if (v == 0 || v > static_cast<uint64_t>(k_config_version)) {
       fail(f, n, "config version " + std::to_string(v) + " is not supported by this dsm (supports " +
                    std::to_string(k_config_version) + "); upgrade dsm");
     }
     c.version = static_cast<int>(v);
   }},
  {"data_dir",
   [](Config& c, const std::string& f, const YAML::Node& n) {
     c.data_dir = scalar(f, n, "data_dir");
     try {
       validate_data_dir(c.data_dir);
     } catch (const Error& e) {
       fail(f, n, e.what());
     }
   }},
  {"extensions",
   [](Config& c, const std::string& f, const YAML::Node& n) {
     if (!n.IsSequence() || n.size() == 0) {
       fail(f, n, "'extensions' must be a non-empty list like [.npy, .npz]");
     }
     c.extensions.clear();
     for (const auto& e : n) {
       std::string ext = scalar(f, e, "extensions");
       if (ext.size() < 2 || ext[0] != '.' || ext.find('/') != std::string::npos) {
         fail(f, e, "invalid extension '" + ext + "' (expected something like .npy)");
       }
       c.extensions.push_back(ext);
     }
   }},
  {"naming",
   [](Config& c, const std::string& f, const YAML::Node& n) {
     c.naming = scalar(f, n, "naming");
     try {
       validate_naming(c.naming);
     } catch (const Error& e) {
       fail(f, n, e.what());
     }
   }},
  {"max_git_file_size",
   [](Config& c, const std::string& f, const YAML::Node& n) {
     c.max_git_file_size = unsigned_value(f, n, "max_git_file_size");
   }},
  {"allow",
   [](Config& c, const std::string& f, const YAML::Node& n) {
     if (n.IsNull()) {
       return;
     }
     if (!n.IsSequence()) {
       fail(f, n, "'allow' must be a list of git pathspecs, like [tests/fixtures/*.npy]");
     }
     for (const auto& e : n) {
       std::string spec = scalar(f, e, "allow");
       if (spec.empty()) {
         fail(f, e, "an empty pathspec in 'allow' would allow every file");
       }
       c.allow.push_back(spec);
     }
   }},
  {"remotes",
   [](Config& c, const std::string& f, const YAML::Node& n) {
     if (n.IsNull()) {
       return;
     }
     if (!n.IsMap()) {
       fail(f, n, "'remotes' must be a mapping NAME -> {url: ...}");
     }
     int defaults = 0;
     for (const auto& kv : n) {
       std::string name = kv.first.Scalar();
       if (name.empty() || !yaml_plain_safe(name) || name.find('.') == 0) {
         fail(f, kv.first, "invalid remote name '" + name + "'");
       }
       c.remotes.push_back(parse_remote(f, name, kv.second));
       if (c.remotes.back().is_default && ++defaults > 1) {
         fail(f, kv.second, "more than one remote is marked 'default: true'");
       }
     }
     std::sort(c.remotes.begin(), c.remotes.end(),
               [](const RemoteConfig& a, const RemoteConfig& b) { return a.name < b.name; });
   }},
};

} // namespace

void validate_data_dir(const std::string& data_dir) {
  if (data_dir.empty()) {
    throw Error("data_dir is empty");
  }
  if (data_dir.find('\0') != std::string::npos || data_dir.find('\n') != std::string::npos ||
      data_dir.find('\r') != std::string::npos) {
    throw Error("data_dir " + quote(data_dir) + " contains a control character");
  }
  fs::path p(data_dir);
  if (p.is_absolute()) {
    throw Error("data_dir " + quote(data_dir) + " must be relative to the repository root");
  }
  fs::path norm = p.lexically_normal();
  std::string first;
  for (const auto& part : norm) {
    std::string s = part.string();
    if (s == "..") {
      throw Error("data_dir " + quote(data_dir) + " is outside the work tree");
    }
    if (first.empty()) {
      first = s;
    }
  }
  if (norm == "." || norm.empty() || first.empty()) {
    throw Error("data_dir " + quote(data_dir) + " is the repository root itself");
  }
  if (first == ".git" || first == ".dsm") {
    throw Error("data_dir " + quote(data_dir) + " is inside " + first);
  }
}

void validate_naming(const std::string& naming) {
  for (const char* ph : {"{name}", "{date}", "{seq}"}) {
    size_t at = naming.find(ph);
    if (at == std::string::npos || naming.find(ph, at + 1) != std::string::npos) {
      throw Error("naming pattern " + quote(naming) + " must contain " + ph + " exactly once");
    }
  }
  std::string rest = naming;
  for (const char* ph : {"{name}", "{date}", "{seq}"}) {
    rest.erase(rest.find(ph), std::string(ph).size());
  }
  for (char c : rest) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-' || c == '.';
    if (!ok) {
      throw Error("naming pattern " + quote(naming) + " may only add characters from [A-Za-z0-9._-]");
    }
  }
  // {date} and {seq} are both digits: a separator keeps them apart.
  if (naming.find("{date}{seq}") != std::string::npos || naming.find("{seq}{date}") != std::string::npos) {
    throw Error("naming pattern " + quote(naming) + " needs a separator between {date} and {seq}");
  }
}

Config Config::parse(const std::string& text, const std::string& file) {
  YAML::Node root = load_yaml(text, file);
  if (!root.IsMap()) {
    throw Error(quote(file) + ": expected a YAML mapping of settings");
  }
  Config c;
  bool have_version = false;
  std::set<std::string> seen;
  for (const auto& kv : root) {
    std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string("?");
    const KeySpec* spec = nullptr;
    for (const auto& k : k_keys) {
      if (key == k.key) {
        spec = &k;
      }
    }
    if (!spec) {
      fail(file, kv.first, "unknown key '" + key + "'");
    }
    if (!seen.insert(key).second) {
      fail(file, kv.first, "duplicate key '" + key + "'");
    }
    spec->set(c, file, kv.second);
    have_version = have_version || key == "version";
  }
  if (!have_version) {
    throw Error(quote(file) + ": missing 'version'");
  }
  return c;
}

Config Config::load(const fs::path& file) { return parse(util::read_file(file, 1u << 20), file.string()); }

std::string Config::serialize() const {
  std::string out = "# dsm repository configuration (committed). Keys: docs/guide.md (\".dsm/config.yaml\");\n"
                    "# remotes: docs/sharing.md; allow and the hook: docs/hooks.md\n";
  out += "version: " + std::to_string(version) + "\n";
  out += "data_dir: " + yaml_quote(data_dir) + "\n";
  out += "extensions: [";
  for (size_t i = 0; i < extensions.size(); ++i) {
    out += (i ? ", " : "") + yaml_quote(extensions[i]);
  }
  out += "]\n";
  out += "naming: " + yaml_quote(naming) + "\n";
  out += "max_git_file_size: " + std::to_string(max_git_file_size) + "\n";
  if (!allow.empty()) {
    out += "allow:\n";
    for (const std::string& spec : allow) {
      out += "  - " + yaml_quote(spec) + "\n";
    }
  }
  if (!remotes.empty()) {
    out += "remotes:\n";
    for (const auto& r : remotes) {
      out += "  " + r.name + ":\n";
      out += "    url: " + yaml_quote(r.url) + "\n";
      if (r.endpoint) {
        out += "    endpoint: " + yaml_quote(*r.endpoint) + "\n";
      }
      if (r.region) {
        out += "    region: " + yaml_quote(*r.region) + "\n";
      }
      if (r.is_default) {
        out += "    default: true\n";
      }
    }
  }
  return out;
}

const RemoteConfig* Config::find_remote(const std::string& name) const {
  for (const auto& r : remotes) {
    if (r.name == name) {
      return &r;
    }
  }
  return nullptr;
}

const RemoteConfig* Config::default_remote() const {
  for (const auto& r : remotes) {
    if (r.is_default) {
      return &r;
    }
  }
  return remotes.size() == 1 ? &remotes.front() : nullptr;
}

bool Config::is_payload_name(const std::string& filename) const {
  for (const auto& e : extensions) {
    if (filename.size() > e.size() && filename.compare(filename.size() - e.size(), e.size(), e) == 0) {
      return true;
    }
  }
  return false;
}

} // namespace dsm

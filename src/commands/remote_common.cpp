#include "commands/remote_common.hpp"

#include "commands/context.hpp"
#include "dsm/error.hpp"
#include "dsm/interrupt.hpp"
#include "dsm/repository.hpp"
#include "remote/store.hpp"
#include "remote/transfer.hpp"
#include "util/file.hpp"

#include <CLI/CLI.hpp>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <set>
#include <sys/stat.h>

namespace dsm {

const RemoteConfig& choose_remote(const Repository& repo, const std::string& name) {
  const Config& config = repo.config();
  if (!name.empty()) {
    const RemoteConfig* r = config.find_remote(name);
    if (r == nullptr) {
      throw Error("no remote named " + quote(name) + " (see 'dsm remote list')");
    }
    return *r;
  }
  if (config.remotes.empty()) {
    throw Error("no remote configured: add one with 'dsm remote add NAME URL'");
  }
  const RemoteConfig* r = config.default_remote();
  if (r == nullptr) {
    throw Error("several remotes and none is the default: use --remote NAME, or 'dsm remote add NAME URL "
                "--default'");
  }
  return *r;
}

std::optional<RemoteAvailability> remote_availability(const Repository& repo, const std::string& name,
                                                      const std::vector<std::string>& shas) {
  const Config& config = repo.config();
  const RemoteConfig* rc = name.empty() ? config.default_remote() : &choose_remote(repo, name);
  if (rc == nullptr || shas.empty()) {
    return std::nullopt;
  }
  RemoteAvailability out;
  out.remote = rc->name;
  try {
    std::unique_ptr<remote::ObjectStore> store = open_remote(repo, *rc);
    store->check_access();
    if (!store->cheap_stat() && shas.size() > 32) {
      auto listed = store->list(); // one request per 1,000 objects
      for (const std::string& sha : shas) {
        if (listed.count(sha) != 0) {
          out.present.insert(sha);
        }
      }
    } else {
      for (const std::string& sha : shas) {
        check_interrupted();
        if (store->stat(sha)) {
          out.present.insert(sha);
        }
      }
    }
  } catch (const Error& e) {
    if (e.exit_code() == k_exit_interrupted) {
      throw;
    }
    out.present.clear();
    out.error = e.what();
  }
  return out;
}

std::unique_ptr<remote::ObjectStore> open_remote(const Repository& repo, const RemoteConfig& rc) {
  remote::RemoteSpec spec{rc.name, rc.url, rc.endpoint.value_or(""), rc.region.value_or("")};
  remote::StoreOptions options;
  options.state_dir = repo.local_dir() / "remotes" / rc.name;
  return remote::open_store(spec, options);
}

Manifest load_manifest_for_remote(const Repository& repo) {
  fs::path p = repo.manifest_path();
  std::error_code ec;
  if (!fs::exists(p, ec)) {
    return Manifest{};
  }
  return Manifest::parse(util::read_file(p), p.string());
}

namespace {

std::string parent_of(const std::string& rel) {
  size_t slash = rel.rfind('/');
  return slash == std::string::npos ? "" : rel.substr(0, slash);
}

// The version of a payload: its sidecar's `version`, else the trailing
// digits of its stem (the default naming ends with _{seq}).
std::optional<uint64_t> payload_version(const fs::path& payload) {
  fs::path side = Repository::sidecar_path(payload);
  std::error_code ec;
  if (fs::exists(side, ec)) {
    try {
      YAML::Node n = YAML::LoadFile(side.string());
      if (n["version"]) {
        return n["version"].as<uint64_t>();
      }
    } catch (const std::exception&) {
      // fall through to the file name
    }
  }
  std::string stem = payload.stem().string();
  size_t end = stem.size();
  size_t begin = end;
  while (begin > 0 && std::isdigit(static_cast<unsigned char>(stem[begin - 1]))) {
    --begin;
  }
  if (begin == end || begin == 0 || stem[begin - 1] != '_') {
    return std::nullopt;
  }
  return std::stoull(stem.substr(begin));
}

} // namespace

std::vector<ManifestEntry> select_entries(const Repository& repo, const Manifest& manifest,
                                          const std::vector<std::string>& targets, const fs::path& work_dir) {
  std::vector<ManifestEntry> all = manifest.entries();
  if (targets.empty()) {
    return all;
  }
  std::set<std::string> chosen;
  for (const std::string& target : targets) {
    size_t before = chosen.size();
    bool matched = false;
    size_t at = target.rfind('@');
    if (at != std::string::npos && at > 0 && at + 1 < target.size() &&
        target.find_first_not_of("0123456789", at + 1) == std::string::npos) {
      std::string name = target.substr(0, at);
      uint64_t version = std::stoull(target.substr(at + 1));
      for (const auto& e : all) {
        if (parent_of(e.path) == name && payload_version(repo.data_dir() / e.path) == version) {
          chosen.insert(e.path);
          matched = true;
        }
      }
    } else {
      // A path (absolute, or relative to where dsm runs) inside the data dir.
      fs::path abs = (work_dir / target).lexically_normal();
      std::optional<std::string> rel = repo.data_relative(abs);
      if (rel) {
        for (const auto& e : all) {
          if (rel->empty() || e.path == *rel || e.path.rfind(*rel + "/", 0) == 0) {
            chosen.insert(e.path);
            matched = true;
          }
        }
      }
      if (!matched) {
        // A dataset name: every version.
        for (const auto& e : all) {
          if (parent_of(e.path) == target) {
            chosen.insert(e.path);
            matched = true;
          }
        }
      }
    }
    if (!matched && chosen.size() == before) {
      throw Error("no dataset, version or payload in the manifest matches " + quote(target));
    }
  }
  std::vector<ManifestEntry> out;
  for (const auto& e : all) {
    if (chosen.count(e.path) != 0) {
      out.push_back(e);
    }
  }
  return out;
}

std::optional<uint64_t> sidecar_size(const fs::path& payload) {
  fs::path side = Repository::sidecar_path(payload);
  std::error_code ec;
  if (!fs::exists(side, ec)) {
    return std::nullopt;
  }
  try {
    YAML::Node n = YAML::LoadFile(side.string());
    if (n["size"]) {
      return n["size"].as<uint64_t>();
    }
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

int verify_remote(Context& ctx, const std::string& remote_name, const std::vector<std::string>& targets,
                  unsigned jobs) {
  Repository& repo = *ctx.repo;
  const RemoteConfig& rc = choose_remote(repo, remote_name);
  std::unique_ptr<remote::ObjectStore> store = open_remote(repo, rc);
  Manifest manifest = load_manifest_for_remote(repo);
  std::vector<ManifestEntry> entries = select_entries(repo, manifest, targets, ctx.work_dir);
  store->check_access();

  // Expected sizes: the local payload, else its sidecar.
  std::vector<std::optional<uint64_t>> expected(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    fs::path p = repo.data_dir() / entries[i].path;
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      expected[i] = static_cast<uint64_t>(st.st_size);
    } else {
      expected[i] = sidecar_size(p);
    }
  }
  std::vector<std::optional<uint64_t>> actual(entries.size());
  if (!store->cheap_stat() && entries.size() > 32) {
    auto listed = store->list();
    for (size_t i = 0; i < entries.size(); ++i) {
      auto it = listed.find(entries[i].sha256);
      if (it != listed.end()) {
        actual[i] = it->second;
      }
    }
  } else {
    auto failures = remote::run_parallel(entries.size(), jobs,
                                         [&](size_t i) { actual[i] = store->stat(entries[i].sha256); });
    if (!failures.empty()) {
      throw Error(failures.front().message, failures.front().exit_code);
    }
  }
  std::vector<std::string> problems(entries.size());
  auto hash_failures = remote::run_parallel(entries.size(), jobs, [&](size_t i) {
    fs::path p = repo.data_dir() / entries[i].path;
    const std::string key = remote::object_key(entries[i].sha256);
    if (!actual[i]) {
      problems[i] = "MISSING " + p.string() + ": no object " + quote(key) + " on " + store->describe();
      return;
    }
    if (expected[i] && *expected[i] != *actual[i]) {
      problems[i] = "FAILED " + p.string() + ": object " + quote(key) + " on " + store->describe() + " has " +
                    std::to_string(*actual[i]) + " bytes, expected " + std::to_string(*expected[i]);
      return;
    }
    if (auto h = store->hash_object(entries[i].sha256); h && *h != entries[i].sha256) {
      problems[i] = "FAILED " + p.string() + ": object " + quote(key) + " on " + store->describe() +
                    " is corrupt (its content hashes to " + *h + ")";
    }
  });
  if (!hash_failures.empty()) {
    throw Error(hash_failures.front().message, hash_failures.front().exit_code);
  }
  size_t bad = 0;
  for (const auto& p : problems) {
    if (!p.empty()) {
      std::cout << p << "\n";
      ++bad;
    }
  }
  std::cout << entries.size() << " payload" << (entries.size() == 1 ? "" : "s") << " checked on "
            << store->describe() << ": ";
  if (bad == 0) {
    std::cout << "all present" << (store->cheap_stat() ? " and intact" : " with the right size") << "\n";
    return k_exit_ok;
  }
  std::cout << bad << " problem" << (bad == 1 ? "" : "s") << "\n";
  return k_exit_problems;
}

void finish_transfer(const std::string& verb, const std::string& preposition, size_t done, uint64_t bytes,
                     const std::string& store, double seconds, const std::string& skipped,
                     const std::vector<std::string>& problems, int worst) {
  // One line per problem, each once: every worker stopped by Ctrl-C reports
  // "interrupted", and the final error below says that.
  std::set<std::string> said;
  for (const auto& p : problems) {
    if (p != "interrupted" && said.insert(p).second) {
      std::cerr << "dsm: error: " << p << "\n";
    }
  }
  char timing[32];
  std::snprintf(timing, sizeof timing, "%.2f s", seconds);
  std::cout << verb << " " << done << " payload" << (done == 1 ? "" : "s") << " (" << remote::human_bytes(bytes)
            << ") " << preposition << " " << store << " in " << timing << "; " << skipped << "\n";
  if (worst == k_exit_interrupted) {
    throw Error("interrupted: nothing partial was left behind; run it again to resume", worst);
  }
  if (worst != k_exit_ok) {
    throw Error(std::to_string(problems.size()) + " problem" + (problems.size() == 1 ? "" : "s") + " while " +
                    (verb == "pushed" ? "pushing to " : "pulling from ") + store,
                worst);
  }
}

void add_transfer_options(CLI::App* sub, std::vector<std::string>& targets, std::string& remote, unsigned& jobs,
                          const std::string& verb, const std::string& direction) {
  sub->add_option("TARGET", targets,
                  "Dataset name, NAME@VERSION, or a path in the data directory (default: every payload in the "
                  "manifest)");
  sub->add_option("--remote", remote, "Remote to " + verb + " " + direction + " (default: the default remote)")
      ->type_name("NAME");
  sub->add_option("--jobs,-j", jobs, "Parallel transfers")->check(CLI::Range(1, 256))->capture_default_str();
}

} // namespace dsm

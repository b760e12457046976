// dsm remote add NAME URL [--default] [--endpoint URL] [--region R]
// dsm remote list [--json]
// dsm remote remove NAME
//
// Remotes live in .dsm/config.yaml (committed, so every clone knows them)
// and never hold credentials: those come from the environment or ~/.aws.
#include "commands/commands.hpp"
#include "dsm/error.hpp"
#include "ops/sync.hpp"
#include "remote/store.hpp"
#include "repo/config.hpp"
#include "repo/repository.hpp"
#include "util/file.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

namespace dsm {

namespace {

struct RemoteOptions {
  std::string name;
  std::string url;
  std::string endpoint;
  std::string region;
  bool make_default = false;
  bool json = false;
  bool allow_http = false;
  bool no_check = false;
};

void check_remote_name(const std::string& name) {
  bool ok = !name.empty() && std::isalnum(static_cast<unsigned char>(name[0]));
  for (char c : name) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-');
  }
  if (!ok) {
    throw Error("invalid remote name " + quote(name) +
                ": use letters, digits, '.', '_' and '-', starting with a "
                "letter or digit");
  }
}

void save_config(const Repository& repo, const Config& config) {
  util::write_file_atomic(repo.config_path(), config.serialize());
}

void run_remote_add(Context& ctx, const RemoteOptions& o) {
  Repository& repo = *ctx.repo;
  check_remote_name(o.name);
  Config config = Config::load(repo.config_path());
  if (config.find_remote(o.name) != nullptr) {
    throw Error("remote " + quote(o.name) + " already exists (remove it first with 'dsm remote remove " +
                o.name + "')");
  }
  std::string url = o.url;
  bool is_url = url.rfind("s3://", 0) == 0 || url.find("://") != std::string::npos;
  if (!is_url && !url.empty() && url.front() != '/') {
    // A relative directory means relative to where the user stands; record
    // it absolute so it means the same from every subdirectory.
    url = ctx.from_work_dir(url).string();
    if (url.size() > 1 && url.back() == '/') {
      url.pop_back();
    }
  }
  remote::ParsedUrl parsed = remote::parse_remote_url(url);
  if (parsed.kind == remote::StoreKind::directory && (!o.endpoint.empty() || !o.region.empty())) {
    throw Error("--endpoint and --region apply to s3:// remotes only");
  }
  if (!o.endpoint.empty() && o.endpoint.rfind("http://", 0) != 0 && o.endpoint.rfind("https://", 0) != 0) {
    throw Error("invalid --endpoint " + quote(o.endpoint) + ": it must start with http:// or https://");
  }
  RemoteConfig r;
  r.name = o.name;
  r.url = url;
  if (!o.endpoint.empty()) {
    r.endpoint = o.endpoint;
  }
  if (!o.region.empty()) {
    r.region = o.region;
  }
  if (o.make_default) {
    for (auto& other : config.remotes) {
      other.is_default = false;
    }
    r.is_default = true;
  }
  if (!o.no_check) {
    // A mistyped directory or bucket shows now, not at the first push. The
    // check contacts the store as push would, so it is trusted first (what
    // the user adds here is trusted here anyway) and untrusted if it fails.
    trust_remote(repo, r, o.allow_http);
    try {
      open_remote(repo, r, RemoteAccess::write)->check_access();
    } catch (const Error& e) {
      untrust_remote(repo, r.name);
      throw Error(std::string(e.what()) + "; remote " + quote(r.name) +
                      " was not added (fix it, or add it anyway with --no-check)",
                  e.exit_code());
    }
  }
  config.remotes.push_back(r);
  std::sort(config.remotes.begin(), config.remotes.end(),
            [](const RemoteConfig& a, const RemoteConfig& b) { return a.name < b.name; });
  save_config(repo, config);
  // What the user adds here is trusted here (never what a clone brings).
  trust_remote(repo, r, o.allow_http);
}

const RemoteConfig& find_configured(const Repository& repo, const std::string& name) {
  const RemoteConfig* r = repo.config().find_remote(name);
  if (r == nullptr) {
    throw Error("no remote named " + quote(name) + " (see 'dsm remote list')");
  }
  return *r;
}

void run_remote_trust(Context& ctx, const RemoteOptions& o) {
  const RemoteConfig& r = find_configured(*ctx.repo, o.name);
  trust_remote(*ctx.repo, r, o.allow_http);
  std::cout << "trusting remote " << quote(r.name) << " (" << r.url
            << (r.endpoint ? " at " + *r.endpoint : "") << ") in this clone\n";
}

void run_remote_untrust(Context& ctx, const RemoteOptions& o) {
  untrust_remote(*ctx.repo, o.name);
}

void run_remote_list(Context& ctx, const RemoteOptions& o) {
  const Config& config = ctx.repo->config();
  const RemoteConfig* def = config.default_remote();
  if (o.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : config.remotes) {
      nlohmann::json j = {{"name", r.name}, {"url", r.url}, {"default", &r == def}};
      j["endpoint"] = r.endpoint ? nlohmann::json(*r.endpoint) : nlohmann::json(nullptr);
      j["region"] = r.region ? nlohmann::json(*r.region) : nlohmann::json(nullptr);
      out.push_back(j);
    }
    std::cout << out.dump(2) << "\n";
    return;
  }
  for (const auto& r : config.remotes) {
    std::cout << r.name << "  " << r.url;
    if (r.endpoint) {
      std::cout << "  endpoint=" << *r.endpoint;
    }
    if (r.region) {
      std::cout << "  region=" << *r.region;
    }
    if (&r == def) {
      std::cout << "  (default)";
    }
    if (untrusted_reason(*ctx.repo, r, RemoteAccess::write)) {
      std::cout << "  (not trusted here)";
    }
    std::cout << "\n";
  }
}

void run_remote_remove(Context& ctx, const RemoteOptions& o) {
  Repository& repo = *ctx.repo;
  Config config = Config::load(repo.config_path());
  auto it = std::find_if(config.remotes.begin(), config.remotes.end(),
                         [&](const RemoteConfig& r) { return r.name == o.name; });
  if (it == config.remotes.end()) {
    throw Error("no remote named " + quote(o.name) + " (see 'dsm remote list')");
  }
  config.remotes.erase(it);
  save_config(repo, config);
  untrust_remote(repo, o.name);
  // Local state about this remote (multipart uploads in flight) goes too.
  std::error_code ec;
  fs::remove_all(repo.local_dir() / "remotes" / o.name, ec);
}

} // namespace

void register_remote(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<RemoteOptions>();
  CLI::App* sub = app.add_subcommand("remote", "Manage the remotes payloads are pushed to and pulled from");
  // A bare `dsm remote` lists the remotes, as a bare `git remote` does.
  sub->require_subcommand(0, 1);
  sub->add_flag("--json", o->json, "With no subcommand: list the remotes as a JSON array");
  sub->callback([&ctx, o, sub] {
    if (sub->get_subcommands().empty()) {
      run_remote_list(ctx, *o);
    }
  });
  sub->footer("Remotes are recorded in .dsm/config.yaml (commit it to share them) without credentials.\n"
              "URL is a directory (/mnt/team/store, file:///mnt/team/store) or s3://BUCKET[/PREFIX].\n"
              "S3 credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN or\n"
              "the AWS_PROFILE profile in ~/.aws/credentials. See docs/sharing.md.\n\n" +
              exit_status_help("remote"));

  CLI::App* add = sub->add_subcommand("add", "Add a remote");
  add->add_option("NAME", o->name, "Name of the remote, e.g. origin")->required();
  add->add_option("URL", o->url, "A directory, file:///DIR, or s3://BUCKET[/PREFIX]")->required();
  add->add_flag("--default", o->make_default, "Make it the remote push and pull use without --remote");
  add->add_option("--endpoint", o->endpoint,
                  "S3-compatible server (MinIO, Ceph RGW, ...), e.g. http://host:9000")
      ->type_name("URL");
  add->add_option("--region", o->region, "S3 region (default: AWS_REGION, ~/.aws/config, us-east-1)")
      ->type_name("R");
  add->add_flag("--allow-http", o->allow_http,
                "Send credentials to a plain http:// endpoint that is not this machine (otherwise refused)");
  add->add_flag("--no-check", o->no_check,
                "Record it without checking that the directory exists or the bucket answers");
  add->footer(
      "Unless --no-check, the remote must be usable now: a directory that exists, a bucket that\n"
      "answers with your credentials. The remote is trusted in this clone (see 'dsm remote trust').\n\n" +
      exit_status_help("remote"));
  add->callback([&ctx, o] { run_remote_add(ctx, *o); });

  CLI::App* trust = sub->add_subcommand(
      "trust",
      "Let dsm push to a remote that came with the repository (and use your credentials with s3://)");
  trust->add_option("NAME", o->name, "Name of the remote")->required();
  trust->add_flag("--allow-http", o->allow_http,
                  "Also send credentials over plain http:// to a host that is not this machine");
  trust->footer("A clone brings .dsm/config.yaml, which names remotes; dsm writes (push, the pre-push\n"
                "hook, gc --remote) only to remotes trusted in this clone, and sends credentials only to\n"
                "those (recorded in .git/config, never committed). A directory remote is read (pull)\n"
                "without trust: every byte is checked against the manifest. The trust covers the URL\n"
                "and endpoint as configured now: if a pull changes them, trust again.\n\n" +
                exit_status_help("remote"));
  trust->callback([&ctx, o] { run_remote_trust(ctx, *o); });

  CLI::App* untrust = sub->add_subcommand(
      "untrust", "Stop pushing to a remote, or using credentials with it, from this clone");
  untrust->add_option("NAME", o->name, "Name of the remote")->required();
  untrust->footer(exit_status_help("remote"));
  untrust->callback([&ctx, o] { run_remote_untrust(ctx, *o); });

  CLI::App* list = sub->add_subcommand(
      "list", "List the remotes: NAME  URL  [endpoint=..] [region=..] [(default)] [(not trusted here)]");
  list->add_flag("--json", o->json, "Print a JSON array");
  list->footer("(not trusted here): the remote came with the repository and this clone has not run\n"
               "'dsm remote trust NAME', so dsm will not push to it (nor send it credentials).\n\n" +
               exit_status_help("remote"));
  list->callback([&ctx, o] { run_remote_list(ctx, *o); });

  CLI::App* remove =
      sub->add_subcommand("remove", "Remove a remote from the configuration (the store is untouched)");
  remove->add_option("NAME", o->name, "Name of the remote")->required();
  remove->footer(exit_status_help("remote"));
  remove->callback([&ctx, o] { run_remote_remove(ctx, *o); });
}

} // namespace dsm

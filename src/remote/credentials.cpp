#include "remote/credentials.hpp"

#include "dsm/error.hpp"
#include "util/file.hpp"

namespace dsm::remote {

namespace fs = std::filesystem;

namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) {
    return "";
  }
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

std::string env_or(const EnvFn& env, const char* name, const std::string& fallback = "") {
  const char* v = env(name);
  return (v != nullptr && *v != '\0') ? std::string(v) : fallback;
}

std::optional<std::string> read_optional(const fs::path& p) {
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) {
    return std::nullopt;
  }
  return util::read_user_file(p, 1u << 20);
}

fs::path aws_file(const EnvFn& env, const char* override_var, const char* name) {
  std::string o = env_or(env, override_var);
  if (!o.empty()) {
    return o;
  }
  std::string home = env_or(env, "HOME");
  if (home.empty()) {
    return {};
  }
  return fs::path(home) / ".aws" / name;
}

} // namespace

std::optional<std::string> ini_value(const std::string& text, const std::string& section, const std::string& key) {
  std::string current;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = trim(text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos));
    pos = nl == std::string::npos ? text.size() + 1 : nl + 1;
    if (line.empty() || line[0] == '#' || line[0] == ';') {
      continue;
    }
    if (line.front() == '[' && line.back() == ']') {
      current = trim(line.substr(1, line.size() - 2));
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string::npos || current != section) {
      continue;
    }
    if (trim(line.substr(0, eq)) == key) {
      return trim(line.substr(eq + 1));
    }
  }
  return std::nullopt;
}

std::optional<AwsCredentials> find_credentials(const EnvFn& env) {
  std::string key = env_or(env, "AWS_ACCESS_KEY_ID");
  std::string secret = env_or(env, "AWS_SECRET_ACCESS_KEY");
  if (!key.empty() || !secret.empty()) {
    if (key.empty() || secret.empty()) {
      throw Error(std::string("incomplete S3 credentials in the environment: ") +
                  (key.empty() ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY") + " is not set");
    }
    return AwsCredentials{key, secret, env_or(env, "AWS_SESSION_TOKEN"), "the environment"};
  }
  fs::path file = aws_file(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials");
  if (file.empty()) {
    return std::nullopt;
  }
  std::optional<std::string> text = read_optional(file);
  if (!text) {
    return std::nullopt;
  }
  std::string profile = env_or(env, "AWS_PROFILE", "default");
  auto k = ini_value(*text, profile, "aws_access_key_id");
  auto s = ini_value(*text, profile, "aws_secret_access_key");
  std::string where = "profile " + quote(profile) + " in " + quote(file.string());
  if (!k && !s) {
    if (env_or(env, "AWS_PROFILE").empty()) {
      return std::nullopt; // no default profile: same as no file
    }
    throw Error("no S3 credentials for " + where);
  }
  if (!k || !s || k->empty() || s->empty()) {
    throw Error("incomplete S3 credentials: " + where + " needs aws_access_key_id and aws_secret_access_key");
  }
  return AwsCredentials{*k, *s, ini_value(*text, profile, "aws_session_token").value_or(""), where};
}

std::string find_region(const std::string& configured, const EnvFn& env) {
  if (!configured.empty()) {
    return configured;
  }
  for (const char* var : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    std::string v = env_or(env, var);
    if (!v.empty()) {
      return v;
    }
  }
  fs::path file = aws_file(env, "AWS_CONFIG_FILE", "config");
  if (!file.empty()) {
    if (auto text = read_optional(file)) {
      std::string profile = env_or(env, "AWS_PROFILE", "default");
      std::string section = profile == "default" ? profile : "profile " + profile;
      if (auto r = ini_value(*text, section, "region"); r && !r->empty()) {
        return *r;
      }
    }
  }
  return "us-east-1";
}

} // namespace dsm::remote

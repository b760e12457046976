// AWS credentials and region for S3 remotes, found the way the AWS CLI finds
// them: the environment first (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN), then the profile AWS_PROFILE (default "default") in
// ~/.aws/credentials (or AWS_SHARED_CREDENTIALS_FILE). Never from the
// repository: .dsm/config.yaml is committed and holds no secrets.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace dsm::remote {

struct AwsCredentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token; // empty unless temporary credentials
  std::string source;        // "the environment" or "profile 'x' in '/path'", for messages
};

// getenv, injectable for tests.
using EnvFn = std::function<const char*(const char*)>;

// Nullopt when no credentials are configured anywhere; throws Error when a
// credentials file exists but the chosen profile is incomplete.
std::optional<AwsCredentials> find_credentials(const EnvFn& env);

// The region: the remote's configured one, else AWS_REGION,
// AWS_DEFAULT_REGION, the profile's `region` in ~/.aws/config, us-east-1.
std::string find_region(const std::string& configured, const EnvFn& env);

// The value of `key` in section `section` of an INI file's text (the format
// of ~/.aws/credentials and ~/.aws/config), or nullopt.
std::optional<std::string> ini_value(const std::string& text, const std::string& section, const std::string& key);

} // namespace dsm::remote

#include "remote/store.hpp"

#include "dsm/error.hpp"

namespace dsm::remote {

std::string object_key(const std::string& sha) { return "objects/sha256/" + sha.substr(0, 2) + "/" + sha.substr(2); }

namespace {

bool valid_bucket(const std::string& b) {
  // S3's rules (3-63 characters, lowercase letters, digits, dots, hyphens)
  // plus uppercase and '_', which some S3-compatible servers allow.
  if (b.size() < 3 || b.size() > 63) {
    return false;
  }
  for (char c : b) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '-' || c == '_';
    if (!ok) {
      return false;
    }
  }
  return true;
}

} // namespace

ParsedUrl parse_remote_url(const std::string& url) {
  ParsedUrl out;
  const std::string s3 = "s3://";
  const std::string file = "file://";
  if (url.rfind(s3, 0) == 0) {
    out.kind = StoreKind::s3;
    std::string rest = url.substr(s3.size());
    size_t slash = rest.find('/');
    out.bucket = rest.substr(0, slash);
    if (!valid_bucket(out.bucket)) {
      throw Error("invalid remote URL " + quote(url) + ": bucket name " + quote(out.bucket) +
                  " must be 3-63 letters, digits, '.', '-' or '_'");
    }
    std::string prefix = slash == std::string::npos ? "" : rest.substr(slash + 1);
    while (!prefix.empty() && prefix.back() == '/') {
      prefix.pop_back();
    }
    for (char c : prefix) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '\\') {
        throw Error("invalid remote URL " + quote(url) + ": the prefix has a control character or backslash");
      }
    }
    if (prefix.find("//") != std::string::npos || (!prefix.empty() && prefix.front() == '/')) {
      throw Error("invalid remote URL " + quote(url) + ": empty segment in the prefix");
    }
    out.prefix = prefix.empty() ? "" : prefix + "/";
    return out;
  }
  std::string path = url;
  if (url.rfind(file, 0) == 0) {
    path = url.substr(file.size());
    if (path.empty() || path.front() != '/') {
      throw Error("invalid remote URL " + quote(url) + ": a file URL needs an absolute path (file:///dir)");
    }
  } else if (url.find("://") != std::string::npos) {
    throw Error("invalid remote URL " + quote(url) + ": use a directory, file:///dir or s3://bucket[/prefix]");
  }
  if (path.empty() || path.front() != '/') {
    throw Error("invalid remote URL " + quote(url) + ": a directory remote needs an absolute path");
  }
  out.kind = StoreKind::directory;
  out.directory = fs::path(path).lexically_normal();
  return out;
}

std::unique_ptr<ObjectStore> open_store(const RemoteSpec& spec, const StoreOptions& options) {
  ParsedUrl url = parse_remote_url(spec.url);
  if (url.kind == StoreKind::directory) {
    if (!spec.endpoint.empty()) {
      throw Error("remote " + quote(spec.name) + ": --endpoint only applies to s3:// remotes");
    }
    return open_dir_store(spec.name, url.directory);
  }
  return open_s3_store(spec, url, options);
}

} // namespace dsm::remote

#include "core/payload_check.hpp"

#include "dsm/error.hpp"
#include "dsm/repository.hpp"
#include "util/file.hpp"
#include "util/sha256.hpp"

#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <vector>

namespace dsm {

SidecarFacts parse_sidecar_facts(const std::string& text, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw Error("'" + file + "': invalid YAML: " + e.msg);
  }
  if (!root.IsMap()) {
    throw Error("'" + file + "': not a YAML mapping");
  }
  SidecarFacts f;
  try {
    if (root["file"] && root["file"].IsScalar()) {
      f.file = root["file"].as<std::string>();
    }
    if (root["size"] && root["size"].IsScalar()) {
      f.size = root["size"].as<uint64_t>();
    }
    if (root["sha256"] && root["sha256"].IsScalar()) {
      f.sha256 = root["sha256"].as<std::string>();
    }
  } catch (const YAML::Exception& e) {
    throw Error("'" + file + "': " + e.msg);
  }
  if (!util::is_sha256_hex(f.sha256)) {
    throw Error("'" + file + "': no valid 'sha256'");
  }
  return f;
}

std::string sha256_file(const std::filesystem::path& path) {
  util::Fd fd = util::open_read(path);
  util::Sha256 h;
  std::vector<char> buf(1u << 20);
  for (;;) {
    size_t n = util::read_some(fd.get(), buf.data(), buf.size(), path);
    if (n == 0) {
      break;
    }
    h.update(buf.data(), n);
  }
  return h.hex_digest();
}

PayloadChecker::PayloadChecker(const Repository& repo) : m_repo(repo) {}
PayloadChecker::~PayloadChecker() = default;

std::optional<PayloadProblem> PayloadChecker::check(const std::filesystem::path& abs, std::optional<uint64_t> size,
                                                    const std::string& sha256) {
  struct stat st {};
  if (::stat(abs.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return PayloadProblem{PayloadProblem::Kind::missing, "missing from the work tree"};
  }
  auto actual_size = static_cast<uint64_t>(st.st_size);
  if (size && *size != actual_size) {
    return PayloadProblem{PayloadProblem::Kind::changed, "is " + std::to_string(actual_size) +
                                                             " bytes, but " + std::to_string(*size) +
                                                             " were recorded: it changed since 'dsm add'"};
  }
  std::string actual;
  try {
    actual = sha256_file(abs);
  } catch (const Error& e) {
    return PayloadProblem{PayloadProblem::Kind::unreadable, std::string("cannot be read: ") + e.what()};
  }
  if (actual != sha256) {
    return PayloadProblem{PayloadProblem::Kind::changed,
                          "content no longer matches its recorded SHA-256: it changed since 'dsm add'"};
  }
  (void)m_repo;
  return std::nullopt;
}

} // namespace dsm

// The record of dropped payloads: see dropped.hpp.
#include "repo/dropped.hpp"

#include "dsm/error.hpp"
#include "repo/repository.hpp"
#include "util/file.hpp"
#include "util/sha256.hpp"

#include <cerrno>
#include <sys/stat.h>

namespace dsm {

namespace {

constexpr const char* k_header = "dsm dropped 1";

fs::path record_path(const Repository& repo) {
  return repo.local_dir() / "dropped";
}

} // namespace

DroppedRecord DroppedRecord::load(const Repository& repo) {
  DroppedRecord r;
  fs::path p = record_path(repo);
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0 && errno == ENOENT) {
    return r;
  }
  std::string text = util::read_file(p, 64u << 20);
  size_t pos = 0;
  size_t line_no = 0;
  auto bad = [&](const std::string& why) {
    return Error(quote(p.string()) + ":" + std::to_string(line_no) + ": " + why +
                 " (the record of payloads 'dsm drop' deleted; 'dsm pull' restores them)");
  };
  while (pos < text.size()) {
    ++line_no;
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) {
      throw bad("no final newline");
    }
    std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (line_no == 1) {
      if (line.rfind("dsm dropped ", 0) == 0 && line != k_header) {
        throw bad("written by a newer dsm (" + line + ")");
      }
      if (line != k_header) {
        throw bad("not a dsm record of dropped payloads");
      }
      continue;
    }
    size_t sp = line.find(' ');
    if (sp == std::string::npos || !util::is_sha256_hex(line.substr(0, sp)) || sp + 1 >= line.size()) {
      throw bad("expected '<sha256> <remote>'");
    }
    r.m_by_sha[line.substr(0, sp)] = line.substr(sp + 1);
  }
  return r;
}

void DroppedRecord::save(const Repository& repo) const {
  std::string text = std::string(k_header) + "\n";
  for (const auto& [sha, remote] : m_by_sha) {
    text += sha + " " + remote + "\n";
  }
  repo.ensure_local_dir();
  util::write_file_atomic(record_path(repo), text);
}

std::optional<std::string> DroppedRecord::remote_of(const std::string& sha256) const {
  auto it = m_by_sha.find(sha256);
  if (it == m_by_sha.end()) {
    return std::nullopt;
  }
  return it->second;
}

} // namespace dsm

#include "repo/repository.hpp"

#include "dsm/error.hpp"
#include "repo/manifest.hpp"
#include "git/git.hpp"

#include "util/file.hpp"

#include <sys/stat.h>
#include <system_error>

namespace dsm {

namespace {

std::optional<std::string> relative_under(const fs::path& base, const fs::path& abs) {
  auto b = base.begin();
  auto a = abs.begin();
  for (; b != base.end(); ++b, ++a) {
    if (a == abs.end() || *a != *b) {
      return std::nullopt;
    }
  }
  std::string out;
  for (; a != abs.end(); ++a) {
    std::string seg = a->string();
    if (seg.empty()) {
      continue; // trailing slash
    }
    if (!out.empty()) {
      out += '/';
    }
    out += seg;
  }
  return out;
}

} // namespace

fs::path resolve_data_dir(const fs::path& root, const Config& config) {
  validate_data_dir(config.data_dir);
  fs::path rel = fs::path(config.data_dir).lexically_normal();
  fs::path dir = root / rel;
  if (dir.filename().empty()) {
    dir = dir.parent_path(); // "data/" -> "data"
  }
  // A symlinked data dir (or parent) must still land inside the work tree.
  std::error_code ec;
  fs::path real_root = fs::weakly_canonical(root, ec);
  fs::path real_dir = ec ? dir : fs::weakly_canonical(dir, ec);
  if (!ec) {
    std::optional<std::string> inside = relative_under(real_root, real_dir);
    if (!inside) {
      throw Error("data_dir " + quote(config.data_dir) + " resolves to " + quote(real_dir.string()) +
                  ", outside the work tree " + quote(root.string()));
    }
    if (inside->empty()) {
      throw Error("data_dir " + quote(config.data_dir) + " resolves to the repository root itself");
    }
  }
  return dir;
}

Repository::Repository(git::Repo git, Config config)
  : m_git(std::make_unique<git::Repo>(std::move(git))), m_config(std::move(config)) {
  m_root = m_git->work_tree();
  m_data_dir = resolve_data_dir(m_root, m_config);
  // .dsm/ and .dsm/local/ can come with a clone (git add -f): as symlinks
  // they would send the lock, the stat cache and every local write
  // elsewhere. Refused before anything is read or written through them.
  for (const char* rel : {k_dsm_dir, k_local_dir}) {
    struct stat st {};
    fs::path p = m_root / rel;
    if (::lstat(p.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
      throw Error("refusing " + quote(p.string()) + ": it is " +
                  (S_ISLNK(st.st_mode) ? std::string("a symlink") : std::string("not a directory")) +
                  ", and dsm never follows symlinks for its own files (remove it; dsm recreates .dsm/local)");
    }
  }
}

Repository::~Repository() = default;

std::unique_ptr<Repository> Repository::open(const fs::path& start) {
  git::Repo git = git::Repo::discover(start);
  fs::path config_file = git.work_tree() / k_config_file;
  std::error_code ec;
  if (!fs::exists(config_file, ec)) {
    throw Error("not a dsm repository (run 'dsm init'): no " + quote(config_file.string()));
  }
  Config config = Config::load(config_file);
  return std::make_unique<Repository>(std::move(git), std::move(config));
}

fs::path Repository::manifest_path() const { return m_data_dir / k_manifest_name; }

fs::path Repository::sidecar_path(const fs::path& payload) {
  fs::path p = payload;
  p += k_sidecar_suffix;
  return p;
}

std::optional<fs::path> Repository::payload_of_sidecar(const fs::path& p) {
  std::string s = p.string();
  std::string suffix = k_sidecar_suffix;
  if (s.size() <= suffix.size() || s.compare(s.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return std::nullopt;
  }
  return fs::path(s.substr(0, s.size() - suffix.size()));
}

std::optional<std::string> Repository::data_relative(const fs::path& abs) const {
  return relative_under(m_data_dir, abs);
}

std::string Repository::data_dir_relative() const { return *relative_under(m_root, m_data_dir); }

void Repository::ensure_local_dir() const {
  // Component by component, refusing a symlink (util/file.hpp).
  util::make_dirs_below(m_root, local_dir());
}

} // namespace dsm

#include "repo/data_listing.hpp"

#include "repo/repository.hpp"

#include <algorithm>
#include <cerrno>
#include <sys/stat.h>
#include <thread>

namespace dsm {

std::vector<util::ListedEntry> list_data_dir(const Repository& repo, SidecarStats sidecars) {
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  return util::list_tree(repo.data_dir(), threads, [&](std::string_view name) {
    if (name.ends_with(k_sidecar_suffix)) {
      return sidecars == SidecarStats::yes;
    }
    return repo.config().is_payload_name(std::string(name));
  });
}

StatFacts facts_of(const util::FileStat& st) {
  StatFacts f;
  f.size = st.size;
  f.mtime_ns = st.mtime_ns;
  f.ctime_ns = st.ctime_ns;
  f.inode = st.inode;
  return f;
}

int stat_listed(const std::vector<util::ListedEntry>* listing, const std::string& rel, const std::filesystem::path& abs,
                util::FileStat& out) {
  if (listing != nullptr) {
    const util::ListedEntry* e = util::find_listed(*listing, rel);
    if (e == nullptr) {
      return ENOENT;
    }
    if (e->has_stat) {
      out = e->stat;
      return 0;
    }
  }
  struct stat st {};
  if (::lstat(abs.c_str(), &st) != 0) {
    return errno;
  }
  out = util::file_stat_of(st);
  return 0;
}

} // namespace dsm

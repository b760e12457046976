#include "core/data_listing.hpp"

#include "dsm/repository.hpp"

#include <algorithm>
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

} // namespace dsm

#include "core/catalog.hpp"

#include "dsm/error.hpp"
#include "dsm/repository.hpp"

#include <cstdio>

namespace dsm {

VersionRecord load_version(const DatasetVersion& v) {
  VersionRecord r{v, std::nullopt, ""};
  try {
    r.sidecar = Sidecar::load(Repository::sidecar_path(v.path));
  } catch (const Error& e) {
    r.sidecar_error = e.what();
  }
  return r;
}

std::string catalog_size(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

std::string shape_summary(const Sidecar& s) {
  if (s.npy) {
    std::string out = "[";
    for (size_t i = 0; i < s.npy->shape.size(); ++i) {
      out += (i ? ", " : "") + std::to_string(s.npy->shape[i]);
    }
    return out + "]";
  }
  if (s.format == "npz") {
    return "npz: " + std::to_string(s.members.size()) + (s.members.size() == 1 ? " member" : " members");
  }
  return "?";
}

std::string dtype_summary(const Sidecar& s) {
  if (s.npy) {
    return s.npy->descr;
  }
  return "-";
}

} // namespace dsm

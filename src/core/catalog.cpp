#include "util/text.hpp"
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

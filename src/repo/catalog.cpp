#include "util/text.hpp"
#include "repo/catalog.hpp"

#include "dsm/error.hpp"
#include "repo/repository.hpp"

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


namespace {

// The one array of a version: a .npy, a chunked version (the whole array's
// facts), or a .npz made by --compress (its single member).
const ArrayFacts* single_array(const Sidecar& s) {
  if (s.npy) {
    return &*s.npy;
  }
  if (s.format == "npz" && s.original && s.members.size() == 1 && s.members[0].facts) {
    return &*s.members[0].facts;
  }
  return nullptr;
}

} // namespace

std::string shape_summary(const Sidecar& s) {
  if (const ArrayFacts* f = single_array(s)) {
    return shape_text(f->shape, ShapeStyle::list);
  }
  if (s.format == "npz") {
    return "npz: " + std::to_string(s.members.size()) + (s.members.size() == 1 ? " member" : " members");
  }
  return "?";
}

std::string dtype_summary(const Sidecar& s) {
  if (const ArrayFacts* f = single_array(s)) {
    return f->descr;
  }
  return "-";
}

} // namespace dsm

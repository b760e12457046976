// Read-side helpers shared by ls, log, path and show NAME: a dataset
// version together with its sidecar, and short human renderings.
#pragma once

#include "repo/datasets.hpp"
#include "repo/sidecar.hpp"

#include <optional>
#include <string>

namespace dsm {

struct VersionRecord {
  DatasetVersion version;
  std::optional<Sidecar> sidecar; // nullopt when missing or unreadable
  std::string sidecar_error;      // why sidecar is nullopt
};

VersionRecord load_version(const DatasetVersion& v);

// "[1000, 16]" for .npy, "npz: 2 members" for .npz, "?" without a sidecar.
std::string shape_summary(const Sidecar& s);
std::string dtype_summary(const Sidecar& s);

} // namespace dsm

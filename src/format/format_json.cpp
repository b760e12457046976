// `dsm show --json`: the key sets are a contract (docs/formats.md); tests
// and scripts rely on them, so keys are only ever added with the docs.
#include "format/format.hpp"

#include <nlohmann/json.hpp>

#include <cmath>

namespace dsm {

namespace {

using nlohmann::json;

// JSON has no NaN or infinity: they become strings.
json number(double v) {
  if (std::isnan(v)) {
    return "nan";
  }
  if (std::isinf(v)) {
    return v > 0 ? "inf" : "-inf";
  }
  return v;
}

json stats_json(const Stats& s) {
  json j = json::object();
  switch (s.kind) {
  case Stats::Kind::signed_integer:
    j["min"] = s.min_int;
    j["max"] = s.max_int;
    break;
  case Stats::Kind::unsigned_integer:
    j["min"] = s.min_uint;
    j["max"] = s.max_uint;
    break;
  case Stats::Kind::floating:
    j["min"] = number(s.min);
    j["max"] = number(s.max);
    break;
  }
  j["mean"] = number(s.mean);
  j["nan"] = s.nan;
  j["inf"] = s.inf;
  return j;
}

const char* const k_npy_keys[] = {"version", "data_offset", "descr", "shape", "fortran_order", "itemsize",
                                  "count", "payload_bytes", "trailing_bytes", "object", "stats"};

void add_npy_fields(json& j, const NpyInfo& info) {
  j["version"] = info.version;
  j["data_offset"] = info.data_offset;
  j["descr"] = json::parse(info.descr_json);
  j["shape"] = info.shape;
  j["fortran_order"] = info.fortran_order;
  j["itemsize"] = info.itemsize;
  j["count"] = info.count;
  j["payload_bytes"] = info.payload_bytes;
  j["trailing_bytes"] = info.trailing_bytes;
  j["object"] = info.object;
  j["stats"] = info.stats ? stats_json(*info.stats) : json(nullptr);
}

} // namespace

json to_json(const NpyInfo& info) {
  json j = json::object();
  add_npy_fields(j, info);
  return j;
}

json to_json(const FileInfo& info) {
  json j = json::object();
  j["path"] = info.path.string();
  j["format"] = info.format == Format::npy ? "npy" : "npz";
  j["size"] = info.size;
  j["sha256"] = info.sha256;
  if (info.format == Format::npy) {
    if (info.npy) {
      add_npy_fields(j, *info.npy);
    }
    return j;
  }
  json members = json::array();
  for (const auto& m : info.members) {
    json jm = json::object();
    jm["name"] = m.name;
    jm["compressed"] = m.compressed;
    jm["member_size"] = m.member_size;
    if (m.npy) {
      add_npy_fields(jm, *m.npy);
    } else {
      // Not an array: the same keys, all null, so every member has one shape.
      for (const char* key : k_npy_keys) {
        jm[key] = nullptr;
      }
    }
    members.push_back(std::move(jm));
  }
  j["members"] = std::move(members);
  return j;
}

} // namespace dsm

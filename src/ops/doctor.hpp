// `dsm doctor`: repository health for people and CI. Each check reports its
// findings (each with the fix); doctor exits 1 when any check found anything.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace dsm {

struct DoctorCheck {
  std::string name;     // "config", "data_dir", "gitignore", "hook", "push_hook", "index", "history",
                        // "consistency", "branches", "pushed"
  std::string summary;  // one line: what was checked / why it was skipped
  bool skipped = false; // could not run (e.g. config invalid)
  struct Finding {
    std::string path;    // relative to the work-tree root, may be empty
    std::string message; // names the problem and the fix
  };
  std::vector<Finding> findings;
};

struct DoctorReport {
  std::filesystem::path root;
  std::vector<DoctorCheck> checks;
  size_t problems() const;
};

struct DoctorOptions {
  size_t history = 100; // commits of HEAD's history to scan for payloads
};

// Throws dsm::Error (exit 2) when `start` is not in a git work tree or not a
// dsm repository (no .dsm/config.yaml); an invalid config is a finding.
DoctorReport run_doctor(const std::filesystem::path& start, const DoctorOptions& options);

nlohmann::json to_json(const DoctorReport& report);

} // namespace dsm

// Parsing a YAML file's text with its errors as `'FILE':LINE: invalid YAML:
// …`: the one way config.cpp and sidecar.cpp turn text into a node (each
// then checks its own shape and caps).
#pragma once

#include "dsm/error.hpp"

#include <yaml-cpp/yaml.h>

#include <string>

namespace dsm {

inline YAML::Node load_yaml(const std::string& text, const std::string& file) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw Error(quote(file) + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg);
  }
}

} // namespace dsm

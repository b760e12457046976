// libFuzzer target: the sidecar reader (dsm/sidecar.hpp).
//
// Properties checked on every input, beyond "no crash, no leak, no UB, no
// unbounded time or memory" (libFuzzer's -timeout and -rss_limit_mb):
//  - parse either succeeds or throws dsm::Error naming the file ("'<file>'"
//    first); a yaml-cpp or standard exception escaping is a bug (main would
//    print a message without file and line);
//  - an accepted sidecar round-trips: to_yaml() parses back, and writing
//    that again gives the same text (dsm writes sidecars canonically);
//  - to_json() (used by `dsm show NAME --json`) works on anything accepted.
#include "dsm/error.hpp"
#include "repo/sidecar.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail = "") {
  std::fprintf(stderr, "fuzz_sidecar: %s %s\n", what, detail.c_str());
  std::abort();
}

const std::string k_file = "data/x/x_20261126_001.npy.yaml";

bool names_file(const dsm::Error& e) { return std::string(e.what()).rfind("'" + k_file + "'", 0) == 0; }

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Sidecars are small; Sidecar::load caps them at 16 MiB. Long inputs only
  // slow the fuzzer down without reaching new code.
  if (size > 64 * 1024) {
    return 0;
  }
  const std::string text(reinterpret_cast<const char*>(data), size);
  dsm::Sidecar s;
  try {
    s = dsm::Sidecar::parse(text, k_file);
  } catch (const dsm::Error& e) {
    if (!names_file(e)) {
      fail("error does not start with the file name:", e.what());
    }
    return 0;
  }
  // Anything else escaping parse() aborts the fuzzer via std::terminate.
  const std::string yaml = s.to_yaml();
  dsm::Sidecar again;
  try {
    again = dsm::Sidecar::parse(yaml, k_file);
  } catch (const dsm::Error& e) {
    fail("to_yaml() wrote a sidecar parse() rejects:", std::string(e.what()) + "\n" + yaml);
  }
  if (again.to_yaml() != yaml) {
    fail("to_yaml() is not a fixed point:", yaml + "\n---\n" + again.to_yaml());
  }
  (void)s.to_json().dump();
  return 0;
}

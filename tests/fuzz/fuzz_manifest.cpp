// libFuzzer target: the manifest parser (dsm/manifest.hpp).
//
// Properties checked on every input, beyond "no crash, no leak, no UB":
//  - parse either succeeds or throws dsm::Error with a "'<file>':<line>:"
//    prefix (anything else escaping is a bug: main would print a message
//    without file and line);
//  - an accepted manifest round-trips: serialize(parse(x)) parses back to
//    the same entries, and serializing again is a fixed point;
//  - the grammar allows exactly one encoding, so an accepted input is
//    byte-identical to its serialization (modulo the case of %0a/%0d
//    escapes, which BagIt readers treat as equal).
#include "dsm/error.hpp"
#include "repo/manifest.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <string>
#include <vector>

namespace {

std::string upper_escapes(std::string s) {
  for (size_t i = 0; i + 2 < s.size(); ++i) {
    if (s[i] == '%' && s[i + 1] == '0' && (s[i + 2] == 'a' || s[i + 2] == 'd')) {
      s[i + 2] = static_cast<char>(s[i + 2] - 'a' + 'A');
    }
  }
  return s;
}

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_manifest: %s\n", what);
  std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::string file = "data/manifest-sha256.txt";
  dsm::Manifest m;
  try {
    m = dsm::Manifest::parse(text, file);
  } catch (const dsm::Error& e) {
    const std::string msg = e.what();
    if (msg.rfind("'" + file + "':", 0) != 0 || e.exit_code() != dsm::k_exit_error) {
      fail("error without '<file>':<line> prefix or with the wrong exit code");
    }
    return 0;
  }
  const std::string out = m.serialize();
  dsm::Manifest again;
  try {
    again = dsm::Manifest::parse(out, file);
  } catch (const dsm::Error& e) {
    std::fprintf(stderr, "reparse failed: %s\n", e.what());
    fail("serialize() produced a manifest parse() rejects");
  }
  if (again.map() != m.map()) {
    fail("round trip changed the entries");
  }
  if (again.serialize() != out) {
    fail("serialize() is not a fixed point");
  }
  // Canonical: the accepted text is the serialization. Lowercase %0a/%0d
  // are accepted on input; compare with them upper-cased, which can also
  // reorder lines, so compare sorted lines in that case.
  const std::string canon = upper_escapes(text);
  if (canon != out) {
    if (canon == text) {
      fail("accepted a manifest that is not in canonical form");
    }
    auto lines = [](const std::string& s) {
      std::vector<std::string> v;
      size_t pos = 0;
      while (pos < s.size()) {
        size_t nl = s.find('\n', pos);
        v.push_back(s.substr(pos, nl - pos));
        pos = nl + 1;
      }
      std::sort(v.begin(), v.end());
      return v;
    };
    if (lines(canon) != lines(out)) {
      fail("accepted a manifest that is not in canonical form");
    }
  }
  for (const auto& entry : m.entries()) {
    if (!dsm::manifest_path_ok(entry.path) || entry.sha256.size() != 64) {
      fail("accepted an entry the manifest rules forbid");
    }
    auto decoded = dsm::manifest_decode_path(dsm::manifest_encode_path(entry.path));
    if (!decoded || *decoded != entry.path) {
      fail("path encoding does not round-trip");
    }
  }
  return 0;
}

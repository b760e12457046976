// libFuzzer target: the .npy reader on arbitrary bytes. The header parser
// (parse, never evaluate), then the streaming reader with statistics fed
// in pieces whose sizes come from the input, so elements split across
// feeds are exercised. Anything but dsm::Error escaping is a bug.
#include "format/npy_header.hpp"
#include "format/npy_stream.hpp"
#include "dsm/error.hpp"
#include "format/format.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    dsm::NpyInfo info = dsm::parse_npy_header(data, size, size);
    // The JSON forms must be well formed whatever the header held.
    (void)nlohmann::json::parse(info.descr_json);
    (void)dsm::to_json(info).dump();
  } catch (const dsm::Error&) {
  }
  try {
    dsm::parse_npy_header(data, size, UINT64_MAX);
  } catch (const dsm::Error&) {
  }
  try {
    dsm::core::NpyStream stream(size, dsm::core::NpyStream::Mode::member, dsm::core::NpyStream::WithStats::yes);
    size_t piece = size > 0 ? 1 + data[size - 1] % 97 : 1;
    for (size_t i = 0; i < size; i += piece) {
      stream.feed(data + i, size - i < piece ? size - i : piece);
    }
    if (auto info = stream.finish()) {
      (void)dsm::to_json(*info).dump();
    }
  } catch (const dsm::Error&) {
  }
  return 0;
}

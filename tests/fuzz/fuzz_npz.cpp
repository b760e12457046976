// libFuzzer target: the .npz reader on arbitrary bytes, exactly as
// scan_fd drives it: the central directory through bounded reads at
// offsets, then the whole input streamed in order (pieces sized from the
// input) through inflate, CRC-32 and the .npy reader with statistics.
#include "format/zip_reader.hpp"
#include "dsm/error.hpp"
#include "format/format.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  dsm::core::ReadAt read_at = [&](uint64_t offset, void* out, size_t n) {
    if (offset > size || size - offset < n) {
      throw dsm::Error("read past the end");
    }
    if (n > 0) {
      std::memcpy(out, data + offset, n);
    }
  };
  try {
    dsm::core::ZipStream stream(dsm::core::read_zip_directory(read_at, size),
                                dsm::core::NpyStream::WithStats::yes);
    size_t piece = size > 0 ? 1 + data[0] % 251 : 1;
    for (size_t i = 0; i < size; i += piece) {
      stream.feed(i, data + i, size - i < piece ? size - i : piece);
    }
    auto members = stream.finish();
    for (const auto& m : members) {
      if (m.npy) {
        (void)dsm::to_json(*m.npy).dump();
      }
    }
  } catch (const dsm::Error&) {
  }
  return 0;
}

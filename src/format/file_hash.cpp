#include "format/file_hash.hpp"

#include "dsm/error.hpp"
#include "util/interrupt.hpp"
#include "util/file.hpp"
#include "util/sha256.hpp"
#include "util/slices.hpp"

#include <cerrno>
#include <sys/stat.h>

namespace dsm {

std::string sha256_fd(int fd, const std::filesystem::path& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    throw Error("cannot stat " + quote(path.string()) + ": " + util::errno_message(errno));
  }
  util::Sha256 h;
  util::SliceEnd end = util::for_each_slice(fd, static_cast<uint64_t>(st.st_size), path, [&](const uint8_t* data, size_t n) {
    check_interrupted();
    h.update(data, n);
  });
  if (end != util::SliceEnd::complete) {
    throw Error(quote(path.string()) + ": file " + (end == util::SliceEnd::grew ? "grew" : "shrank") +
                " while being read");
  }
  return h.hex_digest();
}

std::string sha256_file(const std::filesystem::path& path) {
  util::Fd fd = util::open_read(path);
  return sha256_fd(fd.get(), path);
}

} // namespace dsm

// scan_file / scan_fd: one sequential pass over the file in L2-sized slices
// (mmap windows for large files, see util/slices.cpp). Every slice goes, in order, to SHA-256, the caller's sink and the format
// decoder (the .npy reader, or the .npz reader that inflates members as
// their bytes pass). The .npz central directory is read first with pread
// (bounded, validated against the file size) so the stream knows where
// each member's data lies; the outer hash still sees every byte exactly
// once, in order.
#include "format/npy_stream.hpp"
#include "format/zip_reader.hpp"
#include "dsm/error.hpp"
#include "format/format.hpp"
#include "util/file.hpp"
#include "util/sha256.hpp"
#include "util/slices.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dsm {

namespace {

enum class Detected { npy, npz };

Detected detect(const uint8_t* p, size_t n, uint64_t file_size) {
  if (file_size == 0) {
    throw Error("empty file");
  }
  // As np.load: a local header (an archive's first member) or an end
  // record (an empty archive) at the start makes it an .npz.
  if (n >= 4 && p[0] == 'P' && p[1] == 'K' && ((p[2] == 3 && p[3] == 4) || (p[2] == 5 && p[3] == 6))) {
    return Detected::npz;
  }
  size_t m = std::min<size_t>(n, 6);
  if (std::memcmp(p, core::k_npy_magic, m) == 0) {
    if (n < 6) {
      throw Error("file too short for a .npy header (" + std::to_string(n) + " bytes)");
    }
    return Detected::npy;
  }
  throw Error("not a .npy or .npz file (bad magic)");
}

} // namespace

bool FileInfo::object() const {
  if (npy) {
    return npy->object;
  }
  for (const auto& m : members) {
    if (m.npy && m.npy->object) {
      return true;
    }
  }
  return false;
}

FileInfo scan_fd(int fd, const std::filesystem::path& path, const ScanOptions& options) {
  const std::string prefix = quote(path.string()) + ": ";
  // Errors about the content carry the path; errors from the sink or from
  // reading keep their own wording.
  auto content = [&](auto&& fn) {
    try {
      return fn();
    } catch (const Error& e) {
      throw Error(prefix + e.what(), e.exit_code());
    }
  };

  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    throw Error("cannot stat " + quote(path.string()) + ": " + util::errno_message(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    throw Error(prefix + (S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file"));
  }
  const auto file_size = options.final_size.value_or(static_cast<uint64_t>(st.st_size));
  if (file_size >= util::k_map_min_size) {
    // Read-ahead hint for large files; a system call too many for small ones
    // (verify of 10,000 small datasets).
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  }

  FileInfo info;
  std::error_code ec;
  info.path = std::filesystem::absolute(path, ec).lexically_normal();
  if (ec) {
    info.path = path;
  }
  info.size = file_size;

  if (file_size == 0) {
    content([&] { return detect(nullptr, 0, file_size); });
  }
  auto with_stats = options.stats ? core::NpyStream::WithStats::yes : core::NpyStream::WithStats::no;
  std::unique_ptr<core::NpyStream> npy;
  std::unique_ptr<core::ZipStream> zip;
  core::ReadAt read_at = [&](uint64_t offset, void* out, size_t size) {
    if (options.ready) {
      options.ready(offset + size);
    }
    size_t done = 0;
    while (done < size) {
      ssize_t r = ::pread(fd, static_cast<uint8_t*>(out) + done, size - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) {
          continue;
        }
        throw Error("cannot read " + quote(path.string()) + ": " + util::errno_message(errno));
      }
      if (r == 0) {
        throw Error("file shrank while being read");
      }
      done += static_cast<size_t>(r);
    }
  };

  // Each slice goes to the hash, the sink and the decoder in turn while it
  // is still in L2. The first slice (at least min(size, 64 KiB) bytes) tells
  // the format.
  util::Sha256 sha;
  uint64_t offset = 0;
  util::SliceEnd end = util::for_each_slice(fd, file_size, path, [&](const uint8_t* data, size_t n) {
    if (offset == 0) {
      Detected kind = content([&] { return detect(data, n, file_size); });
      if (kind == Detected::npy) {
        info.format = Format::npy;
        npy = std::make_unique<core::NpyStream>(file_size, core::NpyStream::Mode::file, with_stats);
      } else {
        info.format = Format::npz;
        zip = content([&] {
          return std::make_unique<core::ZipStream>(core::read_zip_directory(read_at, file_size), with_stats);
        });
      }
    }
    sha.update(data, n);
    if (options.sink) {
      options.sink(data, n);
    }
    content([&] {
      if (npy) {
        npy->feed(data, n);
      } else {
        zip->feed(offset, data, n);
      }
    });
    offset += n;
    if (options.on_read) {
      options.on_read(n);
    }
  }, util::SliceSource::automatic, options.ready);
  if (end == util::SliceEnd::grew) {
    throw Error(prefix + "file grew while being read");
  }
  if (end == util::SliceEnd::shrank || offset != file_size) {
    throw Error(prefix + "file shrank while being read");
  }
  info.sha256 = sha.hex_digest();
  content([&] {
    if (npy) {
      info.npy = npy->finish();
    } else {
      info.members = zip->finish();
    }
  });
  return info;
}

FileInfo scan_file(const std::filesystem::path& path, const ScanOptions& options) {
  util::Fd fd = util::open_read(path);
  return scan_fd(fd.get(), path, options);
}

} // namespace dsm

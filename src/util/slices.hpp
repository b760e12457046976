// Reading a regular file as a sequence of cache-sized slices, for the
// passes that hash and decode every byte (scan_fd, verify's hash_only).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>

namespace dsm::util {

// How the bytes reach the callback. `automatic` read()s small files and, for
// large ones, whichever of read() and mapped windows this process measured
// cheaper per byte (slices.cpp says why); the other two force a path (tests,
// and the fallback when mmap is refused).
enum class SliceSource { automatic, map, read };

enum class SliceEnd {
  complete, // exactly `size` bytes were delivered and the file still has that size
  shrank,   // the file ended (or was truncated under the mapping) before `size` bytes
  grew,     // the file is longer than `size` after the pass
};

// Mapping windows, and the slices each window is handed out in: a slice
// stays in L2 (1 MiB on the benchmark machine) while the hash, the decoder
// and the statistics go over it in turn.
inline constexpr size_t k_map_window = 8u << 20;
inline constexpr size_t k_slice = 256u << 10;
// Files below this always go through read(): for small files mmap + munmap
// cost more than the copy they save.
inline constexpr uint64_t k_map_min_size = 1u << 20;

// Calls fn(data, n) for consecutive slices covering bytes [0, size) of the
// regular file fd, in order; each slice holds at most k_slice bytes.
// The pointer is valid only during the call. Errors thrown by fn propagate,
// except when the file turned out to have been truncated during the pass,
// which returns SliceEnd::shrank instead (the decoder may have choked on the
// zero-filled pages a truncation leaves; the truncation is the real news).
// Throws dsm::Error "cannot read 'path': ..." on I/O errors. When given,
// ready(end) is called before bytes below `end` are first read: a writer
// filling the file at the same time (add's parallel copy) stays ahead.
SliceEnd for_each_slice(int fd, uint64_t size, const std::filesystem::path& path,
                        const std::function<void(const uint8_t*, size_t)>& fn,
                        SliceSource source = SliceSource::automatic,
                        const std::function<void(uint64_t end)>& ready = {});

} // namespace dsm::util

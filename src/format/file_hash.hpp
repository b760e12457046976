// SHA-256 of a whole file, for the places that need only the hash (status,
// repair, pull, the hook's payload check, the compressed copy, verify of a
// file the parser refused). Streamed through util::for_each_slice (mmap
// windows for large files); Ctrl-C stops it; a file that grows or shrinks
// while being read is an error naming it, never a hash of a torn read.
#pragma once

#include <filesystem>
#include <string>

namespace dsm {

// Lowercase hex. Throws dsm::Error on I/O errors and size changes.
std::string sha256_file(const std::filesystem::path& path);
// The same over an open descriptor, from offset 0 (its position is not used).
std::string sha256_fd(int fd, const std::filesystem::path& path);

} // namespace dsm

// Content sniffing: does a file or a git blob hold NumPy array data, whatever
// its name? Used by the pre-commit hook and `dsm doctor` to catch payloads
// renamed to innocent extensions. Cheap and conservative: only the .npy magic
// and zip archives naming a ".npy" member count. Never throws.
//
// `looks_like_array_file(path)` (the path variant) is declared in
// dsm/format.hpp; these are the byte variants, for blobs read from git.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dsm {

// How much of a large blob the window variant wants: the head covers the
// .npy magic and the first zip local header with its name; the tail covers
// the zip end-of-central-directory record (at most 65,557 bytes from the end),
// the zip64 locator and record, and central directories of a few thousand
// members.
inline constexpr size_t k_sniff_head_bytes = 4096;
inline constexpr size_t k_sniff_tail_bytes = 1u << 20;

// True when `bytes` (a whole file) is a .npy, or a zip whose central directory
// (or first local header) names a member ending in ".npy".
bool looks_like_array_bytes(std::string_view bytes) noexcept;

// The same from a window: `head` is the first bytes of an object of `size`
// bytes, `tail` its last bytes (head and tail may overlap or be the same
// view when the object is small). A central directory that starts before the
// tail cannot be read; then only the head decides.
bool looks_like_array_window(std::string_view head, std::string_view tail, uint64_t size) noexcept;

// What the sniffer found, for messages.
enum class ArrayKind { none, npy, zip_with_npy };
ArrayKind sniff_window(std::string_view head, std::string_view tail, uint64_t size) noexcept;
ArrayKind sniff_file(const char* path) noexcept;

} // namespace dsm

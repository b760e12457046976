// Pieces of the S3 store exposed for unit tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dsm::remote::detail {

// S3's limit on the number of parts of one multipart upload.
inline constexpr uint64_t k_max_parts = 10000;
// Objects above this go up as multipart uploads; below, one PUT whose
// x-amz-content-sha256 lets S3 verify the whole object on arrival.
inline constexpr uint64_t k_multipart_threshold = 64ull << 20;

// Percent-encoding as SigV4 canonicalises it (uppercase hex, unreserved
// characters kept, '/' kept in paths).
std::string pct_encode(const std::string& s, bool keep_slash);
std::string xml_unescape(const std::string& s);
// Raw contents of every <tag>…</tag>, and the first one unescaped.
std::vector<std::string> xml_all(const std::string& body, const std::string& tag);
std::string xml_first(const std::string& body, const std::string& tag);
// Part size for a multipart upload of `size` bytes.
uint64_t multipart_part_size(uint64_t size);

} // namespace dsm::remote::detail

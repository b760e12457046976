// Streaming SHA-256 over OpenSSL EVP (uses the CPU's SHA extensions).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace dsm::util {

class Sha256 {
public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t size);
  // Lowercase hex digest; the object is reset afterwards.
  std::string hex_digest();
  std::array<uint8_t, 32> digest();

private:
  evp_md_ctx_st* m_ctx;
};

std::string to_hex(const uint8_t* data, size_t size);
// True for exactly `digits` lowercase hex digits.
bool is_lower_hex(std::string_view s, size_t digits);
// True for exactly 64 lowercase hex digits.
bool is_sha256_hex(std::string_view s);
// The 32 bytes of a digest written as 64 lowercase hex digits; false (and
// `out` unspecified) for anything else.
bool sha256_from_hex(std::string_view s, std::array<uint8_t, 32>& out);

} // namespace dsm::util

#include "util/sha256.hpp"

#include "dsm/error.hpp"

#include <openssl/evp.h>

namespace dsm::util {

Sha256::Sha256() : m_ctx(EVP_MD_CTX_new()) {
  if (m_ctx == nullptr || EVP_DigestInit_ex(m_ctx, EVP_sha256(), nullptr) != 1) {
    throw Error("cannot initialise SHA-256");
  }
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(m_ctx);
}

void Sha256::update(const void* data, size_t size) {
  if (size > 0 && EVP_DigestUpdate(m_ctx, data, size) != 1) {
    throw Error("SHA-256 update failed");
  }
}

std::array<uint8_t, 32> Sha256::digest() {
  std::array<uint8_t, 32> out{};
  unsigned len = 0;
  if (EVP_DigestFinal_ex(m_ctx, out.data(), &len) != 1 || len != 32 ||
      EVP_DigestInit_ex(m_ctx, EVP_sha256(), nullptr) != 1) {
    throw Error("SHA-256 finalisation failed");
  }
  return out;
}

std::string Sha256::hex_digest() {
  auto d = digest();
  return to_hex(d.data(), d.size());
}

std::string to_hex(const uint8_t* data, size_t size) {
  static const char k_digits[] = "0123456789abcdef";
  std::string s(size * 2, '0');
  for (size_t i = 0; i < size; ++i) {
    s[2 * i] = k_digits[data[i] >> 4];
    s[2 * i + 1] = k_digits[data[i] & 15];
  }
  return s;
}

bool is_lower_hex(std::string_view s, size_t digits) {
  if (s.size() != digits) {
    return false;
  }
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

bool is_sha256_hex(std::string_view s) {
  return is_lower_hex(s, 64);
}

bool sha256_from_hex(std::string_view s, std::array<uint8_t, 32>& out) {
  if (s.size() != 64) {
    return false;
  }
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    return -1;
  };
  for (size_t i = 0; i < 32; ++i) {
    int hi = nibble(s[2 * i]);
    int lo = nibble(s[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return false;
    }
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

} // namespace dsm::util

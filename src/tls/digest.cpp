// digest.cpp - see digest.hpp.
#include "tls/digest.hpp"

#include <stdexcept>

#include <mbedtls/md.h>

namespace boxmail::tls {

namespace {
const mbedtls_md_info_t* sha256_info() {
  const mbedtls_md_info_t* info = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
  if (info == nullptr) throw std::runtime_error("mbedTLS has no SHA-256");
  return info;
}
const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
}  // namespace

Digest256 sha256(std::string_view data) {
  Digest256 out{};
  if (mbedtls_md(sha256_info(), bytes(data), data.size(), out.data()) != 0)
    throw std::runtime_error("SHA-256 failed");
  return out;
}

Digest256 hmac_sha256(std::string_view key, std::string_view data) {
  Digest256 out{};
  if (mbedtls_md_hmac(sha256_info(), bytes(key), key.size(), bytes(data), data.size(), out.data()) != 0)
    throw std::runtime_error("HMAC-SHA-256 failed");
  return out;
}

std::string hex(const Digest256& d, std::size_t octets) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < octets && i < d.size(); ++i) {
    out += kHex[d[i] >> 4];
    out += kHex[d[i] & 15];
  }
  return out;
}

}  // namespace boxmail::tls

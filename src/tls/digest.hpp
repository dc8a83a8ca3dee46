// digest.hpp - SHA-256 and HMAC-SHA-256 through mbedTLS's message-digest
// layer (the one interface that is the same in mbedTLS 2.28 and 3.x).
//
// Used by the web panel for its server-issued login tokens and to tie a
// session to the administrator password it was opened with. FIPS 180-4
// (SHA-256), RFC 2104 (HMAC).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace boxmail::tls {

using Digest256 = std::array<std::uint8_t, 32>;

/// SHA-256 of `data`. Throws std::runtime_error only if mbedTLS lacks SHA-256.
Digest256 sha256(std::string_view data);

/// HMAC-SHA-256 of `data` under `key`. Throws as sha256.
Digest256 hmac_sha256(std::string_view key, std::string_view data);

/// Lower-case hex of the first `octets` octets of `d` (at most 32).
std::string hex(const Digest256& d, std::size_t octets = 32);

}  // namespace boxmail::tls

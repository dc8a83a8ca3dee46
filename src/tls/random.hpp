// random.hpp - the process's random generator: mbedTLS CTR_DRBG seeded from
// the system entropy source. The random source of TLS and of certificates
// (keys, serial numbers); salts, session ids and queue ids come from
// getrandom(2) instead (process/os_random.hpp). Not thread-safe: call from one thread, or hold the
// returned lock (random_bytes takes an internal mutex).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace boxmail::tls {

/// Fills `out` with `n` random octets. Throws std::runtime_error if the DRBG
/// cannot be seeded or reseeded (no entropy source).
void random_bytes(void* out, std::size_t n);

/// A random 64-bit number (random_bytes of 8 octets).
std::uint64_t random_u64();

}  // namespace boxmail::tls

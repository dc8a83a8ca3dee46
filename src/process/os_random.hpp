// os_random.hpp - random octets straight from the kernel (getrandom(2)),
// for what needs unpredictable values but no DRBG of its own: password
// salts and generated passwords, the panel's session ids, CSRF nonces and
// secret, queue ids (the names of the spool and queue files), the MX
// load-spreading seed. TLS keeps mbedTLS' CTR_DRBG (tls/random.hpp).
//
// getrandom(2) with no flags reads the kernel's CSPRNG: it blocks only
// until the pool is first initialised at boot, never after; it needs no
// open descriptor (a chroot or a descriptor limit does not break it), and
// a fork(2) needs no reseed. Thread-safe: no state in the process.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace boxmail::process {

/// The system call's shape (that of getrandom(2)): fills up to `n` octets
/// of `out`, returns how many, or -1 with errno set.
using GetRandomFn = ssize_t (*)(void* out, std::size_t n, unsigned int flags);

/// Fills `out` with `n` random octets from getrandom(2), repeating after
/// a short read or EINTR. Throws std::system_error (the errno: ENOSYS on a
/// kernel before 3.17, EPERM/ENOSYS under a filter that forbids the call,
/// EFAULT) when the kernel gives none; nothing is ever made up instead.
void os_random_bytes(void* out, std::size_t n);

/// os_random_bytes with `call` in place of getrandom(2), for a caller that
/// has its own entry point (and for the tests of the short-read rule).
void os_random_bytes(void* out, std::size_t n, GetRandomFn call);

/// A random 64-bit number (os_random_bytes of 8 octets).
std::uint64_t os_random_u64();

}  // namespace boxmail::process

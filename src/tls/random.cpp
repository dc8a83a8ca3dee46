// random.cpp - the process's CTR_DRBG (mbedTLS), seeded lazily from the
// system entropy source with the personalization string "boxmail".
//
// One generator per process behind a mutex. After fork(2) the child would
// otherwise repeat the parent's output (same queue ids, same salts), so a
// change of pid forces a reseed with fresh entropy and the pid as additional
// input before the next output.
#include "tls/random.hpp"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>

namespace boxmail::tls {
namespace {

constexpr char kPersonalization[] = "boxmail";

struct Generator {
  std::mutex mutex;
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
  bool seeded = false;
  pid_t pid = 0;

  Generator() {
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
  }
  // Never destroyed (see instance()), so no destructor frees the contexts.
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;

  /// Seeds on first use and reseeds after a fork. Caller holds `mutex`.
  void ensure_seeded() {
    const pid_t now = ::getpid();
    if (!seeded) {
      const int rc = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
                                           reinterpret_cast<const unsigned char*>(kPersonalization),
                                           sizeof kPersonalization - 1);
      if (rc != 0) {
        throw std::runtime_error("random: cannot seed CTR_DRBG (mbedTLS error " +
                                 std::to_string(rc) + ")");
      }
      seeded = true;
      pid = now;
    } else if (pid != now) {
      unsigned char extra[sizeof now];
      std::memcpy(extra, &now, sizeof now);
      const int rc = mbedtls_ctr_drbg_reseed(&drbg, extra, sizeof extra);
      if (rc != 0) {
        throw std::runtime_error("random: cannot reseed CTR_DRBG after fork (mbedTLS error " +
                                 std::to_string(rc) + ")");
      }
      pid = now;
    }
  }
};

Generator& instance() {
  // Leaked on purpose: usable from other static destructors, never torn down.
  static Generator* const g = new Generator();
  return *g;
}

}  // namespace

void random_bytes(void* out, std::size_t n) {
  Generator& g = instance();
  std::lock_guard<std::mutex> lock(g.mutex);
  g.ensure_seeded();
  auto* p = static_cast<unsigned char*>(out);
  while (n > 0) {
    const std::size_t chunk = std::min<std::size_t>(n, MBEDTLS_CTR_DRBG_MAX_REQUEST);
    const int rc = mbedtls_ctr_drbg_random(&g.drbg, p, chunk);
    if (rc != 0) {
      throw std::runtime_error("random: CTR_DRBG failed (mbedTLS error " + std::to_string(rc) + ")");
    }
    p += chunk;
    n -= chunk;
  }
}

std::uint64_t random_u64() {
  std::uint64_t v = 0;
  random_bytes(&v, sizeof v);
  return v;
}

}  // namespace boxmail::tls

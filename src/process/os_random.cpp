// os_random.cpp - getrandom(2) in a loop; see os_random.hpp.
#include "process/os_random.hpp"

#include <sys/random.h>

#include <cerrno>
#include <system_error>

namespace boxmail::process {

void os_random_bytes(void* out, std::size_t n, GetRandomFn call) {
  auto* p = static_cast<unsigned char*>(out);
  while (n > 0) {
    const ssize_t got = call(p, n, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "getrandom");
    }
    if (got == 0) throw std::system_error(EIO, std::generic_category(), "getrandom returned no octets");
    p += got;
    n -= static_cast<std::size_t>(got);
  }
}

void os_random_bytes(void* out, std::size_t n) { os_random_bytes(out, n, &::getrandom); }

std::uint64_t os_random_u64() {
  std::uint64_t v = 0;
  os_random_bytes(&v, sizeof v);
  return v;
}

}  // namespace boxmail::process

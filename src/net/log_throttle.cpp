// log_throttle.cpp - see log_throttle.hpp.
#include "net/log_throttle.hpp"

namespace boxmail::net {

std::optional<std::uint64_t> LogThrottle::allow(Time now) {
  if (last_ && now - *last_ < interval_) {
    ++suppressed_;
    return std::nullopt;
  }
  last_ = now;
  return take_suppressed();
}

std::uint64_t LogThrottle::take_suppressed() {
  const std::uint64_t n = suppressed_;
  suppressed_ = 0;
  return n;
}

}  // namespace boxmail::net

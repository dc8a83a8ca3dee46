// connection_limits.cpp - see connection_limits.hpp.
#include "net/connection_limits.hpp"

namespace boxmail::net {

ConnectionLimits::Verdict ConnectionLimits::try_acquire(const std::string& address, std::uint32_t max_total,
                                                        std::uint32_t max_per_address) {
  if (total_ >= max_total) return Verdict::TooMany;
  auto& n = per_address_[address];
  if (n >= max_per_address) {
    if (n == 0) per_address_.erase(address);
    return Verdict::TooManyFromAddress;
  }
  ++n;
  ++total_;
  return Verdict::Ok;
}

void ConnectionLimits::acquire(const std::string& address) {
  ++per_address_[address];
  ++total_;
}

void ConnectionLimits::release(const std::string& address) {
  auto it = per_address_.find(address);
  if (it == per_address_.end()) return;
  if (--it->second == 0) per_address_.erase(it);
  --total_;
}

std::size_t ConnectionLimits::from(const std::string& address) const {
  auto it = per_address_.find(address);
  return it == per_address_.end() ? 0 : it->second;
}

}  // namespace boxmail::net

// login_throttle.cpp - see login_throttle.hpp.
#include "net/login_throttle.hpp"

#include <algorithm>

namespace boxmail::net {

bool LoginThrottle::allow(std::string_view address, TimePoint now, const LoginLimits& limits) const {
  const auto it = table_.find(std::string(address));
  if (it == table_.end()) return true;
  const Record& r = it->second;
  const std::uint32_t counted = current(r, now, limits) ? r.failures : 0;
  return counted + r.pending < limits.max_failures;
}

LoginThrottle::Record& LoginThrottle::record(std::string_view address, TimePoint now) {
  const std::string key(address);
  if (auto it = table_.find(key); it != table_.end()) return it->second;
  if (table_.size() >= max_addresses_ && !table_.empty()) {
    // Full: drop the record whose last failure is oldest, never one with a
    // check in flight (its finish() must find it). A guesser that spreads
    // over many addresses pushes out old records, not the blocks it just
    // earned, which are the newest.
    auto oldest = table_.end();
    for (auto it = table_.begin(); it != table_.end(); ++it) {
      if (it->second.pending > 0) continue;
      if (oldest == table_.end() || it->second.last < oldest->second.last) oldest = it;
    }
    if (oldest != table_.end()) table_.erase(oldest);
  }
  Record& r = table_[key];
  r.last = now;
  return r;
}

void LoginThrottle::begin(std::string_view address, TimePoint now) {
  Record& r = record(address, now);
  ++r.pending;
}

std::uint32_t LoginThrottle::fail(std::string_view address, TimePoint now, const LoginLimits& limits) {
  Record& r = record(address, now);
  if (!current(r, now, limits)) r.failures = 0;
  ++r.failures;
  r.last = now;
  return r.failures;
}

std::uint32_t LoginThrottle::finish(std::string_view address, bool failed, TimePoint now,
                                    const LoginLimits& limits) {
  const auto it = table_.find(std::string(address));
  if (it != table_.end() && it->second.pending > 0) --it->second.pending;
  if (failed) return fail(address, now, limits);
  if (it == table_.end()) return 0;
  const std::uint32_t n = failures(address, now, limits);
  if (n == 0 && it->second.pending == 0) table_.erase(it);   // nothing left to remember
  return n;
}

std::uint32_t LoginThrottle::failures(std::string_view address, TimePoint now, const LoginLimits& limits) const {
  const auto it = table_.find(std::string(address));
  if (it == table_.end() || !current(it->second, now, limits)) return 0;
  return it->second.failures;
}

}  // namespace boxmail::net

// connection_limits.hpp - simultaneous connections, total and per client
// address (pure bookkeeping; the glue replies 421 4.7.0 and closes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace boxmail::net {

class ConnectionLimits {
 public:
  enum class Verdict { Ok, TooMany, TooManyFromAddress };

  /// Counts one more connection from `address` unless that would pass
  /// `max_total` or `max_per_address`; then nothing is counted.
  Verdict try_acquire(const std::string& address, std::uint32_t max_total, std::uint32_t max_per_address);

  /// Counts one more connection from `address` whatever the limits (the
  /// Listener, after it closed an idle session to make room: the total is
  /// over max_total until that session has gone).
  void acquire(const std::string& address);

  /// Releases a connection counted by try_acquire or acquire.
  void release(const std::string& address);

  std::size_t total() const { return total_; }
  std::size_t from(const std::string& address) const;

 private:
  std::size_t total_ = 0;
  std::unordered_map<std::string, std::uint32_t> per_address_;
};

}  // namespace boxmail::net

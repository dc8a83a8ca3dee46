// login_throttle.hpp - failed logins per client address, enforced (pure).
//
// One table for every protocol that checks a password (POP3 now; SMTP AUTH
// and IMAP later use the same one), so a guesser gets one budget per
// address, not one per protocol. The glue asks allow() before it hashes
// anything, calls begin() when it hands a password to the checker and
// finish() with the outcome. No clock reads: `now` comes in with each call.
//
// Rules (limits from [server] login_failures_per_address and
// login_failure_window, boxmail.ini(5)):
//   - failures of an address are counted while each comes within `window`
//     of the one before it; a failure after a longer pause starts a new
//     count at 1;
//   - once `max_failures` are counted, the address is blocked until
//     `window` after its last failure: allow() is false, so the glue
//     refuses the login before any hashing, whatever the password (the
//     right one too: otherwise the refusal would tell the guesser when it
//     has found it). Refused attempts neither count nor extend the block;
//   - checks in flight count as failures until finish(), so many
//     concurrent attempts from one address cannot slip past the limit;
//   - a right password does not clear the count (a user who knows one
//     password must not be able to reset the budget for guessing others).
// At most `max_addresses` addresses are kept: when full, addresses whose
// window has passed go first, then the one whose last failure is oldest.
// Memory: about 100 octets per address.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace boxmail::net {

/// The limits of a LoginThrottle, taken from the configuration at each call
/// (so a reload applies at once).
struct LoginLimits {
  std::uint32_t max_failures = 10;                  ///< failures before the address is blocked (>= 1)
  std::chrono::seconds window{900};                 ///< how long failures are remembered / the block lasts
};

class LoginThrottle {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit LoginThrottle(std::size_t max_addresses = 4096) : max_addresses_(max_addresses) {}

  /// False when `address` is blocked at `now`: refuse the login without
  /// checking its password.
  bool allow(std::string_view address, TimePoint now, const LoginLimits& limits) const;

  /// A password check for `address` starts (counts as a failure until finish()).
  void begin(std::string_view address, TimePoint now);

  /// The check begun for `address` ended; `failed`: the login failed (wrong
  /// password, unknown mailbox, over-long password). Returns the failures
  /// counted for the address at `now` (0 after a success with none before).
  std::uint32_t finish(std::string_view address, bool failed, TimePoint now, const LoginLimits& limits);

  /// Counts one failed login decided without a password check (e.g. a
  /// malformed SASL response); returns the failures counted at `now`.
  std::uint32_t fail(std::string_view address, TimePoint now, const LoginLimits& limits);

  /// Failures counted for `address` at `now` (for logs and the firewall's auto-ban).
  std::uint32_t failures(std::string_view address, TimePoint now, const LoginLimits& limits) const;

  /// Addresses held (bounded by max_addresses).
  std::size_t size() const { return table_.size(); }

 private:
  struct Record {
    std::uint32_t failures = 0;
    std::uint32_t pending = 0;   ///< checks in flight
    TimePoint last{};            ///< last failure (or begin, while pending)
  };
  Record& record(std::string_view address, TimePoint now);
  static bool current(const Record& r, TimePoint now, const LoginLimits& limits) {
    return now - r.last < limits.window;
  }

  std::size_t max_addresses_;
  std::unordered_map<std::string, Record> table_;
};

}  // namespace boxmail::net

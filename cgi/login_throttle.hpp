// login_throttle.hpp - the panel's record of failed logins and what it allows
// next (pure).
//
// Every CGI process is short-lived, so the record lives in a file in the
// panel's state directory (the glue in cgi_main.cpp reads and rewrites it
// under flock(2)); this header only parses, decides and formats:
//
//   version: 1
//   total <first-failure-unix> <failures>
//   addr <client address> <failures> <last-failure-unix>
//   ...
//
// Rules (per client address, REMOTE_ADDR):
//   - failures older than kWindowSeconds (counted from the address's last
//     failure) are forgotten;
//   - the first kFreeFailures failures cost nothing but the usual answer
//     delay;
//   - after that each attempt must wait a growing delay after the last
//     failure (kFirstDelaySeconds doubling, at most kMaxDelaySeconds);
//     an attempt that comes earlier is refused at once, without hashing;
//   - at kLockoutFailures the address is locked out for kWindowSeconds;
//   - overall: when more than kOverallAlarm failures from all addresses fall
//     in one window (a guesser spread over many addresses), an address with
//     any failure is held to the delays from its first failure on.
// A right password clears its address. An address that never failed is
// never delayed, so the administrator logs in from another address while a
// guesser is locked out. Every attempt is recorded as a failure before the
// password is checked (record_attempt) and cleared when it was right, so
// concurrent attempts from one address cannot slip past the count.
//
// At most kMaxAddresses addresses are kept (the oldest go first), so the
// file stays small whatever a guesser does.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace boxmail::cgi {

constexpr std::int64_t kWindowSeconds = 15 * 60;
constexpr std::uint32_t kFreeFailures = 3;
constexpr std::int64_t kFirstDelaySeconds = 4;
constexpr std::int64_t kMaxDelaySeconds = 60;
constexpr std::uint32_t kLockoutFailures = 10;
constexpr std::uint32_t kOverallAlarm = 50;
constexpr std::size_t kMaxAddresses = 256;
/// Login attempts whose password is being checked at the same time; more
/// get 429 at once (the glue holds one of this many lock files per attempt).
constexpr unsigned kMaxConcurrentLogins = 4;

/// The failures of one client address.
struct AddressFailures {
  std::string address;
  std::uint32_t failures = 0;
  std::int64_t last = 0;   ///< unix seconds of the last failure
  bool operator==(const AddressFailures&) const = default;
};

/// The whole record.
struct LoginFailures {
  std::int64_t total_since = 0;    ///< start of the overall window
  std::uint32_t total = 0;         ///< failures from all addresses since then
  std::vector<AddressFailures> addresses;
  bool operator==(const LoginFailures&) const = default;
};

/// True for text that can stand for a client address in the record (hex
/// digits, '.', ':', '-', at most 64 octets); the glue uses "unknown" for
/// anything else.
bool valid_client_address(std::string_view address);

/// Parses the file's text; anything malformed (or an empty file) is an
/// empty record, never an error: a damaged file must not lock anyone out.
LoginFailures parse_login_failures(std::string_view text);
/// The file's text (see above).
std::string format_login_failures(const LoginFailures& f);

/// What a login attempt from an address may do now.
struct LoginVerdict {
  bool allowed = true;
  bool locked_out = false;        ///< refused for the lockout (not just a delay)
  std::int64_t retry_after = 0;   ///< seconds to wait when refused
};

/// The verdict for `address` at `now` (see the rules above).
LoginVerdict check_login(const LoginFailures& f, std::string_view address, std::int64_t now);

/// Counts one attempt from `address` as a failure (before the password is
/// checked); forgets stale entries.
void record_attempt(LoginFailures& f, std::string_view address, std::int64_t now);

/// The attempt was right: forgets `address` and takes its attempt back out
/// of the overall count.
void record_success(LoginFailures& f, std::string_view address);

}  // namespace boxmail::cgi

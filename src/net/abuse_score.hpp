// abuse_score.hpp - who gets banned: a fail2ban-like score per client
// address (pure).
//
// The servers report offences of a client address (failed logins on any
// protocol and the panel's, sessions ended for protocol errors, relay
// attempts, RCPTs to unknown users: directory harvesting); the glue asks
// report() and, when it returns a ban, hands it to the ban list (the
// firewall's sets and the daemon's own refusal at accept), unless the
// address is allow-listed.
//
// Rules (limits from the [firewall] ban_* keys, boxmail.ini(5)):
//   - each kind of offence has a limit: that many of it alone within the
//     window earn a ban (0: the kind is not counted);
//   - the score of an address is the sum over kinds of count / limit; a ban
//     is due when it reaches 1 (so 5 of 10 failed logins plus 10 of 20
//     unknown recipients ban too: mixed abuse is not free);
//   - offences are counted while each comes within `window` of the one
//     before it (as LoginThrottle counts failures); after a longer pause
//     the counts start again;
//   - a ban lasts `ban_time`, doubled for each earlier ban of the same
//     address that is still remembered, up to `ban_time_max`; the number
//     of bans is remembered for `ban_time_max` after the last one ends (a
//     repeat offender within a week of its last ban gets 2, 4, 8... hours);
//   - after a ban the counts start again at 0 (the ban list, not the
//     score, keeps it out).
// No clock reads: `now` comes in with each call. At most `max_addresses`
// addresses are kept: when full, the record with the oldest activity
// goes. About 120 octets per address.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace boxmail::net {

/// What a client did. The names are the ban reasons the log, the ban list
/// and the firewall helper's protocol use (offence_name).
enum class Offence : std::uint8_t {
  LoginFailure,       ///< a failed login: POP3 USER/PASS or APOP, SMTP AUTH, the panel's
  ProtocolError,      ///< a session ended by the server for protocol errors (error budget)
  RelayAttempt,       ///< RCPT refused 5.7.1: a remote recipient from a client that may not relay
  UnknownRecipient,   ///< RCPT refused 5.1.1: no such user (directory harvesting)
};
inline constexpr std::size_t kOffenceKinds = 4;

/// "login", "protocol", "relay", "harvest": one lower-case token.
const char* offence_name(Offence o);

/// The limits, taken from the configuration at each call (a reload
/// applies at once).
struct AbuseLimits {
  /// Offences of each kind (indexed by Offence) that alone earn a ban
  /// within the window; 0 = that kind is not counted.
  std::array<std::uint32_t, kOffenceKinds> limit{10, 5, 5, 20};
  std::chrono::seconds window{600};         ///< offences closer than this add up
  std::chrono::seconds ban_time{3600};      ///< the first ban's length
  std::chrono::seconds ban_time_max{604800};  ///< longest ban, and how long bans are remembered
};

/// A ban that report() decided: its length and the offence that weighed
/// most in the score (the reason).
struct BanDecision {
  std::chrono::seconds length{0};
  Offence reason = Offence::LoginFailure;
  std::uint32_t repeat = 0;   ///< earlier bans of this address still remembered
};

class AbuseScore {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit AbuseScore(std::size_t max_addresses = 4096) : max_addresses_(max_addresses) {}

  /// Counts one offence of `address` at `now`; a ban when the address's
  /// score reaches 1, nullopt otherwise (also when the kind's limit is 0).
  std::optional<BanDecision> report(std::string_view address, Offence o, TimePoint now, const AbuseLimits& limits);

  /// The address's score at `now` (0 when unknown or its window passed):
  /// for the Security page and tests.
  double score(std::string_view address, TimePoint now, const AbuseLimits& limits) const;

  /// Addresses held (bounded by max_addresses).
  std::size_t size() const { return table_.size(); }

 private:
  struct Record {
    std::array<std::uint32_t, kOffenceKinds> count{};
    TimePoint last{};         ///< last offence
    TimePoint ban_end{};      ///< when the last ban decided ends
    std::uint32_t bans = 0;   ///< bans decided, remembered for ban_time_max
  };
  static double score_of(const Record& r, const AbuseLimits& limits);
  Record& record(std::string_view address);

  std::size_t max_addresses_;
  std::unordered_map<std::string, Record> table_;
};

}  // namespace boxmail::net

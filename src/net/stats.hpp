// stats.hpp - what the control socket reports about recent activity: the
// last log lines (a ring buffer) and messages accepted/refused per hour.
//
// Pure: no clock reads, no I/O. The daemon's control server (control/)
// fills the ring from the log tap of net/log.hpp (for humans only) and
// counts typed events: the SMTP session reports smtp::Event values in its
// Output where things happen (a message accepted, a RCPT refused ...), the
// glue hands them on (app/boxmaild.cpp maps them to MessageEvent). Counters
// are never parsed back from log text: a log line holds what a client
// sent (e.g. a quoted local-part " result=accepted "), so it could forge
// them (STYLE.md 17).
// Times are Unix seconds passed in by the caller; "today" is the calendar
// day of the caller's choosing (the glue passes the local day number).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace boxmail::net {

/// The last `capacity` lines, oldest first. Each line is cut to max_line
/// octets so memory stays bounded (capacity * max_line).
class LogRing {
 public:
  explicit LogRing(std::size_t capacity = 200, std::size_t max_line = 400)
      : capacity_(capacity), max_line_(max_line) {}
  void add(std::string_view line);
  /// The newest `n` lines (fewer when fewer were logged), oldest first.
  std::vector<std::string> last(std::size_t n) const;
  std::size_t size() const { return lines_.size(); }

 private:
  std::size_t capacity_;
  std::size_t max_line_;
  std::deque<std::string> lines_;
};

/// What the counters count. Accepted: a message made durable (SMTP 250
/// after DATA). Refused: a message refused after DATA, a RCPT or MAIL
/// refused, or an SMTP connection refused by the connection limits.
/// BlockedDnsbl, BlockedReverseDns: a connection refused by the checks at
/// connection time (once per connection; its refused RCPTs count as
/// Refused too), counted for today only. Banned: a ban the firewall's ban
/// list took (the auto-ban's or the administrator's), today only.
enum class MessageEvent { Accepted, Refused, BlockedDnsbl, BlockedReverseDns, Banned };

/// Messages accepted and refused per hour, for the last 24 hours, and for
/// the current day.
class MessageStats {
 public:
  static constexpr std::size_t kHours = 24;
  struct Hour {
    std::int64_t start = 0;     ///< Unix time of the hour's start
    std::uint32_t accepted = 0;
    std::uint32_t refused = 0;
  };

  /// Counts one event at Unix time `now` on local day number `day`.
  void record(MessageEvent event, std::int64_t now, std::int64_t day);
  /// The 24 hours ending with the hour of `now`, oldest first (empty hours
  /// included, with their start times).
  std::array<Hour, kHours> hours(std::int64_t now) const;
  std::uint32_t accepted_today(std::int64_t day) const { return day == day_ ? accepted_today_ : 0; }
  std::uint32_t refused_today(std::int64_t day) const { return day == day_ ? refused_today_ : 0; }
  /// Connections blocked today by a DNS block list / by the reverse DNS rule.
  std::uint32_t blocked_dnsbl_today(std::int64_t day) const { return day == day_ ? blocked_dnsbl_today_ : 0; }
  std::uint32_t blocked_reverse_dns_today(std::int64_t day) const {
    return day == day_ ? blocked_reverse_dns_today_ : 0;
  }
  /// Bans made today (MessageEvent::Banned).
  std::uint32_t bans_today(std::int64_t day) const { return day == day_ ? bans_today_ : 0; }

 private:
  std::array<Hour, kHours> ring_{};   ///< slot = (start / 3600) % 24
  std::int64_t day_ = -1;
  std::uint32_t accepted_today_ = 0;
  std::uint32_t refused_today_ = 0;
  std::uint32_t blocked_dnsbl_today_ = 0;
  std::uint32_t blocked_reverse_dns_today_ = 0;
  std::uint32_t bans_today_ = 0;
};

}  // namespace boxmail::net

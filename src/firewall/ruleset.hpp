// ruleset.hpp - the nft commands of boxmail's table `inet boxmail` (pure).
//
// boxmail-fw writes every nft command it runs from validated requests
// (firewall/request.hpp) with these functions; nothing here runs nft.
// The table, and nothing outside it:
//
//   table inet boxmail
//     set banned4 { type ipv4_addr; flags timeout; }   banned addresses,
//     set banned6 { type ipv6_addr; flags timeout; }   each with its timeout
//     set allow4  { type ipv4_addr; flags interval; auto-merge; }  never
//     set allow6  { type ipv6_addr; flags interval; auto-merge; }  banned
//     set feed4   { type ipv4_addr; flags interval; auto-merge; }  who may
//     set feed6   { type ipv6_addr; flags interval; auto-merge; }  use the feed ports
//     counter banned_drops                     packets dropped for a ban
//     counter feed_drops                       packets dropped for not being a feed server
//     chain input { type filter hook input priority -10; policy accept; }
//       tcp dport { FEED PORTS } ip saddr != @feed4 counter name feed_drops drop   (only with
//       tcp dport { FEED PORTS } ip6 saddr != @feed6 counter name feed_drops drop   feed=)
//       ip saddr @allow4 accept
//       ip6 saddr @allow6 accept
//       tcp dport { MAIL PORTS } ip saddr @banned4 counter name banned_drops drop
//       tcp dport { MAIL PORTS } ip6 saddr @banned6 counter name banned_drops drop
//
// Priority -10 runs the chain before a filter table at the usual priority
// 0; its policy is accept and its only verdicts are accept (which ends
// this chain only: every other table still sees the packet) and drop for
// a banned source on a mail port or a source not in the feed sets on a
// feed port ([smtp] feed_servers set), so it never cuts other traffic.
// apply_script is one nft transaction (nft_run_cmd_from_buffer of the
// whole text): it creates what is missing (`add` of an existing table,
// set, counter or chain changes nothing), then flushes and rebuilds the
// chain and the allow and feed sets. The banned sets are never flushed there, so
// re-applying (a reload, a restart of the helper) keeps the bans.
#pragma once

#include "firewall/request.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boxmail::firewall {

/// The one table boxmail-fw touches, as nft names it.
inline constexpr std::string_view kTable = "inet boxmail";

/// The nft script that builds (or rebuilds) the table for an Apply request.
std::string apply_script(const Request& apply);

/// The nft script that bans a host for `seconds` (an Apply's table must
/// exist): a ban already there is replaced, so its time starts again.
std::string ban_script(const Request& ban);

/// The nft script that removes a host from its banned set (no error
/// when it is not there).
std::string unban_script(const Request& unban);

/// The nft script that removes the table (stop).
std::string delete_script();

/// The nft command whose output parse_listing reads (the whole table).
std::string list_script();

/// The bans in nft's text output of list_script: the elements of the
/// sets banned4 and banned6 (`elements = { ADDR timeout T expires E
/// comment "R", ... }`): address, seconds left (expires, rounded up),
/// reason (the comment when it is a reason token, else "-"). Elements it
/// cannot read are skipped, and so is every other set.
std::vector<ListedBan> parse_listing(std::string_view nft_output);

/// The packets of the named counter banned_drops in nft's text output of
/// list_script (`counter banned_drops { packets N bytes B }`); nullopt
/// when the listing has none or its number is not one.
std::optional<std::uint64_t> parse_drop_counter(std::string_view nft_output);

/// Seconds in an nft duration ("2d2h59m59s936ms", "10m", "59s904ms"),
/// milliseconds rounded up; nullopt when it is not one.
std::optional<std::uint64_t> parse_nft_duration(std::string_view text);

/// True when the host `address` lies in one of `allow`.
bool is_allowed(const std::vector<net::IpNetwork>& allow, const net::IpNetwork& address);

}  // namespace boxmail::firewall

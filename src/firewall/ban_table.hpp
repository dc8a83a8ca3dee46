// ban_table.hpp - boxmaild's record of the current bans and its state
// file format (pure).
//
// boxmaild owns the list of banned addresses: the nftables sets are the
// helper's copy, rebuilt from this record when the helper starts again
// (a restart of boxmaild, which also restarts the helper: "stop" deletes
// the table, the next start re-applies it and re-requests every ban not
// yet expired). Times are wall-clock Unix seconds, so a ban keeps its end
// across a restart. firewall/ban_list.hpp writes the record to the state
// file and sends the requests.
//
// State file (versioned text, one ban a line, readable with cat):
//   boxmail-bans 1
//   ADDRESS EXPIRES REASON
// ADDRESS canonical (firewall/request.hpp), EXPIRES Unix seconds, REASON
// a reason token. Lines that do not parse are skipped and reported;
// expired ones are dropped when read.
#pragma once

#include "firewall/request.hpp"
#include "net/ip_network.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace boxmail::firewall {

/// At most this many bans are kept; a ban beyond it is refused.
inline constexpr std::size_t kMaxBans = 4096;

/// One ban as boxmaild records it.
struct Ban {
  std::string address;       ///< canonical (inet_ntop's form)
  std::int64_t expires = 0;  ///< Unix seconds
  std::string reason;        ///< a reason token
  bool operator==(const Ban&) const = default;
};

/// A client address as a socket or an administrator writes it
/// ("192.0.2.1", "::ffff:192.0.2.1", "2001:DB8::1") as one host in
/// canonical form; nullopt for anything else (a network, a name).
std::optional<net::IpNetwork> parse_host(std::string_view text);

/// The bans, in the order they were made (a repeated ban moves to the end).
class BanTable {
 public:
  /// Records a ban of `address` (canonical) until `expires`; replaces an
  /// earlier ban of the same address. False when the table is full.
  bool ban(const std::string& address, std::int64_t expires, const std::string& reason);
  /// Removes the ban of `address`; false when there was none.
  bool unban(const std::string& address);
  /// Drops the bans whose time is over at `now`; how many were dropped.
  std::size_t expire(std::int64_t now);
  /// The bans, oldest first.
  const std::vector<Ban>& bans() const { return bans_; }
  /// The ban of `address`, or nullptr.
  const Ban* find(std::string_view address) const;
  /// True when `address` (canonical, as net::client_address writes a
  /// socket's peer) has a ban running at `now`: one hash lookup, no
  /// allocation (the accept path asks it for every connection).
  bool banned(const std::string& address, std::int64_t now) const {
    const auto it = ends_.find(address);
    return it != ends_.end() && it->second > now;
  }

 private:
  std::vector<Ban> bans_;
  std::unordered_map<std::string, std::uint32_t> ends_;   // address -> expires (Unix seconds), as in bans_
};

/// The state file's text for `bans`.
std::string format_state(const std::vector<Ban>& bans);

/// The state file read back: the bans still running at `now`, and one
/// note per line that was skipped (malformed) or an unknown version.
struct StateParse {
  std::vector<Ban> bans;
  std::vector<std::string> notes;
};
StateParse parse_state(std::string_view text, std::int64_t now);

}  // namespace boxmail::firewall

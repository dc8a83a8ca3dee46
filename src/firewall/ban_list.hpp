// ban_list.hpp - boxmaild's bans: the record, its state file and the
// requests to the firewall helper (I/O).
//
// The one place that bans: the control socket's `ban`/`unban`/`bans`
// (an administrator through boxmailctl or the panel) and boxmaild's own
// abuse scoring call it. Every change is checked here first (a client
// address in any written form, firewall/ban_table.hpp parse_host; seconds
// kMinBanSeconds..kMaxBanSeconds; a reason token; never an allowed
// address: [firewall] allow and [relay] relay_networks), then recorded in
// the state file (temporary file, fsync, rename: store/spool_file.hpp
// write_file_atomic; firewall/ban_table.hpp has the format), then sent to
// boxmail-fw (firewall/client.hpp) without waiting for its answer: the
// client logs a refusal or a failure. apply() rebuilds the table and
// re-requests every running ban with its time left, so a restart of
// boxmaild (which starts a new helper on an empty table) keeps the bans.
// Runs on the daemon's loop; times are wall-clock Unix seconds.
#pragma once

#include "firewall/ban_table.hpp"
#include "firewall/client.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace boxmail::firewall {

class BanList {
 public:
  /// `state_path`: the state file (boxmaild's, in the spool directory);
  /// `client`: the helper, or null when it could not be started (bans
  /// are then recorded and take effect at the next start).
  BanList(std::string state_path, Client* client);

  /// Reads the state file (expired bans dropped); returns lines for the
  /// log (what was read, lines skipped, a file that cannot be read).
  std::vector<std::string> load();

  /// The networks that are never banned ([firewall] allow and [relay]
  /// relay_networks; the first kMaxAllow of them go to the helper: the
  /// INI's line length keeps the two lists far below that).
  void set_allow(std::vector<net::IpNetwork> allow) { allow_ = std::move(allow); }

  /// Sends `apply` with `ports` (the mail ports, at most kMaxPorts of
  /// them are taken), the allowed networks and the feed restriction
  /// (set_feed), then every running ban.
  void apply(const std::vector<std::uint16_t>& ports);

  /// The feed restriction ([smtp] feed_servers): the feed ports take
  /// connections only from `from` (the first kMaxFeed networks); no
  /// `ports`: none. After the first apply() it is applied at once (an
  /// `apply` without the bans, which the table keeps).
  void set_feed(std::vector<std::uint16_t> ports, std::vector<net::IpNetwork> from);

  /// True when `address` (as net::client_address writes a peer) is
  /// banned now (a hash lookup: for every accepted connection).
  bool banned(const std::string& address) const { return table_.banned(address, now()); }

  /// The result of a change: done or refused, and a sentence for the
  /// administrator.
  struct Result {
    bool ok = false;
    std::string message;
  };

  /// Bans `address` (as a socket or a person writes it) for `seconds`
  /// with `reason` (a token; see firewall/request.hpp); a running ban of
  /// the address is replaced. Refused: not one address, seconds out of
  /// range, a bad reason, an allowed address, the table full.
  Result ban(std::string_view address, std::uint32_t seconds, std::string_view reason);

  /// Lifts the ban of `address`; refused when it is not banned.
  Result unban(std::string_view address);

  /// The running bans, oldest first (expired ones dropped).
  std::vector<Ban> list();

  /// True when `address` lies in the allowed networks.
  bool is_allowed_address(std::string_view address) const;

  /// The clock (Unix seconds); tests set their own.
  std::function<std::int64_t()> now;

 private:
  std::string save();
  void send_ban(const Ban& b, std::int64_t at);
  void send_apply();

  std::string path_;
  Client* client_;
  BanTable table_;
  std::vector<net::IpNetwork> allow_;
  std::vector<std::uint16_t> ports_;        // of the last apply() (empty before it)
  std::vector<std::uint16_t> feed_ports_;
  std::vector<net::IpNetwork> feed_;
};

}  // namespace boxmail::firewall

// feed_list.hpp - who may use the feed port when [smtp] feed_servers is
// set (pure).
//
// [smtp] feed_servers lists the ISP's mail servers: addresses, networks
// and host names. Empty (the default), anyone may connect to the feed
// port. Set, the feed port serves only
//   - the addresses and networks listed,
//   - the addresses the listed host names resolve to (A and AAAA; the
//     daemon resolves them with udns when the configuration is applied
//     and every [smtp] feed_refresh seconds: smtp/smtp_server.hpp), and
//   - [firewall] allow (the box itself: default 127.0.0.1 ::1, so local
//     tools and tests keep port 25). [relay] relay_networks (the LAN) is
//     not admitted: its users submit on 587/465.
// Everyone else gets a 554 5.7.1 greeting from the daemon and is dropped
// by the firewall's feed4/feed6 sets (firewall/ruleset.hpp), which get
// networks().
//
// A name whose lookup fails (no answer, SERVFAIL, NXDOMAIN, no address)
// keeps its last good addresses: a DNS outage neither opens the port nor
// locks the ISP out once it has been resolved. A name never resolved yet
// (at start, until its first answer) admits nobody: the port serves only
// the listed addresses and [firewall] allow meanwhile (never opens up).
#pragma once

#include "net/ip_network.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace boxmail::smtp {

class FeedList {
 public:
  /// One host name of feed_servers and the addresses it last resolved
  /// to (empty until its first good answer).
  struct Name {
    std::string name;
    std::vector<net::IpNetwork> addresses;
    bool resolved = false;   ///< it has had a good answer
  };

  /// Takes [smtp] feed_servers (lower case, as the schema keeps them) and
  /// the networks always admitted while it is set ([firewall] allow).
  /// Names listed before keep their addresses; the others are dropped.
  /// Items that are neither a network nor a name (the schema refuses
  /// them) are ignored.
  void configure(const std::vector<std::string>& feed_servers, const std::vector<net::IpNetwork>& always);

  /// True when feed_servers is set: the feed port is restricted.
  bool active() const { return active_; }

  /// True when `address` (numeric, as a socket reports it; an
  /// IPv4-mapped IPv6 address counts as IPv4) may use the feed port:
  /// always when not active(). One parse, no allocation.
  bool admits(std::string_view address) const;

  /// The host names to resolve.
  const std::vector<Name>& names() const { return names_; }

  /// A lookup of `name` ended with `addresses` (A and AAAA together);
  /// empty: it failed or found none, and the last good addresses stay.
  /// True when that changed what is admitted.
  bool resolved(std::string_view name, std::vector<net::IpNetwork> addresses);

  /// Everything admitted (listed networks, [firewall] allow, resolved
  /// addresses), each network once, in that order: the firewall's sets.
  std::vector<net::IpNetwork> networks() const;

 private:
  bool active_ = false;
  std::vector<net::IpNetwork> fixed_;   // listed networks and [firewall] allow
  std::vector<Name> names_;
};

}  // namespace boxmail::smtp

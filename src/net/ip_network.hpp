// ip_network.hpp - IP networks in CIDR notation, and whether an address is
// in one (pure).
//
// Used by the configuration for lists of client networks (for example
// [server] plaintext_login_networks: clients allowed to log in without
// TLS). A network is written "192.168.1.0/24", "fd00::/8", or a single
// address ("127.0.0.1", "::1": /32 or /128). Host bits set below the prefix
// are refused ("192.168.1.1/24" is a typo for .0/24 or for one host).
// NetCruiser-style IPv4 wildcards ("192.168.*", "10.*.*.*", "192.168.1.*")
// are taken and normalized to CIDR (192.168.0.0/16); a lone "*", a wildcard
// inside an octet or before a fixed octet, and host-name patterns
// ("*.example.com": they would need reverse DNS) are refused.
// Source: RFC 4632 3.1 (prefix notation), RFC 4291 2.3 (IPv6 prefixes).
// An IPv4-mapped IPv6 client address (::ffff:192.0.2.1, as a dual-stack
// socket reports IPv4 clients) matches the IPv4 networks.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boxmail::net {

/// One network: family, address octets (network byte order) and prefix length.
struct IpNetwork {
  bool v6 = false;                      ///< false: IPv4 (the first 4 octets are used)
  std::array<std::uint8_t, 16> address{};
  std::uint8_t prefix = 0;              ///< 0..32 (IPv4) or 0..128 (IPv6)

  bool operator==(const IpNetwork&) const = default;
  /// "192.168.1.0/24", "fd00::/8"; a single host without "/32", "/128".
  std::string to_string() const;
};

/// Parses one network (see the file comment). On failure returns nullopt
/// and sets `error` to a sentence for the administrator.
std::optional<IpNetwork> parse_network(std::string_view text, std::string& error);

/// The octets of one numeric address as a socket reports it ("192.0.2.1",
/// "2001:db8::1", "::ffff:192.0.2.1"), as a network of that one address
/// (prefix 32 or 128); an IPv4-mapped IPv6 address becomes IPv4. nullopt
/// when the text is not an address (no '/', no wildcard here).
std::optional<IpNetwork> parse_address(std::string_view address);

/// True when the numeric address `address` (as a socket reports it:
/// "192.0.2.1", "::1", "::ffff:192.0.2.1") lies in `network`. A text that
/// is not an address is in no network.
bool network_contains(const IpNetwork& network, std::string_view address);

/// True when the host (or network) `inner` lies wholly in `network`.
bool network_contains(const IpNetwork& network, const IpNetwork& inner);

/// True when `address` lies in any of `networks`.
bool in_networks(const std::vector<IpNetwork>& networks, std::string_view address);

}  // namespace boxmail::net

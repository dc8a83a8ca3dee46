// request.hpp - the request protocol between boxmaild and boxmail-fw (pure).
//
// boxmaild (user boxmail, no capabilities) asks boxmail-fw (the firewall
// helper, CAP_NET_ADMIN only) for changes to the nftables table
// `inet boxmail` over a SOCK_SEQPACKET socketpair: one request per
// datagram, one reply datagram per request, in order. The helper never
// takes nft text from the daemon: it takes these requests, validated
// here, and writes the nft commands itself (firewall/ruleset.hpp), so a
// compromised daemon can ban and unban single addresses in boxmail's own
// table and nothing else.
//
// Requests (version 1; ASCII, single spaces, no line end, at most
// kMaxRequest octets; every field in its one canonical form, so
// format_request(parse_request(d)) == d for every accepted d):
//   1 ban ADDRESS SECONDS REASON
//        ADDRESS: one IPv4 or IPv6 address as inet_ntop writes it
//        (192.0.2.1, 2001:db8::1; never a network, a wildcard, an
//        IPv4-mapped IPv6 address, leading zeros or upper-case hex);
//        SECONDS: kMinBanSeconds..kMaxBanSeconds, decimal, no leading
//        zero; REASON: a token of 1..kMaxReasonLength characters
//        [a-z0-9-], starting with a letter ("manual", "login-failures")
//   1 unban ADDRESS
//   1 list           the banned addresses with their time left
//   1 apply ports=P,P,... allow=N,N,...|-
//        (re)builds the table: the mail ports to guard (1..65535,
//        ascending, no repeats, 1..kMaxPorts of them) and the networks
//        that are never banned (canonical CIDR as net::IpNetwork
//        writes it, a host without /32 or /128; none of /0; at most
//        kMaxAllow; "-" for none)
//   1 apply ports=P,P,... allow=N,N,...|- feed=P,P,... from=N,N,...|-
//        the same, and the feed ports ([smtp] listen) take connections
//        only from the networks after from= (at most kMaxFeed; "-" for
//        none: only allow= passes) ([smtp] feed_servers)
//   1 stop           deletes the table; the helper exits
//
// An empty datagram cannot be told from the end of the stream on a
// SOCK_SEQPACKET socket: the helper takes it as EOF (deletes the table and
// exits, as when boxmaild closes its end).
//
// Replies (at most kMaxReply octets): "1 ok TEXT" or "1 error TEXT" on
// the first line (TEXT printable ASCII); `list` answers "1 ok N banned
// drops=P" (P: the packets the counter banned_drops counted; " drops=P"
// missing when nft's listing had no counter) and adds one line per ban:
// "ADDRESS SECONDS-LEFT REASON" (REASON "-" when the set holds none).
#pragma once

#include "net/ip_network.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boxmail::firewall {

/// The protocol version both sides write first.
inline constexpr std::string_view kVersion = "1";
/// The longest request datagram, octets (an apply with kMaxAllow and
/// kMaxFeed IPv6 networks fits).
inline constexpr std::size_t kMaxRequest = 8192;
/// The longest reply datagram, octets.
inline constexpr std::size_t kMaxReply = 32768;
/// Ban lengths, seconds: one second to 30 days.
inline constexpr std::uint32_t kMinBanSeconds = 1;
inline constexpr std::uint32_t kMaxBanSeconds = 30 * 86400;
/// The longest reason token, characters.
inline constexpr std::size_t kMaxReasonLength = 24;
/// At most this many ports and allowed networks in an apply.
inline constexpr std::size_t kMaxPorts = 16;
inline constexpr std::size_t kMaxAllow = 64;
/// At most this many networks after from= (the feed servers' addresses).
inline constexpr std::size_t kMaxFeed = 64;
/// At most this many bans in a `list` reply (the rest are counted).
inline constexpr std::size_t kMaxListed = 500;

enum class Verb { Ban, Unban, List, Apply, Stop };

/// One validated request.
struct Request {
  Verb verb = Verb::List;
  net::IpNetwork address;              ///< Ban, Unban: one host (prefix 32 or 128)
  std::uint32_t seconds = 0;           ///< Ban
  std::string reason;                  ///< Ban: a token (see above)
  std::vector<std::uint16_t> ports;    ///< Apply: ascending, unique, not empty
  std::vector<net::IpNetwork> allow;   ///< Apply: canonical networks, none of them /0
  /// Apply: the feed ports (ascending, unique; empty: no feed= and from=,
  /// the feed is not restricted) and the networks they take (canonical,
  /// none of them /0; may be empty).
  std::vector<std::uint16_t> feed_ports;
  std::vector<net::IpNetwork> feed;
};

/// A request, or why the datagram is not one (a sentence for the log;
/// never quotes more than a short, cleaned prefix of the datagram).
struct RequestParse {
  std::optional<Request> request;
  std::string error;
};

/// Parses one request datagram (see the file comment); strict: anything
/// not in its canonical form is refused.
RequestParse parse_request(std::string_view datagram);

/// The request's datagram (canonical; what parse_request accepts back).
std::string format_request(const Request& request);

/// Checks a reason token (see the file comment); "" or why not.
std::string reason_error(std::string_view reason);

/// Parses one address in its canonical form (inet_ntop's); nullopt when
/// `text` is not exactly that: a network, a host name, "::ffff:1.2.3.4",
/// "010.0.0.1", "2001:DB8::1", "2001:db8:0::1".
std::optional<net::IpNetwork> parse_canonical_address(std::string_view text);

/// One banned address as `list` reports it.
struct ListedBan {
  std::string address;
  std::uint64_t seconds_left = 0;
  std::string reason;   ///< "-" when unknown
  bool operator==(const ListedBan&) const = default;
};

/// A reply: ok or not, the head text, and (for list) the bans.
struct Reply {
  bool ok = false;
  std::string text;
  std::vector<ListedBan> bans;
};

/// The reply's datagram (text cleaned to printable ASCII, cut to fit kMaxReply).
std::string format_reply(const Reply& reply);

/// Parses a reply datagram; `error` is set when it is not one.
struct ReplyParse {
  std::optional<Reply> reply;
  std::string error;
};
ReplyParse parse_reply(std::string_view datagram);

/// The head text of a `list` reply ("N banned drops=P", list_head_text).
std::string list_head_text(std::size_t banned, std::optional<std::uint64_t> drops);

/// The P of a `list` reply's head text "N banned drops=P" (strict: N and P
/// decimal numbers, single blanks, nothing more); nullopt when the text is
/// not that (an older helper's "N banned", or an error text).
std::optional<std::uint64_t> listed_drops(std::string_view head_text);

/// The same, for the head line only (ok and text; ban lines are not
/// read): what boxmaild needs, which never asks for `list`.
ReplyParse parse_reply_head(std::string_view datagram);

}  // namespace boxmail::firewall

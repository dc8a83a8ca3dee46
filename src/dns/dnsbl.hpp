// dnsbl.hpp - DNS block lists as a client check asks them (pure): the
// query name for an address, what an answer means, and the list's TXT
// reason made safe to repeat in an SMTP reply.
//
// Query names (RFC 5782 2.1, 2.4): an IPv4 address's octets in reverse
// order under the zone ("192.0.2.99" in "bl.example" asks
// "99.2.0.192.bl.example"); an IPv6 address's 32 nibbles in reverse order
// ("2001:db8::1" asks "1.0.0.0. ... .8.b.d.0.1.0.0.2.bl.example"). An
// IPv4-mapped IPv6 address ("::ffff:192.0.2.99", as a dual-stack socket
// reports IPv4 clients) is asked as IPv4.
//
// Answers (RFC 5782 2.1, 5): an A record in 127.0.0.0/8 lists the address
// (127.0.0.2 and up; the value says why, per list), except
//   - 127.255.255.252 .. 127.255.255.255: the list refuses the query (an
//     error code, e.g. a typo in the zone name, queries through a public
//     resolver, or too many queries): not a listing;
//   - 127.0.0.1: a list must never answer it (RFC 5782 5); a list that
//     does is broken: not a listing.
// An address outside 127.0.0.0/8 is not a listing either (a list whose
// domain expired and now answers every name with a web server's address
// would otherwise block the whole world). NXDOMAIN is "not listed".
//
// TXT (RFC 5782 2.1): the reason a list gives is hostile input (whoever
// runs the zone, or spoofs its answers, writes it): sanitize_dns_text keeps
// it to one line of printable ASCII of bounded length before it goes into
// an SMTP reply or a log line.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boxmail::dns {

/// Longest DNSBL zone name: 253 octets of name less the 64 octets of an
/// IPv6 address's reversed nibbles ("x." times 32), so every query fits.
constexpr std::size_t kMaxDnsblZone = 253 - 64;

/// The query name of `address` (numeric, as a socket reports it) in `zone`
/// (a host name, lower case, without trailing dot): see the file comment.
/// nullopt when the address does not parse or the zone is not a host name
/// of at most kMaxDnsblZone octets.
std::optional<std::string> dnsbl_query_name(std::string_view address, std::string_view zone);

/// What the A records of a DNSBL answer say (see the file comment).
enum class DnsblAnswer {
  Listed,       ///< some address in 127.0.0.0/8 other than 127.0.0.1 and the refusal codes
  Refused,      ///< only 127.255.255.252..255: the list refuses to answer (log it; not a listing)
  Unexpected,   ///< only addresses outside 127.0.0.0/8, or 127.0.0.1: a broken list (log it; not a listing)
  NotListed,    ///< no address
};

/// Classifies the A records (numeric IPv4 texts) of a DNSBL answer. A
/// listing code wins over refusal codes and odd addresses in one answer.
DnsblAnswer classify_dnsbl_answer(const std::vector<std::string>& addresses);

/// "listed", "refused", "unexpected", "not listed".
std::string_view to_string(DnsblAnswer a);

/// Longest TXT reason kept by default (an SMTP reply line holds 512 octets,
/// RFC 5321 4.5.3.1.5, with the code, the client and the zone).
constexpr std::size_t kMaxDnsText = 200;

/// `text` as one line of printable ASCII: CR, LF, TAB and other blanks
/// become one space (runs collapse, none at the ends), every other octet
/// outside 0x21..0x7e becomes '?', '"' becomes '\'' (log lines quote it),
/// and the result is cut to `max` octets ("..." marks a cut). Never
/// contains CR or LF.
std::string sanitize_dns_text(std::string_view text, std::size_t max = kMaxDnsText);

}  // namespace boxmail::dns

// domain_name.hpp - which names the resolver may query, and the name
// servers it may be given (pure).
//
// Every name goes through check_name() before it is queried: a recipient's
// domain, an MX exchange or a PTR target that came from the network, a TXT
// or DNSBL name the firewall builds. A name that is not a domain is refused
// before any packet is sent (the resolver answers BadName).
//
// The rules (RFC 1035 2.3.4 sizes, RFC 1123 2.1 and RFC 5321 4.1.2 syntax):
//   - at most 253 octets of text, i.e. 255 octets in wire form (RFC 1035
//     2.3.4), one optional trailing dot (an absolute name) not counted;
//   - labels of 1..63 octets: no empty label ("a..b", ".a", "a.."), no lone
//     root "." (a root name is never a destination);
//   - host names (NameKind::Host: mail domains, MX exchanges, PTR targets)
//     are LDH: letters, digits and '-', a label neither starting nor ending
//     with '-' (RFC 5321 4.1.2 sub-domain = Let-dig [Ldh-str]; a leading
//     digit is allowed, RFC 1123 2.1). Internationalised names must come as
//     A-labels ("xn--..."): UTF-8 is refused (no SMTPUTF8 here);
//   - lookup names (NameKind::Lookup: TXT and DNSBL names such as
//     "_dmarc.example.com") also allow '_' anywhere in a label (RFC 2181 11
//     allows any octet; underscore is the only one real zones use).
// Everything else - blanks, controls, '\\' (udns writes odd octets of a
// received name as "\DDD" escapes), '@', '*' - is refused.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace boxmail::dns {

/// Which character rule a name must meet (see the file comment).
enum class NameKind {
  Host,     ///< LDH host names: mail domains, MX exchanges, PTR targets
  Lookup,   ///< LDH plus '_' (TXT names, DNSBL zones)
};

/// Why a name was refused; None when it is a domain.
enum class NameError {
  None,
  Empty,          ///< "" or "."
  TooLong,        ///< over 253 octets (255 in wire form)
  EmptyLabel,     ///< "a..b", ".a", "a.." (two dots, a leading dot, two trailing dots)
  LabelTooLong,   ///< a label over 63 octets
  BadCharacter,   ///< an octet outside the NameKind's set
  BadHyphen,      ///< a host label starting or ending with '-'
};

/// Short English text for an error ("has an empty label", ...), to follow
/// the quoted name in a message.
std::string_view describe(NameError e);

/// Checks `name` against the rules of the file comment.
NameError check_name(std::string_view name, NameKind kind = NameKind::Host);

/// The name as the resolver queries it and compares it: ASCII lower case,
/// without the trailing dot ("Example.TEST." -> "example.test"). nullopt
/// when check_name() refuses it.
std::optional<std::string> normalize_name(std::string_view name, NameKind kind = NameKind::Host);

/// One name server: a numeric address and a UDP port.
struct NameServer {
  std::string address;        ///< numeric IPv4 or IPv6 address, as written ("127.0.0.1", "::1")
  std::uint16_t port = 53;    ///< 1..65535
  bool v6 = false;            ///< true when `address` is IPv6

  bool operator==(const NameServer&) const = default;
};

/// Parses a name server as the configuration writes it: "192.0.2.53",
/// "192.0.2.53:5353", "2001:db8::53", "[2001:db8::53]:5353" (RFC 3986
/// 3.2.2 brackets for an IPv6 address with a port). Host names are refused
/// (the resolver cannot resolve its own servers). On failure returns
/// nullopt and sets `error` to a sentence for the administrator.
std::optional<NameServer> parse_name_server(std::string_view text, std::string& error);

}  // namespace boxmail::dns

// mx_route.hpp - from a domain's MX answer to the hosts to try, in order
// (pure).
//
// RFC 5321 5.1 ("Locating the Target Host") and RFC 7505 (null MX):
//   - MX records are tried in increasing preference; among equal
//     preferences the order is random (load spreading, 5.1: "the SMTP
//     client SHOULD randomize them"); the random source is a parameter so
//     that tests are deterministic;
//   - a host listed twice is tried once, at its lowest preference;
//   - no MX records (NODATA: the name exists, no MX) -> the implicit MX:
//     the domain itself, as if "MX 0 domain" (5.1);
//   - a null MX (RFC 7505 3: one MX whose exchange is the root ".") -> a
//     permanent failure, 556-style enhanced code 5.1.10 (RFC 7505 4.1,
//     RFC 7504); a root exchange next to real ones (which RFC 7505 3
//     forbids) is dropped and the real ones are used;
//   - NXDOMAIN -> permanent (5.1.2, bad destination system address);
//   - SERVFAIL, timeout, a garbled reply -> temporary (4.4.3, directory
//     server failure);
//   - a domain that is not a domain name -> permanent (5.1.2);
//   - exchanges that are not host names (garbage from the network) are
//     dropped; when nothing else is left, temporary (4.4.3): the zone is
//     broken, it may be fixed before the message expires;
//   - when one of the exchanges is this host (Options::own_names), it and
//     every exchange of the same or a higher preference are dropped
//     (5.1: "it MUST discard MX records ... with a preference ... greater
//     than or equal to" its own); when none is left the mail would loop:
//     permanent 5.4.6 (routing loop detected, RFC 3463).
// Status codes: RFC 3463 (X.1.2, X.4.3, X.4.6), RFC 7505 4.1 (X.1.10).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace boxmail::dns {

/// How one DNS lookup ended (shared by every answer type of the resolver).
enum class LookupStatus {
  Ok,          ///< records in the answer
  NxDomain,    ///< the name does not exist (RCODE 3, RFC 1035 4.1.1)
  NoData,      ///< the name exists but has no record of the type (RFC 2308 2.2)
  TempFail,    ///< SERVFAIL, REFUSED, no answer within the timeout, a garbled reply
  BadName,     ///< not queried: the name is not a domain (dns/domain_name.hpp)
  Cancelled,   ///< not finished: cancelled, or the resolver was destroyed
};

/// "ok", "nxdomain", "nodata", "tempfail", "badname", "cancelled".
std::string_view to_string(LookupStatus s);

/// One MX record: preference (lower first) and exchange host name.
struct MxRecord {
  std::uint16_t preference = 0;
  std::string exchange;   ///< as received; "" or "." is the root (null MX)

  bool operator==(const MxRecord&) const = default;
};

/// The answer of an MX lookup; `records` in wire order, only with Ok.
struct MxAnswer {
  LookupStatus status = LookupStatus::TempFail;
  std::vector<MxRecord> records;
};

/// What to do with mail for a domain.
struct MxRoute {
  enum class Kind {
    Hosts,       ///< try `hosts` in order
    Permanent,   ///< bounce: `text`, `enhanced_status` (5.x.x)
    Temporary,   ///< keep the message queued and retry later (4.x.x)
  };
  Kind kind = Kind::Temporary;
  std::vector<std::string> hosts;   ///< host names to try, lower case, without trailing dot
  bool implicit = false;            ///< hosts is the domain itself (no MX records)
  std::string text;                 ///< for the log and the bounce: "example.test has a null MX (RFC 7505)"
  std::string enhanced_status;      ///< RFC 3463 code for the bounce or the deferral; "" with Hosts
};

/// Picks a uniformly random index in [0, n) for n >= 1 (the shuffle's
/// random source; a test passes a scripted one).
using RandomIndex = std::function<std::size_t(std::size_t n)>;

/// Extra rules.
struct MxRouteOptions {
  std::vector<std::string> own_names;   ///< this host's names (the MX-loop rule); lower case, no trailing dot
};

/// The hosts to try for mail to `domain` given its MX answer (see the file
/// comment for every rule). `domain` is the recipient domain as written
/// (case and a trailing dot do not matter).
MxRoute mx_route(std::string_view domain, const MxAnswer& answer, const RandomIndex& random,
                 const MxRouteOptions& options = {});

}  // namespace boxmail::dns

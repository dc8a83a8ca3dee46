// client_check.hpp - the checks at connection time, from lookup results to
// an SMTP verdict (pure).
//
// Who is checked (client_checked): a client of the feed port ([smtp]
// listen; never submission, never POP3) whose address is not in [relay]
// relay_networks, while [smtp] dnsbl_zones is set or [smtp] reverse_dns
// is not off, and [smtp] feed_servers is empty (set, the feed port serves
// only the feed servers and [firewall] allow, smtp/feed_list.hpp, and
// refuses everyone else at accept: nobody there is checked). A client that logs in (AUTH) on the feed
// port is exempt too: the session ignores the verdict then.
//
// What is looked up (smtp/client_check_runner.hpp does it, all at once,
// at accept): each zone's A record for the client (dns/dnsbl.hpp), and its
// TXT when listed; the client's PTR names and, for each of the first
// kMaxPtrNames, its A (IPv4 client) or AAAA (IPv6 client) records.
//
// The verdict (client_verdict), first match wins:
//   1. a zone lists the client (dns::DnsblAnswer::Listed), in the order
//      of dnsbl_zones: 554 5.7.1 "Service unavailable; Client host [ADDR]
//      blocked using ZONE; TXT" (Postfix's reject_rbl_client text; the TXT
//      sanitized, dns::sanitize_dns_text);
//   2. reverse_dns = reject, and
//      - no PTR (NXDOMAIN, NODATA) or no PTR name resolves back to the
//        client while none of them failed: 550 5.7.25;
//      - the PTR lookup failed (SERVFAIL, no answer in
//        client_check_timeout), or no name resolved back and one of the
//        forward lookups failed: 450 4.7.25 (RFC 7372 3.3; Postfix's
//        reject_unknown_client_hostname gives the same two);
//   3. else the client passes.
// A zone that fails, does not answer, refuses the query (127.255.255.252
// .. 255) or answers outside 127.0.0.0/8 lets the client through; each of
// those is logged. With reverse_dns = log the outcome is logged and never
// refused.
//
// Log lines name the client, each zone with its query outcome ("listed
// 127.0.0.2", "not listed", "tempfail", "no answer within 10 s") and the
// TXT, and the reverse DNS outcome ("confirmed host.example", "no PTR",
// "PTR host.example does not resolve to the client").
#pragma once

#include "config/config.hpp"
#include "dns/mx_route.hpp"
#include "smtp/reply.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace boxmail::smtp {

/// PTR names whose addresses are looked up at most (a client with 100 PTR
/// records costs 5 lookups).
constexpr std::size_t kMaxPtrNames = 5;

/// One DNSBL zone's answers for the client. A status is Cancelled while
/// not answered; `timed_out` says client_check_timeout ended the wait.
struct DnsblResult {
  std::string zone;                      ///< as configured
  std::string name;                      ///< the query name (dns::dnsbl_query_name)
  dns::LookupStatus status = dns::LookupStatus::Cancelled;   ///< of the A lookup
  std::vector<std::string> addresses;    ///< the A records (numeric), with Ok
  dns::LookupStatus txt_status = dns::LookupStatus::Cancelled;   ///< asked only when listed
  std::vector<std::string> texts;        ///< TXT records as received (hostile), with Ok
  bool timed_out = false;
};

/// One PTR name's forward lookup (A for an IPv4 client, AAAA for IPv6).
struct ForwardResult {
  std::string name;
  dns::LookupStatus status = dns::LookupStatus::Cancelled;
  std::vector<std::string> addresses;    ///< numeric, with Ok
};

/// The client's reverse DNS. `forward` holds one entry per PTR name looked
/// up (the first kMaxPtrNames).
struct ReverseDnsResult {
  dns::LookupStatus ptr_status = dns::LookupStatus::Cancelled;
  std::vector<std::string> names;        ///< PTR names (host names only, lower case: dns::Resolver::ptr)
  std::vector<ForwardResult> forward;
  bool timed_out = false;
};

/// Everything looked up for one client.
struct ClientLookups {
  std::string client;                    ///< the numeric address, as the socket reports it
  std::vector<DnsblResult> dnsbl;        ///< in [smtp] dnsbl_zones order
  bool reverse_asked = false;            ///< reverse_dns is not off
  ReverseDnsResult reverse;
  std::uint32_t timeout_seconds = 0;     ///< client_check_timeout, for the log
};

/// What blocked the client, for the counters (net::MessageStats).
enum class BlockedBy { None, Dnsbl, ReverseDns };

/// The outcome of the checks: a refusal for every RCPT, or a pass.
struct ClientVerdict {
  BlockedBy blocked = BlockedBy::None;
  ReplyId reply = ReplyId::DnsblListed;  ///< with blocked != None
  std::string reply_arg;                 ///< the reply's argument (client, zone, TXT), one line
  std::string reason;                    ///< short text for the RCPT log line ("listed by zen.example")
  std::vector<std::string> log;          ///< one line per outcome worth logging (see the file comment)
};

/// True when `address` on the feed port is checked under `config` (see
/// the file comment; `feed_port`: it came in on [smtp] listen).
bool client_checked(const config::Config& config, std::string_view address, bool feed_port);

/// The verdict for `lookups` under `policy` (see the file comment).
ClientVerdict client_verdict(const ClientLookups& lookups, config::ReverseDnsPolicy policy);

}  // namespace boxmail::smtp

// client_check_runner.hpp - the lookups of the checks at connection time,
// on the Asio loop (I/O; the verdict is smtp/client_check.hpp's, pure).
//
// run_client_checks starts every lookup at once on one dns::Resolver: the
// A record of the client in each DNSBL zone (dns::dnsbl_query_name) and
// its PTR; then, as answers come in, the TXT record of a zone that lists
// the client, and the A (IPv4 client) or AAAA (IPv6) records of the first
// kMaxPtrNames PTR names, also all at once. It returns when every lookup
// has ended or `timeout` after it started, whichever is first: a lookup
// still running then is cancelled and reported unanswered (status
// Cancelled, timed_out set). Nothing here blocks the loop; the caller's
// coroutine just waits (the SMTP glue spawns it at accept and only a RCPT
// ever waits for it).
//
// Cancelling the awaiting coroutine (its cancellation slot, terminal)
// ends every lookup at once and returns what is in. The Resolver is held
// by shared_ptr until the last lookup is over, so a reload that makes a
// new one never cuts these short.
//
// Sources: RFC 5782 2.1, 2.4 (DNSBL queries), RFC 1035 3.5 and RFC 3596
// 2.5 (PTR), RFC 7372 3.3 (what a failed check says).
#pragma once

#include "smtp/client_check.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

namespace boxmail::dns {
class Resolver;
}

namespace boxmail::smtp {

/// What to look up for one client.
struct ClientCheckRequest {
  std::string client;                        ///< numeric address as the socket reports it
  std::vector<std::string> zones;            ///< [smtp] dnsbl_zones
  bool reverse = false;                      ///< look up the PTR and its forward addresses
  std::chrono::steady_clock::duration timeout = std::chrono::seconds(10);   ///< [smtp] client_check_timeout
};

/// Runs the lookups of `request` on `resolver` (see the file comment).
/// Never throws for a DNS failure; each result carries its status.
boost::asio::awaitable<ClientLookups> run_client_checks(std::shared_ptr<dns::Resolver> resolver,
                                                        ClientCheckRequest request);

}  // namespace boxmail::smtp

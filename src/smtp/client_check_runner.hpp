// client_check_runner.hpp - the lookups of the checks at connection time,
// on the Asio loop (I/O; the verdict is smtp/client_check.hpp's, pure).
//
// start_client_checks starts every lookup at once on one dns::Resolver:
// the A record of the client in each DNSBL zone (dns::dnsbl_query_name)
// and its PTR; then, as answers come in, the TXT record of a zone that
// lists the client, and the A (IPv4 client) or AAAA (IPv6) records of the
// first kMaxPtrNames PTR names, also all at once. `done` runs once, on the
// executor, when every lookup has ended or `timeout` after the start,
// whichever is first: a lookup still running then is reported unanswered
// (status Cancelled, timed_out set) and its answer, when it comes, is
// ignored. Nothing here blocks the loop, and there is no coroutine per
// lookup (the Resolver's callback forms; a coroutine frame and a co_spawn
// per lookup cost the board's static binary about 30 KiB).
//
// The returned function cancels: `done` is not called after it (the
// lookups run out inside udns, bounded by [dns] timeout and attempts).
// The Resolver is held by shared_ptr until the last answer is in, so a
// reload that makes a new one never cuts these short.
//
// Sources: RFC 5782 2.1, 2.4 (DNSBL queries), RFC 1035 3.5 and RFC 3596
// 2.5 (PTR), RFC 7372 3.3 (what a failed check says).
#pragma once

#include "smtp/client_check.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

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

/// Starts the lookups of `request` on `resolver`; `done` gets the results
/// on `executor` (see the file comment). Returns the function that cancels.
std::function<void()> start_client_checks(std::shared_ptr<dns::Resolver> resolver,
                                          boost::asio::any_io_executor executor, ClientCheckRequest request,
                                          std::function<void(ClientLookups)> done);

}  // namespace boxmail::smtp

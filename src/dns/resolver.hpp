// resolver.hpp - asynchronous DNS lookups on the Asio loop (udns).
//
// One Resolver owns one udns context (one UDP socket) on one io_context and
// is used from that io_context's thread only (udns has no locking). Queries
// are sent by udns from its timer callback, which the Resolver drives with
// a steady_timer; answers are read when the socket is readable (an
// asio::posix::stream_descriptor around udns' socket, never read by Asio
// itself). Every lookup is a coroutine returning a typed answer with a
// LookupStatus; nothing throws after construction.
//
// Names: each name is checked (dns/domain_name.hpp) before it is queried;
// a name that is not a domain is answered BadName at once. Names are
// absolute: no search list, no ndots rule (a mail domain "example" is not
// "example.home.lan").
//
// Timeouts: udns waits `timeout` seconds for the first try, then doubles
// the wait for each further attempt (whole seconds); with one server an
// unanswered lookup ends TempFail after timeout * (2^attempts - 1) seconds
// (udns' defaults, 4 s and 3 attempts, make 28 s; each extra server adds
// one second per attempt before the last one is asked). SERVFAIL or
// REFUSED from every server ends the lookup TempFail at once.
//
// Cancellation and lifetime: a lookup whose awaiting coroutine is cancelled
// (an Asio cancellation slot, e.g. `co_await (lookup || timer)`) ends at
// once with Cancelled; its query stays in udns until it is answered or
// times out and its answer is thrown away. Destroying the Resolver ends
// every pending lookup with Cancelled (the coroutines resume later, on
// their executors, never inside the destructor) and closes the socket;
// udns frees its queries without calling back. Completions are always
// posted, never run inside udns, so a coroutine may destroy the Resolver
// or start new lookups as soon as it resumes. An idle Resolver keeps no
// work on the io_context: the socket is watched and the timer set only
// while udns holds queries (io_context::run() returns after the last).
//
// Source: RFC 1035 (messages), RFC 2308 2.1/2.2 (NXDOMAIN, NODATA), RFC
// 3596 (AAAA), RFC 5782 2.1 (DNSBL queries); udns(3).
#pragma once

#include "config/config.hpp"
#include "dns/mx_route.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace boxmail::dns {

/// What a Resolver is made from.
struct ResolverOptions {
  /// Name servers, "IP" or "IP:port" ("[IPv6]:port"; dns/domain_name.hpp
  /// parse_name_server), at most 6 (udns' DNS_MAXSERV). Empty: the
  /// nameserver lines of /etc/resolv.conf, read when the Resolver is made
  /// (127.0.0.1 when there are none; udns also honours $NAMESERVERS and
  /// $RES_OPTIONS there).
  std::vector<std::string> servers;
  unsigned timeout_seconds = 4;   ///< first try's wait, 1..300 s (udns doubles it per attempt)
  unsigned attempts = 3;          ///< tries per server, 1..50
  bool operator==(const ResolverOptions&) const = default;
};

/// The options [dns] servers, timeout and attempts give (a server as
/// "IP:port", "[IPv6]:port").
ResolverOptions resolver_options(const config::DnsConfig& dns);

/// The answer of an A, AAAA or DNSBL lookup: `addresses` only with Ok.
struct AddressAnswer {
  LookupStatus status = LookupStatus::TempFail;
  std::vector<boost::asio::ip::address> addresses;
};

/// The answer of a TXT lookup: one string per record (a record's
/// character-strings joined, RFC 7208 3.3), octets as received.
struct TxtAnswer {
  LookupStatus status = LookupStatus::TempFail;
  std::vector<std::string> texts;
};

/// The answer of a PTR lookup: the host names, lower case without the
/// trailing dot; names that are not host names are left out (an answer
/// left empty by that is NoData).
struct PtrAnswer {
  LookupStatus status = LookupStatus::TempFail;
  std::vector<std::string> names;
};

/// Which address families a route uses, in which order per host.
enum class AddressOrder {
  Ipv4First,   ///< the default: a small office link is more often IPv4-only than IPv6-only
  Ipv6First,
  Ipv4Only,
  Ipv6Only,
};

/// One place to connect to: the MX host's name (for TLS and the log) and
/// one of its addresses.
struct RouteTarget {
  std::string host;
  boost::asio::ip::address address;
};

/// The route for a domain: what mx_route() decided, and for Hosts the
/// addresses to connect to in order. `kind` is Hosts only when `targets`
/// is not empty.
struct Route {
  MxRoute::Kind kind = MxRoute::Kind::Temporary;
  std::vector<RouteTarget> targets;
  bool implicit = false;        ///< no MX records: the domain's own addresses
  std::string text;             ///< why it failed (Permanent, Temporary); "" with Hosts
  std::string enhanced_status;  ///< RFC 3463 code for the bounce or the deferral; "" with Hosts
  std::vector<std::string> notes;   ///< hosts left out and why ("mx2.example.test: AAAA tempfail"), for the log
};

/// How route() looks up the hosts.
struct RouteOptions {
  AddressOrder order = AddressOrder::Ipv4First;
  std::size_t max_hosts = 10;   ///< MX hosts looked up at most, >= 1 (a zone with 100 MX costs 10 lookups)
  MxRouteOptions mx;            ///< this host's names (the MX-loop rule)
};

class Resolver {
 public:
  /// Opens the context on `executor` (an io_context's). Throws
  /// std::invalid_argument when a server does not parse, there are more
  /// than 6, or timeout/attempts are out of range (the message names it);
  /// std::system_error when the UDP socket cannot be opened.
  Resolver(boost::asio::any_io_executor executor, const ResolverOptions& options);
  /// Ends pending lookups with Cancelled (see the file comment).
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // The lookups below take their arguments by value before anything is
  // awaited; still, call them with named arguments (g++ 12 destroys
  // temporaries in a co_await's argument list twice).

  /// MX records of `domain`, in wire order (mx_route() sorts them).
  boost::asio::awaitable<MxAnswer> mx(std::string domain);
  /// IPv4 addresses of `host` (type A, RFC 1035 3.4.1).
  boost::asio::awaitable<AddressAnswer> a(std::string host);
  /// IPv6 addresses of `host` (type AAAA, RFC 3596).
  boost::asio::awaitable<AddressAnswer> aaaa(std::string host);
  /// TXT records of `name` (NameKind::Lookup: '_' allowed).
  boost::asio::awaitable<TxtAnswer> txt(std::string name);
  /// Host names of `address` (PTR under in-addr.arpa / ip6.arpa).
  boost::asio::awaitable<PtrAnswer> ptr(boost::asio::ip::address address);
  /// DNSBL lookup (RFC 5782 2.1): A records of `address` reversed under
  /// `zone` ("zen.example.org"); NxDomain = not listed, Ok = listed
  /// (addresses 127.0.0.x say why).
  boost::asio::awaitable<AddressAnswer> dnsbl(boost::asio::ip::address address, std::string zone);

  // Callback forms, for many lookups at once without a coroutine each
  // (smtp/client_check_runner.hpp): `done` runs once on the Resolver's
  // executor with the answer (posted, never inside udns); cancel() and
  // destroying the Resolver answer Cancelled. There is no cancellation
  // per lookup: a caller that stops waiting ignores the answer.

  /// A records (`v6` false) or AAAA records (`v6` true) of `host`.
  void async_address(std::string host, bool v6, std::function<void(AddressAnswer)> done);
  /// TXT records of `name` (NameKind::Lookup).
  void async_txt(std::string name, std::function<void(TxtAnswer)> done);
  /// Host names of `address` (PTR).
  void async_ptr(boost::asio::ip::address address, std::function<void(PtrAnswer)> done);

  /// The route for mail to `domain`: MX lookup and mx_route(), then the
  /// hosts' addresses (A and AAAA of one host asked together, in
  /// options.order), hosts in mx_route()'s order, an address listed twice
  /// kept once. Hosts without addresses are left out (noted). Nothing
  /// left: Temporary 4.4.3 when a host's lookup failed temporarily, else
  /// Permanent: 5.1.2 for the implicit MX ("has no MX and no address"),
  /// 5.4.4 (unable to route) for MX hosts without addresses.
  boost::asio::awaitable<Route> route(std::string domain, RouteOptions options, RandomIndex random);

  /// Ends every pending lookup with Cancelled now (the Resolver stays usable).
  void cancel();

  /// Queries udns still holds: started and neither answered nor timed out
  /// (a query whose waiter was cancelled counts until then).
  std::size_t pending() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

/// A RandomIndex over a std::minstd_rand seeded from getrandom(2)
/// (MX load spreading needs no secret randomness).
RandomIndex default_random();

}  // namespace boxmail::dns

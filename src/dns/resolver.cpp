// resolver.cpp - see resolver.hpp.
#include "dns/resolver.hpp"

#include "dns/domain_name.hpp"
#include "process/os_random.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <udns.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <system_error>
#include <unordered_map>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace boxmail::dns {

namespace asio = boost::asio;

namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

enum class Kind { Mx, A, Aaaa, Txt, Ptr, Dnsbl };

/// One lookup to start.
struct Request {
  Kind kind = Kind::A;
  std::string name;                  // Mx, A, Aaaa, Txt; the zone for Dnsbl
  asio::ip::address address;         // Ptr, Dnsbl
};

/// Every answer type in one (the public functions hand out their part).
struct Answer {
  LookupStatus status = LookupStatus::TempFail;
  std::vector<MxRecord> mx;
  std::vector<asio::ip::address> addresses;
  std::vector<std::string> texts;   // TXT strings or PTR names
};

using Handler = asio::any_completion_handler<void(Answer)>;

/// udns' process-wide default context must be initialised before dns_new()
/// copies it (udns(3)); done once, here, without reading any file.
void init_udns_once() {
  static std::once_flag once;
  std::call_once(once, [] { ::dns_reset(nullptr); });
}

LookupStatus status_of(int udns_status) {
  switch (udns_status) {
    case 0: return LookupStatus::Ok;
    case DNS_E_NXDOMAIN: return LookupStatus::NxDomain;
    case DNS_E_NODATA: return LookupStatus::NoData;
    case DNS_E_BADQUERY: return LookupStatus::BadName;
    default: return LookupStatus::TempFail;   // TEMPFAIL, PROTOCOL, NOMEM
  }
}

/// An IPv4-mapped IPv6 address as IPv4 (what a dual-stack socket reports).
asio::ip::address unmapped(const asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  }
  return a;
}

}  // namespace

/// One lookup in flight. Owned by Impl::queries_ while udns holds it;
/// `handler` is empty once the waiter has been answered (or cancelled).
struct Query {
  Resolver::Impl* impl = nullptr;
  std::optional<Handler> handler;
  asio::cancellation_slot slot;
};

struct Resolver::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::any_io_executor ex) : executor(ex), timer(ex), socket(ex) {}
  ~Impl() { shutdown(); }

  asio::any_io_executor executor;
  asio::steady_timer timer;
  asio::posix::stream_descriptor socket;
  ::dns_ctx* ctx = nullptr;
  bool timer_armed = false;
  bool send_posted = false;   // a "send now" (udns' timeout 0) is posted and has not run yet
  bool reading = false;   // a wait for the socket is pending (only while udns has queries)
  std::unordered_map<Query*, std::shared_ptr<Query>> queries;

  void open(const ResolverOptions& options);
  void shutdown();
  void start(const Request& request, Handler handler, asio::cancellation_slot slot);
  void finished(Query* q, Answer answer);
  void deliver(Query& q, Answer answer);
  void cancel_all();
  void arm_timer(int seconds);
  void wait_readable();
  void stop_reading_when_idle();
};

namespace {

/// udns' timer callback (dns_set_tmcbck): ctx NULL or timeout < 0 stop the
/// timer; 0 is "soon, not now"; > 0 is seconds from now.
void on_timer_request(::dns_ctx* ctx, int timeout, void* data) {
  auto* impl = static_cast<Resolver::Impl*>(data);
  if (ctx == nullptr || timeout < 0) {
    impl->timer.cancel();
    impl->timer_armed = false;
    return;
  }
  impl->arm_timer(timeout);
}

void complete(void* data, Answer answer) {
  auto* q = static_cast<Query*>(data);
  q->impl->finished(q, std::move(answer));
}

template <class RR>
RR* take(::dns_ctx* ctx, RR* rr, Answer& answer) {
  answer.status = status_of(::dns_status(ctx));
  if (rr == nullptr && answer.status == LookupStatus::Ok) answer.status = LookupStatus::TempFail;
  return rr;
}

void on_mx(::dns_ctx* ctx, ::dns_rr_mx* rr, void* data) {
  Answer answer;
  if (take(ctx, rr, answer)) {
    for (int i = 0; i < rr->dnsmx_nrr; ++i) {
      const int pref = rr->dnsmx_mx[i].priority;
      answer.mx.push_back({static_cast<std::uint16_t>(std::clamp(pref, 0, 65535)),
                           rr->dnsmx_mx[i].name ? rr->dnsmx_mx[i].name : ""});
    }
    std::free(rr);
    if (answer.mx.empty()) answer.status = LookupStatus::NoData;
  }
  complete(data, std::move(answer));
}

void on_a4(::dns_ctx* ctx, ::dns_rr_a4* rr, void* data) {
  Answer answer;
  if (take(ctx, rr, answer)) {
    for (int i = 0; i < rr->dnsa4_nrr; ++i) {
      answer.addresses.push_back(asio::ip::address_v4(ntohl(rr->dnsa4_addr[i].s_addr)));
    }
    std::free(rr);
    if (answer.addresses.empty()) answer.status = LookupStatus::NoData;
  }
  complete(data, std::move(answer));
}

void on_a6(::dns_ctx* ctx, ::dns_rr_a6* rr, void* data) {
  Answer answer;
  if (take(ctx, rr, answer)) {
    for (int i = 0; i < rr->dnsa6_nrr; ++i) {
      asio::ip::address_v6::bytes_type bytes;
      std::copy_n(rr->dnsa6_addr[i].s6_addr, 16, bytes.begin());
      answer.addresses.push_back(asio::ip::address_v6(bytes));
    }
    std::free(rr);
    if (answer.addresses.empty()) answer.status = LookupStatus::NoData;
  }
  complete(data, std::move(answer));
}

void on_txt(::dns_ctx* ctx, ::dns_rr_txt* rr, void* data) {
  Answer answer;
  if (take(ctx, rr, answer)) {
    for (int i = 0; i < rr->dnstxt_nrr; ++i) {
      const auto& t = rr->dnstxt_txt[i];
      answer.texts.emplace_back(reinterpret_cast<const char*>(t.txt), static_cast<std::size_t>(std::max(t.len, 0)));
    }
    std::free(rr);
    if (answer.texts.empty()) answer.status = LookupStatus::NoData;
  }
  complete(data, std::move(answer));
}

void on_ptr(::dns_ctx* ctx, ::dns_rr_ptr* rr, void* data) {
  Answer answer;
  if (take(ctx, rr, answer)) {
    for (int i = 0; i < rr->dnsptr_nrr; ++i) {
      // Names from the network: only host names are handed on.
      if (auto name = normalize_name(rr->dnsptr_ptr[i] ? rr->dnsptr_ptr[i] : "")) answer.texts.push_back(*name);
    }
    std::free(rr);
    if (answer.texts.empty()) answer.status = LookupStatus::NoData;
  }
  complete(data, std::move(answer));
}

}  // namespace

void Resolver::Impl::open(const ResolverOptions& options) {
  if (options.timeout_seconds < 1 || options.timeout_seconds > 300) {
    throw std::invalid_argument("DNS timeout must be 1..300 seconds, not " + std::to_string(options.timeout_seconds));
  }
  if (options.attempts < 1 || options.attempts > 50) {
    throw std::invalid_argument("DNS attempts must be 1..50, not " + std::to_string(options.attempts));
  }
  if (options.servers.size() > DNS_MAXSERV) {
    throw std::invalid_argument("at most " + std::to_string(DNS_MAXSERV) + " DNS servers, not " +
                                std::to_string(options.servers.size()));
  }
  std::vector<NameServer> servers;
  for (const std::string& text : options.servers) {
    std::string error;
    auto s = parse_name_server(text, error);
    if (!s) throw std::invalid_argument(error);
    servers.push_back(*s);
  }

  init_udns_once();
  ctx = ::dns_new(nullptr);
  if (ctx == nullptr) throw std::bad_alloc();
  if (servers.empty()) {
    // Read /etc/resolv.conf (and $NAMESERVERS, $RES_OPTIONS) now, for this
    // context only: a Resolver made after the file changed sees the change.
    ::dns_init(ctx, 0);
  } else {
    ::dns_add_serv(ctx, nullptr);
    for (const NameServer& s : servers) {
      sockaddr_in6 sa6{};
      sockaddr_in sa4{};
      const sockaddr* sa = nullptr;
      if (s.v6) {
        sa6.sin6_family = AF_INET6;
        sa6.sin6_port = htons(s.port);
        ::inet_pton(AF_INET6, s.address.c_str(), &sa6.sin6_addr);
        sa = reinterpret_cast<const sockaddr*>(&sa6);
      } else {
        sa4.sin_family = AF_INET;
        sa4.sin_port = htons(s.port);
        ::inet_pton(AF_INET, s.address.c_str(), &sa4.sin_addr);
        sa = reinterpret_cast<const sockaddr*>(&sa4);
      }
      if (::dns_add_serv_s(ctx, sa) < 0) {
        throw std::invalid_argument("DNS server " + s.address + " cannot be used (no IPv6 in udns?)");
      }
    }
  }
  ::dns_add_srch(ctx, nullptr);   // names are absolute: no search list
  ::dns_set_opt(ctx, DNS_OPT_TIMEOUT, static_cast<int>(options.timeout_seconds));
  ::dns_set_opt(ctx, DNS_OPT_NTRIES, static_cast<int>(options.attempts));
  ::dns_set_tmcbck(ctx, &on_timer_request, this);
  const int fd = ::dns_open(ctx);
  if (fd < 0) {
    const int err = errno;
    ::dns_free(ctx);
    ctx = nullptr;
    throw std::system_error(err, std::generic_category(), "cannot open the DNS resolver's UDP socket");
  }
  socket.assign(fd);
}

void Resolver::Impl::shutdown() {
  if (ctx == nullptr) return;
  cancel_all();
  queries.clear();
  boost::system::error_code ignored;
  timer.cancel();
  if (socket.is_open()) {
    socket.cancel(ignored);
    (void)socket.release();   // udns closes its socket in dns_free()
  }
  ::dns_ctx* c = ctx;
  ctx = nullptr;
  ::dns_free(c);   // frees udns' queries without calling back
}

void Resolver::Impl::arm_timer(int seconds) {
  if (seconds == 0) {
    // "Soon": new queries wait to be sent. Posted rather than a timer of
    // 0 s: an expired timer still goes through the reactor and was seen
    // to send the queries only after the next socket event (a client's
    // next command, a round trip late). A timer armed for a later
    // deadline stays; udns asks for a new one if that changed.
    if (send_posted) return;
    send_posted = true;
    asio::post(executor, [self = shared_from_this()] {
      self->send_posted = false;
      if (self->ctx == nullptr) return;
      const int next = ::dns_timeouts(self->ctx, -1, 0);
      if (next >= 0 && !self->timer_armed && self->ctx != nullptr) self->arm_timer(std::max(next, 1));
      self->stop_reading_when_idle();
    });
    return;
  }
  timer.expires_after(std::chrono::seconds(seconds));
  timer_armed = true;
  timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec || self->ctx == nullptr) return;
    self->timer_armed = false;
    const int next = ::dns_timeouts(self->ctx, -1, 0);
    // udns asks for a new timer only when its deadline changed; if the
    // wall clock lagged the steady timer, ask again ourselves.
    if (next >= 0 && !self->timer_armed && self->ctx != nullptr) self->arm_timer(std::max(next, 1));
    self->stop_reading_when_idle();
  });
}

void Resolver::Impl::wait_readable() {
  if (reading) return;
  reading = true;
  socket.async_wait(asio::posix::stream_descriptor::wait_read, [self = shared_from_this()](boost::system::error_code ec) {
    self->reading = false;
    if (self->ctx == nullptr) return;
    if (!ec) ::dns_ioevent(self->ctx, 0);   // reads every queued datagram; answers are posted
    if (::dns_active(self->ctx) > 0) self->wait_readable();
  });
}

void Resolver::Impl::stop_reading_when_idle() {
  if (ctx != nullptr && reading && ::dns_active(ctx) == 0) {
    boost::system::error_code ignored;
    socket.cancel(ignored);
  }
}

void Resolver::Impl::deliver(Query& q, Answer answer) {
  if (!q.handler) return;
  Handler h = std::move(*q.handler);
  q.handler.reset();
  asio::post(executor, asio::append(std::move(h), std::move(answer)));
}

void Resolver::Impl::finished(Query* q, Answer answer) {
  auto it = queries.find(q);
  if (it == queries.end()) return;
  std::shared_ptr<Query> owned = std::move(it->second);
  queries.erase(it);
  if (owned->slot.is_connected()) owned->slot.clear();
  deliver(*owned, std::move(answer));
}

void Resolver::Impl::cancel_all() {
  for (auto& [p, q] : queries) {
    if (q->slot.is_connected()) q->slot.clear();
    deliver(*q, Answer{LookupStatus::Cancelled, {}, {}, {}});
  }
}

void Resolver::Impl::start(const Request& request, Handler handler, asio::cancellation_slot slot) {
  auto q = std::make_shared<Query>();
  q->impl = this;
  q->handler.emplace(std::move(handler));
  if (ctx == nullptr) {   // the Resolver is gone
    deliver(*q, Answer{LookupStatus::Cancelled, {}, {}, {}});
    return;
  }
  const NameKind kind = request.kind == Kind::Txt || request.kind == Kind::Dnsbl ? NameKind::Lookup : NameKind::Host;
  std::optional<std::string> name;
  if (request.kind != Kind::Ptr) {
    name = normalize_name(request.name, kind);
    if (!name) {
      deliver(*q, Answer{LookupStatus::BadName, {}, {}, {}});
      return;
    }
  }
  const asio::ip::address address = unmapped(request.address);
  in_addr a4{};
  in6_addr a6{};
  if (address.is_v4()) {
    a4.s_addr = htonl(address.to_v4().to_uint());
  } else {
    const auto bytes = address.to_v6().to_bytes();
    std::copy(bytes.begin(), bytes.end(), a6.s6_addr);
  }
  const int flags = DNS_NOSRCH;
  void* data = q.get();
  ::dns_query* submitted = nullptr;
  switch (request.kind) {
    case Kind::Mx: submitted = ::dns_submit_mx(ctx, name->c_str(), flags, &on_mx, data); break;
    case Kind::A: submitted = ::dns_submit_a4(ctx, name->c_str(), flags, &on_a4, data); break;
    case Kind::Aaaa: submitted = ::dns_submit_a6(ctx, name->c_str(), flags, &on_a6, data); break;
    case Kind::Txt: submitted = ::dns_submit_txt(ctx, name->c_str(), DNS_C_IN, flags, &on_txt, data); break;
    case Kind::Ptr:
      submitted = address.is_v4() ? ::dns_submit_a4ptr(ctx, &a4, &on_ptr, data)
                                  : ::dns_submit_a6ptr(ctx, &a6, &on_ptr, data);
      break;
    case Kind::Dnsbl:
      submitted = address.is_v4() ? ::dns_submit_a4dnsbl(ctx, &a4, name->c_str(), &on_a4, data)
                                  : ::dns_submit_a6dnsbl(ctx, &a6, name->c_str(), &on_a4, data);
      break;
  }
  if (submitted == nullptr) {
    deliver(*q, Answer{status_of(::dns_status(ctx)) == LookupStatus::BadName ? LookupStatus::BadName
                                                                              : LookupStatus::TempFail,
                       {}, {}, {}});
    return;
  }
  queries.emplace(q.get(), q);
  wait_readable();
  // A cancelled waiter is answered now; its query runs on in udns (see
  // resolver.hpp) and its answer is dropped in finished().
  if (slot.is_connected()) {
    q->slot = slot;
    slot.assign([weak = std::weak_ptr<Query>(q)](asio::cancellation_type type) {
      if (type == asio::cancellation_type::none) return;
      if (auto query = weak.lock()) {
        query->slot = asio::cancellation_slot();   // the slot's handler is running: leave it be
        query->impl->deliver(*query, Answer{LookupStatus::Cancelled, {}, {}, {}});
      }
    });
  }
}

namespace {

/// Starts `request` and waits for its answer (the waiter's cancellation
/// slot becomes the query's).
asio::awaitable<Answer> run(std::shared_ptr<Resolver::Impl> impl, Request request) {
  auto initiate = [impl, request](auto handler) {
    auto slot = asio::get_associated_cancellation_slot(handler);
    Handler erased(std::move(handler));
    impl->start(request, std::move(erased), slot);
  };
  Answer answer = co_await asio::async_initiate<decltype(asio::use_awaitable), void(Answer)>(initiate, asio::use_awaitable);
  co_return answer;
}

}  // namespace

ResolverOptions resolver_options(const config::DnsConfig& dns) {
  ResolverOptions o;
  for (const config::ListenAddress& a : dns.servers) {
    o.servers.push_back(a.host.find(':') != std::string::npos ? "[" + a.host + "]:" + std::to_string(a.port)
                                                               : a.host + ":" + std::to_string(a.port));
  }
  o.timeout_seconds = dns.timeout;
  o.attempts = dns.attempts;
  return o;
}

Resolver::Resolver(asio::any_io_executor executor, const ResolverOptions& options)
    : impl_(std::make_shared<Impl>(executor)) {
  impl_->open(options);
}

Resolver::~Resolver() { impl_->shutdown(); }

void Resolver::cancel() { impl_->cancel_all(); }

std::size_t Resolver::pending() const { return impl_->queries.size(); }

namespace {

asio::awaitable<MxAnswer> lookup_mx(std::shared_ptr<Resolver::Impl> impl, Request request) {
  Answer a = co_await run(impl, request);
  co_return MxAnswer{a.status, std::move(a.mx)};
}

asio::awaitable<AddressAnswer> lookup_addresses(std::shared_ptr<Resolver::Impl> impl, Request request) {
  Answer a = co_await run(impl, request);
  co_return AddressAnswer{a.status, std::move(a.addresses)};
}

asio::awaitable<TxtAnswer> lookup_txt(std::shared_ptr<Resolver::Impl> impl, Request request) {
  Answer a = co_await run(impl, request);
  co_return TxtAnswer{a.status, std::move(a.texts)};
}

asio::awaitable<PtrAnswer> lookup_ptr(std::shared_ptr<Resolver::Impl> impl, Request request) {
  Answer a = co_await run(impl, request);
  co_return PtrAnswer{a.status, std::move(a.texts)};
}

}  // namespace

asio::awaitable<MxAnswer> Resolver::mx(std::string domain) {
  return lookup_mx(impl_, Request{Kind::Mx, std::move(domain), {}});
}

asio::awaitable<AddressAnswer> Resolver::a(std::string host) {
  return lookup_addresses(impl_, Request{Kind::A, std::move(host), {}});
}

asio::awaitable<AddressAnswer> Resolver::aaaa(std::string host) {
  return lookup_addresses(impl_, Request{Kind::Aaaa, std::move(host), {}});
}

asio::awaitable<TxtAnswer> Resolver::txt(std::string name) {
  return lookup_txt(impl_, Request{Kind::Txt, std::move(name), {}});
}

asio::awaitable<PtrAnswer> Resolver::ptr(asio::ip::address address) {
  return lookup_ptr(impl_, Request{Kind::Ptr, {}, address});
}

asio::awaitable<AddressAnswer> Resolver::dnsbl(asio::ip::address address, std::string zone) {
  return lookup_addresses(impl_, Request{Kind::Dnsbl, std::move(zone), address});
}

void Resolver::async_address(std::string host, bool v6, std::function<void(AddressAnswer)> done) {
  Handler h = [done = std::move(done)](Answer a) { done(AddressAnswer{a.status, std::move(a.addresses)}); };
  impl_->start(Request{v6 ? Kind::Aaaa : Kind::A, std::move(host), {}}, std::move(h), asio::cancellation_slot());
}

void Resolver::async_txt(std::string name, std::function<void(TxtAnswer)> done) {
  Handler h = [done = std::move(done)](Answer a) { done(TxtAnswer{a.status, std::move(a.texts)}); };
  impl_->start(Request{Kind::Txt, std::move(name), {}}, std::move(h), asio::cancellation_slot());
}

void Resolver::async_ptr(asio::ip::address address, std::function<void(PtrAnswer)> done) {
  Handler h = [done = std::move(done)](Answer a) { done(PtrAnswer{a.status, std::move(a.texts)}); };
  impl_->start(Request{Kind::Ptr, {}, address}, std::move(h), asio::cancellation_slot());
}

namespace {

/// The answers of several lookups started together; `wake` is cancelled
/// when the last one is in (a steady_timer as an event, as proto/login does).
struct Join {
  explicit Join(asio::any_io_executor ex, std::size_t n) : answers(n), left(n), wake(ex) {
    wake.expires_at(asio::steady_timer::time_point::max());
  }
  std::vector<Answer> answers;
  std::size_t left;
  asio::steady_timer wake;
};

std::string describe_host(const std::string& host, std::string_view type, LookupStatus s) {
  return host + ": " + std::string(type) + " " + std::string(to_string(s));
}

asio::awaitable<Route> lookup_route(std::shared_ptr<Resolver::Impl> impl, std::string domain, RouteOptions options,
                                    RandomIndex random) {
  Route route;
  const Request mx_request{Kind::Mx, domain, {}};
  domain = normalize_name(domain).value_or(domain);   // for the texts
  Answer mx = co_await run(impl, mx_request);
  const MxAnswer mx_answer{mx.status, std::move(mx.mx)};
  MxRoute mx_route_ = mx_route(domain, mx_answer, random, options.mx);
  route.implicit = mx_route_.implicit;
  if (mx_route_.kind != MxRoute::Kind::Hosts) {
    route.kind = mx_route_.kind;
    route.text = std::move(mx_route_.text);
    route.enhanced_status = std::move(mx_route_.enhanced_status);
    co_return route;
  }
  std::vector<std::string>& hosts = mx_route_.hosts;
  options.max_hosts = std::max<std::size_t>(options.max_hosts, 1);
  if (hosts.size() > options.max_hosts) {
    route.notes.push_back(std::to_string(hosts.size() - options.max_hosts) + " MX hosts after the first " +
                          std::to_string(options.max_hosts) + " not looked up");
    hosts.resize(options.max_hosts);
  }

  // Both families of every host at once, in the order they are tried.
  std::vector<Kind> kinds;
  switch (options.order) {
    case AddressOrder::Ipv4First: kinds = {Kind::A, Kind::Aaaa}; break;
    case AddressOrder::Ipv6First: kinds = {Kind::Aaaa, Kind::A}; break;
    case AddressOrder::Ipv4Only: kinds = {Kind::A}; break;
    case AddressOrder::Ipv6Only: kinds = {Kind::Aaaa}; break;
  }
  auto join = std::make_shared<Join>(impl->executor, hosts.size() * kinds.size());
  for (std::size_t h = 0; h < hosts.size(); ++h) {
    for (std::size_t k = 0; k < kinds.size(); ++k) {
      const std::size_t index = h * kinds.size() + k;
      Handler done = [join, index](Answer a) {
        join->answers[index] = std::move(a);
        if (--join->left == 0) join->wake.cancel();
      };
      impl->start(Request{kinds[k], hosts[h], {}}, std::move(done), asio::cancellation_slot());
    }
  }
  while (join->left > 0) {
    auto [ec] = co_await join->wake.async_wait(kAwait);
    if (join->left > 0 && ec) {   // our waiter was cancelled, not woken
      route.kind = MxRoute::Kind::Temporary;
      route.text = "the address lookups for " + domain + " were cancelled";
      route.enhanced_status = "4.4.3";
      co_return route;
    }
  }

  bool temporary = false;
  for (std::size_t h = 0; h < hosts.size(); ++h) {
    bool any = false;
    for (std::size_t k = 0; k < kinds.size(); ++k) {
      const Answer& a = join->answers[h * kinds.size() + k];
      const std::string_view type = kinds[k] == Kind::A ? "A" : "AAAA";
      if (a.status != LookupStatus::Ok) {
        if (a.status == LookupStatus::TempFail || a.status == LookupStatus::Cancelled) temporary = true;
        if (a.status != LookupStatus::NoData) route.notes.push_back(describe_host(hosts[h], type, a.status));
        continue;
      }
      for (const asio::ip::address& address : a.addresses) {
        any = true;
        const bool seen = std::any_of(route.targets.begin(), route.targets.end(),
                                      [&](const RouteTarget& t) { return t.address == address; });
        if (!seen) route.targets.push_back({hosts[h], address});
      }
    }
    if (!any) route.notes.push_back(hosts[h] + ": no address");
  }
  if (!route.targets.empty()) {
    route.kind = MxRoute::Kind::Hosts;
    co_return route;
  }
  if (temporary) {
    route.kind = MxRoute::Kind::Temporary;
    route.text = "the address lookup of " + (route.implicit ? domain : "the MX hosts of " + domain) +
                 " failed temporarily (server failure or no answer)";
    route.enhanced_status = "4.4.3";
  } else if (route.implicit) {
    route.kind = MxRoute::Kind::Permanent;
    route.text = domain + " has no MX and no address record";
    route.enhanced_status = "5.1.2";
  } else {
    route.kind = MxRoute::Kind::Permanent;
    route.text = "no MX host of " + domain + " has an address";
    route.enhanced_status = "5.4.4";
  }
  co_return route;
}

}  // namespace

asio::awaitable<Route> Resolver::route(std::string domain, RouteOptions options, RandomIndex random) {
  return lookup_route(impl_, std::move(domain), std::move(options), std::move(random));
}

RandomIndex default_random() {
  auto engine = std::make_shared<std::minstd_rand>(static_cast<std::minstd_rand::result_type>(process::os_random_u64()));
  return [engine](std::size_t n) {
    std::uniform_int_distribution<std::size_t> pick(0, n - 1);
    return pick(*engine);
  };
}

}  // namespace boxmail::dns

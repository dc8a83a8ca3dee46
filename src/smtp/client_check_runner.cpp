// client_check_runner.cpp - see client_check_runner.hpp.
#include "smtp/client_check_runner.hpp"

#include "dns/dnsbl.hpp"
#include "dns/resolver.hpp"

#include <deque>
#include <exception>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace boxmail::smtp {

namespace asio = boost::asio;

namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

/// The lookups of one client: their results, how many are still running,
/// and one cancellation signal each. `over` once the caller has stopped
/// waiting: later answers are dropped.
struct Join {
  explicit Join(asio::any_io_executor ex) : executor(ex), deadline(ex) {}
  asio::any_io_executor executor;
  ClientLookups lookups;
  std::size_t left = 0;
  bool over = false;
  asio::steady_timer deadline;
  std::deque<asio::cancellation_signal> signals;   // a deque: emplace_back keeps the others in place

  void done() {
    if (--left == 0) deadline.cancel();
  }
};

/// Starts `child` as one more lookup of `join`.
void spawn(const std::shared_ptr<Join>& join, asio::awaitable<void> child) {
  asio::cancellation_signal& signal = join->signals.emplace_back();
  ++join->left;
  asio::co_spawn(join->executor, std::move(child),
                 asio::bind_cancellation_slot(signal.slot(), [join](std::exception_ptr) { join->done(); }));
}

std::vector<std::string> texts_of(const std::vector<asio::ip::address>& addresses) {
  std::vector<std::string> out;
  for (const auto& a : addresses) out.push_back(a.to_string());
  return out;
}

/// One zone: the A record, then the TXT record when it lists the client.
asio::awaitable<void> dnsbl_child(std::shared_ptr<dns::Resolver> resolver, std::shared_ptr<Join> join, std::size_t i) {
  const std::string name = join->lookups.dnsbl[i].name;
  const dns::AddressAnswer a = co_await resolver->a(name);
  if (join->over) co_return;
  DnsblResult& r = join->lookups.dnsbl[i];
  r.status = a.status;
  r.addresses = texts_of(a.addresses);
  if (a.status != dns::LookupStatus::Ok || dns::classify_dnsbl_answer(r.addresses) != dns::DnsblAnswer::Listed) {
    co_return;
  }
  const dns::TxtAnswer t = co_await resolver->txt(name);
  if (join->over) co_return;
  DnsblResult& rt = join->lookups.dnsbl[i];
  rt.txt_status = t.status;
  rt.texts = t.texts;
}

/// One PTR name's addresses in the client's family.
asio::awaitable<void> forward_child(std::shared_ptr<dns::Resolver> resolver, std::shared_ptr<Join> join, std::size_t k,
                                    bool v6) {
  const std::string name = join->lookups.reverse.forward[k].name;
  dns::AddressAnswer a;
  if (v6) {
    a = co_await resolver->aaaa(name);
  } else {
    a = co_await resolver->a(name);
  }
  if (join->over) co_return;
  ForwardResult& f = join->lookups.reverse.forward[k];
  f.status = a.status;
  f.addresses = texts_of(a.addresses);
}

/// The PTR names, then each name's forward lookup (all at once).
asio::awaitable<void> reverse_child(std::shared_ptr<dns::Resolver> resolver, std::shared_ptr<Join> join,
                                    asio::ip::address address) {
  const dns::PtrAnswer p = co_await resolver->ptr(address);
  if (join->over) co_return;
  ReverseDnsResult& r = join->lookups.reverse;
  r.ptr_status = p.status;
  r.names = p.names;
  if (p.status != dns::LookupStatus::Ok) co_return;
  const std::size_t n = std::min(r.names.size(), kMaxPtrNames);
  for (std::size_t k = 0; k < n; ++k) r.forward.push_back(ForwardResult{r.names[k], dns::LookupStatus::Cancelled, {}});
  const bool v6 = address.is_v6();
  for (std::size_t k = 0; k < n; ++k) spawn(join, forward_child(resolver, join, k, v6));
}

/// The client's address as the resolver takes it (IPv4-mapped becomes IPv4).
std::optional<asio::ip::address> client_address(const std::string& text) {
  boost::system::error_code ec;
  asio::ip::address a = asio::ip::make_address(text, ec);
  if (ec) return std::nullopt;
  if (a.is_v6() && a.to_v6().is_v4_mapped()) a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  return a;
}

}  // namespace

asio::awaitable<ClientLookups> run_client_checks(std::shared_ptr<dns::Resolver> resolver, ClientCheckRequest request) {
  const asio::any_io_executor ex = co_await asio::this_coro::executor;
  auto join = std::make_shared<Join>(ex);
  ClientLookups& l = join->lookups;
  l.client = request.client;
  l.timeout_seconds = static_cast<std::uint32_t>(
      std::chrono::duration_cast<std::chrono::seconds>(request.timeout).count());
  const std::optional<asio::ip::address> address = client_address(request.client);
  for (const std::string& zone : request.zones) {
    DnsblResult r;
    r.zone = zone;
    r.name = dns::dnsbl_query_name(request.client, zone).value_or("");
    if (r.name.empty()) r.status = dns::LookupStatus::BadName;
    l.dnsbl.push_back(std::move(r));
  }
  l.reverse_asked = request.reverse;
  if (!address) l.reverse.ptr_status = dns::LookupStatus::BadName;
  join->deadline.expires_after(request.timeout);
  for (std::size_t i = 0; i < l.dnsbl.size(); ++i) {
    if (!l.dnsbl[i].name.empty()) spawn(join, dnsbl_child(resolver, join, i));
  }
  if (request.reverse && address) spawn(join, reverse_child(resolver, join, *address));
  if (join->left > 0) {
    // Ends when the last lookup is in (done() cancels the timer), at the
    // deadline, or when our caller is cancelled.
    auto [ec] = co_await join->deadline.async_wait(kAwait);
    (void)ec;
  }
  join->over = true;
  if (join->left > 0) {
    for (DnsblResult& r : l.dnsbl) {
      if (r.status == dns::LookupStatus::Cancelled ||
          (r.status == dns::LookupStatus::Ok && r.txt_status == dns::LookupStatus::Cancelled &&
           dns::classify_dnsbl_answer(r.addresses) == dns::DnsblAnswer::Listed)) {
        r.timed_out = true;
      }
    }
    bool forward_open = false;
    for (const ForwardResult& f : l.reverse.forward) forward_open = forward_open || f.status == dns::LookupStatus::Cancelled;
    if (request.reverse && (l.reverse.ptr_status == dns::LookupStatus::Cancelled || forward_open)) l.reverse.timed_out = true;
    for (asio::cancellation_signal& s : join->signals) s.emit(asio::cancellation_type::terminal);
  }
  co_return join->lookups;
}

}  // namespace boxmail::smtp

// client_check_runner.cpp - see client_check_runner.hpp.
#include "smtp/client_check_runner.hpp"

#include "dns/dnsbl.hpp"
#include "dns/resolver.hpp"

#include <algorithm>
#include <optional>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace boxmail::smtp {

namespace asio = boost::asio;

namespace {

std::vector<std::string> texts_of(const std::vector<asio::ip::address>& addresses) {
  std::vector<std::string> out;
  for (const auto& a : addresses) out.push_back(a.to_string());
  return out;
}

/// The client's address as the resolver takes it (IPv4-mapped becomes IPv4).
std::optional<asio::ip::address> client_address(const std::string& text) {
  boost::system::error_code ec;
  asio::ip::address a = asio::ip::make_address(text, ec);
  if (ec) return std::nullopt;
  if (a.is_v6() && a.to_v6().is_v4_mapped()) a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  return a;
}

/// One client's lookups: their results so far, how many are still
/// running, the deadline. Kept alive by the answers' callbacks and the
/// deadline's wait; `over` once `done` has run or the caller cancelled.
struct Run : std::enable_shared_from_this<Run> {
  explicit Run(asio::any_io_executor ex) : deadline(ex) {}
  std::shared_ptr<dns::Resolver> resolver;
  ClientLookups lookups;
  std::function<void(ClientLookups)> done;
  std::size_t left = 0;
  bool over = false;
  asio::steady_timer deadline;

  void finish(bool timed_out) {
    if (over) return;
    over = true;
    deadline.cancel();
    if (timed_out) mark_unanswered();
    std::function<void(ClientLookups)> d = std::move(done);
    done = nullptr;
    resolver.reset();
    if (d) d(std::move(lookups));
  }

  void one_done() {
    if (--left == 0) finish(false);
  }

  void mark_unanswered() {
    for (DnsblResult& r : lookups.dnsbl) {
      const bool txt_open = r.status == dns::LookupStatus::Ok && r.txt_status == dns::LookupStatus::Cancelled &&
                            dns::classify_dnsbl_answer(r.addresses) == dns::DnsblAnswer::Listed;
      if (r.status == dns::LookupStatus::Cancelled || txt_open) r.timed_out = true;
    }
    ReverseDnsResult& rd = lookups.reverse;
    bool forward_open = false;
    for (const ForwardResult& f : rd.forward) forward_open = forward_open || f.status == dns::LookupStatus::Cancelled;
    if (lookups.reverse_asked && (rd.ptr_status == dns::LookupStatus::Cancelled || forward_open)) rd.timed_out = true;
  }

  /// One zone: the A record, then the TXT record when it lists the client.
  void dnsbl(std::size_t i) {
    ++left;
    resolver->async_address(lookups.dnsbl[i].name, false, [self = shared_from_this(), i](dns::AddressAnswer a) {
      if (self->over) return;
      DnsblResult& r = self->lookups.dnsbl[i];
      r.status = a.status;
      r.addresses = texts_of(a.addresses);
      if (a.status == dns::LookupStatus::Ok && dns::classify_dnsbl_answer(r.addresses) == dns::DnsblAnswer::Listed) {
        ++self->left;
        self->resolver->async_txt(r.name, [self, i](dns::TxtAnswer t) {
          if (self->over) return;
          self->lookups.dnsbl[i].txt_status = t.status;
          self->lookups.dnsbl[i].texts = std::move(t.texts);
          self->one_done();
        });
      }
      self->one_done();
    });
  }

  /// The PTR names, then each name's addresses in the client's family (all at once).
  void reverse(const asio::ip::address& address) {
    ++left;
    const bool v6 = address.is_v6();
    resolver->async_ptr(address, [self = shared_from_this(), v6](dns::PtrAnswer p) {
      if (self->over) return;
      ReverseDnsResult& r = self->lookups.reverse;
      r.ptr_status = p.status;
      r.names = std::move(p.names);
      if (p.status == dns::LookupStatus::Ok) {
        const std::size_t n = std::min(r.names.size(), kMaxPtrNames);
        for (std::size_t k = 0; k < n; ++k) r.forward.push_back(ForwardResult{r.names[k], dns::LookupStatus::Cancelled, {}});
        for (std::size_t k = 0; k < n; ++k) {
          ++self->left;
          self->resolver->async_address(r.names[k], v6, [self, k](dns::AddressAnswer a) {
            if (self->over) return;
            ForwardResult& f = self->lookups.reverse.forward[k];
            f.status = a.status;
            f.addresses = texts_of(a.addresses);
            self->one_done();
          });
        }
      }
      self->one_done();
    });
  }
};

}  // namespace

std::function<void()> start_client_checks(std::shared_ptr<dns::Resolver> resolver, asio::any_io_executor executor,
                                          ClientCheckRequest request, std::function<void(ClientLookups)> done) {
  auto run = std::make_shared<Run>(executor);
  run->resolver = std::move(resolver);
  run->done = std::move(done);
  ClientLookups& l = run->lookups;
  l.client = request.client;
  l.timeout_seconds =
      static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(request.timeout).count());
  for (const std::string& zone : request.zones) {
    DnsblResult r;
    r.zone = zone;
    r.name = dns::dnsbl_query_name(request.client, zone).value_or("");
    if (r.name.empty()) r.status = dns::LookupStatus::BadName;
    l.dnsbl.push_back(std::move(r));
  }
  l.reverse_asked = request.reverse;
  const std::optional<asio::ip::address> address = client_address(request.client);
  if (request.reverse && !address) l.reverse.ptr_status = dns::LookupStatus::BadName;
  ++run->left;   // held until everything is started, so no answer can finish the run early
  for (std::size_t i = 0; i < l.dnsbl.size(); ++i) {
    if (!l.dnsbl[i].name.empty()) run->dnsbl(i);
  }
  if (request.reverse && address) run->reverse(*address);
  run->deadline.expires_after(request.timeout);
  run->deadline.async_wait([run](boost::system::error_code ec) {
    if (!ec) run->finish(true);
  });
  // Answers are always posted, so none has come yet: end the start's hold
  // on the loop, never here (`done` never runs inside this call).
  asio::post(executor, [run] { run->one_done(); });
  return [weak = std::weak_ptr<Run>(run)] {
    if (auto r = weak.lock()) {
      r->over = true;
      r->done = nullptr;
      r->resolver.reset();
      r->deadline.cancel();
    }
  };
}

}  // namespace boxmail::smtp

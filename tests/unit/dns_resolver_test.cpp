// dns_resolver_test.cpp - dns::Resolver's lifetime rules (dns/resolver.hpp)
// against a UDP socket on 127.0.0.1 that never answers: timeouts, names
// refused before a query, cancellation and destruction while a query is
// pending. Answers from real servers: t-38-dns-routes.
#include "dns/resolver.hpp"

#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>

namespace {

namespace asio = boost::asio;
using boxmail::dns::AddressAnswer;
using boxmail::dns::LookupStatus;
using boxmail::dns::MxRoute;
using boxmail::dns::Resolver;
using boxmail::dns::ResolverOptions;
using boxmail::dns::Route;
using Clock = std::chrono::steady_clock;

/// A name server that reads nothing and answers nothing.
struct SilentServer {
  asio::io_context io;
  asio::ip::udp::socket socket{io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  std::string address() const { return "127.0.0.1:" + std::to_string(socket.local_endpoint().port()); }
  /// Datagrams received so far (non-blocking).
  int received() {
    socket.non_blocking(true);
    int n = 0;
    char buf[1024];
    boost::system::error_code ec;
    while (socket.receive(asio::buffer(buf), 0, ec) > 0 && !ec) ++n;
    return n;
  }
};

ResolverOptions silent_options(const SilentServer& s, unsigned timeout = 1, unsigned attempts = 1) {
  ResolverOptions o;
  o.servers = {s.address()};
  o.timeout_seconds = timeout;
  o.attempts = attempts;
  return o;
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

TEST(DnsResolver, UnansweredLookupTimesOut) {
  SilentServer server;
  asio::io_context io;
  Resolver resolver(io.get_executor(), silent_options(server, 1, 2));
  std::optional<AddressAnswer> answer;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    const std::string host = "mx.example.test";
    answer = co_await resolver.a(host);
  }, asio::detached);
  const auto start = Clock::now();
  io.run();   // returns: an idle resolver keeps no work
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, LookupStatus::TempFail);
  const double took = seconds_since(start);
  EXPECT_GE(took, 1.0);
  EXPECT_LE(took, 4.5);   // 1 s + 2 s, whole seconds
  EXPECT_EQ(server.received(), 2);   // one try per attempt
  EXPECT_EQ(resolver.pending(), 0u);
}

TEST(DnsResolver, MalformedNamesAreNotQueried) {
  SilentServer server;
  asio::io_context io;
  Resolver resolver(io.get_executor(), silent_options(server));
  std::vector<LookupStatus> got;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    for (const char* bad : {"", "a..b", "exa mple.test", "x\\032y.test", "_x.test"}) {
      const std::string name = bad;
      AddressAnswer a = co_await resolver.a(name);
      got.push_back(a.status);
    }
    const std::string too_long(300, 'a');
    boxmail::dns::MxAnswer m = co_await resolver.mx(too_long);
    got.push_back(m.status);
    const std::string blank = "bad name.test";
    boxmail::dns::TxtAnswer t = co_await resolver.txt(blank);
    got.push_back(t.status);
  }, asio::detached);
  const auto start = Clock::now();
  io.run();
  EXPECT_LT(seconds_since(start), 0.5);
  EXPECT_EQ(got, std::vector<LookupStatus>(7, LookupStatus::BadName));
  EXPECT_EQ(server.received(), 0);
}

TEST(DnsResolver, CancelledWaiterIsAnsweredAtOnce) {
  SilentServer server;
  asio::io_context io;
  Resolver resolver(io.get_executor(), silent_options(server, 2, 1));
  asio::cancellation_signal signal;
  std::optional<AddressAnswer> answer;
  Clock::time_point answered;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    const std::string host = "mx.example.test";
    answer = co_await resolver.aaaa(host);
    answered = Clock::now();
  }, asio::bind_cancellation_slot(signal.slot(), asio::detached));
  asio::steady_timer timer(io, std::chrono::milliseconds(200));
  timer.async_wait([&](boost::system::error_code) { signal.emit(asio::cancellation_type::terminal); });
  const auto start = Clock::now();
  io.run();   // until udns' query times out (2 s)
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, LookupStatus::Cancelled);
  EXPECT_LT(std::chrono::duration<double>(answered - start).count(), 1.0);
  EXPECT_EQ(resolver.pending(), 0u);   // the abandoned query ended too
}

TEST(DnsResolver, CancelAnswersEveryWaiter) {
  SilentServer server;
  asio::io_context io;
  Resolver resolver(io.get_executor(), silent_options(server, 2, 1));
  std::vector<LookupStatus> got;
  for (int i = 0; i < 3; ++i) {
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
      const std::string host = "mx.example.test";
      AddressAnswer a = co_await resolver.a(host);
      got.push_back(a.status);
    }, asio::detached);
  }
  asio::steady_timer timer(io, std::chrono::milliseconds(100));
  timer.async_wait([&](boost::system::error_code) {
    EXPECT_EQ(resolver.pending(), 3u);
    resolver.cancel();
  });
  io.run_for(std::chrono::milliseconds(600));
  EXPECT_EQ(got, std::vector<LookupStatus>(3, LookupStatus::Cancelled));
}

TEST(DnsResolver, DestroyedWhileLookupsArePending) {
  SilentServer server;
  asio::io_context io;
  auto resolver = std::make_unique<Resolver>(io.get_executor(), silent_options(server, 5, 3));
  std::optional<AddressAnswer> answer;
  std::optional<Route> route;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    const std::string host = "mx.example.test";
    answer = co_await resolver->a(host);
  }, asio::detached);
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    const std::string domain = "example.test";
    const boxmail::dns::RouteOptions options;
    const boxmail::dns::RandomIndex random = boxmail::dns::default_random();
    route = co_await resolver->route(domain, options, random);
  }, asio::detached);
  asio::steady_timer timer(io, std::chrono::milliseconds(200));
  timer.async_wait([&](boost::system::error_code) { resolver.reset(); });
  const auto start = Clock::now();
  io.run();   // nothing of the resolver is left on the loop
  EXPECT_LT(seconds_since(start), 1.5);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, LookupStatus::Cancelled);
  ASSERT_TRUE(route);
  EXPECT_EQ(route->kind, MxRoute::Kind::Temporary);
  EXPECT_EQ(route->enhanced_status, "4.4.3");
}

TEST(DnsResolver, DestroyedFromTheResumedCoroutine) {
  // The coroutine that gets the answer destroys the resolver at once:
  // answers are posted, never delivered inside udns.
  SilentServer server;
  asio::io_context io;
  auto resolver = std::make_unique<Resolver>(io.get_executor(), silent_options(server, 1, 1));
  bool done = false;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    const std::string host = "one.example.test";
    AddressAnswer a = co_await resolver->a(host);
    resolver.reset();
    done = a.status == LookupStatus::TempFail;
  }, asio::detached);
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    const std::string host = "two.example.test";
    AddressAnswer b = co_await resolver->a(host);
    EXPECT_TRUE(b.status == LookupStatus::TempFail || b.status == LookupStatus::Cancelled);
  }, asio::detached);
  io.run();
  EXPECT_TRUE(done);
}

TEST(DnsResolver, BadOptionsAreRefused) {
  asio::io_context io;
  const auto make = [&](ResolverOptions o) { Resolver r(io.get_executor(), o); };
  ResolverOptions o;
  o.servers = {"localhost"};
  EXPECT_THROW(make(o), std::invalid_argument);
  o.servers = std::vector<std::string>(7, "127.0.0.1");
  EXPECT_THROW(make(o), std::invalid_argument);
  o.servers = {"127.0.0.1"};
  o.timeout_seconds = 0;
  EXPECT_THROW(make(o), std::invalid_argument);
  o.timeout_seconds = 1;
  o.attempts = 51;
  EXPECT_THROW(make(o), std::invalid_argument);
  o.attempts = 1;
  o.servers = {"127.0.0.1", "[::1]:5353"};
  EXPECT_NO_THROW(make(o));
}

}  // namespace

// listener.cpp - see listener.hpp.
#include "net/listener.hpp"

#include "net/log.hpp"

#include <chrono>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace boxmail::net {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
}  // namespace

std::function<void(std::exception_ptr)> log_failure(std::string what) {
  return [what = std::move(what)](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log_error(what + ": " + ex.what());
    }
  };
}

std::string client_address(const tcp::endpoint& remote) {
  const auto addr = remote.address();
  if (addr.is_v6() && addr.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6()).to_string();
  return addr.to_string();
}

Listener::Listener(asio::io_context& io, std::string service, Hooks hooks)
    : io_(io), service_(std::move(service)), hooks_(std::move(hooks)) {}

std::string Listener::listen(const std::vector<config::ListenAddress>& addresses) {
  for (const auto& la : addresses) {
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(la.host, ec);
    if (ec) return "bad listen address " + la.host + ": " + ec.message();
    tcp::endpoint ep(addr, la.port);
    auto acc = std::make_unique<tcp::acceptor>(io_);
    acc->open(ep.protocol(), ec);
    if (!ec) acc->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec && addr.is_v6()) acc->set_option(asio::ip::v6_only(true), ec);
    if (!ec) acc->bind(ep, ec);
    if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
    const std::string where = (addr.is_v6() ? "[" + la.host + "]" : la.host) + ":" + std::to_string(la.port);
    if (ec) return "cannot listen on " + where + " (" + service_ + "): " + ec.message();
    log_info("listening on " + where + " (" + service_ + ")");
    acceptors_.push_back(std::move(acc));
  }
  for (auto& acc : acceptors_) {
    asio::co_spawn(io_, accept_loop(*acc), log_failure(service_ + " accept loop"));
  }
  return {};
}

void Listener::close() {
  closed_ = true;
  for (auto& acc : acceptors_) {
    boost::system::error_code ec;
    acc->close(ec);
  }
}

asio::awaitable<void> Listener::accept_loop(tcp::acceptor& acceptor) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kAwait);
    if (ec) {
      if (ec == asio::error::operation_aborted || closed_) co_return;
      log_warning(service_ + " accept: " + ec.message());
      // EMFILE and friends: back off briefly instead of spinning.
      asio::steady_timer t(io_, std::chrono::milliseconds(100));
      co_await t.async_wait(kAwait);
      continue;
    }
    if (closed_) co_return;
    if (hooks_.before_accept) hooks_.before_accept();
    boost::system::error_code rec;
    const auto remote = socket.remote_endpoint(rec);
    if (rec) continue;
    std::string address = client_address(remote);
    const auto [max_total, max_per_address] = hooks_.limits();
    const auto verdict = limits_.try_acquire(address, max_total, max_per_address);
    if (verdict != ConnectionLimits::Verdict::Ok) {
      const bool total = verdict == ConnectionLimits::Verdict::TooMany;
      log_warning(service_ + ": client=" + address + " refused: too many connections" +
                  (total ? "" : " from this address"));
      asio::co_spawn(io_, refuse(std::move(socket), hooks_.refusal(verdict)), asio::detached);
      continue;
    }
    socket.set_option(tcp::no_delay(true), rec);
    hooks_.accepted(std::move(socket), std::move(address), remote.port());
  }
}

asio::awaitable<void> Listener::refuse(tcp::socket socket, std::string reply) {
  co_await asio::async_write(socket, asio::buffer(reply), kAwait);
  boost::system::error_code ec;
  socket.shutdown(tcp::socket::shutdown_both, ec);
}

}  // namespace boxmail::net

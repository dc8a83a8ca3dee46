// listener.hpp - listening sockets of one service, their accept loop and the
// connection limits (Asio glue shared by the SMTP and POP3 servers).
//
// A Listener binds one acceptor per configured numeric address
// (SO_REUSEADDR; IPV6_V6ONLY on IPv6 so 0.0.0.0:25 and [::]:25 can both be
// bound), accepts connections, counts them against the service's total and
// per-address limits and either hands the socket to the service (`accepted`)
// or writes the service's refusal (421) and closes. The service calls
// release(address) when a session ends. Errors from accept (EMFILE...) are
// logged and retried after 100 ms, never spun on.
#pragma once

#include "config/config.hpp"
#include "net/connection_limits.hpp"

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace boxmail::net {

/// The completion handler for co_spawn that logs an exception which escaped
/// a coroutine as "WHAT: message", so none reaches io_context::run().
std::function<void(std::exception_ptr)> log_failure(std::string what);

/// The client's address as text; IPv4-mapped IPv6 addresses are unwrapped
/// ("::ffff:192.0.2.1" -> "192.0.2.1") so limits and logs see one form.
std::string client_address(const boost::asio::ip::tcp::endpoint& remote);

class Listener {
 public:
  /// The service's side of the accept loop.
  struct Hooks {
    /// Current limits (from the service's current configuration snapshot).
    std::function<std::pair<std::uint32_t, std::uint32_t>()> limits;   // {max total, max per address}
    /// The reply for a refused connection (TooMany or TooManyFromAddress).
    std::function<std::string(ConnectionLimits::Verdict)> refusal;
    /// Takes an accepted, counted connection.
    std::function<void(boost::asio::ip::tcp::socket, std::string address, std::uint16_t port)> accepted;
    /// Runs before each connection is taken (e.g. re-read a changed passwd-file).
    std::function<void()> before_accept;
  };

  /// `service` names the listener in log lines ("smtp", "pop3").
  Listener(boost::asio::io_context& io, std::string service, Hooks hooks);

  /// Binds every address and starts accepting. Returns "" or an error
  /// message naming the address.
  std::string listen(const std::vector<config::ListenAddress>& addresses);

  /// Stops accepting (graceful shutdown).
  void close();

  /// A session counted by this listener ended.
  void release(const std::string& address) { limits_.release(address); }

  void set_before_accept(std::function<void()> f) { hooks_.before_accept = std::move(f); }

 private:
  boost::asio::awaitable<void> accept_loop(boost::asio::ip::tcp::acceptor& acceptor);
  boost::asio::awaitable<void> refuse(boost::asio::ip::tcp::socket socket, std::string reply);

  boost::asio::io_context& io_;
  std::string service_;
  Hooks hooks_;
  std::vector<std::unique_ptr<boost::asio::ip::tcp::acceptor>> acceptors_;
  ConnectionLimits limits_;
  bool closed_ = false;
};

}  // namespace boxmail::net

// listener.hpp - listening sockets of one service, their accept loop and the
// connection limits (Asio glue shared by the SMTP and POP3 servers).
//
// A Listener binds one acceptor per configured numeric address
// (SO_REUSEADDR; IPV6_V6ONLY on IPv6 so 0.0.0.0:25 and [::]:25 can both be
// bound), accepts connections, counts them against the service's total and
// per-address limits and either hands the socket to the service (`accepted`)
// or writes the service's refusal (421) and closes. The service calls
// release(address) when a session ends. A client the service's ban check
// (set_ban_check) says is banned is refused before it is counted.
//
// When the total limit is reached (and the client's address is under its
// own limit) the Listener first asks the service to make room
// (`make_room`: SessionTable::evict_idlest closes the session idle the
// longest, if idle over the service's threshold); only when no session is
// idle long enough is the new client refused (docs/reliability.md, "Slow
// clients and connection slots").
//
// Out of descriptors (EMFILE, ENFILE) the pending connection cannot be
// accepted and would get silence: the Listener keeps one descriptor in
// reserve (/dev/null, opened by listen()), closes it, accepts the pending
// connections with it one by one, writes the service's `no_descriptors`
// reply (SMTP 421 4.3.2, POP3 -ERR [SYS/TEMP]), closes them and opens the
// reserve again. Accept errors are logged at most once per
// kAcceptLogInterval with the count of lines left out, and so is the line
// saying that accepting works again; other accept errors are retried after 100 ms,
// never spun on (docs/reliability.md, "Running out of descriptors").
#pragma once

#include "config/config.hpp"
#include "net/connection_limits.hpp"
#include "net/log_throttle.hpp"
#include "net/progress.hpp"

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
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
    /// Takes an accepted, counted connection; `tag` is the one given to the
    /// listen() call that bound its address (which service: feed,
    /// submission, implicit TLS...).
    std::function<void(boost::asio::ip::tcp::socket, std::string address, std::uint16_t port, int tag)> accepted;
    /// Runs before each connection is taken (e.g. re-read a changed passwd-file).
    std::function<void()> before_accept;
    /// All slots taken: close an idle session to make room (nullopt: none is idle enough).
    std::function<std::optional<Evicted>()> make_room;
    /// The reply for a connection taken with the reserved descriptor (out of descriptors).
    std::function<std::string()> no_descriptors;
  };

  /// At most one accept-error log line per this interval.
  static constexpr std::chrono::seconds kAcceptLogInterval{10};

  /// `service` names the listener in log lines ("smtp", "pop3").
  Listener(boost::asio::io_context& io, std::string service, Hooks hooks);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  /// Binds every address and starts accepting; connections from them are
  /// handed over with `tag`. May be called once per tag (all tags share
  /// the connection limits). Returns "" or an error message naming the
  /// address. `what` names the addresses in log lines ("submission").
  std::string listen(const std::vector<config::ListenAddress>& addresses, int tag = 0, std::string what = {});

  /// Stops accepting (graceful shutdown).
  void close();

  /// A session counted by this listener ended.
  void release(const std::string& address) { limits_.release(address); }

  void set_before_accept(std::function<void()> f) { hooks_.before_accept = std::move(f); }

  /// Refuses banned clients at accept, before the limits count them:
  /// `banned(address)` (a hash lookup: it runs for every connection)
  /// true, the client gets `reply()` and is closed, with a log line
  /// ("smtp: client=ADDR refused: banned"). Null: no check.
  void set_ban_check(std::function<bool(const std::string&)> banned, std::function<std::string()> reply) {
    banned_ = std::move(banned);
    banned_reply_ = std::move(reply);
  }

 private:
  boost::asio::awaitable<void> accept_loop(boost::asio::ip::tcp::acceptor& acceptor, int tag);
  boost::asio::awaitable<void> refuse(boost::asio::ip::tcp::socket socket, std::string reply);
  /// Answers the pending connections through the reserved descriptor; how
  /// many, or nullopt when the reserve is not held (then it tries to take it back).
  std::optional<std::size_t> refuse_with_reserve(boost::asio::ip::tcp::acceptor& acceptor);
  void log_accept_error(const boost::system::error_code& ec, std::optional<std::size_t> refused);

  boost::asio::io_context& io_;
  std::string service_;
  Hooks hooks_;
  std::function<bool(const std::string&)> banned_;
  std::function<std::string()> banned_reply_;
  std::vector<std::unique_ptr<boost::asio::ip::tcp::acceptor>> acceptors_;
  ConnectionLimits limits_;
  bool closed_ = false;
  int reserve_fd_ = -1;                           // the reserved descriptor (/dev/null)
  LogThrottle accept_log_{kAcceptLogInterval};
  bool accept_failing_ = false;                   // an accept error was logged, no success since
};

}  // namespace boxmail::net

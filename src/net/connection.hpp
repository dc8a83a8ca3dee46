// connection.hpp - one accepted TCP connection of a protocol server, and its
// watchdog (Asio glue shared by every protocol through proto::Driver).
//
// One timer per connection (the Asio watchdog pattern, STYLE.md 5): the
// driver moves `deadline` forward as the session makes progress (idle time,
// capped by the whole-session limit for SMTP); when the deadline passes, the
// watchdog sets `timed_out` and cancels the socket's pending operation, and
// the session coroutine answers with its timeout reply and closes.
// `last_progress` is the session's last progress (net/progress.hpp): the
// driver keeps it up to date so that, when every slot is taken,
// SessionTable::evict_idlest can pick the session idle the longest; it sets
// `evicted` and moves the deadline to now, and the session answers with its
// eviction reply (421 4.4.2, POP3 -ERR) instead of the timeout reply.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

namespace boxmail::net {

struct Connection {
  explicit Connection(boost::asio::ip::tcp::socket s)
      : socket(std::move(s)), timer(socket.get_executor()) {}
  boost::asio::ip::tcp::socket socket;
  boost::asio::steady_timer timer;
  std::uint64_t id = 0;                              ///< SessionTable id
  std::string address;                               ///< client address (net::client_address)
  std::uint16_t port = 0;
  std::chrono::steady_clock::time_point deadline;    ///< when the watchdog ends the session
  bool reading = false;     ///< waiting for input: shutdown may interrupt only this
  bool timed_out = false;   ///< set by the watchdog
  bool shutdown = false;    ///< set by SessionTable::shutdown
  bool closed = false;      ///< set by the session when it is done (stops the watchdog)
  std::chrono::steady_clock::time_point last_progress = std::chrono::steady_clock::now();  ///< see above
  bool evicted = false;     ///< set by SessionTable::evict_idlest (then timed_out follows)
};

/// Waits for conn->deadline (re-reading it, as it moves) until the
/// connection is closed; past the deadline, or once evicted, sets timed_out
/// and cancels the socket. Spawn it next to the session; it holds the connection alive.
boost::asio::awaitable<void> watchdog(std::shared_ptr<Connection> conn);

}  // namespace boxmail::net

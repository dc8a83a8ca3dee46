// control_server.hpp - boxmaild's control socket: Asio glue around
// control_protocol.hpp.
//
// Listens on a UNIX stream socket at `path` (a stale socket file there is
// replaced; the directory is created 0750 when missing). The socket gets
// mode 0660 and the group of its directory, so the web server's user (a
// member of that group) may connect and nobody else may. Each connection
// sends one request line (at most kMaxRequestLine octets, within 5 s),
// gets one reply and is closed.
//
// The server installs the net::log tap: every logged line goes into a ring
// buffer (`log N`). The message counters (`stats`) are fed typed events by
// count() (the wiring hands it the SMTP sessions' events), never log text.
// `status` and `reload` are answered by the daemon's handlers (wiring in
// app/boxmaild.cpp). Runs on the daemon's one io_context thread.
#pragma once

#include "config/account.hpp"
#include "control/control_protocol.hpp"
#include "net/log.hpp"
#include "net/stats.hpp"
#include "store/usage_table.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

namespace boxmail::control {

class ControlServer {
 public:
  struct Handlers {
    std::function<Reply()> status;   ///< body lines of `status` (see mail_store_lines)
    std::function<Reply()> reload;   ///< ok, or error with the configuration errors as lines
  };

  ControlServer(boost::asio::io_context& io, std::string path, Handlers handlers);
  ~ControlServer();   ///< removes the log tap and the socket file

  /// Binds and starts accepting. Returns "" or an error message.
  std::string listen();
  /// Stops accepting and removes the socket file.
  void close();

  const std::string& path() const { return path_; }
  /// Counts one message event now (Unix time, local day) for `stats`.
  void count(net::MessageEvent event);
  /// The answer to one request line (also used by tests).
  Reply answer(std::string_view line);

 private:
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> serve(boost::asio::local::stream_protocol::socket socket);
  static void tap(void* user, net::LogLevel level, std::string_view text);

  boost::asio::io_context& io_;
  std::string path_;
  Handlers handlers_;
  std::unique_ptr<boost::asio::local::stream_protocol::acceptor> acceptor_;
  net::LogRing ring_;
  net::MessageStats stats_;
};

/// Lines for `status` about the mail store: "mailbox NAME messages=N
/// bytes=B quota=Q" for each account (usage from `usage`, the S= sizes of
/// its Maildir names, no directory is read here; "messages=- bytes=-" while
/// the first count is not done; quota=0 for none), then "store DIR used=B
/// free=B total=B reserve=R" (free and total from statvfs, left out when
/// the file system tells no size, e.g. ramfs; R is store.min_free_space).
std::vector<std::string> mail_store_lines(const std::string& mail_dir, const config::AccountTable& accounts,
                                          store::UsageTable& usage, std::uint64_t reserve);

/// The local calendar day number of Unix time `t` (days since 1970 in
/// local time), for the "today" counters.
std::int64_t local_day(std::int64_t t);

}  // namespace boxmail::control

// client.hpp - boxmaild's side of the socketpair to boxmail-fw (I/O, Asio).
//
// spawn() starts the firewall helper (firewall/fw_server.hpp) as root,
// before boxmaild drops its privileges: a SOCK_SEQPACKET socketpair, a
// vfork, and in the child exec of `PROGRAM serve 3` with its end on
// descriptor 3, /dev/null as stdin and every other descriptor closed (the
// listeners, the control socket). boxmaild keeps the other end.
//
// send() queues one request (firewall/request.hpp) and calls `done` with
// the helper's reply on the io_context, never inside send(). Requests go
// out as soon as the socket takes them (non-blocking send(2) of each
// datagram; the helper takes what waits together as one batch) and
// replies are matched in order; the socket is watched with the Asio
// descriptor's readiness waits (the daemon's other descriptors already
// use those, so no socket protocol is instantiated for it: boxmaild's
// size on the board). Nothing here blocks the loop. A refused or failed
// request is logged here ("firewall: ... refused: ..."), so callers need
// not.
//
// When the helper dies (EOF or an error on the socket), the client logs
// it once, answers every waiting and later request with an error and
// reaps the child (then, or at the latest at stop_now()); boxmaild goes on
// serving mail (mail never depends on
// the firewall). The helper is not started again: that needs root, which
// boxmaild no longer has (a restart of boxmaild does it).
#pragma once

#include "firewall/request.hpp"

#include <deque>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

namespace boxmail::firewall {

class Client {
 public:
  using Done = std::function<void(const Reply&)>;

  /// Starts `program` (see the file comment); null with `error` set when
  /// the socketpair or the vfork failed (an exec failure shows as the
  /// helper's EOF at once, logged then).
  static std::unique_ptr<Client> spawn(boost::asio::io_context& io, const std::string& program, std::string& error);

  ~Client();   ///< closes the socket (the helper sees EOF and deletes the table)
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// Queues `request`; `done` (may be empty) gets the reply, or an error
  /// reply when the helper is gone or the reply was malformed.
  void send(const Request& request, Done done = {});

  /// For boxmaild's exit, once its loop has stopped: sends `stop` on the
  /// socket directly and waits (poll, at most `timeout_ms`) until the
  /// helper has answered it or gone, so the table is deleted before a new
  /// boxmaild can start a new helper. Returns the helper's answer
  /// ("stopped: ...") or why there was none. Requests still unsent are
  /// dropped.
  std::string stop_now(int timeout_ms);

  /// False once the helper has gone.
  bool running() const { return running_; }
  /// The helper's process id.
  int pid() const { return pid_; }

 private:
  Client(boost::asio::io_context& io, int fd, int pid);
  void pump();
  void read_next();
  void on_readable();
  void helper_gone(const std::string& why);
  void reap();

  struct Pending {
    std::string datagram;
    Done done;
  };

  boost::asio::io_context& io_;
  boost::asio::posix::stream_descriptor socket_;
  int pid_ = -1;
  bool running_ = true;
  bool wants_write_ = false;      ///< waiting for the socket to take more
  std::deque<Pending> unsent_;
  std::deque<Pending> waiting_;   ///< sent, reply not yet read
  std::string in_;                ///< the receive buffer (kMaxReply + 1)
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace boxmail::firewall

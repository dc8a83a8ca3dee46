// driver.hpp - one connection's I/O loop, for every protocol (Asio glue).
//
// The SMTP and POP3 servers (and IMAP later) each accept a connection, make
// a net::Connection, a Transport and their protocol's Handler, and run
// Driver::run. The driver owns what the protocols share:
//   * reading: at most one buffer (`read_buffer` octets) at a time from the
//     Transport, fed to the handler until it is used up or the handler
//     stalls (takes nothing more for now);
//   * writing with backpressure: replies collect in out() and are written
//     once the input at hand is used up (RFC 2920 pipelining), and no new
//     read starts before they are written; a handler may flush() earlier
//     (before a commit, while streaming a message);
//   * the watchdog (net::watchdog, one timer per connection): the deadline
//     is the session's own (Handler::deadline), re-read after each batch of
//     input and whenever the handler calls deadline_moved(); past it, or
//     when the connection is evicted (net::SessionTable::evict_idlest), the
//     handler's on_timeout answers and the connection closes;
//   * graceful shutdown (net::SessionTable::shutdown): a read in progress is
//     cancelled and the handler asked (on_shutdown) whether the session may
//     stop now; a busy one (SMTP in a transaction) goes on reading and is
//     asked again after each batch;
//   * STARTTLS: when the session's Output asks for Action::StartTls the
//     driver writes the pending replies, DROPS every octet already read and
//     not yet fed (commands a client pipelined after STARTTLS/STLS), then
//     calls Transport::start_tls and Handler::tls_started. Bytes read before
//     the handshake never reach the session after it (CVE-2011-0411,
//     Postfix; Dovecot CVE-2021-33515). This is the one place that rule
//     lives; no protocol offers STARTTLS/STLS yet (the TLS issue), so only
//     the unit test (tests/unit/proto_driver_test.cpp) reaches it so far.
//     Octets a session holds itself (an incomplete line in its LineReader)
//     are the session's to drop when it asks for StartTls.
//   * implicit TLS (RFC 8314 3.3, ports 465 and 995): the handshake runs
//     before the greeting, under the same watchdog; a client that does not
//     finish it gets nothing and is closed.
//   * a failed handshake is logged ("client=ADDR TLS handshake failed:
//     WHY") and the handler told (tls_started with ok = false).
//   * the end: write what is pending, stop the watchdog, shut the transport
//     down. The caller then releases its slot (Listener, SessionTable).
//
// Runs on the one io_context thread. Exceptions from the handler propagate
// out of run() to the session's completion handler (net::log_failure).
#pragma once

#include "net/connection.hpp"
#include "proto/output.hpp"
#include "proto/transport.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

namespace boxmail::proto {

class Driver;

/// A session's idle deadline as the driver's watchdog and the eviction
/// choice see it (steady clock).
struct Deadline {
  std::chrono::steady_clock::time_point at;              ///< when the watchdog ends the session
  std::chrono::steady_clock::time_point last_progress;   ///< for net::SessionTable::evict_idlest
};

/// The result of feeding input once (Handler::input).
struct Step {
  std::size_t used = 0;   ///< octets of the input the session took
  bool stalled = false;   ///< took nothing and asked for nothing: wait for the next read
};

/// One protocol's per-connection glue: owns the pure session and carries
/// out its protocol-specific actions (commit, password check, streaming);
/// hands the generic part of each Output to Driver::take.
class Handler {
 public:
  virtual ~Handler() = default;
  /// Takes the session's greeting (Driver::take).
  virtual void greet(Driver& d) = 0;
  /// Feeds `in` (not empty) to the session once and carries out its action;
  /// may co_await protocol work and Driver::flush.
  virtual boost::asio::awaitable<Step> input(std::string_view in, Driver& d) = 0;
  /// The deadline passed (`evicted`: the connection was chosen to make
  /// room); takes the session's answer. The driver closes afterwards.
  virtual void on_timeout(Driver& d, bool evicted) = 0;
  /// The server is stopping: takes the session's answer and returns true
  /// when it may stop now; false while busy (asked again after the next batch).
  virtual bool on_shutdown(Driver& d) = 0;
  /// The session's current deadline.
  virtual Deadline deadline() const = 0;
  /// After Action::StartTls, or before the greeting on an implicit-TLS
  /// port: TLS is up (`ok`; d.transport().description() names it) or could
  /// not start. Default: close when it failed.
  virtual void tls_started(Driver& d, bool ok);
};

class Driver {
 public:
  /// `conn`: the accepted connection (its socket is cancelled by the
  /// watchdog and the SessionTable); `transport`: the byte stream over it;
  /// `read_buffer`: octets read at most at a time (> 0).
  Driver(std::shared_ptr<net::Connection> conn, Transport& transport, std::size_t read_buffer);

  /// Runs the connection until it closes (see above); `implicit_tls`: TLS
  /// from the first octet (start_tls before the greeting).
  boost::asio::awaitable<void> run(Handler& handler, bool implicit_tls = false);

  /// Takes the generic part of a session's Output: appends its replies to
  /// out(), logs its lines (info), and notes Close or StartTls.
  void take(Output&& o);
  /// Replies not yet written; a handler may append to it (message streams).
  std::string& out() { return out_; }
  /// Writes out() now. False when the write failed (the connection is dead:
  /// the caller should close()).
  boost::asio::awaitable<bool> flush();
  /// Ends the connection after the current batch.
  void close() { close_ = true; }
  bool closing() const { return close_; }
  /// The handler's deadline moved: hands Handler::deadline() to the watchdog.
  void deadline_moved();
  /// The connection (client address, executor).
  net::Connection& connection() { return *conn_; }
  boost::asio::any_io_executor executor() { return conn_->socket.get_executor(); }
  /// The byte stream (secure(), description()).
  const Transport& transport() const { return transport_; }
  /// Octets dropped so far by the STARTTLS rule (for tests and logs).
  std::size_t discarded() const { return discarded_; }

 private:
  boost::asio::awaitable<void> start_tls(std::string_view& unread);
  boost::asio::awaitable<bool> handshake();

  std::shared_ptr<net::Connection> conn_;
  Transport& transport_;
  std::vector<char> buf_;
  std::string out_;
  Handler* handler_ = nullptr;
  bool close_ = false;
  bool start_tls_ = false;
  std::size_t discarded_ = 0;
};

/// Runs `handler` on `conn` until the connection closes: what a server's
/// session coroutine calls. Over a TlsTransport on conn->socket with
/// `context` (null: no certificate, TLS cannot start); `implicit_tls`: TLS
/// before the greeting. `read_buffer`: as for Driver.
boost::asio::awaitable<void> run_connection(std::shared_ptr<net::Connection> conn, Handler& handler,
                                            std::size_t read_buffer,
                                            std::shared_ptr<const tls::ServerContext> context,
                                            bool implicit_tls);

}  // namespace boxmail::proto

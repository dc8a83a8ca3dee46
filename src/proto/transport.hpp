// transport.hpp - the byte stream under a protocol session: plain TCP now,
// TLS later (Asio glue; the seam the TLS layer implements).
//
// proto::Driver reads, writes, starts TLS and shuts down only through this
// interface, so one driver serves a plain and a TLS connection alike.
//
// Choice: a coroutine interface (boost::asio::awaitable), not "want read /
// want write" return codes. A TLS implementation over mbedTLS keeps the
// non-blocking style inside itself: its BIO callbacks (mbedtls_ssl_set_bio)
// read and write the socket with non-blocking calls and return
// MBEDTLS_ERR_SSL_WANT_READ / _WANT_WRITE on EAGAIN; read_some() loops on
// mbedtls_ssl_read and, on WANT_READ / WANT_WRITE, co_awaits
// socket.async_wait(wait_read / wait_write) before calling it again (the
// same for write and the handshake). The driver never sees TLS states, and
// cancelling the socket (the watchdog, graceful shutdown) wakes a pending
// wait the same way it wakes a plain read.
//
// Errors are boost::system::error_code values, never exceptions
// (STYLE.md 8). Cancellation: the owner cancels the underlying socket
// (net::Connection::socket); a pending read then completes with
// boost::asio::error::operation_aborted.
#pragma once

#include <cstddef>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

namespace boxmail::proto {

class Transport {
 public:
  virtual ~Transport() = default;

  /// Reads at least one octet into `buf` (plaintext, for TLS). Returns the
  /// error (eof at the peer's orderly close, operation_aborted when
  /// cancelled) and the octets read.
  virtual boost::asio::awaitable<std::pair<boost::system::error_code, std::size_t>> read_some(
      boost::asio::mutable_buffer buf) = 0;

  /// Writes all of `buf`; returns the error, if any.
  virtual boost::asio::awaitable<boost::system::error_code> write(boost::asio::const_buffer buf) = 0;

  /// Runs the server side of a TLS handshake (RFC 3207 STARTTLS, RFC 2595
  /// STLS) on this connection; from then on read_some/write carry
  /// plaintext over TLS. The driver has dropped every octet read before
  /// (see driver.hpp). Returns an error when TLS cannot start;
  /// operation_not_supported when this transport has no TLS.
  virtual boost::asio::awaitable<boost::system::error_code> start_tls() = 0;

  /// True once start_tls succeeded (or for a transport that is TLS from the start).
  virtual bool secure() const = 0;

  /// Ends the connection: TLS close_notify if any (best effort), then TCP
  /// shutdown and close. Never fails (errors are ignored: the peer may be gone).
  virtual boost::asio::awaitable<void> shutdown() = 0;
};

/// Plain TCP over a socket the caller owns (net::Connection::socket); no TLS.
class PlainTransport final : public Transport {
 public:
  explicit PlainTransport(boost::asio::ip::tcp::socket& socket) : socket_(socket) {}

  boost::asio::awaitable<std::pair<boost::system::error_code, std::size_t>> read_some(
      boost::asio::mutable_buffer buf) override;
  boost::asio::awaitable<boost::system::error_code> write(boost::asio::const_buffer buf) override;
  /// Always operation_not_supported (no TLS on this transport).
  boost::asio::awaitable<boost::system::error_code> start_tls() override;
  bool secure() const override { return false; }
  boost::asio::awaitable<void> shutdown() override;

 private:
  boost::asio::ip::tcp::socket& socket_;
};

}  // namespace boxmail::proto

// transport.hpp - the byte stream under a protocol session: TCP, in the
// clear or under TLS (Asio glue; the seam the TLS layer implements).
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
#include <memory>
#include <string>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

namespace boxmail::tls {
class ClientContext;
class ServerContext;
class TlsStream;
struct IoResult;
}  // namespace boxmail::tls

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

  /// Runs the TLS handshake (RFC 3207 STARTTLS, RFC 2595 STLS; the server
  /// side for the daemon's listeners, the client side for outgoing SMTP)
  /// on this connection; from then on read_some/write carry
  /// plaintext over TLS. The driver has dropped every octet read before
  /// (see driver.hpp). Returns an error when TLS cannot start;
  /// operation_not_supported when this transport has no TLS.
  virtual boost::asio::awaitable<boost::system::error_code> start_tls() = 0;

  /// True once start_tls succeeded (or for a transport that is TLS from the start).
  virtual bool secure() const = 0;

  /// After a failed start_tls or a TLS error in read/write: what went
  /// wrong, for the log (mbedTLS's text); empty otherwise.
  virtual std::string tls_error() const { return {}; }

  /// Once secure: the protocol and ciphersuite ("TLSv1.2
  /// TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384"), for the log and the
  /// Received: header (RFC 3848 ESMTPS); empty before.
  virtual std::string description() const { return {}; }

  /// Ends the connection: TLS close_notify if any (best effort), then TCP
  /// shutdown and close. Never fails (errors are ignored: the peer may be gone).
  virtual boost::asio::awaitable<void> shutdown() = 0;
};

/// A connection that starts in the clear and may turn to TLS: plain reads
/// and writes on the socket until start_tls, then a tls::TlsStream over the
/// same (now non-blocking) descriptor, driven by readiness waits
/// (socket.async_wait) on what the stream asks for; nothing blocks the
/// loop. The handshake gets no timer of its own: the driver's watchdog
/// cancels the socket at the session's deadline, which ends a wait.
/// `context` null: no certificate is loaded, start_tls answers
/// operation_not_supported (the session must not offer TLS then).
/// For implicit TLS (RFC 8314 3.3: ports 465, 995) the driver calls
/// start_tls before the greeting.
/// The client side (outgoing SMTP, relay/smtp_client.hpp) is the same
/// transport made with a tls::ClientContext and the server's host name:
/// start_tls then runs the client handshake (SNI, the context's
/// certificate check) and everything else is unchanged.
class TlsTransport final : public Transport {
 public:
  /// Server side: `context` null when no certificate is loaded.
  TlsTransport(boost::asio::ip::tcp::socket& socket, std::shared_ptr<const tls::ServerContext> context);
  /// Client side: `context` not null; `host_name` for SNI and the
  /// certificate check (tls/tls_stream.hpp).
  TlsTransport(boost::asio::ip::tcp::socket& socket, std::shared_ptr<const tls::ClientContext> context,
               std::string host_name);
  ~TlsTransport() override;

  boost::asio::awaitable<std::pair<boost::system::error_code, std::size_t>> read_some(
      boost::asio::mutable_buffer buf) override;
  boost::asio::awaitable<boost::system::error_code> write(boost::asio::const_buffer buf) override;
  /// The handshake (TLS 1.2, tls/server_context.hpp, tls/client_context.hpp).
  /// Errors: operation_not_supported (no context, or TLS already on), eof
  /// (the peer left), operation_aborted (the watchdog), protocol_error (see
  /// tls_error(): also a certificate the client refused).
  boost::asio::awaitable<boost::system::error_code> start_tls() override;
  bool secure() const override;
  std::string tls_error() const override { return tls_error_; }
  std::string description() const override;
  /// close_notify when TLS is up (sent once, not waited for), then TCP shutdown and close.
  boost::asio::awaitable<void> shutdown() override;

 private:
  boost::asio::awaitable<boost::system::error_code> wait_for(const tls::IoResult& r);

  boost::asio::ip::tcp::socket& socket_;
  std::shared_ptr<const tls::ServerContext> context_;
  std::shared_ptr<const tls::ClientContext> client_;
  std::string host_name_;
  std::unique_ptr<tls::TlsStream> stream_;
  std::string tls_error_;
};

}  // namespace boxmail::proto

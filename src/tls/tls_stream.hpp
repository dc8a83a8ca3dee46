// tls_stream.hpp - one TLS session over a non-blocking socket, server side
// (the daemon's listeners) or client side (outgoing SMTP), driven by the
// caller (I/O: mbedTLS and send/recv; no Asio, no blocking).
//
// The stream owns an mbedtls_ssl_context set up from a shared ServerContext
// (kept alive for the session's life, so a certificate reload does not touch
// running sessions) or ClientContext (tls/client_context.hpp: the client
// sends the host name as SNI, RFC 6066 3, checks it against the certificate
// with ClientVerify::Chain, and checks the pin with ClientVerify::Pin at the
// end of the handshake), and BIO callbacks that call ::send(MSG_NOSIGNAL) and
// ::recv on the descriptor it is given (not owned, not closed). EAGAIN from
// the socket becomes MBEDTLS_ERR_SSL_WANT_READ/WANT_WRITE, EINTR is retried.
//
// Every operation returns an IoResult at once: Done, or WantRead/WantWrite
// (wait until the socket is readable/writable - e.g. Asio's
// socket.async_wait(wait_read/wait_write) - then call the SAME operation
// again, for write() with the same buffer), or Closed (the peer sent
// close_notify, or the connection ended), or Error with a text. Any
// operation may want either direction: a read can need to write (an alert)
// and a write can need to read, so wait for what the result says, not for
// what the call is named.
//
// Buffered plaintext: after a read, mbedTLS may hold more decrypted
// octets of the same record; pending() says how many. Read them before
// waiting for the socket (it will not become readable for them).
//
// Order of use: handshake_step() until Done; then read()/write(); then
// close_notify() until Done (or just close the socket). Any Error ends the
// session: drop it. After Closed, read() returns Closed again.
//
// Memory: mbedTLS 2.28 as Debian builds it allocates its input and output
// record buffers (MBEDTLS_SSL_IN_CONTENT_LEN / OUT_CONTENT_LEN, 16 KiB each,
// plus overhead) when the stream is made, for the whole session;
// docs/tls.md has the measured cost per idle session.
#pragma once

#include "tls/client_context.hpp"
#include "tls/server_context.hpp"

#include <mbedtls/ssl.h>

#include <cstddef>
#include <memory>
#include <string>

namespace boxmail::tls {

/// The outcome of one TlsStream operation.
struct IoResult {
  enum class Status {
    Done,       ///< finished; `bytes` says how many plaintext octets moved (read/write)
    WantRead,   ///< wait until the socket is readable, then call again
    WantWrite,  ///< wait until the socket is writable, then call again
    Closed,     ///< the peer closed (close_notify or end of stream)
    Error,      ///< fatal; `error` says what; drop the session
  };
  Status status = Status::Error;
  std::size_t bytes = 0;
  std::string error;

  bool done() const { return status == Status::Done; }
  bool want_read() const { return status == Status::WantRead; }
  bool want_write() const { return status == Status::WantWrite; }
};

/// One TLS session over a non-blocking socket (see the file comment).
class TlsStream {
 public:
  /// Sets the session up over `fd` (a connected, non-blocking stream
  /// socket, not owned). Throws std::runtime_error when mbedTLS cannot
  /// allocate the session (out of memory).
  TlsStream(std::shared_ptr<const ServerContext> context, int fd);
  /// The client side over `fd` for a server called `host_name` (SNI and,
  /// with ClientVerify::Chain, the name the certificate must carry; an IP
  /// address or an empty name sends no SNI, RFC 6066 3). Throws
  /// std::runtime_error as above, and when Chain has no DNS name to check.
  TlsStream(std::shared_ptr<const ClientContext> context, int fd, const std::string& host_name);
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  /// Advances the handshake as far as the socket allows. Client side: at
  /// its end the ClientContext's pin check runs; a mismatch is Error.
  IoResult handshake_step();
  /// Decrypts up to `size` plaintext octets into `data`. Done with
  /// bytes > 0, or Closed, WantRead/WantWrite, Error.
  IoResult read(void* data, std::size_t size);
  /// Encrypts and sends up to `size` octets (at most one record, 16 KiB):
  /// Done with `bytes` taken (may be fewer than `size`: call again with the
  /// rest). After WantRead/WantWrite call again with the same data.
  IoResult write(const void* data, std::size_t size);
  /// Sends the close_notify alert (RFC 5246 7.2.1). Done once it is sent.
  IoResult close_notify();

  /// Decrypted octets buffered by mbedTLS, readable without the socket.
  std::size_t pending() const;
  /// True once handshake_step returned Done.
  bool established() const { return established_; }
  /// The negotiated protocol ("TLSv1.2") and ciphersuite
  /// ("TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384"); empty before the handshake.
  std::string version() const;
  std::string ciphersuite() const;

 private:
  static int bio_send(void* self, const unsigned char* buf, std::size_t len);
  static int bio_recv(void* self, unsigned char* buf, std::size_t len);
  IoResult outcome(int rc, const char* what);
  void setup(const mbedtls_ssl_config* config);

  std::shared_ptr<const ServerContext> context_;
  std::shared_ptr<const ClientContext> client_;
  int fd_;
  int last_errno_ = 0;
  bool established_ = false;
  std::unique_ptr<mbedtls_ssl_context> ssl_;
};

}  // namespace boxmail::tls

// tls_stream.cpp - see tls_stream.hpp.
#include "tls/tls_stream.hpp"

#include <mbedtls/net_sockets.h>

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace boxmail::tls {

TlsStream::TlsStream(std::shared_ptr<const ServerContext> context, int fd)
    : context_(std::move(context)), fd_(fd), ssl_(std::make_unique<mbedtls_ssl_context>()) {
  mbedtls_ssl_init(ssl_.get());
  const int rc = mbedtls_ssl_setup(ssl_.get(), context_->config());
  if (rc != 0) {
    mbedtls_ssl_free(ssl_.get());
    throw std::runtime_error("mbedtls_ssl_setup: " + mbedtls_error_text(rc));
  }
  mbedtls_ssl_set_bio(ssl_.get(), this, &TlsStream::bio_send, &TlsStream::bio_recv, nullptr);
}

TlsStream::~TlsStream() { mbedtls_ssl_free(ssl_.get()); }

int TlsStream::bio_send(void* self, const unsigned char* buf, std::size_t len) {
  auto* s = static_cast<TlsStream*>(self);
  for (;;) {
    const ssize_t n = ::send(s->fd_, buf, len, MSG_NOSIGNAL);
    if (n >= 0) return static_cast<int>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return MBEDTLS_ERR_SSL_WANT_WRITE;
    s->last_errno_ = errno;
    return errno == EPIPE || errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_SEND_FAILED;
  }
}

int TlsStream::bio_recv(void* self, unsigned char* buf, std::size_t len) {
  auto* s = static_cast<TlsStream*>(self);
  for (;;) {
    const ssize_t n = ::recv(s->fd_, buf, len, 0);
    if (n >= 0) return static_cast<int>(n);   // 0: end of stream (mbedTLS: CONN_EOF)
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return MBEDTLS_ERR_SSL_WANT_READ;
    s->last_errno_ = errno;
    return errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_RECV_FAILED;
  }
}

IoResult TlsStream::outcome(int rc, const char* what) {
  IoResult r;
  if (rc >= 0) {
    r.status = IoResult::Status::Done;
    r.bytes = static_cast<std::size_t>(rc);
    return r;
  }
  switch (rc) {
    case MBEDTLS_ERR_SSL_WANT_READ:
      r.status = IoResult::Status::WantRead;
      return r;
    case MBEDTLS_ERR_SSL_WANT_WRITE:
      r.status = IoResult::Status::WantWrite;
      return r;
    case MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY:
    case MBEDTLS_ERR_SSL_CONN_EOF:
    case MBEDTLS_ERR_NET_CONN_RESET:
      r.status = IoResult::Status::Closed;
      return r;
    default:
      r.status = IoResult::Status::Error;
      r.error = std::string(what) + ": " + mbedtls_error_text(rc);
      if (last_errno_ != 0) r.error += std::string(" (") + std::strerror(last_errno_) + ")";
      return r;
  }
}

IoResult TlsStream::handshake_step() {
  if (established_) return outcome(0, "handshake");
  const int rc = mbedtls_ssl_handshake(ssl_.get());
  IoResult r = outcome(rc, "TLS handshake");
  if (r.done()) established_ = true;
  // A peer that goes away mid-handshake is a failed handshake, not a close.
  if (r.status == IoResult::Status::Closed) {
    r.status = IoResult::Status::Error;
    r.error = "TLS handshake: the peer closed the connection";
  }
  return r;
}

IoResult TlsStream::read(void* data, std::size_t size) {
  const int rc = mbedtls_ssl_read(ssl_.get(), static_cast<unsigned char*>(data), size);
  if (rc == 0 && size > 0) {   // mbedTLS returns 0 for a close_notify already seen
    IoResult r;
    r.status = IoResult::Status::Closed;
    return r;
  }
  return outcome(rc, "TLS read");
}

IoResult TlsStream::write(const void* data, std::size_t size) {
  return outcome(mbedtls_ssl_write(ssl_.get(), static_cast<const unsigned char*>(data), size), "TLS write");
}

IoResult TlsStream::close_notify() {
  return outcome(mbedtls_ssl_close_notify(ssl_.get()), "TLS close_notify");
}

std::size_t TlsStream::pending() const { return mbedtls_ssl_get_bytes_avail(ssl_.get()); }

std::string TlsStream::version() const { return established_ ? mbedtls_ssl_get_version(ssl_.get()) : ""; }

std::string TlsStream::ciphersuite() const {
  return established_ ? mbedtls_ssl_get_ciphersuite(ssl_.get()) : "";
}

}  // namespace boxmail::tls

// tls_stream.cpp - see tls_stream.hpp.
#include "tls/tls_stream.hpp"

#include <mbedtls/net_sockets.h>

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace boxmail::tls {

namespace {
/// True for an IPv4 or IPv6 address literal (no SNI for those, RFC 6066 3).
bool is_address_literal(const std::string& host) {
  if (host.find(':') != std::string::npos) return true;
  return host.find_first_not_of("0123456789.") == std::string::npos;
}
}  // namespace

TlsStream::TlsStream(std::shared_ptr<const ServerContext> context, int fd)
    : context_(std::move(context)), fd_(fd), ssl_(std::make_unique<mbedtls_ssl_context>()) {
  setup(context_->config());
}

TlsStream::TlsStream(std::shared_ptr<const ClientContext> context, int fd, const std::string& host_name)
    : client_(std::move(context)), fd_(fd), ssl_(std::make_unique<mbedtls_ssl_context>()) {
  const bool name = !host_name.empty() && !is_address_literal(host_name);
  if (client_->verify() == ClientVerify::Chain && !name) {
    throw std::runtime_error("TLS client: verifying the certificate needs the server's host name, not \"" +
                             host_name + "\"");
  }
  setup(client_->config());
  if (name) {
    const int rc = mbedtls_ssl_set_hostname(ssl_.get(), host_name.c_str());
    if (rc != 0) {
      mbedtls_ssl_free(ssl_.get());
      throw std::runtime_error("mbedtls_ssl_set_hostname: " + mbedtls_error_text(rc));
    }
  }
}

void TlsStream::setup(const mbedtls_ssl_config* config) {
  mbedtls_ssl_init(ssl_.get());
  const int rc = mbedtls_ssl_setup(ssl_.get(), config);
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
  if (client_ && rc == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
    char info[512];
    const int n = mbedtls_x509_crt_verify_info(info, sizeof info, "", mbedtls_ssl_get_verify_result(ssl_.get()));
    if (n > 0) {
      std::string why(info, static_cast<std::size_t>(n));
      while (!why.empty() && why.back() == '\n') why.pop_back();
      for (char& c : why) c = c == '\n' ? ';' : c;
      r.error += " (" + why + ")";
    }
  }
  if (r.done() && client_) {
    if (const std::optional<std::string> bad = client_->check_peer(ssl_.get())) {
      r.status = IoResult::Status::Error;
      r.error = "TLS handshake: " + *bad;
      return r;
    }
  }
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

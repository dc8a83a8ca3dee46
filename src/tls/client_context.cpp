// client_context.cpp - see client_context.hpp.
#include "tls/client_context.hpp"

#include "text/ascii.hpp"
#include "tls/certificate.hpp"
#include "tls/server_context.hpp"

#include <iterator>
#include <stdexcept>

namespace boxmail::tls {

std::optional<Digest256> parse_fingerprint(std::string_view text) {
  Digest256 d{};
  std::size_t n = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    if (n == d.size()) return std::nullopt;
    if (i + 1 >= text.size()) return std::nullopt;
    const int hi = text::hex_digit_value(text[i]);
    const int lo = text::hex_digit_value(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    d[n++] = static_cast<std::uint8_t>(hi * 16 + lo);
    i += 2;
    if (i < text.size() && text[i] == ':') {
      ++i;
      if (i == text.size()) return std::nullopt;
    }
  }
  if (n != d.size()) return std::nullopt;
  return d;
}

std::string fingerprint_text(const Digest256& d) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string s;
  for (const std::uint8_t b : d) {
    if (!s.empty()) s += ':';
    s += kHex[b >> 4];
    s += kHex[b & 15];
  }
  return s;
}

ClientContext::ClientContext() {
  mbedtls_ssl_config_init(&config_);
  mbedtls_x509_crt_init(&ca_);
}

ClientContext::~ClientContext() {
  mbedtls_ssl_config_free(&config_);
  mbedtls_x509_crt_free(&ca_);
}

std::shared_ptr<const ClientContext> ClientContext::create(const ClientTlsOptions& options) {
  std::shared_ptr<ClientContext> ctx(new ClientContext());
  ctx->verify_ = options.verify;
  ctx->pins_ = options.pins;
  mbedtls_ssl_config* conf = &ctx->config_;
  int rc = mbedtls_ssl_config_defaults(conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                       MBEDTLS_SSL_PRESET_DEFAULT);
  if (rc != 0) throw std::runtime_error("mbedtls_ssl_config_defaults: " + mbedtls_error_text(rc));
  apply_policy(conf);
  switch (options.verify) {
    case ClientVerify::None:
      mbedtls_ssl_conf_authmode(conf, MBEDTLS_SSL_VERIFY_NONE);
      break;
    case ClientVerify::Pin:
      if (options.pins.empty()) throw std::runtime_error("TLS client: certificate pinning without a fingerprint");
      // The chain is not judged (a self-signed certificate is the point);
      // check_peer compares the leaf after the handshake.
      mbedtls_ssl_conf_authmode(conf, MBEDTLS_SSL_VERIFY_NONE);
      break;
    case ClientVerify::Chain: {
      std::string why;
      const std::optional<std::string> text = read_pem_file(options.ca_file, why);
      if (!text) throw std::runtime_error(options.ca_file + ": cannot read the CA file: " + why);
      const std::string& pem = *text;
      // mbedtls_x509_crt_parse wants PEM text with its NUL counted.
      rc = mbedtls_x509_crt_parse(&ctx->ca_, reinterpret_cast<const unsigned char*>(pem.c_str()), pem.size() + 1);
      if (rc < 0 || ctx->ca_.version == 0) {
        throw std::runtime_error(options.ca_file + ": no usable CA certificate" +
                                 (rc < 0 ? " (" + mbedtls_error_text(rc) + ")" : std::string()));
      }
      mbedtls_ssl_conf_ca_chain(conf, &ctx->ca_, nullptr);
      mbedtls_ssl_conf_authmode(conf, MBEDTLS_SSL_VERIFY_REQUIRED);
      break;
    }
  }
  return ctx;
}

std::optional<std::string> ClientContext::check_peer(const mbedtls_ssl_context* ssl) const {
  if (verify_ != ClientVerify::Pin) return std::nullopt;
  const mbedtls_x509_crt* peer = mbedtls_ssl_get_peer_cert(ssl);
  if (peer == nullptr) return std::string("the server sent no certificate");
  const Digest256 d = sha256(std::string_view(reinterpret_cast<const char*>(peer->raw.p), peer->raw.len));
  for (const auto& pin : pins_) {
    if (pin == d) return std::nullopt;
  }
  return "the server's certificate (SHA-256 " + fingerprint_text(d) + ") is not the pinned one";
}

}  // namespace boxmail::tls

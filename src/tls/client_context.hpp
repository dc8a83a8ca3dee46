// client_context.hpp - the TLS client configuration for outgoing SMTP
// (I/O: it wraps mbedTLS; reads a CA file).
//
// Same protocol choices as the server (tls/server_context.hpp): TLS 1.2
// only (mbedTLS 2.28), ECDHE with AEAD suites only (the server's list, in
// its order), the groups X25519, secp256r1, secp384r1, no renegotiation,
// the process CTR_DRBG. How the server is checked (ClientVerify):
//   - None: not at all. Opportunistic MX delivery (RFC 7435): what every
//     MTA does by default, as MX host names are not authenticated without
//     DNSSEC/DANE or MTA-STS; TLS still protects against passive eavesdropping.
//   - Chain: the server's chain must verify against the CA certificates of
//     `ca_file` (PEM) and the leaf must name the host (dNSName or CN,
//     mbedTLS's check; the name given to the stream). Failure ends the
//     handshake (a smarthost with a CA-issued certificate).
//   - Pin: the SHA-256 of the leaf certificate's DER must be one of `pins`
//     (a smarthost with a self-signed certificate, e.g. another boxmail).
//     Checked right after the handshake, before any octet of SMTP is sent
//     under TLS; a mismatch is a handshake error.
// A context is immutable once made and shared by every stream made from
// it (shared_ptr).
#pragma once

#include "tls/digest.hpp"

#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boxmail::tls {

/// How the server's certificate is checked (see the file comment).
enum class ClientVerify { None, Chain, Pin };

/// What a ClientContext is made from.
struct ClientTlsOptions {
  ClientVerify verify = ClientVerify::None;
  std::string ca_file;             ///< Chain: PEM file of trusted CA certificates
  std::vector<Digest256> pins;     ///< Pin: SHA-256 of acceptable leaf certificates (DER)
};

/// Parses a SHA-256 fingerprint: 64 hex digits, with or without ':' between
/// the octets (as boxmaild logs it, "AB:CD:..."), any case. nullopt when malformed.
std::optional<Digest256> parse_fingerprint(std::string_view text);

/// An immutable client configuration; see the file comment.
class ClientContext {
 public:
  /// Builds the configuration. Throws std::runtime_error when the CA file
  /// cannot be read or holds no usable certificate (the message names the
  /// file), when Pin has no pins, or when mbedTLS refuses its defaults.
  static std::shared_ptr<const ClientContext> create(const ClientTlsOptions& options);

  ~ClientContext();
  ClientContext(const ClientContext&) = delete;
  ClientContext& operator=(const ClientContext&) = delete;

  /// The configuration for mbedtls_ssl_setup.
  const mbedtls_ssl_config* config() const { return &config_; }
  ClientVerify verify() const { return verify_; }

  /// After a finished handshake: nullopt when the peer passes this
  /// context's check, else why not ("certificate fingerprint AB:.. is not
  /// pinned"). Only Pin checks anything here (Chain was checked in the handshake).
  std::optional<std::string> check_peer(const mbedtls_ssl_context* ssl) const;

 private:
  ClientContext();
  mbedtls_ssl_config config_;
  mutable mbedtls_x509_crt ca_;
  ClientVerify verify_ = ClientVerify::None;
  std::vector<Digest256> pins_;
};

/// "AB:CD:..." (upper-case hex with ':') of a SHA-256 digest, as boxmaild
/// logs its own certificate's fingerprint.
std::string fingerprint_text(const Digest256& d);

}  // namespace boxmail::tls

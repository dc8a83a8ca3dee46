// server_context.hpp - the one TLS server configuration that every session
// shares (I/O: it wraps mbedTLS).
//
// A ServerContext is made once from a validated Certificate and never
// changes: an mbedtls_ssl_config for a stream (TLS, not DTLS) server with
//   - TLS 1.2 as both minimum and maximum: Debian's mbedTLS 2.28 has no
//     TLS 1.3 server (MBEDTLS_SSL_PROTO_TLS1_3_EXPERIMENTAL is off there and,
//     in 2.28, only a partial client prototype; see docs/tls.md);
//   - ECDHE key exchange with an AEAD cipher only (RFC 5289, RFC 7905):
//     ECDHE-ECDSA and ECDHE-RSA with AES-256-GCM, AES-128-GCM and
//     CHACHA20-POLY1305, server preference order; the groups X25519,
//     secp256r1, secp384r1;
//   - no client certificates, no renegotiation, no session tickets or cache
//     (no per-server state that grows with the clients);
//   - the process's CTR_DRBG (tls/random.hpp) as its random source.
// Sessions (TlsStream) hold a shared_ptr to the context they started with.
//
// Reload (SIGHUP): ServerContextSlot::reload loads and validates the files
// again and swaps the slot's shared_ptr only when they pass; otherwise the
// error names the file and the old context stays in use. Sessions already
// running keep theirs until they end.
//
// Thread safety: a context is read-only after create(); the slot is used
// from the event loop thread only.
#pragma once

#include "tls/certificate.hpp"

#include <mbedtls/ssl.h>

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace boxmail::tls {

/// The ciphersuites offered, in server preference order (mbedTLS ids).
const std::vector<int>& server_ciphersuites();

/// Puts what both sides share on `conf` (after mbedtls_ssl_config_defaults):
/// TLS 1.2 as minimum and maximum, the ciphersuites above (0-terminated,
/// static storage), the groups X25519, secp256r1, secp384r1, the process
/// CTR_DRBG as random source, no renegotiation. The client context
/// (tls/client_context.hpp) uses it too, so both offer the same.
void apply_policy(mbedtls_ssl_config* conf);

/// An immutable server configuration; see the file comment.
class ServerContext {
 public:
  /// Builds the configuration over `certificate` (kept alive by the context).
  /// Throws std::runtime_error only when mbedTLS refuses its own defaults
  /// (an unusable library build), never for a certificate problem: those
  /// are found by load_certificate before.
  static std::shared_ptr<const ServerContext> create(std::shared_ptr<const Certificate> certificate);

  ~ServerContext();
  ServerContext(const ServerContext&) = delete;
  ServerContext& operator=(const ServerContext&) = delete;

  /// The configuration for mbedtls_ssl_setup.
  const mbedtls_ssl_config* config() const { return &config_; }
  /// The certificate served.
  const Certificate& certificate() const { return *certificate_; }

 private:
  explicit ServerContext(std::shared_ptr<const Certificate> certificate);
  mbedtls_ssl_config config_;
  std::shared_ptr<const Certificate> certificate_;
};

/// Where the current ServerContext lives, with its file names.
class ServerContextSlot {
 public:
  ServerContextSlot(std::string chain_file, std::string key_file)
      : chain_file_(std::move(chain_file)), key_file_(std::move(key_file)) {}

  /// Loads the files at `now`; on success makes a new context and puts it
  /// in the slot, on failure returns the error and keeps the old context
  /// (or none, on the first load). The outcome is kept as last_error().
  std::optional<CertError> reload(std::time_t now);

  /// Puts a context over `certificate` in the slot: one the caller has
  /// just loaded and validated (the control socket's tls-install, which
  /// validated the upload and wrote exactly it to the files). Clears
  /// last_error().
  void install(std::shared_ptr<const Certificate> certificate);

  /// Why the files were refused at the last reload() (at start or on
  /// SIGHUP); nullopt when it passed. With a current() context this means
  /// the files on disk are not the certificate in use.
  const std::optional<CertError>& last_error() const { return last_error_; }

  /// The context new sessions use; null until a load succeeded.
  std::shared_ptr<const ServerContext> current() const { return current_; }

  const std::string& chain_file() const { return chain_file_; }
  const std::string& key_file() const { return key_file_; }

 private:
  std::string chain_file_;
  std::string key_file_;
  std::shared_ptr<const ServerContext> current_;
  std::optional<CertError> last_error_;
};

}  // namespace boxmail::tls

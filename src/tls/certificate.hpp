// certificate.hpp - the server's certificate chain and private key (I/O):
// loading and validating PEM files, making a self-signed certificate on
// first start, and describing a certificate for the web panel.
//
// load_certificate reads a PEM chain (leaf first, then each issuer) and a
// PEM private key and refuses them, with a CertError naming the file and the
// problem, when: a file cannot be read; it holds no PEM certificate (or key),
// or one that does not parse; an encrypted key; the key is not the leaf's
// (public key mismatch); the chain is out of order (each certificate must be
// issued and signed by the next one); a certificate is not yet valid or has
// expired at `now` (RFC 5280 4.1.2.5). A loaded Certificate is immutable and
// shared (shared_ptr) by the ServerContext made from it.
//
// generate_self_signed makes an ECDSA P-256 key and a self-signed X.509 v3
// certificate for a host name (CN=host, subjectAltName dNSName host as
// RFC 6125 6.4.4 wants, a random 128-bit positive serial, SHA-256 signature)
// and writes both files through install_pair (tls/certificate_install.hpp):
// temporaries opened with O_CREAT|O_EXCL|O_NOFOLLOW (key mode 0600,
// certificate 0644), fchown to the daemon's user when asked, fsync, then
// renamed over the targets key first, the directory fsynced after each
// step; a crash in between is finished or undone at the next start
// (finish_interrupted_install), so a mismatched pair is never left in use.
//
// Callers: boxmaild at start and on SIGHUP (through ServerContext), the
// control socket's tls-install and tls-regenerate (control/tls_commands.hpp:
// parse_certificate on the upload, make_self_signed). Time comes in as `now`
// (seconds since the epoch, UTC).
#pragma once

#include "tls/certificate_info.hpp"

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include <sys/types.h>

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boxmail::tls {

/// What is wrong with a certificate or key file.
enum class CertProblem {
  Unreadable,      ///< open/read failed (detail: strerror)
  NoCertificate,   ///< no certificate in the file, or one that does not parse
  BadKey,          ///< no private key in the file, or one that does not parse
  EncryptedKey,    ///< the key is encrypted (boxmail has no passphrase to open it)
  KeyMismatch,     ///< the key is not the leaf certificate's
  ChainOrder,      ///< a certificate is not issued and signed by the next one
  ChainTooLarge,   ///< the chain does not fit the TLS output buffer (MBEDTLS_SSL_OUT_CONTENT_LEN): every handshake would fail
  NotYetValid,     ///< now < notBefore
  Expired,         ///< now > notAfter
  KeyInChain,      ///< install: the chain text holds a private key (it would land in the 0644 file)
  BadHostName,     ///< generate: not a usable DNS host name
  WriteFailed,     ///< generate, install: creating or writing a file failed (detail: strerror)
  Internal,        ///< an mbedTLS call failed unexpectedly (detail: its error text)
};

/// A refused file: `file` is the path as given, `detail` says more (which
/// certificate of the chain, the mbedTLS or errno text).
struct CertError {
  std::string file;
  CertProblem problem = CertProblem::Internal;
  std::string detail;

  /// One log line: "FILE: PROBLEM (DETAIL)", e.g.
  /// "/etc/boxmail/tls/cert.pem: expired (certificate 1 of 2, notAfter 2020-01-01 00:00:00 UTC)".
  std::string text() const;
  /// The same without the file: "PROBLEM (DETAIL)" (the panel shows it
  /// next to the field the text came from).
  std::string message() const;
};

/// The problem as one word for the control socket ("expired",
/// "key-mismatch", "encrypted-key", ...): lower case, '-' between words.
std::string_view problem_word(CertProblem p);

/// A validated chain and its private key, owned; never changed after load.
/// Its mbedTLS objects are lent to the ServerContext built on it.
class Certificate {
 public:
  Certificate();
  ~Certificate();
  Certificate(const Certificate&) = delete;
  Certificate& operator=(const Certificate&) = delete;

  /// The chain, leaf first (a linked list; mbedtls_ssl_conf_own_cert takes it).
  mbedtls_x509_crt* chain() const { return &chain_; }
  /// The leaf's private key.
  mbedtls_pk_context* key() const { return &key_; }
  /// Number of certificates in the chain (1 for a self-signed one).
  std::size_t chain_length() const;
  /// The leaf described.
  CertificateInfo describe() const;

 private:
  // mbedTLS 2.28 takes non-const pointers even for read-only use.
  mutable mbedtls_x509_crt chain_;
  mutable mbedtls_pk_context key_;
};

/// The result of load_certificate: `certificate` set, or `error`.
struct LoadResult {
  std::shared_ptr<const Certificate> certificate;
  std::optional<CertError> error;
};

/// Loads and validates `chain_file` and `key_file` (PEM) at time `now`
/// (see the file comment for what is refused).
LoadResult load_certificate(const std::string& chain_file, const std::string& key_file, std::time_t now);

/// The same checks on PEM text in memory (an upload): `chain_name` and
/// `key_name` stand for the files in the errors ("the certificate chain").
/// Text that is not PEM at all (a NUL or other binary octet: DER?) is
/// refused as such, and a chain holding a private key as KeyInChain.
LoadResult parse_certificate(std::string_view chain_pem, std::string_view key_pem, std::time_t now,
                             const std::string& chain_name, const std::string& key_name);

/// Parameters of a self-signed certificate.
struct SelfSignedRequest {
  std::string host;           ///< the host name (CN and the one dNSName); 1..253 octets, LDH labels
  std::time_t not_before = 0; ///< validity start (UTC seconds); often now - 1 hour against clock skew
  std::time_t not_after = 0;  ///< validity end; now + kSelfSignedDays for boxmaild's own
  uid_t owner = static_cast<uid_t>(-1);  ///< owner of both files; -1 keeps the creator's
  gid_t group = static_cast<gid_t>(-1);  ///< group of both files; -1 keeps the creator's
};

/// Days a self-signed certificate boxmaild makes is valid (from an hour
/// before it is made): 824, inside the 825 days testssl.sh and the CA/B
/// Forum's old limit accept without a finding (an appliance's ten-year
/// certificate is flagged "way too long").
inline constexpr int kSelfSignedDays = 824;
/// A self-signed certificate is made anew this many days before it expires.
inline constexpr int kRenewBeforeDays = 30;

/// The validity boxmaild gives its own certificate: from an hour before
/// `now` (clock skew) to kSelfSignedDays after.
SelfSignedRequest self_signed_request(std::string host, std::time_t now);

/// True when the leaf of `chain_file` is self-signed (issuer = subject) and
/// expires within kRenewBeforeDays of `now`, or has expired: boxmaild then
/// makes a new self-signed certificate in its place (at start, on SIGHUP
/// and once a day), so the box never serves an expired certificate of its
/// own. A certificate from a CA is never replaced. False when the file
/// cannot be read or parsed.
bool self_signed_renewal_due(const std::string& chain_file, std::time_t now);
/// A self-signed certificate and its key, as PEM text.
struct SelfSignedPem {
  std::string chain;               ///< one certificate
  std::string key;                 ///< the ECDSA P-256 key ("EC PRIVATE KEY"); zeroed by the destructor
  std::optional<CertError> error;  ///< set (and the texts empty) when it could not be made
  SelfSignedPem() = default;
  SelfSignedPem(SelfSignedPem&&) = default;
  SelfSignedPem& operator=(SelfSignedPem&&) = default;
  ~SelfSignedPem();
};

/// Makes an ECDSA P-256 key and a self-signed certificate for `request`
/// in memory (nothing is written); errors name `chain_name`.
SelfSignedPem make_self_signed(const SelfSignedRequest& request, const std::string& chain_name);

/// make_self_signed, then both files written as one by install_pair
/// (tls/certificate_install.hpp: the key's and the chain's temporaries,
/// then the key renamed over `key_file`, then the chain over
/// `chain_file`; key 0600, chain 0644). nullopt on success.
std::optional<CertError> generate_self_signed(const std::string& chain_file, const std::string& key_file,
                                              const SelfSignedRequest& request);

/// The result of ensure_self_signed.
struct EnsureResult {
  bool generated = false;            ///< true when new files were written
  std::optional<CertError> error;
};

/// First start: when `chain_file` does not exist, makes a self-signed
/// certificate and key (generate_self_signed, replacing a key left alone by
/// an interrupted earlier run); when it exists, touches nothing (the caller
/// loads and validates it). An administrator's certificate is never
/// replaced, even an expired or broken one: that is reported by the load.
EnsureResult ensure_self_signed(const std::string& chain_file, const std::string& key_file,
                                const SelfSignedRequest& request);

/// The text of an mbedTLS error code ("X509 - The date tag or value is
/// invalid", with the code in hex).
std::string mbedtls_error_text(int code);

/// Reads a whole PEM file (a regular file of at most 1 MiB) without
/// iostreams (they cost the static daemon hundreds of KiB). nullopt with
/// `err` (an errno text, or why the file was refused) on failure.
std::optional<std::string> read_pem_file(const std::string& path, std::string& err);

}  // namespace boxmail::tls

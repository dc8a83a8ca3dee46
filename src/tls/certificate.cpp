// certificate.cpp - see certificate.hpp.
#include "tls/certificate.hpp"

#include <mbedtls/ssl.h>

#include "tls/certificate_install.hpp"
#include "tls/digest.hpp"
#include "tls/random.hpp"

#include <mbedtls/asn1.h>
#include <mbedtls/ecp.h>
#include <mbedtls/error.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_csr.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <tuple>

namespace boxmail::tls {
namespace {

/// The largest PEM file read (a long chain is a few KiB).
constexpr off_t kMaxPemFileSize = 1 << 20;

std::string_view problem_text(CertProblem p) {
  switch (p) {
    case CertProblem::Unreadable: return "cannot read";
    case CertProblem::NoCertificate: return "no valid PEM certificate";
    case CertProblem::BadKey: return "no usable PEM private key";
    case CertProblem::EncryptedKey: return "the private key is encrypted";
    case CertProblem::KeyMismatch: return "the private key does not match the certificate";
    case CertProblem::ChainOrder: return "chain out of order";
    case CertProblem::ChainTooLarge: return "chain too large";
    case CertProblem::NotYetValid: return "not yet valid";
    case CertProblem::Expired: return "expired";
    case CertProblem::KeyInChain: return "the certificate chain holds a private key";
    case CertProblem::BadHostName: return "not a usable host name";
    case CertProblem::WriteFailed: return "cannot write";
    case CertProblem::Internal: return "mbedTLS failure";
  }
  return "unknown problem";
}

CertError error(const std::string& file, CertProblem p, std::string detail = {}) {
  return CertError{file, p, std::move(detail)};
}

/// The DRBG callback mbedTLS wants, over the process generator.
int rng(void*, unsigned char* out, std::size_t n) {
  try {
    random_bytes(out, n);
    return 0;
  } catch (const std::exception&) {
    return MBEDTLS_ERR_PK_ALLOC_FAILED;   // any non-zero: "the RNG failed"
  }
}

/// Unix seconds of an X.509 time (UTC).
std::int64_t seconds_of(const mbedtls_x509_time& t) {
  return utc_seconds(t.year, t.mon, t.day, t.hour, t.min, t.sec);
}

/// "YYYY-MM-DD HH:MM:SS UTC".
std::string format_time(const mbedtls_x509_time& t) { return format_utc(seconds_of(t)); }

auto time_key(const mbedtls_x509_time& t) { return std::make_tuple(t.year, t.mon, t.day, t.hour, t.min, t.sec); }

mbedtls_x509_time to_x509_time(std::time_t when) {
  std::tm tm{};
  ::gmtime_r(&when, &tm);
  mbedtls_x509_time t{};
  t.year = tm.tm_year + 1900;
  t.mon = tm.tm_mon + 1;
  t.day = tm.tm_mday;
  t.hour = tm.tm_hour;
  t.min = tm.tm_min;
  t.sec = tm.tm_sec;
  return t;
}

/// "YYYYMMDDhhmmss", the form mbedtls_x509write_crt_set_validity takes.
std::string validity_text(std::time_t when) {
  const mbedtls_x509_time t = to_x509_time(when);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d%02d%02d%02d%02d%02d", t.year, t.mon, t.day, t.hour, t.min, t.sec);
  return buf;
}

std::string which(std::size_t index, std::size_t count) {
  return "certificate " + std::to_string(index + 1) + " of " + std::to_string(count);
}

/// Whether `child` names `parent` as its issuer and carries a signature
/// that `parent`'s public key verifies (RFC 5280 6.1.3 (a)(1), (a)(4)).
bool issued_by(const mbedtls_x509_crt& child, mbedtls_x509_crt& parent) {
  if (child.issuer_raw.len != parent.subject_raw.len ||
      std::memcmp(child.issuer_raw.p, parent.subject_raw.p, child.issuer_raw.len) != 0) {
    return false;
  }
  const mbedtls_md_info_t* md = mbedtls_md_info_from_type(child.sig_md);
  if (md == nullptr) return false;
  std::array<unsigned char, MBEDTLS_MD_MAX_SIZE> hash{};
  if (mbedtls_md(md, child.tbs.p, child.tbs.len, hash.data()) != 0) return false;
  return mbedtls_pk_verify_ext(child.sig_pk, child.sig_opts, &parent.pk, child.sig_md, hash.data(),
                               mbedtls_md_get_size(md), child.sig.p, child.sig.len) == 0;
}

/// Whether `host` is LDH labels of 1..63 octets, 1..253 octets in all.
bool valid_host_name(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  std::size_t label = 0;
  char prev = '.';
  for (char c : host) {
    if (c == '.') {
      if (label == 0 || prev == '-') return false;
      label = 0;
    } else {
      const bool ldh = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
      if (!ldh || (label == 0 && c == '-') || ++label > 63) return false;
    }
    prev = c;
  }
  return label > 0 && prev != '-';
}

/// DER of a tag-length-value with a definite length (X.690 8.1.3).
std::string der(unsigned char tag, std::string_view value) {
  std::string out(1, static_cast<char>(tag));
  const std::size_t n = value.size();
  if (n < 0x80) {
    out += static_cast<char>(n);
  } else if (n <= 0xff) {
    out += '\x81';
    out += static_cast<char>(n);
  } else {
    out += '\x82';
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(n & 0xff);
  }
  out += value;
  return out;
}

}  // namespace

std::optional<std::string> read_pem_file(const std::string& path, std::string& err) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    err = std::strerror(errno);
    return std::nullopt;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > kMaxPemFileSize) {
    err = S_ISREG(st.st_mode) ? "larger than 1 MiB" : "not a regular file";
    ::close(fd);
    return std::nullopt;
  }
  std::string data(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < data.size()) {
    const ssize_t n = ::read(fd, data.data() + got, data.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      err = n < 0 ? std::strerror(errno) : "file shrank while read";
      ::close(fd);
      return std::nullopt;
    }
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return data;
}


std::string mbedtls_error_text(int code) {
  char buf[200];
  mbedtls_strerror(code, buf, sizeof buf);
  char hexcode[16];
  std::snprintf(hexcode, sizeof hexcode, "-0x%04x", static_cast<unsigned>(-code));
  return std::string(buf) + " (" + hexcode + ")";
}

std::string CertError::text() const { return file + ": " + message(); }

std::string CertError::message() const {
  std::string out(problem_text(problem));
  if (!detail.empty()) out += " (" + detail + ")";
  return out;
}

std::string_view problem_word(CertProblem p) {
  switch (p) {
    case CertProblem::Unreadable: return "unreadable";
    case CertProblem::NoCertificate: return "no-certificate";
    case CertProblem::BadKey: return "bad-key";
    case CertProblem::EncryptedKey: return "encrypted-key";
    case CertProblem::KeyMismatch: return "key-mismatch";
    case CertProblem::ChainOrder: return "chain-order";
    case CertProblem::ChainTooLarge: return "chain-too-large";
    case CertProblem::NotYetValid: return "not-yet-valid";
    case CertProblem::Expired: return "expired";
    case CertProblem::KeyInChain: return "key-in-chain";
    case CertProblem::BadHostName: return "bad-host-name";
    case CertProblem::WriteFailed: return "write-failed";
    case CertProblem::Internal: return "internal";
  }
  return "internal";
}

Certificate::Certificate() {
  mbedtls_x509_crt_init(&chain_);
  mbedtls_pk_init(&key_);
}

Certificate::~Certificate() {
  mbedtls_pk_free(&key_);
  mbedtls_x509_crt_free(&chain_);
}

std::size_t Certificate::chain_length() const {
  std::size_t n = 0;
  for (const mbedtls_x509_crt* c = &chain_; c != nullptr && c->raw.p != nullptr; c = c->next) ++n;
  return n;
}

CertificateInfo Certificate::describe() const {
  CertificateInfo info;
  char buf[1024];
  if (mbedtls_x509_dn_gets(buf, sizeof buf, &chain_.subject) >= 0) info.subject = buf;
  if (mbedtls_x509_dn_gets(buf, sizeof buf, &chain_.issuer) >= 0) info.issuer = buf;
  for (const mbedtls_x509_sequence* s = &chain_.subject_alt_names; s != nullptr && s->buf.p != nullptr;
       s = s->next) {
    if (s->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_X509_SAN_DNS_NAME)) {
      info.dns_names.emplace_back(reinterpret_cast<const char*>(s->buf.p), s->buf.len);
    }
  }
  const Digest256 d =
      sha256(std::string_view(reinterpret_cast<const char*>(chain_.raw.p), chain_.raw.len));
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (std::uint8_t b : d) {
    if (!info.sha256_fingerprint.empty()) info.sha256_fingerprint += ':';
    info.sha256_fingerprint += kHex[b >> 4];
    info.sha256_fingerprint += kHex[b & 15];
  }
  info.not_before_time = seconds_of(chain_.valid_from);
  info.not_after_time = seconds_of(chain_.valid_to);
  info.not_before = format_utc(info.not_before_time);
  info.not_after = format_utc(info.not_after_time);
  info.self_signed = chain_.issuer_raw.len == chain_.subject_raw.len &&
                     std::memcmp(chain_.issuer_raw.p, chain_.subject_raw.p, chain_.issuer_raw.len) == 0;
  return info;
}

namespace {

/// Whether `s` is text as PEM is (RFC 7468: ASCII lines; explanatory text
/// around the blocks may be UTF-8): no NUL and no control octet but TAB,
/// CR and LF. A DER file fails here.
bool is_text(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t' && c != '\r' && c != '\n') || u == 0x7f) return false;
  }
  return true;
}

/// The chain's and the key's text checked and parsed into a Certificate
/// (load_certificate and parse_certificate; see certificate.hpp).
/// `chain_name` and `key_name` name them in the errors.
LoadResult check_texts(std::string_view chain_text, std::string key_pem, std::time_t now,
                       const std::string& chain_name, const std::string& key_name) {
  LoadResult r;
  struct Wipe {   // the key's text never outlives this call
    std::string& s;
    ~Wipe() { mbedtls_platform_zeroize(s.data(), s.size()); }
  } wipe{key_pem};
  auto cert = std::make_shared<Certificate>();
  if (!is_text(chain_text)) {
    r.error = error(chain_name, CertProblem::NoCertificate,
                    "binary data, not PEM text; a DER certificate converts with "
                    "`openssl x509 -inform der -in FILE -out FILE.pem`");
    return r;
  }
  if (chain_text.find("-----BEGIN CERTIFICATE-----") == std::string_view::npos) {
    r.error = error(chain_name, CertProblem::NoCertificate, "no BEGIN CERTIFICATE line");
    return r;
  }
  // PEM input must include its terminating NUL.
  const std::string chain_pem(chain_text);
  const int parsed = mbedtls_x509_crt_parse(cert->chain(), reinterpret_cast<const unsigned char*>(chain_pem.c_str()),
                                            chain_pem.size() + 1);
  if (parsed != 0) {
    r.error = error(chain_name, CertProblem::NoCertificate,
                    parsed > 0 ? std::to_string(parsed) + " certificate(s) do not parse" : mbedtls_error_text(parsed));
    return r;
  }
  if (!is_text(key_pem)) {
    r.error = error(key_name, CertProblem::BadKey,
                    "binary data, not PEM text; a DER key converts with `openssl pkey -inform der -in FILE -out "
                    "FILE.pem`");
    return r;
  }
  const int key_rc = mbedtls_pk_parse_key(cert->key(), reinterpret_cast<const unsigned char*>(key_pem.c_str()),
                                          key_pem.size() + 1, nullptr, 0);
  if (key_rc == MBEDTLS_ERR_PK_PASSWORD_REQUIRED || key_rc == MBEDTLS_ERR_PK_PASSWORD_MISMATCH ||
      (key_rc != 0 && key_pem.find("ENCRYPTED") != std::string::npos)) {
    r.error = error(key_name, CertProblem::EncryptedKey,
                    "boxmail needs it without a passphrase: `openssl pkey -in FILE -out plain.pem` asks for the "
                    "passphrase once and writes it unencrypted");
    return r;
  }
  if (key_rc != 0) {
    r.error = error(key_name, CertProblem::BadKey, mbedtls_error_text(key_rc));
    return r;
  }
  const std::size_t count = cert->chain_length();
  mbedtls_x509_crt* leaf = cert->chain();
  if (mbedtls_pk_check_pair(&leaf->pk, cert->key()) != 0) {
    // The key of another certificate of the chain: the leaf is not first.
    std::size_t i = 1;
    for (mbedtls_x509_crt* c = leaf->next; c != nullptr; c = c->next, ++i) {
      if (mbedtls_pk_check_pair(&c->pk, cert->key()) == 0) {
        r.error = error(chain_name, CertProblem::ChainOrder,
                        "the key is that of " + which(i, count) + " (the leaf must come first, then each issuer)");
        return r;
      }
    }
    r.error = error(key_name, CertProblem::KeyMismatch, "not the key of the first certificate in " + chain_name);
    return r;
  }

  const auto now_key = time_key(to_x509_time(now));
  std::size_t i = 0;
  for (mbedtls_x509_crt* c = leaf; c != nullptr; c = c->next, ++i) {
    if (now_key < time_key(c->valid_from)) {
      r.error = error(chain_name, CertProblem::NotYetValid, which(i, count) + ", notBefore " + format_time(c->valid_from));
      return r;
    }
    if (now_key > time_key(c->valid_to)) {
      r.error = error(chain_name, CertProblem::Expired, which(i, count) + ", notAfter " + format_time(c->valid_to));
      return r;
    }
    if (c->next != nullptr && !issued_by(*c, *c->next)) {
      r.error = error(chain_name, CertProblem::ChainOrder,
                      which(i, count) + " is not issued and signed by " + which(i + 1, count) +
                          " (the leaf must come first, then each issuer)");
      return r;
    }
  }
  // The Certificate handshake message (RFC 5246 7.4.2: 4 octets of header,
  // 3 of list length, 3 per certificate) must fit one output record, or
  // every handshake fails after a successful load.
  std::size_t message = 4 + 3;
  for (const mbedtls_x509_crt* c = leaf; c != nullptr; c = c->next) message += 3 + c->raw.len;
  if (message > MBEDTLS_SSL_OUT_CONTENT_LEN) {
    r.error = error(chain_name, CertProblem::ChainTooLarge,
                    std::to_string(message) + " octets in the TLS Certificate message, at most " +
                        std::to_string(MBEDTLS_SSL_OUT_CONTENT_LEN) + " fit (leave the root certificate out)");
    return r;
  }
  r.certificate = std::move(cert);
  return r;
}

}  // namespace

LoadResult load_certificate(const std::string& chain_file, const std::string& key_file, std::time_t now) {
  LoadResult r;
  std::string err;
  const auto chain_pem = read_pem_file(chain_file, err);
  if (!chain_pem) {
    r.error = error(chain_file, CertProblem::Unreadable, err);
    return r;
  }
  auto key_pem = read_pem_file(key_file, err);
  if (!key_pem) {
    r.error = error(key_file, CertProblem::Unreadable, err);
    return r;
  }
  return check_texts(*chain_pem, std::move(*key_pem), now, chain_file, key_file);   // wipes the key's text
}

LoadResult parse_certificate(std::string_view chain_pem, std::string_view key_pem, std::time_t now,
                             const std::string& chain_name, const std::string& key_name) {
  if (chain_pem.find("PRIVATE KEY-----") != std::string_view::npos) {
    LoadResult r;
    r.error = error(chain_name, CertProblem::KeyInChain,
                    "the chain file is readable for everyone: give the key in the key field only");
    return r;
  }
  return check_texts(chain_pem, std::string(key_pem), now, chain_name, key_name);
}

SelfSignedRequest self_signed_request(std::string host, std::time_t now) {
  SelfSignedRequest req;
  req.host = std::move(host);
  req.not_before = now - 3600;
  req.not_after = now + std::time_t{kSelfSignedDays} * 24 * 3600;
  return req;
}

bool self_signed_renewal_due(const std::string& chain_file, std::time_t now) {
  std::string err;
  const auto pem = read_pem_file(chain_file, err);
  if (!pem || pem->find("-----BEGIN CERTIFICATE-----") == std::string::npos) return false;
  Certificate cert;
  if (mbedtls_x509_crt_parse(cert.chain(), reinterpret_cast<const unsigned char*>(pem->c_str()), pem->size() + 1) != 0)
    return false;
  if (!cert.describe().self_signed) return false;
  const auto soon = time_key(to_x509_time(now + std::time_t{kRenewBeforeDays} * 24 * 3600));
  return soon > time_key(cert.chain()->valid_to);
}

SelfSignedPem::~SelfSignedPem() { mbedtls_platform_zeroize(key.data(), key.size()); }

SelfSignedPem make_self_signed(const SelfSignedRequest& request, const std::string& chain_name) {
  SelfSignedPem out;
  if (!valid_host_name(request.host)) {
    out.error = error(chain_name, CertProblem::BadHostName, "'" + request.host + "'");
    return out;
  }
  struct Scope {   // frees the mbedTLS objects on every path
    mbedtls_pk_context key;
    mbedtls_x509write_cert crt;
    mbedtls_mpi serial;
    Scope() {
      mbedtls_pk_init(&key);
      mbedtls_x509write_crt_init(&crt);
      mbedtls_mpi_init(&serial);
    }
    ~Scope() {
      mbedtls_mpi_free(&serial);
      mbedtls_x509write_crt_free(&crt);
      mbedtls_pk_free(&key);
    }
  } s;
  auto failed = [&](const char* what, int rc) {
    out.error = error(chain_name, CertProblem::Internal, std::string(what) + ": " + mbedtls_error_text(rc));
    return std::move(out);
  };
  int rc = mbedtls_pk_setup(&s.key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
  if (rc != 0) return failed("pk_setup", rc);
  rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(s.key), rng, nullptr);
  if (rc != 0) return failed("ecp_gen_key", rc);

  // A positive, non-zero 128-bit serial (RFC 5280 4.1.2.2: at most 20 octets).
  std::array<unsigned char, 16> serial{};
  random_bytes(serial.data(), serial.size());
  serial[0] = static_cast<unsigned char>((serial[0] & 0x7f) | 0x40);
  rc = mbedtls_mpi_read_binary(&s.serial, serial.data(), serial.size());
  if (rc != 0) return failed("serial", rc);

  const std::string name = "CN=" + request.host;
  mbedtls_x509write_crt_set_version(&s.crt, MBEDTLS_X509_CRT_VERSION_3);
  mbedtls_x509write_crt_set_md_alg(&s.crt, MBEDTLS_MD_SHA256);
  mbedtls_x509write_crt_set_subject_key(&s.crt, &s.key);
  mbedtls_x509write_crt_set_issuer_key(&s.crt, &s.key);
  if ((rc = mbedtls_x509write_crt_set_subject_name(&s.crt, name.c_str())) != 0 ||
      (rc = mbedtls_x509write_crt_set_issuer_name(&s.crt, name.c_str())) != 0) {
    return failed("name", rc);
  }
  if ((rc = mbedtls_x509write_crt_set_serial(&s.crt, &s.serial)) != 0) return failed("set_serial", rc);
  const std::string from = validity_text(request.not_before);
  const std::string to = validity_text(request.not_after);
  if ((rc = mbedtls_x509write_crt_set_validity(&s.crt, from.c_str(), to.c_str())) != 0) {
    return failed("set_validity", rc);
  }
  if ((rc = mbedtls_x509write_crt_set_basic_constraints(&s.crt, 0, -1)) != 0) return failed("basic_constraints", rc);
  if ((rc = mbedtls_x509write_crt_set_key_usage(&s.crt, MBEDTLS_X509_KU_DIGITAL_SIGNATURE)) != 0) {
    return failed("key_usage", rc);
  }
  if ((rc = mbedtls_x509write_crt_set_subject_key_identifier(&s.crt)) != 0) return failed("subject_key_id", rc);
  // mbedTLS 2.28 has no setter for these two: their DER by hand.
  // subjectAltName (RFC 5280 4.2.1.6): SEQUENCE { [2] IMPLICIT IA5String dNSName }.
  const std::string san = der(0x30, der(0x82, request.host));
  if ((rc = mbedtls_x509write_crt_set_extension(&s.crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
                                                MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0,
                                                reinterpret_cast<const unsigned char*>(san.data()), san.size())) != 0) {
    return failed("subject_alt_name", rc);
  }
  // extKeyUsage (RFC 5280 4.2.1.12): SEQUENCE { id-kp-serverAuth }.
  const std::string eku = der(0x30, der(0x06, std::string_view(MBEDTLS_OID_SERVER_AUTH,
                                                               MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH))));
  if ((rc = mbedtls_x509write_crt_set_extension(&s.crt, MBEDTLS_OID_EXTENDED_KEY_USAGE,
                                                MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE), 0,
                                                reinterpret_cast<const unsigned char*>(eku.data()), eku.size())) != 0) {
    return failed("ext_key_usage", rc);
  }

  std::array<unsigned char, 4096> cert_pem{};
  if ((rc = mbedtls_x509write_crt_pem(&s.crt, cert_pem.data(), cert_pem.size(), rng, nullptr)) != 0) {
    return failed("write certificate", rc);
  }
  std::array<unsigned char, 1024> key_pem{};
  if ((rc = mbedtls_pk_write_key_pem(&s.key, key_pem.data(), key_pem.size())) != 0) {
    mbedtls_platform_zeroize(key_pem.data(), key_pem.size());
    return failed("write key", rc);
  }
  out.chain = reinterpret_cast<const char*>(cert_pem.data());
  out.key = reinterpret_cast<const char*>(key_pem.data());
  mbedtls_platform_zeroize(key_pem.data(), key_pem.size());
  return out;
}

std::optional<CertError> generate_self_signed(const std::string& chain_file, const std::string& key_file,
                                              const SelfSignedRequest& request) {
  const SelfSignedPem pem = make_self_signed(request, chain_file);
  if (pem.error) return pem.error;
  return install_pair(chain_file, key_file, pem.chain, pem.key, FileOwner{request.owner, request.group});
}

EnsureResult ensure_self_signed(const std::string& chain_file, const std::string& key_file,
                                const SelfSignedRequest& request) {
  EnsureResult r;
  struct stat st {};
  if (::lstat(chain_file.c_str(), &st) == 0) return r;
  if (errno != ENOENT) {
    r.error = error(chain_file, CertProblem::Unreadable, std::strerror(errno));
    return r;
  }
  r.error = generate_self_signed(chain_file, key_file, request);
  r.generated = !r.error;
  return r;
}

}  // namespace boxmail::tls

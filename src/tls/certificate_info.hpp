// certificate_info.hpp - a certificate described for people (pure: no
// mbedTLS here, so the control socket's typed replies and the web panel use
// the same struct that tls::Certificate::describe() fills in).
//
// Times are UTC: Unix seconds for arithmetic (the panel's expiry warning)
// and the same instant as text, "YYYY-MM-DD HH:MM:SS UTC", for people
// (format_utc). X.509 validity times (RFC 5280 4.1.2.5) have no time zone
// and whole seconds, so the two always say the same.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace boxmail::tls {

/// The leaf certificate of a chain, described (the panel's Certificate page,
/// boxmaild's log line when it loads one).
struct CertificateInfo {
  std::string subject;                 ///< the subject DN as mbedTLS prints it ("CN=mail.example")
  std::string issuer;                  ///< the issuer DN
  std::vector<std::string> dns_names;  ///< the subjectAltName dNSName entries, in order
  std::string sha256_fingerprint;      ///< SHA-256 of the DER, upper-case hex pairs joined by ':'
  std::string not_before;              ///< "YYYY-MM-DD HH:MM:SS UTC" (format_utc of not_before_time)
  std::string not_after;               ///< "YYYY-MM-DD HH:MM:SS UTC" (format_utc of not_after_time)
  std::int64_t not_before_time = 0;    ///< notBefore, Unix seconds
  std::int64_t not_after_time = 0;     ///< notAfter, Unix seconds
  bool self_signed = false;            ///< issuer DN equal to subject DN
  bool operator==(const CertificateInfo&) const = default;
};

/// Unix seconds of a proleptic Gregorian UTC date and time (no leap
/// seconds, as X.509 and POSIX count); month 1..12 (one outside is taken
/// as the nearest), the other fields as written, not range-checked.
std::int64_t utc_seconds(int year, int month, int day, int hour, int minute, int second);

/// "YYYY-MM-DD HH:MM:SS UTC" of Unix seconds `t` (years 0..9999; outside
/// that range the year is printed as it comes).
std::string format_utc(std::int64_t t);

}  // namespace boxmail::tls

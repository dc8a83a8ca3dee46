// control_replies.hpp - the control socket's replies as typed values (pure).
//
// boxmaild's handlers fill a StatusReply, StatsReply, LogReply or
// ReloadReply and encode() it into a control::Reply (control_protocol.hpp
// puts that on the wire); the web panel and tools decode() the Reply they
// read back into the same struct (decode_status, decode_stats, ...). Both sides share this one definition of
// each body line, so the two ends cannot drift apart and nobody re-parses
// reply text by hand.
//
// Body lines (one per item, blank-separated tokens; a "word" is a
// positional token, a "key=N" token carries a decimal number):
//   status  "uptime SECONDS"
//           "config SOURCE"                 (the rest of the line)
//           "service NAME LISTEN sessions=N" (LISTEN is "off" when switched off)
//           "mailbox NAME messages=N bytes=B quota=Q"
//                                           ("messages=- bytes=-" while not counted yet)
//           "store DIR used=B [free=B total=B] reserve=R"
//           "restart-needed TEXT"           (the rest of the line; one per key a
//                                           reload took that waits for a restart)
//           "relay ROUTE queued=N"          (ROUTE: "none" or the methods in order,
//                                           comma-separated: "mx,smarthost")
//           "smarthost-login USER"          (a login is stored for USER; never the password)
//   stats   "today accepted=N refused=M", "blocked dnsbl=N reverse_dns=M bans=B [firewall_drops=P]",
//           then "hour START accepted=N refused=M" per hour (START in Unix
//           seconds), oldest first (bans= and firewall_drops= may be missing:
//           an older daemon; firewall_drops= is missing while the firewall is off)
//   bans    head "N banned", then one line per ban "ADDRESS SECONDS-LEFT REASON"
//   log     the log lines as they are
//   reload  head "ok reloaded" with one "restart-needed TEXT" line per key that
//           waits for a restart, or "error ..." with one line per configuration error
//   tls     "files CHAIN KEY"               (the configured paths)
//           "certificate chain=N self-signed=0|1 not-before=T not-after=T"
//                                           (only when one is in use; T in Unix
//                                           seconds, 0 for a time before 1970)
//           "subject TEXT", "issuer TEXT"   (the rest of the line; with certificate)
//           "dns-name NAME"                 (one per subjectAltName dNSName)
//           "sha256 FINGERPRINT"            (with certificate)
//           "refused TEXT"                  (the rest of the line: why the files were
//                                           refused at the last load; absent when it passed)
//   smarthost-login, smarthost-login-clear
//           head "ok stored" / "ok cleared" with a "user USER" line while a
//           login is stored, or "error TEXT" (TEXT for people, never the password)
//   queue list
//           head "N messages", then one line per message as
//           store::describe_queued writes it:
//           "QID age=S sender=WORD next=S rcpt=WORD,WORD error=WORD"
//           (a ',' inside a recipient is written %2C; rcpt=- when none pending)
//   relay-test
//           head "ok TEXT" when the test message was accepted, else "error
//           TEXT" (TEXT for people); "result sent|failed|refused", "relay
//           WORD" (the server that answered: HOST[ADDRESS]:PORT, with
//           " (TLS)" escaped in), then "line TEXT" per transcript line
//           ("-- ", "C: ", "S: ", control characters as '?'; AUTH
//           responses never: "<credentials hidden>"). An "error" without a
//           result line is a refusal too (also "unknown request" from an older daemon)
//   tls-install, tls-regenerate
//           head "ok installed" / "ok regenerated" and the tls lines of the
//           certificate now in use, or "error TEXT" (TEXT for people) with at
//           most one "problem PART WORD" line: PART "chain", "key" or "-" (neither,
//           e.g. a file could not be written), WORD the problem
//           (tls::problem_word: "expired", "key-mismatch", ...)
//
// Words are written with '%XX' for a blank, a control character, DEL, '%'
// and '=' (so a value can never split into more tokens, start another
// line or pose as a key); the empty word is "-", and a word that is
// literally "-" or "off" gets its first octet as "%XX". Ordinary names,
// addresses and paths go out unchanged (the format of earlier versions).
//
// decode_*() refuse a reply that is an "error" (but for reload, where that
// is the answer), a mandatory line or key that is missing or repeated, a
// number that text::parse_unsigned does not take, a malformed '%' escape
// and an empty token. Lines of unknown kinds and unknown keys are skipped,
// so a newer daemon may add some.
#pragma once

#include "control/control_protocol.hpp"
#include "tls/certificate_info.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace boxmail::control {

/// A decoded reply, or why it is none: `value` is set exactly when `error`
/// is empty; `*` and `->` only after checking (as for std::optional).
template <class T>
struct [[nodiscard]] Decoded {
  std::optional<T> value;
  std::string error;   ///< e.g. "status: line 3: sessions=x is not a number"
  explicit operator bool() const { return value.has_value(); }
  const T& operator*() const { return *value; }
  const T* operator->() const { return &*value; }
};

// ---- status -------------------------------------------------------------------------

/// One listening service.
struct ServiceStatus {
  std::string name;            ///< "smtp", "pop3"
  bool on = true;              ///< false: switched off in the configuration
  std::string listen;          ///< "127.0.0.1:25,[::1]:25" (empty when off)
  std::uint64_t sessions = 0;  ///< sessions open now
  bool operator==(const ServiceStatus&) const = default;
};

/// What a mailbox holds.
struct MailboxUsage {
  std::uint64_t messages = 0;
  std::uint64_t octets = 0;   ///< the S= sizes of its Maildir names
  bool operator==(const MailboxUsage&) const = default;
};

/// One account's mailbox.
struct MailboxStatus {
  std::string name;
  std::optional<MailboxUsage> usage;   ///< nullopt while boxmaild has not counted it yet
  std::uint64_t quota = 0;             ///< octets; 0: none
  bool operator==(const MailboxStatus&) const = default;
};

/// Free and total octets of the file system (statvfs).
struct FileSystemSize {
  std::uint64_t free = 0;    ///< available to boxmaild (f_bavail)
  std::uint64_t total = 0;
  bool operator==(const FileSystemSize&) const = default;
};

/// The mail store's disk use.
struct StoreStatus {
  std::string dir;                      ///< store.mail_dir
  std::uint64_t used = 0;               ///< octets, the sum of the counted mailboxes
  std::optional<FileSystemSize> fs;     ///< nullopt when the file system tells no size (ramfs)
  std::uint64_t reserve = 0;            ///< store.min_free_space, octets
  bool operator==(const StoreStatus&) const = default;
};

/// The outgoing mail's part of `status`.
struct RelayStatus {
  /// [relay] route's methods in order ("mx", "direct", "smarthost"); empty: none.
  std::vector<std::string> route;
  std::uint64_t queued = 0;                ///< messages in the outgoing queue now
  std::optional<std::string> login_user;   ///< the smarthost login's user; nullopt: none stored
  bool operator==(const RelayStatus&) const = default;
};

/// The reply to `status`.
struct StatusReply {
  std::uint64_t uptime = 0;               ///< seconds since boxmaild started
  std::string config;                     ///< where the running configuration came from
  std::vector<ServiceStatus> services;
  std::vector<MailboxStatus> mailboxes;
  std::optional<StoreStatus> store;
  /// Keys a reload took but that wait for a restart (config::RestartNeeded's text).
  std::vector<std::string> restart_needed;
  /// Outgoing mail; nullopt from a daemon that does not say (older ones).
  std::optional<RelayStatus> relay;
  bool operator==(const StatusReply&) const = default;
};

/// The `status` reply (ok, body lines as in the file comment).
Reply encode(const StatusReply& s);
/// A `status` reply read back; needs exactly one uptime and one config
/// line, at most one store, relay and smarthost-login line (the latter
/// only with a relay line).
Decoded<StatusReply> decode_status(const Reply& r);

// ---- stats --------------------------------------------------------------------------

/// Messages in one hour (net::MessageStats).
struct HourCount {
  std::uint64_t start = 0;      ///< Unix time of the hour's start
  std::uint64_t accepted = 0;
  std::uint64_t refused = 0;
  bool operator==(const HourCount&) const = default;
};

/// The reply to `stats`: counted from typed events, never from log text.
struct StatsReply {
  std::uint64_t accepted_today = 0;
  std::uint64_t refused_today = 0;
  std::vector<HourCount> hours;   ///< the last 24 hours, oldest first
  std::uint64_t blocked_dnsbl_today = 0;         ///< connections refused by a DNS block list today
  std::uint64_t blocked_reverse_dns_today = 0;   ///< connections refused by the reverse DNS rule today
  /// Bans made today (since local midnight): the auto-ban's and the
  /// administrator's (firewall::BanList accepted them).
  std::uint64_t bans_today = 0;
  /// Packets dropped for a ban by the firewall (the nft counter
  /// banned_drops of table inet boxmail, since the table was made, i.e.
  /// since boxmaild started); nullopt while the firewall is off or its
  /// helper did not answer.
  std::optional<std::uint64_t> firewall_drops = std::nullopt;
  bool operator==(const StatsReply&) const = default;
};

/// The `stats` reply: the today line, the blocked line ("blocked dnsbl=N
/// reverse_dns=M bans=B", connections today, and " firewall_drops=P" when
/// known), then one hour line per hour.
Reply encode(const StatsReply& s);
/// A `stats` reply read back; needs exactly one today line, at most one
/// blocked line (none: zeros, as an older daemon sends; bans= and
/// firewall_drops= are optional in it).
Decoded<StatsReply> decode_stats(const Reply& r);

// ---- bans ---------------------------------------------------------------------------

/// One running ban as `bans` reports it (firewall::BanList::list).
struct BanEntry {
  std::string address;            ///< one IPv4 or IPv6 address (canonical, inet_ntop's form)
  std::uint64_t seconds_left = 0; ///< until the ban ends
  std::string reason;             ///< the ban's reason token ("manual", "login", ...)
  bool operator==(const BanEntry&) const = default;
};

/// The reply to `bans`: the running bans, oldest first.
struct BansReply {
  std::vector<BanEntry> bans;
  bool operator==(const BansReply&) const = default;
};

/// The `bans` reply: head "N banned", one line "ADDRESS SECONDS REASON" per
/// ban (each a word: a hostile reason cannot split or add lines).
Reply encode(const BansReply& s);
/// A `bans` reply read back: every line exactly three words, the first
/// one IPv4 or IPv6 address (net::parse_address), the second a number,
/// the third non-empty; an "error" head (the firewall is off) fails with
/// boxmaild's text.
Decoded<BansReply> decode_bans(const Reply& r);

// ---- log ----------------------------------------------------------------------------

/// The reply to `log N`: the last lines, oldest first. On the wire a CR or
/// LF inside a line becomes a blank (format_reply).
struct LogReply {
  std::vector<std::string> lines;
  bool operator==(const LogReply&) const = default;
};

/// The `log N` reply: the lines as body lines.
Reply encode(const LogReply& s);
/// A `log N` reply read back (fails only on an "error" head).
Decoded<LogReply> decode_log(const Reply& r);

// ---- reload -------------------------------------------------------------------------

/// The reply to `reload`: taken, or refused with the configuration's errors.
struct ReloadReply {
  bool taken = true;
  std::string message;               ///< the head: "reloaded", "configuration refused; ..."
  std::vector<std::string> errors;   ///< one per configuration error (when refused)
  /// When taken: keys that wait for a restart (config::RestartNeeded's text).
  std::vector<std::string> restart_needed;
  bool operator==(const ReloadReply&) const = default;
};

/// The `reload` reply: "ok MESSAGE", or "error MESSAGE" with the errors
/// as body lines.
Reply encode(const ReloadReply& s);
/// A `reload` reply read back. Cannot fail: an "error" head is a refusal (taken = false), e.g. also
/// "unknown request" from a daemon that has no reload.
ReloadReply decode_reload(const Reply& r);

// ---- tls ----------------------------------------------------------------------------

/// The reply to `tls`: the certificate boxmaild serves and its files.
struct TlsReply {
  std::string chain_file;                           ///< [tls] certificate
  std::string key_file;                             ///< [tls] key
  std::optional<tls::CertificateInfo> certificate;  ///< the leaf in use; nullopt: none loaded (TLS is off)
  std::uint64_t chain_length = 0;                   ///< certificates in the chain in use (0 with none)
  /// Why the files were refused at boxmaild's last load (start, SIGHUP);
  /// "" when it passed. With a certificate in use: the files on disk are
  /// not that certificate (pending()).
  std::string refused;
  /// A refused file waits on disk while an older certificate is served.
  bool pending() const { return certificate.has_value() && !refused.empty(); }
  bool operator==(const TlsReply&) const = default;
};

/// The `tls` reply (ok, body lines as in the file comment).
Reply encode(const TlsReply& s);
/// A `tls` reply read back; needs exactly one files line; subject, issuer
/// and sha256 exactly once when there is a certificate line, and no
/// certificate lines without it.
Decoded<TlsReply> decode_tls(const Reply& r);

/// The reply to `tls-install` and `tls-regenerate`.
struct TlsChangeReply {
  bool done = false;      ///< the new certificate is installed and in use
  std::string message;    ///< the head: "installed", "regenerated", or why not (for people)
  std::string part;       ///< when refused: "chain", "key", or "" (neither)
  std::string problem;    ///< when refused: the problem's word ("expired", ...); "" when none was named
  TlsReply tls;           ///< when done: the certificate now in use
  bool operator==(const TlsChangeReply&) const = default;
};

/// "ok MESSAGE" and the tls lines, or "error MESSAGE" and the problem line.
Reply encode(const TlsChangeReply& s);
/// A `tls-install`/`tls-regenerate` reply read back. An "error" head is a
/// refusal (done = false), also "unknown request" from an older daemon;
/// fails only on malformed lines (a part other than chain, key or "-",
/// a repeated problem line, a bad tls line after "ok").
Decoded<TlsChangeReply> decode_tls_change(const Reply& r);

// ---- smarthost-login ------------------------------------------------------------------

/// The reply to `smarthost-login` and `smarthost-login-clear`.
struct LoginChangeReply {
  bool done = false;                      ///< stored (or cleared)
  std::string message;                    ///< the head: "stored", "cleared", or why not (for people)
  std::optional<std::string> user;        ///< the login stored now; nullopt: none
  bool operator==(const LoginChangeReply&) const = default;
};

/// "ok MESSAGE" with a "user USER" line while a login is stored, or "error MESSAGE".
Reply encode(const LoginChangeReply& s);
/// A smarthost-login reply read back. An "error" head is a refusal (done =
/// false), also "unknown request" from an older daemon; fails only on a
/// malformed or repeated user line.
Decoded<LoginChangeReply> decode_login_change(const Reply& r);

// ---- relay-test ---------------------------------------------------------------------

/// The reply to `relay-test ADDRESS` (relay/queue_runner.hpp send_test).
struct RelayTestReply {
  enum class Result {
    Sent,      ///< the server took the message (2xx after the final dot)
    Failed,    ///< tried: refused (4xx/5xx), unreachable, or no result in time
    Refused,   ///< nothing was tried: no route, a bad or local address, another test running
  };
  Result result = Result::Refused;
  std::string message;                   ///< the head, for people ("250 2.0.0 Ok: queued as X")
  std::string relay;                     ///< the server that answered; "" when none did
  std::vector<std::string> transcript;   ///< the SMTP dialogue, one line each
  bool operator==(const RelayTestReply&) const = default;
};

/// "ok MESSAGE" when sent, else "error MESSAGE"; the lines of the file comment.
Reply encode(const RelayTestReply& s);
/// A relay-test reply read back; fails on a result line that is not one
/// of the three words or disagrees with the head, or a repeated one.
Decoded<RelayTestReply> decode_relay_test(const Reply& r);

// ---- queue list ---------------------------------------------------------------------

/// One queued message as `queue list` describes it (store::describe_queued).
struct QueuedMessage {
  std::string id;                        ///< the queue id (13 characters)
  std::uint64_t age = 0;                 ///< seconds since it was accepted
  std::string sender;                    ///< the reverse-path; "" for the null sender <>
  std::uint64_t next = 0;                ///< seconds until the next attempt; 0: due now
  std::vector<std::string> recipients;   ///< the pending recipients
  std::string error;                     ///< the last reply or error of a pending recipient; "" none
  bool operator==(const QueuedMessage&) const = default;
};

/// The reply to `queue list`.
struct QueueListReply {
  std::vector<QueuedMessage> messages;
  bool operator==(const QueueListReply&) const = default;
};

/// A `queue list` reply read back: every line must be a well-formed
/// message line (a valid queue id, age=, sender=, next=, rcpt=, error=).
Decoded<QueueListReply> decode_queue_list(const Reply& r);

// ---- words --------------------------------------------------------------------------

/// A value as one positional token (see the file comment).
std::string encode_word(std::string_view s);
/// The value of a token written by encode_word; nullopt for a malformed '%' escape.
std::optional<std::string> decode_word(std::string_view token);

}  // namespace boxmail::control

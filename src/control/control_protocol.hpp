// control_protocol.hpp - the control socket's line protocol (pure).
//
// boxmaild listens on a UNIX stream socket ([server] control_socket, mode
// 0660, group of its directory); the web panel (cgi/) and tools send one
// request line and read one reply, then the connection closes.
//
// Requests (one line, LF or CRLF, at most kMaxRequestLine octets, verbs
// case-insensitive):
//   status     services and their ports, sessions, uptime, mailboxes and
//              their sizes, the mail store's disk use
//   reload     the same as SIGHUP: re-read the configuration; "ok" when it
//              was taken, "error" with one line per configuration error
//   log N      the last N (1..kMaxLogLines) log lines, oldest first
//   stats      messages accepted/refused today and per hour, last 24 hours
//   tls        the certificate in use (subject, names, fingerprint, dates),
//              its files, and why the files were refused at the last load
//   tls-install CHAIN KEY
//              CHAIN and KEY are decimal octet counts (each 1..kMaxTlsUpload,
//              at most kMaxTlsUpload together); exactly that many octets
//              follow the request line's LF: the PEM chain, then the PEM
//              key. boxmaild validates them and replaces its certificate
//              files as one pair, or refuses and changes nothing
//              (control/tls_commands.hpp)
//   tls-regenerate
//              a new self-signed certificate for the host name, installed
//              the same way
//   smarthost-login USER PASS
//              USER and PASS are decimal octet counts (USER
//              1..kMaxSmarthostUser, PASS 1..kMaxSmarthostPassword);
//              exactly that many octets follow the request line's LF: the
//              user name, then the password. boxmaild writes them as
//              [relay] smarthost_credentials ("user:password", mode 0600,
//              crash-safe) or refuses and changes nothing; the reply names
//              the user, never the password (control/smarthost_login.hpp)
//   smarthost-login-clear
//              removes the stored smarthost login
//   queue list             the outgoing queue, one line per message
//                          (store/queue_envelope.hpp describe_queued)
//   queue show QID         one message: a line per recipient
//   queue delete QID       removes it (no notice is sent)
//   queue retry QID        its pending recipients are tried now
//   queue flush            every queued message is tried now
//              (relay/queue_runner.hpp; QID is a queue id, 13 characters)
//   relay-test ADDRESS [SENDER]
//              a short test message to ADDRESS (a Forward-path, with or
//              without <>) from SENDER (a Reverse-path; without it, or
//              "<>": the null sender), sent now through [relay] route, not queued;
//              the reply says sent or failed and holds the SMTP transcript
//              (control_replies.hpp RelayTestReply), within
//              kRelayTestSeconds. The only request boxmaild answers
//              asynchronously: mail keeps flowing meanwhile
//              (relay/test_message.hpp, relay/queue_runner.hpp send_test)
//   ban ADDRESS SECONDS [REASON]
//              bans a client address on the mail ports for SECONDS
//              (1..2592000) through the firewall helper; REASON is a token
//              of a-z, 0-9 and '-' (default "manual"); an allow-listed
//              address is refused (firewall/ban_list.hpp)
//   unban ADDRESS
//              lifts a ban
//   bans       the running bans, one body line each: "ADDRESS SECONDS-LEFT
//              REASON", oldest first
//   login-failed ADDRESS
//              the panel reports a failed admin login from ADDRESS (one IPv4
//              or IPv6 address): it counts toward the auto-ban like a failed
//              POP3 or SMTP login (net/abuse_score.hpp)
//
// Reply: a head line "ok[ TEXT]" or "error TEXT", then body lines, then a
// line holding a single "."; a body line that begins with "." gets one more
// "." in front (dot-stuffing as in SMTP DATA, RFC 5321 4.5.2). Body lines
// never hold CR or LF (they are replaced by blanks). What the body lines
// of each verb hold, and their typed values, is control_replies.hpp.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boxmail::control {

/// The longest request line: "relay-test " and two 256-octet paths (RFC
/// 5321 4.5.3.1.3); every other request fits in 128 (a ban of an IPv6
/// address with its reason).
constexpr std::size_t kMaxRequestLine = 11 + 256 + 1 + 256;
constexpr unsigned kMaxLogLines = 200;
/// The longest ban, seconds (30 days; firewall::kMaxBanSeconds).
constexpr unsigned kMaxBanSeconds = 30 * 86400;
/// The largest tls-install payload (chain and key together), octets; a
/// chain of a few certificates and a key are a few KiB.
constexpr std::size_t kMaxTlsUpload = 64 * 1024;
/// The longest smarthost user name, octets.
constexpr std::size_t kMaxSmarthostUser = 256;
/// The longest smarthost password, octets (as config::kMaxPasswordLength).
constexpr std::size_t kMaxSmarthostPassword = 256;
/// How long boxmaild works on a relay-test before it answers without a
/// result; a client waits a little longer (kRelayTestWaitMs).
constexpr unsigned kRelayTestSeconds = 30;
constexpr int kRelayTestWaitMs = (kRelayTestSeconds + 10) * 1000;

enum class Verb {
  Status, Reload, Log, Stats, Tls, TlsInstall, TlsRegenerate, Queue, SmarthostLogin, SmarthostLoginClear, RelayTest,
  Ban, Unban, Bans, LoginFailed
};

/// What `queue` does (see above).
enum class QueueAction { List, Show, Delete, Retry, Flush };

/// A parsed request; `error` is non-empty when the line is not one.
struct Request {
  Verb verb = Verb::Status;
  unsigned count = 0;             ///< for Log: lines asked for
  std::size_t chain_octets = 0;   ///< for TlsInstall: the chain's length in the payload
  std::size_t key_octets = 0;     ///< for TlsInstall: the key's length, after the chain
  std::size_t user_octets = 0;      ///< for SmarthostLogin: the user name's length in the payload
  std::size_t password_octets = 0;  ///< for SmarthostLogin: the password's length, after the user
  QueueAction queue_action = QueueAction::List;   ///< for Queue
  std::string queue_id;           ///< for Queue show/delete/retry: a well-formed queue id
  std::string address;            ///< for RelayTest: the recipient as given (its syntax checked); for Ban,
                                  ///< Unban: the address as written (checked by the ban list)
  std::string sender;             ///< for RelayTest: the reverse-path without <>; "" the null sender
  unsigned seconds = 0;           ///< for Ban: 1..2592000
  std::string reason;             ///< for Ban: the reason token ("manual" when not given)
  std::string error;
  /// Octets that follow the request line (TlsInstall and SmarthostLogin; else 0).
  std::size_t payload() const { return chain_octets + key_octets + user_octets + password_octets; }
};

/// Parses one request line (its line end may be included).
Request parse_request(std::string_view line);

/// The tls-install request line (without its LF) for a chain and a key of
/// these lengths; the chain's and the key's octets follow the LF.
std::string tls_install_line(std::size_t chain_octets, std::size_t key_octets);

/// A tls-install payload split into its two texts (views into the payload).
struct TlsUpload {
  std::string_view chain;   ///< the PEM chain, leaf first
  std::string_view key;     ///< the PEM private key
};

/// Splits `payload` as `request` announced it; nullopt when its length is
/// not exactly request.payload().
std::optional<TlsUpload> split_tls_upload(const Request& request, std::string_view payload);

/// The smarthost-login request line (without its LF) for a user name and
/// a password of these lengths; their octets follow the LF.
std::string smarthost_login_line(std::size_t user_octets, std::size_t password_octets);

/// A smarthost-login payload split into its two texts (views into the payload).
struct SmarthostLogin {
  std::string_view user;
  std::string_view password;
};

/// Splits `payload` as `request` announced it and checks the texts: the
/// stored form is one line "user:password" split at the first ':', so the
/// user may not hold ':'; neither may hold a control character (CR, LF,
/// NUL, ...) or DEL. `error` says what is wrong (never quoting the
/// password); else `login` is set.
struct SmarthostLoginSplit {
  std::optional<SmarthostLogin> login;
  std::string error;
};
SmarthostLoginSplit split_smarthost_login(const Request& request, std::string_view payload);

/// A reply: head text after "ok"/"error", and body lines.
struct Reply {
  bool ok = true;
  std::string head;
  std::vector<std::string> lines;
};

/// The reply's wire text (see above).
std::string format_reply(const Reply& reply);

/// Parses a whole reply as read from the socket. `complete` is false when
/// the final "." line has not arrived (truncated); `error` names a
/// malformed head.
struct ReplyParse {
  bool complete = false;
  Reply reply;
  std::string error;
};
ReplyParse parse_reply(std::string_view text);

}  // namespace boxmail::control

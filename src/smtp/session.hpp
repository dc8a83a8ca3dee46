// session.hpp - the SMTP server session state machine (pure).
//
// One Session per connection. It takes events - input bytes, "the message is
// committed", "timeout", "shutting down" - and returns what to do: replies to
// send, log lines, and an Action for the glue (smtp_server.cpp), which owns
// the socket, timers and the store. No sockets, clocks or files here: the
// time comes in with each event, queue ids from an injected generator.
//
// States (RFC 5321 4.1.4 ordering): Start -(HELO/EHLO)-> Ready -(MAIL)->
// Mail -(RCPT ok)-> Rcpt -(DATA)-> Data -(CRLF.CRLF)-> Committing -> Ready.
// Commands come from one table (verb, needs HELO, needs MAIL, handler).
// Sequence errors are 503 5.5.1; syntax errors 500/501/555; both count
// toward the error budget (smtp.max_errors), unknown recipients do not.
// Past the budget: 421 4.7.0 and Close. HTTP verbs: 554 5.7.0 and Close.
//
// Room for mail (rules in store/quota.hpp), asked through the injected
// StoreQuery: at MAIL the free-space reserve (452 4.3.1), at RCPT each
// reached mailbox's quota (452 4.2.2, or 552 5.2.2 when SIZE= alone is
// over it); the forward-path is refused whole, the others go on.
//
// Extensions offered in EHLO: PIPELINING (RFC 2920), SIZE (RFC 1870),
// 8BITMIME (RFC 6152), STARTTLS (RFC 3207) while a certificate is loaded and
// TLS is not on yet, AUTH PLAIN LOGIN (RFC 4954, RFC 4616) once TLS is on
// (or for a client in [server] plaintext_login_networks) and not yet
// authenticated, ENHANCEDSTATUSCODES (RFC 2034, RFC 3463 codes).
// The Received: header follows RFC 5321 4.4 and RFC 3848 (with SMTP, ESMTP,
// ESMTPS, ESMTPA, ESMTPSA).
//
// TLS (RFC 3207): STARTTLS answers 220 and asks for Action::StartTls; the
// driver drops whatever the client sent after it and runs the handshake,
// then on_tls_started resets the session to its start (no EHLO, no AUTH,
// no transaction: RFC 3207 4.2) and the client says EHLO again.
//
// AUTH (RFC 4954): PLAIN and LOGIN through proto::sasl::Exchange; the
// session answers the 334 challenges and, with the credentials, asks for
// Action::Authenticate; the glue checks them (proto::LoginService) and
// calls on_auth_result. Every failure cause gets the same 535 5.7.8 and
// spends the error budget. Before TLS AUTH is not offered and answered
// 538 5.7.11. Once authenticated, MAIL FROM must be the user's own: the
// mailbox itself at an accepted domain, or an alias that reaches it
// (address::sender_owned; else 553 5.7.1), or the null reverse-path (an
// MTA's notices, e.g. another boxmail using this box as its smarthost).
//
// Relay clients (RFC 5321 3.6.2, 7.1): a logged-in user or a client in
// [relay] relay_networks may address other domains (address::Sender::
// RelayClient); for them only the box's own domains are local
// (address::own_domain). While no outgoing route is configured such a
// recipient gets 550 5.7.1 "no outgoing mail route is configured"; a feed
// client gets "Relay access denied" as always.
//
// Submission (RFC 6409; ports 587 and 465, Security::submission): MAIL
// before AUTH gets 530 5.7.0.
//
// Checks at connection time (smtp/client_check.hpp; docs/abuse.md): the
// glue starts them at accept and says so (expect_client_check); the
// greeting never waits. The verdict is given at RCPT (as Postfix's
// smtpd_delay_reject: the log shows the envelope, and a client that logs
// in is exempt): a RCPT that comes before the verdict asks for
// Action::ClientCheck and is answered when the glue hands the verdict
// over (on_client_check); a refused client gets the verdict's reply to
// every RCPT (RecipientRefused each, ClientBlocked once), so DATA then
// gets 554 5.5.1. A logged-in user is never refused by it.
#pragma once

#include "config/account.hpp"
#include "config/config.hpp"
#include "net/abuse_score.hpp"
#include "net/progress.hpp"
#include "smtp/client_check.hpp"
#include "smtp/command_parser.hpp"
#include "smtp/data_reader.hpp"
#include "proto/client_info.hpp"
#include "proto/error_budget.hpp"
#include "proto/line_reader.hpp"
#include "proto/sasl.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boxmail::smtp {

/// The peer of a session (proto/client_info.hpp).
using ClientInfo = proto::ClientInfo;

/// What the session asks the store about room for new mail (injected by the
/// glue, like the queue-id generator; an empty function = no check). The
/// rules themselves are in store/quota.hpp.
struct StoreQuery {
  /// Octets available to the daemon on the mail file system; nullopt when
  /// that cannot be told (ramfs: no blocks). Checked at MAIL against
  /// store.min_free_space.
  std::function<std::optional<std::uint64_t>()> free_space;
  /// Octets used by a mailbox (sum of S=); nullopt while not yet counted.
  /// Checked at RCPT against the account's quota.
  std::function<std::optional<std::uint64_t>(std::string_view mailbox)> usage;
};

/// What the glue must do after sending `replies`.
enum class Action {
  None,          ///< read more input
  BeginData,     ///< open a spool file; write envelope().prefix, then the body output
  Commit,        ///< the body is complete: make it durable in envelope().mailboxes, then call on_committed
  AbortData,     ///< the message is refused: remove the spool file
  Close,         ///< send the replies, then close the connection
  StartTls,      ///< send the replies, drop any input already read, run the TLS handshake, then on_tls_started
  Authenticate,  ///< check credentials() (proto::LoginService), then on_auth_result
  ClientCheck,   ///< a RCPT waits for the connection checks: call on_client_check once they are done
};

/// The connection's security, as the glue knows it at accept time.
struct Security {
  bool tls_available = false;   ///< a certificate is loaded: STARTTLS may be offered
  bool tls_active = false;      ///< TLS is on from the start (implicit TLS, RFC 8314)
  bool submission = false;      ///< a submission port (RFC 6409): AUTH required before MAIL
  bool plaintext_auth = false;  ///< the client may AUTH without TLS ([server] plaintext_login_networks)
  /// No service for this client (the feed port, a client not in [smtp]
  /// feed_servers): the greeting is 554 5.7.1 and every command but QUIT
  /// gets 503 5.5.1 (counted against max_errors) until the client quits
  /// (RFC 5321 3.1).
  bool refused = false;
};

/// The outcome of the glue's credential check (Action::Authenticate).
enum class AuthOutcome {
  Ok,        ///< 235 2.7.0
  Failed,    ///< 535 5.7.8 (unknown user, wrong password, disabled account: one reply)
  Blocked,   ///< 454 4.7.0: too many failed logins from the client's address (not checked)
  Busy,      ///< 454 4.7.0: the password checker's queue is full (not checked)
};

/// What happened, for the counters of the status page and `stats` (typed,
/// never parsed back from log text, which holds what clients send).
enum class EventKind {
  MessageAccepted,    ///< a message is durable in every local recipient's Maildir (250 sent)
  MessageRefused,     ///< a message was refused after DATA (552, 554, 550 ...)
  MessageDeferred,    ///< the store failed; 451/452 sent, the client will retry
  RecipientRefused,   ///< one RCPT refused (unknown user, relay denied, route-like, alias loop)
  SenderRefused,      ///< MAIL refused (SIZE= over the limit)
  ConnectionRefused,  ///< a connection refused by the connection limits (reported by the glue)
  ClientBlocked,      ///< the first RCPT refused by the connection checks (`blocked` says which), once per session
};

/// One counted event. `recipients`: the message's accepted forward-paths
/// (MessageAccepted, MessageRefused, MessageDeferred), else 0.
struct Event {
  EventKind kind = EventKind::MessageAccepted;
  std::uint32_t recipients = 0;
  BlockedBy blocked = BlockedBy::None;   ///< with ClientBlocked: DNSBL or reverse DNS
  bool operator==(const Event&) const = default;
};

/// Result of an event.
struct Output {
  std::string replies;               ///< reply lines (CRLF-ended), possibly several (pipelining)
  std::vector<std::string> log;      ///< log lines, one per event worth logging (for humans only)
  Action action = Action::None;
  /// Progress for the idle deadline (net::ProgressClock): a complete command
  /// line was taken (whatever its reply), the message data ended, or its
  /// commit finished (on_committed).
  bool progress = false;
  /// Octets of message data taken in DATA (dot-stuffed, as sent), credited
  /// at smtp.min_data_rate by the glue.
  std::uint64_t data_octets = 0;
  std::vector<Event> events;         ///< what to count, in order
  /// A failed login decided by the session alone (malformed SASL): the glue
  /// counts it for the client's address (proto::LoginService::count_failure).
  bool login_failed = false;
  /// What the client did that counts toward a ban of its address
  /// (net/abuse_score.hpp): relay attempts, unknown recipients, the error
  /// budget spent. The glue reports them with the client's address.
  std::vector<net::Offence> offences;
};

/// The transaction being received.
struct Envelope {
  std::string queue_id;
  std::string reverse_path;                 ///< "" for the null reverse-path <>
  std::vector<std::string> forward_paths;   ///< accepted RCPT addresses, as given
  std::vector<std::string> mailboxes;       ///< distinct local mailboxes to deliver to (may be empty: all "null")
  std::vector<std::string> remote;          ///< forward-paths for the outgoing queue (relay clients' remote recipients, forwarding aliases), distinct
  std::vector<std::string> remote_original; ///< per `remote`: the RCPT address that led there when an alias forwarded ("" otherwise)
  std::string prefix;                       ///< "Return-Path: ...\nReceived: ...\n" written before the body
  std::uint32_t prefix_lines = 0;           ///< LFs in prefix (for the CRLF size W=)
  std::uint64_t declared_size = 0;          ///< SIZE= of MAIL (RFC 1870), 0 when not given
};

class Session {
 public:
  using TimePoint = std::chrono::system_clock::time_point;

  using SteadyTime = std::chrono::steady_clock::time_point;

  /// `hostname`: our name for the greeting and Received:. `new_queue_id`
  /// returns a fresh, unique queue id each call. `start`: when the
  /// connection began (steady clock), the origin of deadline().
  /// `security`: TLS and submission (see Security).
  Session(config::ConfigPtr config, std::shared_ptr<const config::AccountTable> accounts,
          ClientInfo client, std::string hostname, std::function<std::string()> new_queue_id,
          SteadyTime start = SteadyTime{}, Security security = {});

  /// Sets the store query used at MAIL (free-space reserve) and RCPT
  /// (quota): see store/quota.hpp for the rules.
  void set_store_query(StoreQuery query) { store_ = std::move(query); }

  /// The 220 greeting (554 5.7.1 when Security::refused).
  Output greet();

  /// Feeds input bytes received in command or data mode. Processes commands
  /// (or data) until the input is used up or an Action other than None is due.
  /// Message content goes to `body` (LF line ends) for the glue to write to
  /// the spool file. Returns the replies/action and sets `consumed`.
  Output on_input(std::string_view in, TimePoint now, std::string& body, std::size_t& consumed);

  /// The store finished the Commit: `error` is 0 (durable in every Maildir)
  /// or an errno value (ENOSPC/EDQUOT give 452 4.3.1, others 451 4.3.0).
  Output on_committed(int error);

  /// After Action::StartTls: the handshake succeeded (`ok`; `description`
  /// names protocol and cipher for the Received: header) and the session
  /// starts over, or it failed and the session closes (nothing can be sent).
  Output on_tls_started(bool ok, std::string_view description);

  /// The credentials to check for Action::Authenticate.
  const proto::sasl::Credentials& credentials() const { return credentials_; }
  /// The check of Action::Authenticate finished; `mailbox` is the account's
  /// name when Ok (the password is forgotten either way).
  Output on_auth_result(AuthOutcome outcome, std::string mailbox);
  /// The authenticated mailbox, or empty.
  const std::string& authenticated() const { return user_; }
  /// True once TLS is on.
  bool tls_active() const { return security_.tls_active; }

  /// The glue started the connection checks for this client: a RCPT
  /// before on_client_check waits for them (Action::ClientCheck).
  void expect_client_check() { check_ = Check::Pending; }
  /// The checks are done: keeps `verdict` for every later RCPT and answers
  /// the RCPT that waited for it, if any (its Output; else an empty one).
  Output on_client_check(ClientVerdict verdict, TimePoint now);
  /// True while a RCPT waits for the verdict.
  bool waiting_for_client_check() const { return !waiting_rcpt_.empty(); }

  /// The idle or whole-session deadline passed: 421 4.4.2 and Close.
  Output on_timeout();

  /// The server is stopping: 421 4.3.2 and Close.
  Output on_shutdown();

  /// Every connection slot is taken and this session has made no progress
  /// for smtp.evict_idle: 421 4.4.2 and Close (the message in DATA, if any,
  /// is dropped unacknowledged).
  Output on_evicted();

  /// Credits the progress an Output reports (`progress`: a complete command,
  /// the end of data or a commit; `data_octets` at smtp.min_data_rate,
  /// net::ProgressClock) at `now` (steady clock). The glue calls it for each
  /// Output, as on_input takes wall-clock time only. True when deadline()
  /// or last_progress() may have moved.
  bool note_progress(const Output& o, SteadyTime now);
  /// When the session ends with 421 4.4.2: smtp.idle_timeout after the last
  /// progress, but never after smtp.session_timeout from the start (RFC
  /// 5321 4.5.3.2 server timeouts).
  SteadyTime deadline() const;
  /// The time of the last progress (for net::SessionTable::evict_idlest).
  SteadyTime last_progress() const { return progress_.last(); }

  /// True while the glue must pass input as message data (354 was sent).
  bool in_data() const { return state_ == State::Data; }
  /// True between the end of data and on_committed.
  bool committing() const { return state_ == State::Committing; }
  /// True when no transaction is open (for graceful shutdown).
  bool idle() const { return state_ == State::Start || state_ == State::Ready; }

  const Envelope& envelope() const { return envelope_; }
  const DataSummary& data_summary() const { return reader_.summary(); }
  const config::Config& config() const { return *config_; }

 private:
  enum class State { Start, Ready, Mail, Rcpt, Data, Committing, Closed };

  struct CommandRow;
  static const CommandRow* find_row(Verb verb);

  void handle_line(std::string_view line, TimePoint now, Output& out);
  void reply(Output& out, ReplyId id, std::string_view arg = {});
  void error(Output& out, ReplyId id, std::string_view arg = {});
  void reset_transaction();
  void finish_data(Output& out);
  std::string log_line(std::string_view result, std::string_view reply_text) const;

  void cmd_helo(const Command& c, TimePoint now, Output& out);
  void cmd_ehlo(const Command& c, TimePoint now, Output& out);
  void cmd_mail(const Command& c, TimePoint now, Output& out);
  void cmd_rcpt(const Command& c, TimePoint now, Output& out);
  void cmd_data(const Command& c, TimePoint now, Output& out);
  void cmd_rset(const Command& c, TimePoint now, Output& out);
  void cmd_noop(const Command& c, TimePoint now, Output& out);
  void cmd_quit(const Command& c, TimePoint now, Output& out);
  void cmd_help(const Command& c, TimePoint now, Output& out);
  void cmd_vrfy(const Command& c, TimePoint now, Output& out);
  void cmd_expn(const Command& c, TimePoint now, Output& out);
  void cmd_http(const Command& c, TimePoint now, Output& out);
  void cmd_starttls(const Command& c, TimePoint now, Output& out);
  void cmd_auth(const Command& c, TimePoint now, Output& out);
  void auth_step(const proto::sasl::Step& step, Output& out);
  bool auth_offered() const;

  config::ConfigPtr config_;
  std::shared_ptr<const config::AccountTable> accounts_;
  ClientInfo client_;
  std::string hostname_;
  std::function<std::string()> new_queue_id_;
  StoreQuery store_;
  Security security_;
  std::string tls_description_;                     // "TLSv1.2 TLS-ECDHE-..." once TLS is on
  std::optional<proto::sasl::Exchange> sasl_;       // an AUTH exchange waiting for the client's response
  std::optional<proto::sasl::Mechanism> mechanism_;
  proto::sasl::Credentials credentials_;            // for Action::Authenticate only
  std::string user_;                                // the authenticated mailbox

  enum class Check { None, Pending, Done };
  Check check_ = Check::None;
  ClientVerdict verdict_;                           // with Check::Done
  bool block_counted_ = false;                      // ClientBlocked reported
  std::string waiting_rcpt_;                        // the RCPT line waiting for the verdict

  State state_ = State::Start;
  std::string helo_;
  bool esmtp_ = false;
  proto::ErrorBudget errors_;
  std::uint32_t rcpt_attempts_ = 0;
  proto::LineReader lines_;
  net::ProgressClock progress_;
  SteadyTime session_deadline_;
  DataReader reader_;
  Envelope envelope_;
};

/// Formats `t` as an RFC 5322 date-time in UTC: "Sat, 21 Nov 2026 19:32:00 +0000".
std::string rfc5322_date(std::chrono::system_clock::time_point t);

}  // namespace boxmail::smtp

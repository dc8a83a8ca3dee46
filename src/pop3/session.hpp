// session.hpp - the POP3 server session state machine (pure).
//
// One Session per connection. It takes events - input bytes, "the password
// check finished", "here is the mailbox snapshot", "the message file is
// open", "the changes are saved", a timer tick - and returns what to do:
// status lines to send, log lines, and an Action for the glue
// (pop3_server.cpp), which owns the socket, the timers, the password check
// and the Maildir. No sockets, clocks or files here: time comes in with each
// event.
//
// States (RFC 1939 3): Authorization -(USER/PASS or AUTH PLAIN ok, mailbox
// locked and listed)-> Transaction -(QUIT)-> Update (changes saved) -> closed.
// Commands come from one table (verb, states that allow it, handler).
// The message list is the snapshot given to on_mailbox at login: it never
// changes during the session (mail delivered meanwhile shows at the next
// login). DELE only marks; the marks become deletions in the Commit action
// after QUIT; a session that ends any other way (drop, timeout, shutdown)
// saves nothing.
//
// Errors: unknown commands, commands in the wrong state and bad arguments
// get -ERR and count toward pop3.max_errors (then -ERR and close); a
// message number that names no message does not count. Failed logins count
// apart, toward pop3.login_failures (then the connection is closed); their
// reply is marked `delay` for the glue to send after pop3.login_delay. The
// same reply is sent for an unknown mailbox and a wrong password.
//
// Login checks (docs/pop3.md "Login"): a password over
// config::kMaxPasswordLength octets fails here, with no Authenticate action
// (nothing is hashed). Otherwise Action::Authenticate asks the glue to check
// the credentials; the glue refuses before any hashing when the client's
// address has too many failures (AuthResult::Blocked, -ERR [SYS/TEMP], RFC
// 3206: temporary, not about these credentials, so a client keeps its
// password and tries later) or when the checker's queue is full
// (AuthResult::Busy, -ERR [SYS/TEMP]). Until on_auth_result the session
// takes no further command (on_input reads nothing; pipelined commands wait
// in the glue's buffer).
//
// Capabilities (RFC 2449): CAPA TOP UIDL RESP-CODES AUTH-RESP-CODE
// PIPELINING, then USER and SASL PLAIN (RFC 5034, RFC 4616) only while a
// login is possible (TLS is on, or the client is in [server]
// plaintext_login_networks), and STLS (RFC 2595) in the AUTHORIZATION state
// while a certificate is loaded and TLS is not on yet. The list changes
// after STLS (RFC 2449 5 allows it; a client asks CAPA again).
//
// TLS (RFC 2595, RFC 8314; docs/pop3.md "TLS"): STLS answers "+OK Begin
// TLS negotiation" and asks for Action::StartTls; the driver drops what the
// client sent after it and runs the handshake, then on_tls_started puts the
// session back at the start of AUTHORIZATION (a USER given before is
// forgotten; no new greeting, RFC 2595 4). On an implicit-TLS port (POP3S)
// the glue calls on_tls_started(true) before greet().
//
// Plaintext rule: before TLS, a client outside plaintext_login_networks is
// refused at USER already (so its password is never sent), and PASS and
// AUTH PLAIN are refused too: -ERR [AUTH] with a hint at STLS. The
// password is never checked (no Authenticate action); each refusal spends
// the error budget but is no failed login (login_failed stays false: it
// tells a guesser nothing, so the per-address throttle does not count it).
#pragma once
#pragma once

#include "config/config.hpp"
#include "net/abuse_score.hpp"
#include "pop3/command_parser.hpp"
#include "pop3/reply.hpp"
#include "proto/client_info.hpp"
#include "proto/error_budget.hpp"
#include "proto/line_reader.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boxmail::pop3 {

/// The peer of a session (proto/client_info.hpp).
using ClientInfo = proto::ClientInfo;

/// One message of the snapshot taken at login.
struct MessageInfo {
  std::uint64_t size = 0;   ///< octets as sent by RETR (CRLF line ends, before byte-stuffing)
  std::string uid;          ///< unique-id (RFC 1939 7: 1..70 octets of 0x21..0x7E), stable across sessions
};

/// What the glue must do after sending `replies`.
enum class Action {
  None,          ///< read more input
  Authenticate,  ///< check credentials(); answer with on_auth_result
  ListMailbox,   ///< list mailbox(); answer with on_mailbox
  Retrieve,      ///< open message retrieval().index; answer with on_retrieve, then stream it
  Commit,        ///< carry out commit(); answer with on_committed
  Close,         ///< send the replies, then close the connection
  StartTls,      ///< send the replies, drop any input already read, run the TLS handshake
                 ///< (proto::Action::StartTls), then on_tls_started
};

/// The connection's security, as the glue knows it at accept time.
struct Security {
  bool tls_available = false;     ///< a certificate is loaded: STLS may be offered
  bool tls_active = false;        ///< TLS is on (on_tls_started sets it; the glue need not)
  bool plaintext_login = false;   ///< the client may log in without TLS ([server] plaintext_login_networks)
};

/// Result of an event.
struct Output {
  std::string replies;               ///< status lines and listings, CRLF-ended
  std::vector<std::string> log;      ///< log lines
  Action action = Action::None;
  bool delay = false;                ///< a failed login: send `replies` only after pop3.login_delay
  bool login_failed = false;         ///< count one failed login for the client address
  /// What counts toward a ban of the client's address besides failed
  /// logins (net/abuse_score.hpp): the error budget spent.
  std::vector<net::Offence> offences;
};

/// The outcome of the glue's credential check.
enum class AuthResult {
  Ok,            ///< password right, POP3 allowed, mailbox locked for this session
  Failed,        ///< unknown mailbox, wrong password, or logins disabled (nologin)
  Pop3Disabled,  ///< password right but the account has POP3 off (nopop3)
  InUse,         ///< password right but another session holds the mailbox
  Blocked,       ///< not checked: too many failed logins from the client's address (net/login_throttle.hpp)
  Busy,          ///< not checked: the password checker's queue is full (config/password_checker.hpp)
};

/// Credentials to check (Action::Authenticate).
struct Credentials {
  std::string mailbox;    ///< login name with any @domain removed, lower case
  std::string password;
};

/// A message to send (Action::Retrieve).
struct Retrieval {
  std::size_t index = 0;                  ///< 0-based into the snapshot
  std::optional<std::uint64_t> top_lines; ///< TOP's body line count; nullopt for RETR
};

/// What the glue found when it opened the message of Action::Retrieve.
enum class RetrieveResult {
  Ok,        ///< open, and its size on disk matches its name: stream it
  Gone,      ///< cannot be opened (removed behind our back): -ERR [SYS/TEMP]
  Damaged,   ///< its size on disk is not its name's S=: -ERR [SYS/TEMP], and the
             ///< message is left out of STAT/LIST and refused by RETR/TOP for the
             ///< rest of the session (DELE still works)
};

/// The changes to save at QUIT (Action::Commit), as 0-based snapshot indexes.
struct Changes {
  std::vector<std::size_t> deleted;     ///< remove these
  std::vector<std::size_t> retrieved;   ///< mark these seen (Maildir flag S), unless deleted
};

class Session {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  /// `hostname` goes in the greeting; `security`: what TLS can do and
  /// whether this client may log in without it (see Security). The default
  /// is the strictest: no TLS and no plaintext login, so no login at all.
  Session(const config::Pop3Config& config, ClientInfo client, std::string hostname, TimePoint now,
          Security security = {});

  /// The "+OK" greeting.
  Output greet();

  /// Feeds input bytes. Processes command lines until the input is used up,
  /// an Action other than None is due, or a failed login is to be delayed
  /// (`delay`: each failure gets its own delay and count); sets `consumed`.
  Output on_input(std::string_view in, TimePoint now, std::size_t& consumed);

  /// After Action::StartTls (or before greet() on an implicit-TLS port):
  /// the handshake succeeded (`ok`): TLS counts as active and the session
  /// is at the start of AUTHORIZATION again (a USER given before TLS is
  /// forgotten; nothing is sent, RFC 2595 4); or it failed: Close (nothing
  /// can be said in the clear any more). Ignored in any other state.
  Output on_tls_started(bool ok);
  /// True once TLS is on (after on_tls_started(true)).
  bool tls_active() const { return security_.tls_active; }

  /// The credential check of Action::Authenticate finished (or was refused:
  /// Blocked, Busy).
  Output on_auth_result(AuthResult result);

  /// True between Action::Authenticate and on_auth_result.
  bool authenticating() const { return state_ == State::Authenticating; }

  /// The mailbox listing of Action::ListMailbox: the snapshot, or nullopt
  /// when the mailbox cannot be read (-ERR [SYS/TEMP] and close).
  Output on_mailbox(std::optional<std::vector<MessageInfo>> messages);

  /// The message of Action::Retrieve could be opened (`available`) or not.
  /// When available the reply is "+OK <size> octets" and the glue streams
  /// the message through a DotStuffer right after it.
  Output on_retrieve(bool available);
  /// The same with the glue's finding (RetrieveResult); on_retrieve(bool)
  /// is Ok or Gone.
  Output on_retrieve(RetrieveResult result);

  /// The changes of Action::Commit were saved; `failures` of them failed.
  Output on_committed(std::size_t failures);

  /// The server is stopping: -ERR [SYS/TEMP] and close; nothing is saved.
  Output on_shutdown();

  /// Every connection slot is taken and this session has made no progress
  /// for pop3.evict_idle: -ERR and close without entering the Update state.
  Output on_evicted();

  /// When the idle timer runs out (RFC 1939 3 autologout): the time of the
  /// last command or output progress plus pop3.idle_timeout.
  TimePoint deadline() const { return last_activity_ + idle_; }
  /// The time of the last progress: a complete command line, or output
  /// progress (touch). The glue hands it to the eviction choice
  /// (net::SessionTable::evict_idlest).
  TimePoint last_progress() const { return last_activity_; }
  /// Output progress (a RETR chunk written) also keeps the session alive.
  void touch(TimePoint now) { last_activity_ = now; }
  /// Checks the idle timer at `now`: past deadline(), -ERR and Close
  /// without entering the Update state; otherwise nothing.
  Output on_tick(TimePoint now);

  const Credentials& credentials() const { return credentials_; }
  const std::string& mailbox() const { return mailbox_; }
  const Retrieval& retrieval() const { return retrieval_; }
  const Changes& changes() const { return changes_; }
  const std::vector<MessageInfo>& messages() const { return messages_; }

  /// True once logged in (Transaction), i.e. the glue holds the mailbox lock.
  bool in_transaction() const { return state_ == State::Transaction; }
  bool closed() const { return state_ == State::Closed; }

 private:
  enum class State {
    Authorization, SaslResponse, Authenticating, Listing, Transaction, Retrieving, Update,
    StartingTls,   // between Action::StartTls and on_tls_started: reads nothing
    Closed
  };

  struct CommandRow;
  static const CommandRow* find_row(Verb verb);

  void handle_line(std::string_view line, Output& out);
  void reply(Output& out, ReplyId id, std::string_view arg = {});
  void error(Output& out, ReplyId id, std::string_view arg = {});
  void fail_login(Output& out, ReplyId id, std::string_view why);
  bool login_allowed() const;
  bool refuse_plaintext(Output& out, std::string_view command);
  void sasl_response(std::string_view line, Output& out);
  void check(Credentials c, Output& out);
  void plain(std::string_view base64, Output& out);
  std::optional<std::size_t> message_index(std::uint64_t number, Output& out);
  bool refuse_damaged(std::size_t index, Output& out);
  std::string summary() const;
  std::string who() const;

  void cmd_user(const Command& c, Output& out);
  void cmd_pass(const Command& c, Output& out);
  void cmd_auth(const Command& c, Output& out);
  void cmd_capa(const Command& c, Output& out);
  void cmd_stls(const Command& c, Output& out);
  void cmd_quit(const Command& c, Output& out);
  void cmd_stat(const Command& c, Output& out);
  void cmd_list(const Command& c, Output& out);
  void cmd_uidl(const Command& c, Output& out);
  void cmd_retr(const Command& c, Output& out);
  void cmd_top(const Command& c, Output& out);
  void cmd_dele(const Command& c, Output& out);
  void cmd_rset(const Command& c, Output& out);
  void cmd_noop(const Command& c, Output& out);
  void cmd_http(const Command& c, Output& out);

  config::Pop3Config config_;
  ClientInfo client_;
  std::string hostname_;
  Security security_;
  std::chrono::seconds idle_;
  TimePoint last_activity_;

  State state_ = State::Authorization;
  proto::LineReader lines_;
  proto::ErrorBudget errors_;
  std::uint32_t login_failures_ = 0;
  std::string user_;                 // USER argument as given
  Credentials credentials_;
  std::string mailbox_;              // logged-in mailbox
  std::vector<MessageInfo> messages_;
  std::vector<bool> deleted_;
  std::vector<bool> retrieved_;
  std::vector<bool> damaged_;        // size on disk does not match the name (RetrieveResult::Damaged)
  Retrieval retrieval_;
  Changes changes_;
};

/// Keeps a client-supplied string printable and short for log lines.
std::string log_safe(std::string_view s);

}  // namespace boxmail::pop3

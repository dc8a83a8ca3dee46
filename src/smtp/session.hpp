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
// 8BITMIME (RFC 6152), ENHANCEDSTATUSCODES (RFC 2034, RFC 3463 codes).
// The Received: header follows RFC 5321 4.4 and RFC 3848 (with SMTP/ESMTP).
#pragma once

#include "config/account.hpp"
#include "config/config.hpp"
#include "net/progress.hpp"
#include "smtp/command_parser.hpp"
#include "smtp/data_reader.hpp"
#include "proto/client_info.hpp"
#include "proto/error_budget.hpp"
#include "proto/line_reader.hpp"

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
  None,        ///< read more input
  BeginData,   ///< open a spool file; write envelope().prefix, then the body output
  Commit,      ///< the body is complete: make it durable in envelope().mailboxes, then call on_committed
  AbortData,   ///< the message is refused: remove the spool file
  Close,       ///< send the replies, then close the connection
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
};

/// One counted event. `recipients`: the message's accepted forward-paths
/// (MessageAccepted, MessageRefused, MessageDeferred), else 0.
struct Event {
  EventKind kind = EventKind::MessageAccepted;
  std::uint32_t recipients = 0;
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
};

/// The transaction being received.
struct Envelope {
  std::string queue_id;
  std::string reverse_path;                 ///< "" for the null reverse-path <>
  std::vector<std::string> forward_paths;   ///< accepted RCPT addresses, as given
  std::vector<std::string> mailboxes;       ///< distinct local mailboxes to deliver to (may be empty: all "null")
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
  Session(config::ConfigPtr config, std::shared_ptr<const config::AccountTable> accounts,
          ClientInfo client, std::string hostname, std::function<std::string()> new_queue_id,
          SteadyTime start = SteadyTime{});

  /// Sets the store query used at MAIL (free-space reserve) and RCPT
  /// (quota): see store/quota.hpp for the rules.
  void set_store_query(StoreQuery query) { store_ = std::move(query); }

  /// The 220 greeting.
  Output greet();

  /// Feeds input bytes received in command or data mode. Processes commands
  /// (or data) until the input is used up or an Action other than None is due.
  /// Message content goes to `body` (LF line ends) for the glue to write to
  /// the spool file. Returns the replies/action and sets `consumed`.
  Output on_input(std::string_view in, TimePoint now, std::string& body, std::size_t& consumed);

  /// The store finished the Commit: `error` is 0 (durable in every Maildir)
  /// or an errno value (ENOSPC/EDQUOT give 452 4.3.1, others 451 4.3.0).
  Output on_committed(int error);

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

  config::ConfigPtr config_;
  std::shared_ptr<const config::AccountTable> accounts_;
  ClientInfo client_;
  std::string hostname_;
  std::function<std::string()> new_queue_id_;
  StoreQuery store_;

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

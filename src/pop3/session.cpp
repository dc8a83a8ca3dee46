// session.cpp - the POP3 server session state machine (see session.hpp).
#include "pop3/session.hpp"

#include "config/password.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace boxmail::pop3 {

// One row per verb: the states that allow it and its handler. A verb used in
// the other state gets -ERR "Command not valid in this state" and counts as
// an error. (OpenSMTPD-style command table.)
struct Session::CommandRow {
  Verb verb;
  bool in_authorization;
  bool in_transaction;
  void (Session::*handler)(const Command&, Output&);
};

std::string log_safe(std::string_view s) {
  std::string r;
  for (char c : s.substr(0, 128)) {
    const auto u = static_cast<unsigned char>(c);
    r += (u > 32 && u < 127) ? c : '?';
  }
  return r.empty() ? "-" : r;
}

const Session::CommandRow* Session::find_row(Verb verb) {
  static constexpr std::array<CommandRow, 15> kCommands{{
      {Verb::User, true, false, &Session::cmd_user},
      {Verb::Pass, true, false, &Session::cmd_pass},
      {Verb::Auth, true, false, &Session::cmd_auth},
      {Verb::Stls, true, false, &Session::cmd_stls},
      {Verb::Capa, true, true, &Session::cmd_capa},
      {Verb::Quit, true, true, &Session::cmd_quit},
      {Verb::Stat, false, true, &Session::cmd_stat},
      {Verb::List, false, true, &Session::cmd_list},
      {Verb::Uidl, false, true, &Session::cmd_uidl},
      {Verb::Retr, false, true, &Session::cmd_retr},
      {Verb::Top, false, true, &Session::cmd_top},
      {Verb::Dele, false, true, &Session::cmd_dele},
      {Verb::Rset, false, true, &Session::cmd_rset},
      {Verb::Noop, false, true, &Session::cmd_noop},
      {Verb::Http, true, true, &Session::cmd_http},
  }};
  for (const auto& row : kCommands) {
    if (row.verb == verb) return &row;
  }
  return nullptr;
}

Session::Session(const config::Pop3Config& config, ClientInfo client, std::string hostname, TimePoint now,
                 Security security)
    : config_(config),
      client_(std::move(client)),
      hostname_(std::move(hostname)),
      security_(security),
      idle_(config.idle_timeout),
      last_activity_(now),
      lines_(config.max_command_line),
      errors_(config.max_errors) {}

Output Session::greet() {
  Output out;
  reply(out, ReplyId::Greeting, hostname_);
  return out;
}

std::string Session::who() const {
  std::string w = "pop3: client=" + client_.address;
  if (!mailbox_.empty()) w += " user=" + mailbox_;
  return w;
}

void Session::reply(Output& out, ReplyId id, std::string_view arg) {
  out.replies += format_reply(id, arg);
  if (reply_info(id).next == Next::Close) {
    out.action = Action::Close;
    state_ = State::Closed;
  }
}

void Session::error(Output& out, ReplyId id, std::string_view arg) {
  reply(out, id, arg);
  if (state_ == State::Closed) return;
  if (errors_.spend()) {
    reply(out, ReplyId::TooManyErrors);
    out.offences.push_back(net::Offence::ProtocolError);
    out.log.push_back(who() + " closed: too many errors (" + std::to_string(errors_.count()) + ")");
  }
}

void Session::fail_login(Output& out, ReplyId id, std::string_view why) {
  out.delay = true;
  out.login_failed = id == ReplyId::AuthFailed;
  user_.clear();
  credentials_ = Credentials{};
  state_ = State::Authorization;
  out.log.push_back("pop3: client=" + client_.address + " login failed: " + std::string(why));
  if (id != ReplyId::AuthFailed) {
    reply(out, id);
    return;
  }
  if (++login_failures_ >= config_.login_failures) {
    reply(out, ReplyId::AuthFailedClose);
    out.log.push_back("pop3: client=" + client_.address + " closed: " + std::to_string(login_failures_) +
                      " failed logins");
    return;
  }
  reply(out, ReplyId::AuthFailed);
}

Output Session::on_input(std::string_view in, TimePoint now, std::size_t& consumed) {
  Output out;
  consumed = 0;
  // A failed login ends the batch: each one gets its own delay and count.
  while (consumed < in.size() && out.action == Action::None && !out.delay) {
    if (state_ != State::Authorization && state_ != State::Transaction && state_ != State::SaslResponse) break;
    const auto ev = lines_.next(in.substr(consumed));
    consumed += ev.consumed;
    if (ev.kind == proto::LineReader::Kind::NeedMore) continue;
    last_activity_ = now;
    if (ev.kind == proto::LineReader::Kind::TooLong) {
      if (state_ == State::SaslResponse) state_ = State::Authorization;
      error(out, ReplyId::LineTooLong);
      continue;
    }
    if (state_ == State::SaslResponse) {
      sasl_response(ev.line, out);
      continue;
    }
    handle_line(ev.line, out);
  }
  return out;
}

void Session::handle_line(std::string_view line, Output& out) {
  const Command cmd = parse_command(line);
  const CommandRow* row = find_row(cmd.verb);
  if (row == nullptr) {
    error(out, ReplyId::Unknown);
    return;
  }
  const bool allowed = state_ == State::Authorization ? row->in_authorization : row->in_transaction;
  if (!allowed) {
    error(out, ReplyId::WrongState);
    return;
  }
  (this->*(row->handler))(cmd, out);
}

// ---- AUTHORIZATION ----------------------------------------------------------------

bool Session::login_allowed() const { return security_.tls_active || security_.plaintext_login; }

bool Session::refuse_plaintext(Output& out, std::string_view command) {
  if (login_allowed()) return false;
  // Not checked, not delayed, not counted as a failed login: the refusal
  // depends on the connection only and tells a guesser nothing.
  out.log.push_back("pop3: client=" + client_.address + " refused: " + std::string(command) +
                    " without TLS (not in plaintext_login_networks)");
  error(out, security_.tls_available ? ReplyId::PlaintextRefused : ReplyId::PlaintextNoTls);
  return true;
}

void Session::cmd_user(const Command& c, Output& out) {
  // Refused here already, not at PASS: a client that stops at the first
  // -ERR never sends its password in the clear.
  if (refuse_plaintext(out, "USER")) return;
  if (c.argument.empty()) {
    error(out, ReplyId::Syntax, "USER name");
    return;
  }
  user_ = std::string(c.argument);
  reply(out, ReplyId::UserOk);
}

void Session::cmd_pass(const Command& c, Output& out) {
  if (refuse_plaintext(out, "PASS")) return;   // the argument is never looked at
  if (user_.empty()) {
    error(out, ReplyId::NeedUser);
    return;
  }
  // RFC 1939 7: the argument is the whole rest of the line (spaces kept).
  check(Credentials{login_mailbox(user_), std::string(c.argument)}, out);
}

void Session::check(Credentials c, Output& out) {
  if (c.password.size() > config::kMaxPasswordLength) {
    // Refused before any hashing: no password is that long (boxmailctl
    // refuses to set one), and hashing it would cost the loop.
    fail_login(out, ReplyId::AuthFailed, "user=" + log_safe(c.mailbox) + " password over " +
                                             std::to_string(config::kMaxPasswordLength) + " octets");
    return;
  }
  credentials_ = std::move(c);
  user_.clear();
  state_ = State::Authenticating;
  out.action = Action::Authenticate;
}

void Session::cmd_auth(const Command& c, Output& out) {
  const AuthArgs a = parse_auth(c.argument);
  if (!a.error.empty()) {
    error(out, ReplyId::Syntax, a.error);
    return;
  }
  if (a.mechanism.empty()) {   // list the mechanisms (common client practice): none before TLS
    reply(out, ReplyId::Mechanisms);
    out.replies += login_allowed() ? "PLAIN\r\n.\r\n" : ".\r\n";
    return;
  }
  if (a.mechanism != "PLAIN") {
    error(out, ReplyId::BadMechanism);
    return;
  }
  if (refuse_plaintext(out, "AUTH PLAIN")) return;   // an initial response is never decoded
  if (!a.initial) {
    state_ = State::SaslResponse;
    reply(out, ReplyId::SaslContinue);
    return;
  }
  plain(*a.initial, out);
}

void Session::sasl_response(std::string_view line, Output& out) {
  state_ = State::Authorization;
  if (line == "*") {   // RFC 5034 4: the client cancels
    error(out, ReplyId::AuthCancelled);
    return;
  }
  plain(line, out);
}

void Session::plain(std::string_view base64, Output& out) {
  const auto decoded = base64_decode(base64 == "=" ? std::string_view() : base64);
  if (!decoded) {
    error(out, ReplyId::BadBase64);
    return;
  }
  const PlainCredentials p = parse_plain(*decoded);
  if (!p.ok) {
    fail_login(out, ReplyId::AuthFailed, "malformed SASL PLAIN response");
    return;
  }
  // An authorization identity other than the login itself is refused
  // (no proxy logins on this box).
  if (!p.authzid.empty() && login_mailbox(p.authzid) != login_mailbox(p.authcid)) {
    fail_login(out, ReplyId::AuthFailed, "user=" + log_safe(p.authcid) + " asked for another identity");
    return;
  }
  check(Credentials{login_mailbox(p.authcid), p.password}, out);
}

Output Session::on_auth_result(AuthResult result) {
  Output out;
  if (state_ != State::Authenticating) return out;
  const std::string user = log_safe(credentials_.mailbox);
  switch (result) {
    case AuthResult::Ok:
      mailbox_ = credentials_.mailbox;
      credentials_.password.clear();
      state_ = State::Listing;
      out.action = Action::ListMailbox;
      return out;
    case AuthResult::Failed:
      fail_login(out, ReplyId::AuthFailed, "user=" + user);
      return out;
    case AuthResult::Pop3Disabled:
      fail_login(out, ReplyId::Pop3Disabled, "user=" + user + " has POP3 turned off");
      return out;
    case AuthResult::Blocked:
      fail_login(out, ReplyId::LoginsBlocked, "user=" + user + " refused unchecked: too many failed logins from this address");
      return out;
    case AuthResult::Busy:
      out.delay = true;   // answered after login_delay too: a refusal is no reason to retry at once
      credentials_ = Credentials{};
      state_ = State::Authorization;
      reply(out, ReplyId::LoginBusy);
      out.log.push_back("pop3: client=" + client_.address + " user=" + user +
                        " refused unchecked: too many password checks waiting");
      return out;
    case AuthResult::InUse:
      credentials_ = Credentials{};
      state_ = State::Authorization;
      reply(out, ReplyId::InUse);
      out.log.push_back("pop3: client=" + client_.address + " user=" + user + " refused: mailbox in use");
      return out;
  }
  return out;
}

Output Session::on_mailbox(std::optional<std::vector<MessageInfo>> messages) {
  Output out;
  if (state_ != State::Listing) return out;
  if (!messages) {
    reply(out, ReplyId::MailboxError);
    out.log.push_back(who() + " closed: cannot read the mailbox");
    return out;
  }
  messages_ = std::move(*messages);
  deleted_.assign(messages_.size(), false);
  retrieved_.assign(messages_.size(), false);
  damaged_.assign(messages_.size(), false);
  state_ = State::Transaction;
  reply(out, ReplyId::LoggedIn, summary());
  out.log.push_back(who() + " login: " + summary() + (security_.tls_active ? ", TLS" : ", no TLS"));
  return out;
}

void Session::cmd_capa(const Command& c, Output& out) {
  if (!c.argument.empty()) {
    error(out, ReplyId::Syntax, "CAPA");
    return;
  }
  reply(out, ReplyId::Capabilities);
  out.replies += "CAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n";
  // Only what works now: USER and SASL PLAIN once a login may be made
  // (always true in TRANSACTION: the login was made), STLS before TLS and
  // before the login (RFC 2595 4: valid in AUTHORIZATION only).
  if (login_allowed()) out.replies += "USER\r\nSASL PLAIN\r\n";
  if (state_ == State::Authorization && security_.tls_available && !security_.tls_active) out.replies += "STLS\r\n";
  out.replies += "IMPLEMENTATION boxmail\r\n.\r\n";
}

void Session::cmd_stls(const Command& c, Output& out) {
  if (!c.argument.empty()) {
    error(out, ReplyId::Syntax, "STLS");
    return;
  }
  if (security_.tls_active) {
    error(out, ReplyId::StlsActive);
    return;
  }
  if (!security_.tls_available) {
    error(out, ReplyId::NoStls);
    return;
  }
  // RFC 2595 4: +OK, then the handshake at once. This line is the last
  // one read in the clear: on_input stops here, and the driver drops
  // anything the client sent after it (CVE-2011-0411).
  reply(out, ReplyId::StlsReady);
  state_ = State::StartingTls;
  out.action = Action::StartTls;
}

Output Session::on_tls_started(bool ok) {
  Output out;
  if (state_ != State::StartingTls && state_ != State::Authorization) return out;
  if (!ok) {   // nothing can be said in the clear any more
    state_ = State::Closed;
    out.action = Action::Close;
    return out;
  }
  // RFC 2595 4: forget what was learnt before TLS; no new greeting.
  security_.tls_active = true;
  state_ = State::Authorization;
  user_.clear();
  credentials_ = Credentials{};
  lines_ = proto::LineReader(config_.max_command_line);
  return out;
}

void Session::cmd_quit(const Command& c, Output& out) {
  if (!c.argument.empty()) {
    error(out, ReplyId::Syntax, "QUIT");
    return;
  }
  if (state_ == State::Authorization) {
    reply(out, ReplyId::Bye);
    return;
  }
  // UPDATE state (RFC 1939 6): hand the changes to the glue.
  changes_ = Changes{};
  for (std::size_t i = 0; i < messages_.size(); ++i) {
    if (deleted_[i]) {
      changes_.deleted.push_back(i);
    } else if (retrieved_[i]) {
      changes_.retrieved.push_back(i);
    }
  }
  state_ = State::Update;
  out.action = Action::Commit;
}

Output Session::on_committed(std::size_t failures) {
  Output out;
  if (state_ != State::Update) return out;
  const std::size_t left = messages_.size() - changes_.deleted.size();
  out.log.push_back(who() + " logout: deleted=" + std::to_string(changes_.deleted.size()) +
                    " retrieved=" + std::to_string(std::count(retrieved_.begin(), retrieved_.end(), true)) +
                    " left=" + std::to_string(left) +
                    (failures ? " failures=" + std::to_string(failures) : std::string()));
  if (failures > 0) {
    reply(out, ReplyId::CommitError, std::to_string(failures) + " of them failed");
    return out;
  }
  reply(out, ReplyId::Bye, " (" + std::to_string(left) + (left == 1 ? " message" : " messages") + " left)");
  return out;
}

// ---- TRANSACTION ------------------------------------------------------------------

std::string Session::summary() const {
  std::uint64_t count = 0;
  std::uint64_t octets = 0;
  for (std::size_t i = 0; i < messages_.size(); ++i) {
    if (deleted_[i] || damaged_[i]) continue;
    ++count;
    octets += messages_[i].size;
  }
  return std::to_string(count) + (count == 1 ? " message (" : " messages (") + std::to_string(octets) + " octets)";
}

std::optional<std::size_t> Session::message_index(std::uint64_t number, Output& out) {
  if (number == 0 || number > messages_.size()) {
    reply(out, ReplyId::NoSuchMessage);
    return std::nullopt;
  }
  const auto i = static_cast<std::size_t>(number - 1);
  if (deleted_[i]) {
    reply(out, ReplyId::AlreadyDeleted, std::to_string(number));
    return std::nullopt;
  }
  return i;
}

void Session::cmd_stat(const Command& c, Output& out) {
  if (!c.argument.empty()) {
    error(out, ReplyId::Syntax, "STAT");
    return;
  }
  std::uint64_t count = 0;
  std::uint64_t octets = 0;
  for (std::size_t i = 0; i < messages_.size(); ++i) {
    if (deleted_[i] || damaged_[i]) continue;
    ++count;
    octets += messages_[i].size;
  }
  reply(out, ReplyId::Stat, std::to_string(count) + " " + std::to_string(octets));
}

void Session::cmd_list(const Command& c, Output& out) {
  const Numbers n = parse_numbers(c.argument, 0, 1, "LIST [msg]");
  if (!n.error.empty()) {
    error(out, ReplyId::Syntax, n.error);
    return;
  }
  if (!n.values.empty()) {
    if (auto i = message_index(n.values[0], out); i && !refuse_damaged(*i, out))
      reply(out, ReplyId::Scan, std::to_string(n.values[0]) + " " + std::to_string(messages_[*i].size));
    return;
  }
  reply(out, ReplyId::ListFollows, summary());
  for (std::size_t i = 0; i < messages_.size(); ++i) {
    if (deleted_[i] || damaged_[i]) continue;
    out.replies += std::to_string(i + 1);
    out.replies += ' ';
    out.replies += std::to_string(messages_[i].size);
    out.replies += "\r\n";
  }
  out.replies += ".\r\n";
}

void Session::cmd_uidl(const Command& c, Output& out) {
  const Numbers n = parse_numbers(c.argument, 0, 1, "UIDL [msg]");
  if (!n.error.empty()) {
    error(out, ReplyId::Syntax, n.error);
    return;
  }
  if (!n.values.empty()) {
    if (auto i = message_index(n.values[0], out))
      reply(out, ReplyId::Scan, std::to_string(n.values[0]) + " " + messages_[*i].uid);
    return;
  }
  reply(out, ReplyId::ListFollows, "Unique-ID listing follows");
  for (std::size_t i = 0; i < messages_.size(); ++i) {
    if (deleted_[i]) continue;
    out.replies += std::to_string(i + 1);
    out.replies += ' ';
    out.replies += messages_[i].uid;
    out.replies += "\r\n";
  }
  out.replies += ".\r\n";
}

void Session::cmd_retr(const Command& c, Output& out) {
  const Numbers n = parse_numbers(c.argument, 1, 1, "RETR msg");
  if (!n.error.empty()) {
    error(out, ReplyId::Syntax, n.error);
    return;
  }
  const auto i = message_index(n.values[0], out);
  if (!i || refuse_damaged(*i, out)) return;
  retrieval_ = Retrieval{*i, std::nullopt};
  state_ = State::Retrieving;
  out.action = Action::Retrieve;
}

void Session::cmd_top(const Command& c, Output& out) {
  const Numbers n = parse_numbers(c.argument, 2, 2, "TOP msg n");
  if (!n.error.empty()) {
    error(out, ReplyId::Syntax, n.error);
    return;
  }
  const auto i = message_index(n.values[0], out);
  if (!i || refuse_damaged(*i, out)) return;
  retrieval_ = Retrieval{*i, n.values[1]};
  state_ = State::Retrieving;
  out.action = Action::Retrieve;
}

Output Session::on_retrieve(bool available) {
  return on_retrieve(available ? RetrieveResult::Ok : RetrieveResult::Gone);
}

bool Session::refuse_damaged(std::size_t i, Output& out) {
  if (!damaged_[i]) return false;
  reply(out, ReplyId::MessageDamaged, std::to_string(i + 1));
  return true;
}

Output Session::on_retrieve(RetrieveResult result) {
  Output out;
  if (state_ != State::Retrieving) return out;
  state_ = State::Transaction;
  const std::size_t i = retrieval_.index;
  if (result == RetrieveResult::Gone) {
    reply(out, ReplyId::MessageGone, std::to_string(i + 1));
    out.log.push_back(who() + " message " + messages_[i].uid + " is gone");
    return out;
  }
  if (result == RetrieveResult::Damaged) {
    damaged_[i] = true;
    reply(out, ReplyId::MessageDamaged, std::to_string(i + 1));
    out.log.push_back(who() + " message " + messages_[i].uid + " not sent: its size on disk does not match its name");
    return out;
  }
  // RFC 1939 7: TOP does not count as retrieval (no \Seen), RETR does.
  if (!retrieval_.top_lines) retrieved_[i] = true;
  reply(out, ReplyId::MessageFollows, std::to_string(messages_[i].size));
  return out;
}

void Session::cmd_dele(const Command& c, Output& out) {
  const Numbers n = parse_numbers(c.argument, 1, 1, "DELE msg");
  if (!n.error.empty()) {
    error(out, ReplyId::Syntax, n.error);
    return;
  }
  const auto i = message_index(n.values[0], out);
  if (!i) return;
  deleted_[*i] = true;
  reply(out, ReplyId::Deleted, std::to_string(n.values[0]));
}

void Session::cmd_rset(const Command& c, Output& out) {
  if (!c.argument.empty()) {
    error(out, ReplyId::Syntax, "RSET");
    return;
  }
  deleted_.assign(messages_.size(), false);
  reply(out, ReplyId::Reset, summary());
}

void Session::cmd_noop(const Command& c, Output& out) {
  if (!c.argument.empty()) {
    error(out, ReplyId::Syntax, "NOOP");
    return;
  }
  reply(out, ReplyId::Ok);
}

void Session::cmd_http(const Command& c, Output& out) {
  reply(out, ReplyId::HttpRefused);
  out.log.push_back("pop3: client=" + client_.address + " closed: HTTP command " + log_safe(c.verb_text));
}

// ---- timers and shutdown ------------------------------------------------------------

Output Session::on_tick(TimePoint now) {
  Output out;
  if (state_ == State::Closed || now < deadline()) return out;
  reply(out, ReplyId::Timeout);
  out.log.push_back(who() + " closed: idle timeout");
  return out;
}

Output Session::on_evicted() {
  Output out;
  if (state_ == State::Closed) return out;
  reply(out, ReplyId::IdleEvicted);
  out.log.push_back(who() + " closed: no progress for too long, connection slot needed");
  return out;
}

Output Session::on_shutdown() {
  Output out;
  if (state_ == State::Closed) return out;
  reply(out, ReplyId::ShuttingDown);
  return out;
}

}  // namespace boxmail::pop3

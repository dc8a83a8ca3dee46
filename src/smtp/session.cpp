// session.cpp - the SMTP server session state machine (see session.hpp).
#include "smtp/session.hpp"

#include "address/resolve.hpp"
#include "net/ip_network.hpp"
#include "store/quota.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <ctime>
#include <utility>

namespace boxmail::smtp {

// One row per verb: the sequence preconditions checked before the handler
// runs, and the handler. (OpenSMTPD-style command table.)
struct Session::CommandRow {
  Verb verb;
  bool needs_helo;   // 503 5.5.1 "send HELO/EHLO first" when not greeted
  bool needs_mail;   // 503 5.5.1 "need MAIL command" without a transaction
  void (Session::*handler)(const Command&, TimePoint, Output&);
};

namespace {

/// Keeps a peer-supplied name printable and short enough for logs and the
/// Received: header (no CR/LF, no parentheses or semicolons, <= 255 octets).
std::string sanitize(std::string_view s) {
  std::string r;
  r.reserve(std::min<std::size_t>(s.size(), 255));
  for (char c : s.substr(0, 255)) {
    const auto u = static_cast<unsigned char>(c);
    r += (u > 32 && u < 127 && c != '(' && c != ')' && c != ';' && c != '\\') ? c : '?';
  }
  return r;
}

/// Text for a comment in the Received: header: printable ASCII without
/// parentheses or backslashes (blanks kept).
std::string sanitize_comment(std::string_view s) {
  std::string r;
  for (char c : s.substr(0, 200)) {
    const auto u = static_cast<unsigned char>(c);
    r += (u >= 32 && u < 127 && c != '(' && c != ')' && c != '\\') ? c : '?';
  }
  return r;
}

std::string angle(std::string_view path) {
  std::string r = "<";
  r += path;
  r += '>';
  return r;
}

}  // namespace

const Session::CommandRow* Session::find_row(Verb verb) {
  static constexpr std::array<CommandRow, 14> kCommands{{
      {Verb::Helo, false, false, &Session::cmd_helo},
      {Verb::Ehlo, false, false, &Session::cmd_ehlo},
      {Verb::Mail, true, false, &Session::cmd_mail},
      {Verb::Rcpt, true, true, &Session::cmd_rcpt},
      {Verb::Data, true, true, &Session::cmd_data},
      {Verb::Rset, false, false, &Session::cmd_rset},
      {Verb::Noop, false, false, &Session::cmd_noop},
      {Verb::Quit, false, false, &Session::cmd_quit},
      {Verb::Help, false, false, &Session::cmd_help},
      {Verb::Vrfy, false, false, &Session::cmd_vrfy},
      {Verb::Expn, false, false, &Session::cmd_expn},
      {Verb::Http, false, false, &Session::cmd_http},
      {Verb::StartTls, false, false, &Session::cmd_starttls},
      {Verb::Auth, true, false, &Session::cmd_auth},
  }};
  for (const auto& row : kCommands) {
    if (row.verb == verb) return &row;
  }
  return nullptr;
}

Session::Session(config::ConfigPtr config, std::shared_ptr<const config::AccountTable> accounts,
                 ClientInfo client, std::string hostname, std::function<std::string()> new_queue_id,
                 SteadyTime start, Security security)
    : config_(std::move(config)),
      accounts_(std::move(accounts)),
      client_(std::move(client)),
      hostname_(std::move(hostname)),
      new_queue_id_(std::move(new_queue_id)),
      security_(security),
      errors_(config_->smtp.max_errors),
      lines_(config_->smtp.max_command_line),
      progress_(start),
      session_deadline_(start + std::chrono::seconds(config_->smtp.session_timeout)) {}

bool Session::note_progress(const Output& o, SteadyTime now) {
  if (!o.progress && o.data_octets == 0) return false;
  if (o.progress) progress_.command(now);
  progress_.data(o.data_octets, config_->smtp.min_data_rate, now);
  return true;
}

Session::SteadyTime Session::deadline() const {
  return std::min(progress_.last() + std::chrono::seconds(config_->smtp.idle_timeout), session_deadline_);
}

Output Session::greet() {
  Output out;
  if (security_.refused) {
    out.replies = format_reply(ReplyId::NotFeedServer, "[" + client_.address + "]: not one of this port's feed servers");
    return out;
  }
  out.replies = "220 " + hostname_ + " ESMTP boxmail";
  if (!config_->smtp.banner.empty()) {
    out.replies += ' ';
    for (char c : config_->smtp.banner) out.replies += (c == '\r' || c == '\n') ? ' ' : c;
  }
  out.replies += "\r\n";
  return out;
}

void Session::reply(Output& out, ReplyId id, std::string_view arg) {
  out.replies += format_reply(id, arg, hostname_);
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
    out.log.push_back("client=" + client_.address + " closed: too many errors (" + std::to_string(errors_.count()) + ")");
  }
}

void Session::reset_transaction() {
  envelope_ = Envelope{};
  rcpt_attempts_ = 0;
  if (state_ != State::Start && state_ != State::Closed) state_ = State::Ready;
}

Output Session::on_input(std::string_view in, TimePoint now, std::string& body, std::size_t& consumed) {
  Output out;
  consumed = 0;
  while (consumed < in.size() && out.action == Action::None) {
    if (state_ == State::Data) {
      const std::size_t n = reader_.feed(in.substr(consumed), body);
      consumed += n;
      out.data_octets += n;
      if (reader_.done()) {
        out.progress = true;
        finish_data(out);
      }
      continue;
    }
    if (state_ == State::Committing || state_ == State::Closed) break;
    const auto ev = lines_.next(in.substr(consumed));
    consumed += ev.consumed;
    if (ev.kind == proto::LineReader::Kind::NeedMore) continue;
    if (ev.kind == proto::LineReader::Kind::TooLong) {
      if (sasl_) {
        sasl_.reset();
        error(out, ReplyId::AuthLineTooLong);
        continue;
      }
      error(out, ReplyId::LineTooLong);
      continue;
    }
    out.progress = true;
    if (sasl_) {
      auth_step(sasl_->respond(ev.line), out);
      continue;
    }
    handle_line(ev.line, now, out);
  }
  return out;
}

void Session::handle_line(std::string_view line, TimePoint now, Output& out) {
  const Command cmd = parse_command(line);
  const CommandRow* row = find_row(cmd.verb);
  if (security_.refused && cmd.verb != Verb::Quit) {   // RFC 5321 3.1: 503 until QUIT
    error(out, ReplyId::NoServiceHere);
    return;
  }
  if (row == nullptr) {
    error(out, ReplyId::Unrecognized);
    return;
  }
  if (row->needs_helo && state_ == State::Start) {
    error(out, ReplyId::NeedHelo);
    return;
  }
  if (row->needs_mail && state_ != State::Mail && state_ != State::Rcpt) {
    error(out, ReplyId::NeedMail);
    return;
  }
  (this->*(row->handler))(cmd, now, out);
}

void Session::cmd_helo(const Command& c, TimePoint, Output& out) {
  if (c.argument.empty()) {
    error(out, ReplyId::SyntaxParams, "HELO hostname");
    return;
  }
  helo_ = sanitize(c.argument);
  esmtp_ = false;
  state_ = State::Ready;
  reset_transaction();
  out.replies += "250 " + hostname_ + "\r\n";
}

void Session::cmd_ehlo(const Command& c, TimePoint, Output& out) {
  if (c.argument.empty()) {
    error(out, ReplyId::SyntaxParams, "EHLO hostname");
    return;
  }
  helo_ = sanitize(c.argument);
  esmtp_ = true;
  state_ = State::Ready;
  reset_transaction();
  out.replies += "250-" + hostname_ + "\r\n";
  out.replies += "250-PIPELINING\r\n";
  out.replies += "250-SIZE " + std::to_string(config_->smtp.max_message_size) + "\r\n";
  out.replies += "250-8BITMIME\r\n";
  if (security_.tls_available && !security_.tls_active) out.replies += "250-STARTTLS\r\n";
  if (auth_offered()) out.replies += "250-AUTH PLAIN LOGIN\r\n";
  out.replies += "250 ENHANCEDSTATUSCODES\r\n";
}

void Session::cmd_mail(const Command& c, TimePoint, Output& out) {
  if (state_ == State::Mail || state_ == State::Rcpt) {
    error(out, ReplyId::NestedMail);
    return;
  }
  if (security_.submission && user_.empty()) {
    error(out, ReplyId::AuthRequired);
    out.log.push_back("client=" + client_.address + " refused: MAIL before AUTH on the submission port");
    return;
  }
  const MailFrom m = parse_mail_from(c.argument);
  if (m.error) {
    error(out, *m.error, m.error_arg);
    return;
  }
  // The null reverse-path is a notice's (RFC 5321 4.5.5): a logged-in
  // client may use it (another MTA sending its failure notices through
  // this box as its smarthost, as boxmail does), and it names nobody.
  if (!user_.empty() && !m.path.null_path && !address::sender_owned(m.path.mailbox, user_, *config_, *accounts_)) {
    const std::string from = m.path.mailbox.to_string();
    reply(out, ReplyId::SenderNotOwned, angle(from));
    out.log.push_back("client=" + client_.address + " user=" + user_ + " from=" + angle(sanitize(from)) +
                      " refused: sender address not owned by the user");
    out.events.push_back(Event{EventKind::SenderRefused, 0});
    return;
  }
  if (m.size && *m.size > config_->smtp.max_message_size) {
    reply(out, ReplyId::TooBig);
    out.log.push_back("client=" + client_.address + " from=" + angle(m.path.null_path ? "" : m.path.mailbox.to_string()) +
                      " refused: SIZE=" + std::to_string(*m.size) + " over the limit");
    out.events.push_back(Event{EventKind::SenderRefused, 0});
    return;
  }
  if (store_.free_space && store::below_reserve(store_.free_space(), config_->store.min_free_space, m.size.value_or(0))) {
    reply(out, ReplyId::NoStorage);
    out.log.push_back("client=" + client_.address + " from=" + angle(m.path.null_path ? "" : m.path.mailbox.to_string()) +
                      " refused: free space on the mail file system below store.min_free_space (" +
                      std::to_string(config_->store.min_free_space) + " octets)");
    return;
  }
  envelope_ = Envelope{};
  envelope_.reverse_path = m.path.null_path ? std::string() : m.path.mailbox.to_string();
  envelope_.declared_size = m.size.value_or(0);
  state_ = State::Mail;
  reply(out, ReplyId::SenderOk);
}

void Session::cmd_rcpt(const Command& c, TimePoint, Output& out) {
  const RcptTo r = parse_rcpt_to(c.argument);
  if (r.error) {
    error(out, *r.error, r.error_arg);
    return;
  }
  if (user_.empty() && check_ == Check::Pending) {
    // The verdict is not in yet: this RCPT waits for it (on_client_check).
    waiting_rcpt_ = std::string(c.verb_text) + " " + std::string(c.argument);
    out.action = Action::ClientCheck;
    return;
  }
  ++rcpt_attempts_;
  const std::string addr = r.path.mailbox.to_string();
  if (user_.empty() && check_ == Check::Done && verdict_.blocked != BlockedBy::None) {
    reply(out, verdict_.reply, verdict_.reply_arg);
    out.log.push_back("client=" + client_.address + " from=" + angle(envelope_.reverse_path) + " rcpt=" +
                      angle(sanitize(addr)) + " refused: " + verdict_.reason);
    out.events.push_back(Event{EventKind::RecipientRefused, 0});
    if (!block_counted_) {
      block_counted_ = true;
      out.events.push_back(Event{EventKind::ClientBlocked, 0, verdict_.blocked});
    }
    return;
  }
  if (envelope_.forward_paths.size() >= config_->smtp.max_recipients) {
    reply(out, ReplyId::TooManyRcpt);
    return;
  }
  const bool relay_client = !user_.empty() || net::in_networks(config_->relay.relay_networks, client_.address);
  const address::Resolution res = address::resolve_recipient(
      r.path.mailbox, *config_, *accounts_, relay_client ? address::Sender::RelayClient : address::Sender::Feed);
  if (res.verdict != address::Verdict::Deliver) out.events.push_back(Event{EventKind::RecipientRefused, 0});
  const std::string who = "client=" + client_.address + (user_.empty() ? "" : " user=" + user_);
  switch (res.verdict) {
    case address::Verdict::Deliver:
      break;
    case address::Verdict::Relay:
      if (std::find(envelope_.remote.begin(), envelope_.remote.end(), addr) == envelope_.remote.end()) {
        envelope_.remote.push_back(addr);
        envelope_.remote_original.emplace_back();
      }
      envelope_.forward_paths.push_back(addr);
      state_ = State::Rcpt;
      reply(out, ReplyId::RecipientOk);
      return;
    case address::Verdict::NoRoute:
      reply(out, ReplyId::NoOutgoingRoute, angle(addr));
      out.log.push_back(who + " rcpt=" + angle(addr) + " refused: " + res.detail);
      return;
    case address::Verdict::DomainRefused:
      if (!relay_client) out.offences.push_back(net::Offence::RelayAttempt);
      reply(out, ReplyId::RelayDenied, angle(addr));
      out.log.push_back(who + " rcpt=" + angle(addr) + " refused: " +
                        (relay_client ? res.detail : std::string("relay access denied")));
      return;
    case address::Verdict::RelayTrick:
      out.offences.push_back(net::Offence::RelayAttempt);
      reply(out, ReplyId::RelayTrick, angle(addr));
      out.log.push_back("client=" + client_.address + " rcpt=" + angle(addr) + " refused: route-like address");
      return;
    case address::Verdict::UnknownUser:
      out.offences.push_back(net::Offence::UnknownRecipient);
      reply(out, ReplyId::UserUnknown, angle(addr));
      out.log.push_back("client=" + client_.address + " rcpt=" + angle(addr) + " refused: user unknown");
      return;
    case address::Verdict::AliasLoop:
      reply(out, ReplyId::AliasLoop, angle(addr));
      out.log.push_back("client=" + client_.address + " rcpt=" + angle(addr) + " refused: " + res.detail);
      return;
  }
  // Quota: every mailbox this forward-path reaches must have room, else
  // the forward-path is refused whole (nothing is lost: 452 is retried).
  for (const auto& mb : res.mailboxes) {
    const config::Account* account = accounts_->find(mb);
    const std::uint64_t quota = account ? config::quota_of(*account) : 0;
    if (quota == 0 || !store_.usage) continue;
    const std::optional<std::uint64_t> used = store_.usage(mb);
    if (!used) continue;   // not counted yet: accepted (store/usage_table.hpp)
    const store::QuotaVerdict v = store::check_quota(*used, quota, envelope_.declared_size);
    if (v == store::QuotaVerdict::Ok) continue;
    reply(out, v == store::QuotaVerdict::Full ? ReplyId::MailboxFull : ReplyId::OverQuota, angle(addr));
    out.log.push_back("client=" + client_.address + " rcpt=" + angle(addr) + " refused: mailbox " + mb +
                      (v == store::QuotaVerdict::Full ? " is full" : " quota is smaller than SIZE=" +
                                                                         std::to_string(envelope_.declared_size)) +
                      " (" + std::to_string(*used) + " of " + std::to_string(quota) + " octets used)");
    return;
  }
  envelope_.forward_paths.push_back(addr);
  for (const auto& mb : res.mailboxes) {
    if (std::find(envelope_.mailboxes.begin(), envelope_.mailboxes.end(), mb) == envelope_.mailboxes.end())
      envelope_.mailboxes.push_back(mb);
  }
  for (const auto& target : res.remote) {   // a forwarding alias: out through the queue
    if (std::find(envelope_.remote.begin(), envelope_.remote.end(), target) == envelope_.remote.end()) {
      envelope_.remote.push_back(target);
      envelope_.remote_original.push_back(addr);
    }
  }
  state_ = State::Rcpt;
  reply(out, ReplyId::RecipientOk);
}

void Session::cmd_data(const Command& c, TimePoint now, Output& out) {
  if (!c.argument.empty()) {
    error(out, ReplyId::SyntaxParams, "DATA");
    return;
  }
  if (state_ != State::Rcpt) {
    if (rcpt_attempts_ > 0) {
      reply(out, ReplyId::NoValidRcpt);
    } else {
      error(out, ReplyId::NeedRcpt);
    }
    return;
  }
  const auto& smtp = config_->smtp;
  envelope_.queue_id = new_queue_id_();
  std::string& p = envelope_.prefix;
  p = "Return-Path: <" + envelope_.reverse_path + ">\n";
  p += "Received: from " + helo_ + " (unknown [" + client_.address + "])\n";
  // RFC 3848: ESMTP, plus S under TLS and A when authenticated.
  std::string with = esmtp_ ? "ESMTP" : "SMTP";
  if (esmtp_ && security_.tls_active) with += 'S';
  if (esmtp_ && !user_.empty()) with += 'A';
  if (security_.tls_active && !tls_description_.empty()) {
    p += "\t(using " + sanitize_comment(tls_description_) + ")\n";
  }
  p += "\tby " + hostname_ + " (boxmail) with " + with + " id " + envelope_.queue_id + "\n";
  if (envelope_.forward_paths.size() == 1) {
    p += "\tfor <" + sanitize(envelope_.forward_paths.front()) + ">; " + rfc5322_date(now) + "\n";
  } else {
    p += "\t; " + rfc5322_date(now) + "\n";
  }
  envelope_.prefix_lines = static_cast<std::uint32_t>(std::count(p.begin(), p.end(), '\n'));
  reader_ = DataReader(DataLimits{smtp.max_message_size, smtp.max_text_line,
                                  smtp.bare_lf == config::BareLf::Reject,
                                  smtp.bare_cr == config::BareCr::Reject});
  state_ = State::Data;
  reply(out, ReplyId::StartData);
  out.action = Action::BeginData;
}

void Session::finish_data(Output& out) {
  const DataSummary& s = reader_.summary();
  const auto& smtp = config_->smtp;
  std::optional<ReplyId> refusal;
  std::string arg;
  if (s.too_big) {
    refusal = ReplyId::TooBig;
  } else if (s.line_too_long) {
    refusal = ReplyId::DataLineTooLong;
    arg = std::to_string(smtp.max_text_line);
  } else if (smtp.bare_lf == config::BareLf::Reject && s.bare_lf > 0) {
    refusal = ReplyId::BareLfRefused;
  } else if (smtp.bare_cr == config::BareCr::Reject && s.bare_cr > 0) {
    refusal = ReplyId::BareCrRefused;
  } else if (s.received_headers > smtp.max_hops) {
    refusal = ReplyId::TooManyHops;
  }
  if (refusal) {
    const std::string text = format_reply(*refusal, arg);
    out.replies += text;
    out.log.push_back(log_line("refused", std::string_view(text).substr(0, text.size() - 2)));
    out.events.push_back(Event{EventKind::MessageRefused, static_cast<std::uint32_t>(envelope_.forward_paths.size())});
    out.action = Action::AbortData;
    state_ = State::Ready;
    reset_transaction();
    return;
  }
  state_ = State::Committing;
  out.action = Action::Commit;
}

Output Session::on_committed(int err) {
  Output out;
  out.progress = true;   // the transaction is over: the idle time starts again
  std::string text;
  if (err == 0) {
    text = format_reply(ReplyId::Queued, envelope_.queue_id);
  } else if (err == ENOSPC || err == EDQUOT) {
    text = format_reply(ReplyId::NoStorage);
  } else {
    text = format_reply(ReplyId::LocalError);
  }
  out.replies += text;
  out.log.push_back(log_line(err == 0 ? "accepted" : "deferred", std::string_view(text).substr(0, text.size() - 2)));
  out.events.push_back(Event{err == 0 ? EventKind::MessageAccepted : EventKind::MessageDeferred,
                             static_cast<std::uint32_t>(envelope_.forward_paths.size())});
  state_ = State::Ready;
  reset_transaction();
  return out;
}

std::string Session::log_line(std::string_view result, std::string_view reply_text) const {
  std::string l = envelope_.queue_id + ": client=" + client_.address + " helo=" + (helo_.empty() ? "-" : helo_) +
                  " from=<" + envelope_.reverse_path + "> rcpt=";
  for (std::size_t i = 0; i < envelope_.forward_paths.size(); ++i) {
    if (i) l += ',';
    l += '<' + sanitize(envelope_.forward_paths[i]) + '>';
  }
  l += " size=" + std::to_string(reader_.summary().size) + " result=";
  l += result;
  l += " reply=\"";
  l += reply_text;
  l += '"';
  return l;
}

void Session::cmd_rset(const Command&, TimePoint, Output& out) {
  reset_transaction();
  reply(out, ReplyId::Ok);
}

void Session::cmd_noop(const Command&, TimePoint, Output& out) { reply(out, ReplyId::Ok); }

void Session::cmd_quit(const Command&, TimePoint, Output& out) { reply(out, ReplyId::Bye); }

void Session::cmd_help(const Command&, TimePoint, Output& out) { reply(out, ReplyId::Help); }

void Session::cmd_vrfy(const Command& c, TimePoint, Output& out) {
  if (c.argument.empty()) {
    error(out, ReplyId::SyntaxParams, "VRFY address");
    return;
  }
  if (!config_->smtp.vrfy) {
    reply(out, ReplyId::CannotVrfy);
    return;
  }
  // VRFY takes a bare local-part ("VRFY Smith", RFC 5321 3.5.2), a mailbox
  // or a <path>.
  address::Resolution res;
  if (c.argument.find_first_of("@<") == std::string_view::npos) {
    res = address::resolve_local_part(c.argument, *config_, *accounts_);
  } else {
    std::string text(c.argument);
    if (text.front() != '<') text = "<" + text + ">";
    auto path = address::parse_forward_path(text);
    if (!path.error.empty()) {
      error(out, ReplyId::BadRecipient, path.error);
      return;
    }
    res = address::resolve_recipient(path.mailbox, *config_, *accounts_);
  }
  if (res.verdict == address::Verdict::Deliver && !res.mailboxes.empty()) {
    std::string list;
    for (const auto& mb : res.mailboxes) list += (list.empty() ? "<" : ", <") + mb + ">";
    reply(out, ReplyId::VrfyOk, list);
  } else {
    reply(out, ReplyId::VrfyUnknown);
  }
}

void Session::cmd_expn(const Command&, TimePoint, Output& out) { reply(out, ReplyId::NotImplemented); }

void Session::cmd_http(const Command& c, TimePoint, Output& out) {
  reply(out, ReplyId::HttpRefused);
  out.log.push_back("client=" + client_.address + " closed: HTTP command " + sanitize(c.verb_text));
}

bool Session::auth_offered() const {
  return user_.empty() && (security_.tls_active || security_.plaintext_auth);
}

void Session::cmd_starttls(const Command& c, TimePoint, Output& out) {
  if (!c.argument.empty()) {
    error(out, ReplyId::SyntaxParams, "STARTTLS");
    return;
  }
  if (security_.tls_active) {
    error(out, ReplyId::TlsActive);
    return;
  }
  if (!security_.tls_available) {
    reply(out, ReplyId::TlsNotAvailable);
    return;
  }
  reply(out, ReplyId::TlsReady);
  out.action = Action::StartTls;
}

Output Session::on_tls_started(bool ok, std::string_view description) {
  Output out;
  if (!ok) {   // nothing can be said in the clear any more (RFC 3207 4.1)
    state_ = State::Closed;
    out.action = Action::Close;
    return out;
  }
  // RFC 3207 4.2: forget everything learnt before TLS.
  security_.tls_active = true;
  tls_description_ = std::string(description);
  state_ = State::Start;
  helo_.clear();
  esmtp_ = false;
  user_.clear();
  sasl_.reset();
  credentials_ = {};
  lines_ = proto::LineReader(config_->smtp.max_command_line);
  reset_transaction();
  return out;
}

void Session::cmd_auth(const Command& c, TimePoint, Output& out) {
  if (!user_.empty()) {
    error(out, ReplyId::AuthAlready);
    return;
  }
  if (state_ == State::Mail || state_ == State::Rcpt) {
    error(out, ReplyId::AuthInTransaction);
    return;
  }
  if (!auth_offered()) {
    error(out, ReplyId::AuthNeedsTls);
    out.log.push_back("client=" + client_.address + " refused: AUTH before TLS");
    return;
  }
  const std::string_view arg = c.argument;
  const auto sp = arg.find(' ');
  const std::string_view name = arg.substr(0, sp);
  if (name.empty()) {
    error(out, ReplyId::SyntaxParams, "AUTH mechanism [initial-response]");
    return;
  }
  mechanism_ = proto::sasl::parse_mechanism(name);
  if (!mechanism_) {
    error(out, ReplyId::AuthMechanism, sanitize(name));
    return;
  }
  std::optional<std::string_view> initial;
  if (sp != std::string_view::npos) initial = arg.substr(sp + 1);
  sasl_.emplace(*mechanism_);
  auth_step(sasl_->start(initial), out);
}

void Session::auth_step(const proto::sasl::Step& step, Output& out) {
  using Kind = proto::sasl::Step::Kind;
  if (step.kind == Kind::Challenge) {
    reply(out, ReplyId::AuthChallenge, step.challenge);
    return;
  }
  sasl_.reset();
  if (step.kind == Kind::Done) {
    credentials_ = step.credentials;
    out.action = Action::Authenticate;
    return;
  }
  using proto::sasl::Failure;
  switch (step.failure) {
    case Failure::Cancelled:
      error(out, ReplyId::AuthCancelled);
      return;
    case Failure::TooLong:
      error(out, ReplyId::AuthLineTooLong);
      return;
    case Failure::BadBase64:
      error(out, ReplyId::AuthBadResponse);
      return;
    default:
      // Malformed PLAIN, an over-long field, another authorization
      // identity: the same answer as a wrong password.
      error(out, ReplyId::AuthFailed);
      out.log.push_back("client=" + client_.address + " authentication failed: " +
                        std::string(proto::sasl::failure_text(step.failure)));
      out.login_failed = true;
      return;
  }
}

Output Session::on_auth_result(AuthOutcome outcome, std::string mailbox) {
  Output out;
  out.progress = true;
  const std::string mech(mechanism_ ? proto::sasl::mechanism_name(*mechanism_) : "");
  const std::string who = sanitize(credentials_.authcid);
  credentials_ = {};   // the password is not kept
  switch (outcome) {
    case AuthOutcome::Ok:
      user_ = std::move(mailbox);
      reply(out, ReplyId::AuthOk);
      out.log.push_back("client=" + client_.address + " user=" + user_ + " authenticated (" + mech +
                        (security_.tls_active ? ", TLS)" : ", no TLS)"));
      return out;
    case AuthOutcome::Failed:
      error(out, ReplyId::AuthFailed);
      out.log.push_back("client=" + client_.address + " user=" + who + " authentication failed (" + mech + ")");
      return out;
    case AuthOutcome::Blocked:
      reply(out, ReplyId::AuthTemporary);
      out.log.push_back("client=" + client_.address + " user=" + who +
                        " authentication refused unchecked: too many failed logins from this address");
      return out;
    case AuthOutcome::Busy:
      reply(out, ReplyId::AuthTemporary);
      out.log.push_back("client=" + client_.address + " user=" + who +
                        " authentication refused unchecked: the password checker is busy");
      return out;
  }
  return out;
}

Output Session::on_client_check(ClientVerdict verdict, TimePoint now) {
  Output out;
  verdict_ = std::move(verdict);
  check_ = Check::Done;
  if (!waiting_rcpt_.empty() && state_ != State::Closed) {
    const std::string line = std::move(waiting_rcpt_);
    waiting_rcpt_.clear();
    handle_line(line, now, out);
  }
  waiting_rcpt_.clear();
  return out;
}

Output Session::on_timeout() {
  Output out;
  reply(out, ReplyId::Timeout);
  out.log.push_back("client=" + client_.address + " closed: timeout" +
                    (state_ == State::Data ? " in DATA" : ""));
  return out;
}

Output Session::on_evicted() {
  Output out;
  const bool in_data = state_ == State::Data;
  reply(out, ReplyId::IdleEvicted);
  out.log.push_back("client=" + client_.address + " closed: no progress for too long" +
                    (in_data ? " in DATA" : "") + ", connection slot needed");
  return out;
}

Output Session::on_shutdown() {
  Output out;
  reply(out, ReplyId::ShuttingDown);
  return out;
}

std::string rfc5322_date(std::chrono::system_clock::time_point t) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday], tm.tm_mday,
                kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

}  // namespace boxmail::smtp

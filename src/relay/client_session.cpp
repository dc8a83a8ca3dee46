// client_session.cpp - see client_session.hpp.
#include "relay/client_session.hpp"

#include "proto/sasl.hpp"
#include "text/ascii.hpp"
#include "text/number.hpp"

#include <stdexcept>
#include <utility>

namespace boxmail::relay {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

/// A number of 1..3 digits at the start of `s`; advances `s`.
bool take_number(std::string_view& s) {
  std::size_t n = 0;
  while (n < s.size() && n < 4 && is_digit(s[n])) ++n;
  if (n == 0 || n > 3) return false;
  s.remove_prefix(n);
  return true;
}

/// What a recipient address must not hold (sent inside <...> on one line;
/// no SMTPUTF8 here). Returns the local RFC 3463 code, or empty when fine.
std::string_view address_problem(std::string_view a, bool recipient) {
  if (recipient && a.empty()) return "5.1.3";
  for (const char ch : a) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80) return recipient ? "5.6.7" : "5.6.7";
    if (c < 0x20 || c == 0x7f || c == '<' || c == '>') return recipient ? "5.1.3" : "5.1.7";
  }
  return {};
}

/// Transcript text: control octets shown as '?' (the panel and the log
/// show it; a reply cannot add lines to either).
std::string printable(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = '?';
  }
  return out;
}

Status status_of(int code) { return code < 400 ? Status::Accepted : code < 500 ? Status::Temporary : Status::Permanent; }

}  // namespace

std::string_view stage_name(Stage s) {
  switch (s) {
    case Stage::Connect: return "connect";
    case Stage::Greeting: return "greeting";
    case Stage::Ehlo: return "EHLO";
    case Stage::Helo: return "HELO";
    case Stage::StartTls: return "STARTTLS";
    case Stage::Tls: return "TLS handshake";
    case Stage::Auth: return "AUTH";
    case Stage::Mail: return "MAIL FROM";
    case Stage::Rcpt: return "RCPT TO";
    case Stage::Data: return "DATA";
    case Stage::Body: return "end of data";
    case Stage::Rset: return "RSET";
    case Stage::Quit: return "QUIT";
  }
  return "?";
}

std::string_view status_name(Status s) {
  switch (s) {
    case Status::Pending: return "pending";
    case Status::Accepted: return "accepted";
    case Status::Temporary: return "temporary";
    case Status::Permanent: return "permanent";
  }
  return "?";
}

std::string Reply::text() const {
  std::string t;
  for (const auto& l : lines) {
    if (!t.empty()) t += ' ';
    t += l;
  }
  return t;
}

std::string Reply::summary() const {
  std::string t = text();
  return std::to_string(code) + (t.empty() ? "" : " " + t);
}

Status MessageResult::status() const {
  bool all_accepted = true, all_permanent = true;
  for (const auto& r : recipients) {
    if (r.status == Status::Pending) return Status::Pending;
    all_accepted = all_accepted && r.status == Status::Accepted;
    all_permanent = all_permanent && r.status == Status::Permanent;
  }
  if (all_accepted) return Status::Accepted;
  if (all_permanent) return Status::Permanent;
  return Status::Temporary;
}

std::optional<ReplyLine> parse_reply_line(std::string_view line) {
  if (line.size() < 3 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2])) return std::nullopt;
  ReplyLine r;
  r.code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  if (r.code < 200 || r.code > 599) return std::nullopt;
  if (line.size() == 3) return r;
  if (line[3] != ' ' && line[3] != '-') return std::nullopt;
  r.more = line[3] == '-';
  r.text = line.substr(4);
  return r;
}

std::string_view enhanced_code(int code, std::string_view text) {
  if (text.size() < 5 || text[0] != static_cast<char>('0' + code / 100) || text[1] != '.') return {};
  std::string_view rest = text.substr(2);
  if (!take_number(rest) || rest.empty() || rest[0] != '.') return {};
  rest.remove_prefix(1);
  if (!take_number(rest)) return {};
  if (!rest.empty() && rest[0] != ' ' && rest[0] != '\t') return {};
  return text.substr(0, text.size() - rest.size());
}

Stage ClientSession::stage_of(Expect e) {
  switch (e) {
    case Expect::Greeting: return Stage::Greeting;
    case Expect::Ehlo: return Stage::Ehlo;
    case Expect::Helo: return Stage::Helo;
    case Expect::StartTls: return Stage::StartTls;
    case Expect::AuthPlain:
    case Expect::AuthLoginUser:
    case Expect::AuthLoginPass:
    case Expect::AuthDone: return Stage::Auth;
    case Expect::Mail: return Stage::Mail;
    case Expect::Rcpt: return Stage::Rcpt;
    case Expect::Data: return Stage::Data;
    case Expect::Dot:
    case Expect::EmptyDot: return Stage::Body;
    case Expect::Rset: return Stage::Rset;
    case Expect::Quit: return Stage::Quit;
  }
  return Stage::Connect;
}

ClientSession::ClientSession(ClientOptions options, std::vector<OutgoingEnvelope> messages)
    : options_(std::move(options)), messages_(std::move(messages)) {
  if (options_.ehlo_name.empty()) throw std::invalid_argument("ClientSession: empty EHLO name");
  for (const char ch : options_.ehlo_name) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f) throw std::invalid_argument("ClientSession: EHLO name with a blank, control or non-ASCII octet");
  }
  if (options_.tls_on_connect) {
    secure_ = true;
    tried_tls_ = true;
  }
  results_.resize(messages_.size());
  for (std::size_t m = 0; m < messages_.size(); ++m) {
    const std::string_view sender_problem = address_problem(messages_[m].reverse_path, false);
    for (const auto& a : messages_[m].recipients) {
      RecipientResult r;
      r.address = a;
      if (!sender_problem.empty()) {
        decide(r, Status::Permanent, Stage::Mail, nullptr, sender_problem,
               "the sender address cannot be sent in SMTP (control, non-ASCII or angle-bracket octet)");
      } else if (const std::string_view p = address_problem(a, true); !p.empty()) {
        decide(r, Status::Permanent, Stage::Rcpt, nullptr, p,
               a.empty() ? "empty recipient address"
                         : "the recipient address cannot be sent in SMTP (control, non-ASCII or angle-bracket octet)");
      }
      results_[m].recipients.push_back(std::move(r));
    }
  }
  expect_.push_back({Expect::Greeting});
}

void ClientSession::add_transcript(std::string line) {
  if (transcript_full_) return;
  if (transcript_octets_ + line.size() > kMaxTranscript) {
    transcript_full_ = true;
    transcript_.emplace_back("-- transcript truncated");
    return;
  }
  transcript_octets_ += line.size();
  transcript_.push_back(std::move(line));
}

void ClientSession::note(std::string_view text) { add_transcript("-- " + printable(text)); }

std::optional<Stage> ClientSession::waiting_for() const {
  if (closed_ || expect_.empty()) return std::nullopt;
  return stage_of(expect_.front().what);
}

void ClientSession::command(ClientOutput& out, Expect what, std::string line, std::size_t index,
                            std::string_view shown) {
  add_transcript("C: " + printable(shown.empty() ? std::string_view(line) : shown));
  out.send += line;
  out.send += "\r\n";
  expect_.push_back({what, index});
}

void ClientSession::decide(RecipientResult& r, Status status, Stage stage, const Reply* reply,
                           std::string_view enhanced, std::string_view text) {
  r.status = status;
  r.stage = stage;
  if (reply) {
    r.code = reply->code;
    r.enhanced = reply->enhanced.empty() ? std::to_string(reply->code / 100) + ".0.0" : reply->enhanced;
    r.text = reply->text();
    r.remote = true;
  } else {
    r.code = 0;
    r.enhanced = std::string(enhanced);
    r.text = std::string(text);
    r.remote = false;
  }
}

void ClientSession::fail_rest(ClientOutput& out, Status status, Stage stage, const Reply* reply,
                              std::string_view enhanced, std::string_view text, bool send_quit) {
  for (std::size_t m = current_; m < results_.size(); ++m) {
    for (auto& r : results_[m].recipients) {
      if (r.status == Status::Pending) decide(r, status, stage, reply, enhanced, text);
    }
  }
  if (!sent_mail_) host_failed_ = true;
  current_ = results_.size();
  expect_.clear();
  if (reply == nullptr) note(text);
  if (send_quit) {
    quit(out);
  } else {
    out.action = ClientAction::Close;
    closed_ = true;
  }
}

void ClientSession::protocol_error(ClientOutput& out, std::string_view text) {
  const std::optional<Stage> stage = waiting_for();
  fail_rest(out, Status::Temporary, stage.value_or(Stage::Connect), nullptr, "4.5.0", text, false);
}

void ClientSession::quit(ClientOutput& out) {
  current_ = results_.size();
  command(out, Expect::Quit, "QUIT");
}

bool ClientSession::any_accepted() const {
  for (const bool ok : rcpt_ok_) {
    if (ok) return true;
  }
  return false;
}

ClientOutput ClientSession::receive(std::string_view in) {
  ClientOutput out;
  if (closed_) {
    out.action = ClientAction::Close;
    out.used = in.size();
    return out;
  }
  std::size_t pos = 0;
  while (pos < in.size() && out.action == ClientAction::None) {
    const proto::LineReader::Event ev = reader_.next(in.substr(pos));
    pos += ev.consumed;
    if (ev.kind == proto::LineReader::Kind::NeedMore) break;
    if (ev.kind == proto::LineReader::Kind::TooLong) {
      protocol_error(out, "malformed reply: a line longer than " + std::to_string(kMaxReplyLine) + " octets");
      break;
    }
    add_transcript("S: " + printable(ev.line));
    const std::optional<ReplyLine> line = parse_reply_line(ev.line);
    if (!line) {
      protocol_error(out, "malformed reply line: " + printable(ev.line.substr(0, 80)));
      break;
    }
    if (!in_reply_) {
      partial_ = Reply{};
      partial_.code = line->code;
      partial_.enhanced = std::string(enhanced_code(line->code, line->text));
      in_reply_ = true;
    } else if (line->code != partial_.code) {
      protocol_error(out, "malformed reply: a continuation line with another code");
      break;
    }
    if (partial_.lines.size() >= kMaxReplyLines) {
      protocol_error(out, "malformed reply: more than " + std::to_string(kMaxReplyLines) + " lines");
      break;
    }
    partial_.lines.emplace_back(line->text);
    if (line->more) continue;
    in_reply_ = false;
    const Reply reply = std::move(partial_);
    partial_ = Reply{};
    on_reply(reply, out);
  }
  out.used = closed_ ? in.size() : pos;
  return out;
}

void ClientSession::on_reply(const Reply& r, ClientOutput& out) {
  if (expect_.empty()) {
    protocol_error(out, "a reply the client did not ask for: " + printable(r.summary().substr(0, 80)));
    return;
  }
  const Pending p = expect_.front();
  expect_.pop_front();
  const Stage stage = stage_of(p.what);
  if (r.code == 421 && p.what != Expect::Quit) {   // RFC 5321 3.8: the server is closing
    fail_rest(out, Status::Temporary, stage, &r, {}, {}, false);
    return;
  }
  const bool ok = r.code >= 200 && r.code < 300;
  switch (p.what) {
    case Expect::Greeting:
      if (r.code == 220) {
        command(out, Expect::Ehlo, "EHLO " + options_.ehlo_name);
      } else {
        fail_rest(out, Status::Temporary, stage, &r, {}, {}, true);
      }
      return;
    case Expect::Ehlo:
      if (ok) {
        ext_ = Extensions{};
        ext_.esmtp = true;
        for (std::size_t i = 1; i < r.lines.size(); ++i) {
          std::string_view l = r.lines[i];
          const std::size_t sp = l.find_first_of(" =");
          const std::string keyword = text::ascii_lower(l.substr(0, sp));
          const std::string_view params = sp == std::string_view::npos ? std::string_view() : l.substr(sp + 1);
          if (keyword == "pipelining") ext_.pipelining = true;
          if (keyword == "starttls") ext_.starttls = true;
          if (keyword == "8bitmime") ext_.eight_bit_mime = true;
          if (keyword == "size") {
            if (params.empty()) {
              ext_.size = 0;
            } else if (const auto n = text::parse_unsigned<std::uint64_t>(params)) {
              ext_.size = n.value;
            }
          }
          if (keyword == "auth") {
            ext_.auth = true;
            std::string_view rest = params;
            while (!rest.empty()) {
              const std::size_t e = rest.find(' ');
              const std::string_view mech = rest.substr(0, e);
              if (text::iequals(mech, "PLAIN")) ext_.auth_plain = true;
              if (text::iequals(mech, "LOGIN")) ext_.auth_login = true;
              rest = e == std::string_view::npos ? std::string_view() : rest.substr(e + 1);
            }
          }
        }
        after_hello(out);
      } else if (r.code >= 500) {
        note("EHLO refused; trying HELO (no extensions)");
        command(out, Expect::Helo, "HELO " + options_.ehlo_name);
      } else {
        fail_rest(out, Status::Temporary, stage, &r, {}, {}, true);
      }
      return;
    case Expect::Helo:
      if (ok) {
        ext_ = Extensions{};
        after_hello(out);
      } else {
        fail_rest(out, r.code >= 500 ? Status::Permanent : Status::Temporary, stage, &r, {}, {}, true);
      }
      return;
    case Expect::StartTls:
      if (r.code == 220) {
        // Nothing more is read in the clear: the glue drops what it holds
        // unread, and the half line we may hold is dropped here.
        reader_ = proto::LineReader(kMaxReplyLine);
        in_reply_ = false;
        out.action = ClientAction::StartTls;
      } else if (options_.tls == TlsPolicy::Required) {
        fail_rest(out, Status::Temporary, stage, &r, {}, {}, true);
      } else {
        note("STARTTLS refused; going on without TLS");
        after_hello(out);
      }
      return;
    case Expect::AuthPlain:
      if (r.code == 334) {   // we sent an initial response: no challenge is due; cancel (RFC 4954 4)
        command(out, Expect::AuthDone, "*");
        return;
      }
      [[fallthrough]];
    case Expect::AuthDone:
      if (r.code == 235) {
        authenticated_ = true;
        next_message(out);
      } else {
        fail_rest(out, Status::Temporary, stage, &r, {}, {}, true);
      }
      return;
    case Expect::AuthLoginUser:
    case Expect::AuthLoginPass:
      if (r.code != 334) {
        fail_rest(out, Status::Temporary, stage, &r, {}, {}, true);
      } else if (p.what == Expect::AuthLoginUser) {
        command(out, Expect::AuthLoginPass, proto::sasl::encode_base64(options_.auth->user), 0,
                "<credentials hidden>");
      } else {
        command(out, Expect::AuthDone, proto::sasl::encode_base64(options_.auth->password), 0,
                "<credentials hidden>");
      }
      return;
    case Expect::Mail: {
      MessageResult& res = results_[current_];
      if (ok) {
        mail_ok_ = true;
        if (!ext_.pipelining) after_rcpts(out);
        return;
      }
      for (auto& rr : res.recipients) {
        if (rr.status == Status::Pending) decide(rr, status_of(r.code), stage, &r, {}, {});
      }
      if (!ext_.pipelining) finish_message(out);   // else the RCPT and DATA replies still come
      return;
    }
    case Expect::Rcpt: {
      if (!mail_ok_) return;   // pipelined after a refused MAIL: already decided
      RecipientResult& rr = results_[current_].recipients[p.index];
      if (ok) {
        rcpt_ok_[p.index] = true;
      } else {
        decide(rr, status_of(r.code), stage, &r, {}, {});
      }
      if (!ext_.pipelining) after_rcpts(out);
      return;
    }
    case Expect::Data:
      if (r.code == 354) {
        if (mail_ok_ && any_accepted()) {
          sending_body_ = true;
          out.action = ClientAction::SendBody;
        } else {
          // RFC 2920 3.1: DATA was accepted although no RCPT was; end it
          // with an empty message and forget the reply.
          note("DATA accepted without an accepted recipient: sending an empty message to end it");
          command(out, Expect::EmptyDot, ".");
        }
        return;
      }
      if (mail_ok_) {
        for (std::size_t i = 0; i < rcpt_ok_.size(); ++i) {
          if (rcpt_ok_[i]) decide(results_[current_].recipients[i], status_of(r.code) == Status::Accepted
                                                                        ? Status::Temporary : status_of(r.code),
                                  stage, &r, {}, {});
        }
      }
      finish_message(out);
      return;
    case Expect::Dot: {
      MessageResult& res = results_[current_];
      res.final_reply = r;
      for (std::size_t i = 0; i < rcpt_ok_.size(); ++i) {
        if (rcpt_ok_[i]) decide(res.recipients[i], status_of(r.code), stage, &r, {}, {});
      }
      finish_message(out);
      return;
    }
    case Expect::EmptyDot:
      finish_message(out);
      return;
    case Expect::Rset:
      if (ok) {
        begin_transaction(out);
      } else {
        fail_rest(out, Status::Temporary, stage, &r, {}, {}, true);
      }
      return;
    case Expect::Quit:
      out.action = ClientAction::Close;
      closed_ = true;
      return;
  }
}

void ClientSession::after_hello(ClientOutput& out) {
  if (!secure_ && !tried_tls_ && options_.tls != TlsPolicy::None) {
    tried_tls_ = true;
    if (ext_.starttls) {
      command(out, Expect::StartTls, "STARTTLS");
      return;
    }
    if (options_.tls == TlsPolicy::Required) {
      fail_rest(out, Status::Temporary, Stage::StartTls, nullptr, "4.7.10",
                "TLS is required, but the server does not offer STARTTLS", true);
      return;
    }
    note("the server does not offer STARTTLS; going on without TLS");
  }
  if (options_.auth && !authenticated_) {
    if (ext_.auth) {
      start_auth(out);
      return;
    }
    note("the server does not offer AUTH; going on without it");
  }
  next_message(out);
}

void ClientSession::start_auth(ClientOutput& out) {
  if (!secure_ && !options_.allow_plaintext_auth) {
    fail_rest(out, Status::Temporary, Stage::Auth, nullptr, "4.7.10",
              "the server offers AUTH without TLS: the credentials are not sent in the clear", true);
    return;
  }
  const AuthCredentials& c = *options_.auth;
  if (ext_.auth_plain) {
    std::string message;
    message += '\0';
    message += c.user;
    message += '\0';
    message += c.password;
    command(out, Expect::AuthPlain, "AUTH PLAIN " + proto::sasl::encode_base64(message), 0,
            "AUTH PLAIN <credentials hidden>");
  } else if (ext_.auth_login) {
    command(out, Expect::AuthLoginUser, "AUTH LOGIN");
  } else {
    fail_rest(out, Status::Temporary, Stage::Auth, nullptr, "4.7.0",
              "no AUTH mechanism in common: the server offers neither PLAIN nor LOGIN", true);
  }
}

void ClientSession::next_message(ClientOutput& out) {
  if (stopping_) {
    for (; current_ < messages_.size(); ++current_) {
      for (auto& r : results_[current_].recipients) {
        if (r.status != Status::Pending) continue;
        decide(r, Status::Temporary, Stage::Mail, nullptr, "4.3.2", "not tried: the client is stopping");
        r.tried = false;
      }
    }
    note("stopping: no further transaction");
  }
  for (; current_ < messages_.size(); ++current_) {
    MessageResult& res = results_[current_];
    bool pending = false;
    for (const auto& r : res.recipients) pending = pending || r.status == Status::Pending;
    if (!pending) continue;   // every recipient failed before the dialogue (address syntax)
    const std::uint64_t size = messages_[current_].size;
    if (ext_.size && *ext_.size > 0 && size > *ext_.size) {
      const std::string why = "message of " + std::to_string(size) + " octets is larger than the server's limit (SIZE " +
                              std::to_string(*ext_.size) + "); not sent";
      for (auto& r : res.recipients) {
        if (r.status == Status::Pending) decide(r, Status::Permanent, Stage::Mail, nullptr, "5.3.4", why);
      }
      note(why);
      continue;
    }
    break;
  }
  if (current_ == messages_.size()) {
    quit(out);
  } else if (sent_mail_) {
    command(out, Expect::Rset, "RSET");
  } else {
    begin_transaction(out);
  }
}

std::string ClientSession::size_and_body_params(const OutgoingEnvelope& m) const {
  std::string p;
  if (ext_.size) p += " SIZE=" + std::to_string(m.size);
  if (m.eight_bit && ext_.eight_bit_mime) p += " BODY=8BITMIME";
  return p;
}

void ClientSession::begin_transaction(ClientOutput& out) {
  const OutgoingEnvelope& m = messages_[current_];
  sent_mail_ = true;
  mail_ok_ = false;
  next_rcpt_ = 0;
  rcpt_ok_.assign(m.recipients.size(), false);
  command(out, Expect::Mail, "MAIL FROM:<" + m.reverse_path + ">" + size_and_body_params(m));
  if (!ext_.pipelining) return;
  // RFC 2920 3.1: MAIL, the RCPTs and DATA in one group, DATA last.
  for (std::size_t i = 0; i < m.recipients.size(); ++i) {
    if (results_[current_].recipients[i].status == Status::Pending) {
      command(out, Expect::Rcpt, "RCPT TO:<" + m.recipients[i] + ">", i);
    }
  }
  command(out, Expect::Data, "DATA");
}

void ClientSession::after_rcpts(ClientOutput& out) {
  // Without pipelining: the next RCPT not yet asked, or DATA, or the end.
  const MessageResult& res = results_[current_];
  for (; next_rcpt_ < res.recipients.size(); ++next_rcpt_) {
    if (res.recipients[next_rcpt_].status == Status::Pending) {
      const std::size_t i = next_rcpt_++;
      command(out, Expect::Rcpt, "RCPT TO:<" + messages_[current_].recipients[i] + ">", i);
      return;
    }
  }
  if (any_accepted()) {
    command(out, Expect::Data, "DATA");
  } else {
    finish_message(out);
  }
}

void ClientSession::finish_message(ClientOutput& out) {
  for (auto& r : results_[current_].recipients) {
    if (r.status == Status::Pending) {   // cannot happen with a well-behaved flow; never leave one open
      decide(r, Status::Temporary, Stage::Body, nullptr, "4.5.0", "no reply decided this recipient");
    }
  }
  rcpt_ok_.clear();
  mail_ok_ = false;
  ++current_;
  next_message(out);
}

ClientOutput ClientSession::tls_started(bool ok, std::string_view why) {
  ClientOutput out;
  if (closed_) {
    out.action = ClientAction::Close;
    return out;
  }
  if (!ok) {
    tls_failed_ = true;
    std::string text = "the TLS handshake failed";
    if (!why.empty()) text += ": " + printable(why);
    fail_rest(out, Status::Temporary, Stage::Tls, nullptr, "4.7.5", text, false);
    return out;
  }
  secure_ = true;
  ext_ = Extensions{};   // RFC 3207 4.2: forget what the server said in the clear
  command(out, Expect::Ehlo, "EHLO " + options_.ehlo_name);
  return out;
}

ClientOutput ClientSession::body_sent() {
  ClientOutput out;
  if (closed_) {
    out.action = ClientAction::Close;
    return out;
  }
  sending_body_ = false;
  results_[current_].body_sent = true;
  add_transcript("C: <message body>");
  add_transcript("C: .");
  expect_.push_back({Expect::Dot});
  return out;
}

ClientOutput ClientSession::connect_failed(std::string_view why) {
  ClientOutput out;
  if (closed_) {
    out.action = ClientAction::Close;
    return out;
  }
  fail_rest(out, Status::Temporary, Stage::Connect, nullptr, "4.4.1", why, false);
  return out;
}

ClientOutput ClientSession::connection_lost(std::string_view why, LossCause cause) {
  ClientOutput out;
  if (closed_) {
    out.action = ClientAction::Close;
    return out;
  }
  const std::string what = cause == LossCause::Timeout ? "timed out" : "lost connection";
  std::string text;
  Stage stage = Stage::Connect;
  if (sending_body_) {
    stage = Stage::Body;
    text = what + " while sending the message body";
  } else if (const std::optional<Stage> s = waiting_for()) {
    stage = *s;
    text = what + " while waiting for the reply to " + std::string(stage_name(stage));
  } else {
    text = what;
  }
  if (!why.empty()) text += ": " + std::string(why);
  fail_rest(out, Status::Temporary, stage, nullptr, "4.4.2", text, false);
  return out;
}

}  // namespace boxmail::relay

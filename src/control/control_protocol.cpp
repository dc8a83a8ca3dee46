// control_protocol.cpp - see control_protocol.hpp.
#include "control/control_protocol.hpp"

#include "address/mailbox.hpp"
#include "store/maildir_name.hpp"

#include "text/ascii.hpp"
#include "text/number.hpp"

#include <algorithm>

namespace boxmail::control {
namespace {

/// The two sizes of "tls-install CHAIN KEY" into `r` (or its error).
void parse_tls_install(std::string_view arg, Request& r) {
  r.verb = Verb::TlsInstall;
  const auto sp = arg.find(' ');
  const auto usage = "usage: tls-install CHAIN_OCTETS KEY_OCTETS (the PEM chain and key follow the line)";
  if (sp == std::string_view::npos) {
    r.error = usage;
    return;
  }
  const auto chain = text::parse_unsigned<std::size_t>(arg.substr(0, sp), kMaxTlsUpload);
  const auto key = text::parse_unsigned<std::size_t>(arg.substr(sp + 1), kMaxTlsUpload);
  for (const auto* n : {&chain, &key}) {
    if (n->error == text::NumberError::Empty || n->error == text::NumberError::NotANumber) {
      r.error = usage;
      return;
    }
  }
  if (!chain || !key || chain.value < 1 || key.value < 1) {
    r.error = "tls-install: the chain and the key must be 1.." + std::to_string(kMaxTlsUpload) + " octets each";
    return;
  }
  if (chain.value + key.value > kMaxTlsUpload) {
    r.error = "tls-install: the chain and the key are " + std::to_string(chain.value + key.value) +
              " octets together; at most " + std::to_string(kMaxTlsUpload);
    return;
  }
  r.chain_octets = chain.value;
  r.key_octets = key.value;
}

/// The two sizes of "smarthost-login USER PASS" into `r` (or its error).
void parse_smarthost_login(std::string_view arg, Request& r) {
  r.verb = Verb::SmarthostLogin;
  const auto sp = arg.find(' ');
  const auto usage = "usage: smarthost-login USER_OCTETS PASSWORD_OCTETS (the user name and password follow the line)";
  if (sp == std::string_view::npos) {
    r.error = usage;
    return;
  }
  const auto user = text::parse_unsigned<std::size_t>(arg.substr(0, sp), kMaxSmarthostUser);
  const auto pass = text::parse_unsigned<std::size_t>(arg.substr(sp + 1), kMaxSmarthostPassword);
  for (const auto* n : {&user, &pass}) {
    if (n->error == text::NumberError::Empty || n->error == text::NumberError::NotANumber) {
      r.error = usage;
      return;
    }
  }
  if (!user || user.value < 1) {
    r.error = "smarthost-login: the user name must be 1.." + std::to_string(kMaxSmarthostUser) + " octets";
    return;
  }
  if (!pass || pass.value < 1) {
    r.error = "smarthost-login: the password must be 1.." + std::to_string(kMaxSmarthostPassword) + " octets";
    return;
  }
  r.user_octets = user.value;
  r.password_octets = pass.value;
}

/// Whether `text` is one whole path (angle brackets optional): its
/// mailbox in RFC 5321 form ("" for <>), or the parser's error.
struct WholePath {
  bool ok = false;
  std::string mailbox;
  std::string error;
};
WholePath whole_path(std::string_view text, bool reverse) {
  WholePath w;
  const std::string path = text.starts_with('<') ? std::string(text) : "<" + std::string(text) + ">";
  const address::PathResult p = reverse ? address::parse_reverse_path(path) : address::parse_forward_path(path);
  w.ok = !text.empty() && p.error.empty() && p.end == path.size();
  w.error = p.error;
  if (w.ok && !p.null_path) w.mailbox = p.mailbox.to_string();
  return w;
}

/// "relay-test ADDRESS [SENDER]" into `r` (or its error).
void parse_relay_test(std::string_view arg, Request& r) {
  r.verb = Verb::RelayTest;
  if (arg.empty()) {
    r.error = "usage: relay-test ADDRESS [SENDER]";
    return;
  }
  std::string_view to = arg, from;
  if (!whole_path(arg, false).ok) {
    if (const auto sp = arg.rfind(' '); sp != std::string_view::npos) {
      to = arg.substr(0, sp);
      from = arg.substr(sp + 1);
    }
  }
  const WholePath rcpt = whole_path(to, false);
  if (!rcpt.ok) {
    r.error = "relay-test: not an e-mail address" + (rcpt.error.empty() ? std::string() : ": " + rcpt.error);
    return;
  }
  if (!from.empty()) {
    const WholePath sender = whole_path(from, true);
    if (!sender.ok) {
      r.error = "relay-test: the sender is not an e-mail address" +
                (sender.error.empty() ? std::string() : ": " + sender.error);
      return;
    }
    r.sender = sender.mailbox;
  }
  r.address = std::string(to);
}

/// True when `s` holds a control character or DEL.
bool has_control(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

}  // namespace

std::string smarthost_login_line(std::size_t user_octets, std::size_t password_octets) {
  return "smarthost-login " + std::to_string(user_octets) + " " + std::to_string(password_octets);
}

SmarthostLoginSplit split_smarthost_login(const Request& request, std::string_view payload) {
  SmarthostLoginSplit out;
  if (request.verb != Verb::SmarthostLogin || !request.error.empty() || payload.size() != request.payload()) {
    out.error = "smarthost-login: " + std::to_string(request.payload()) + " octets announced, " +
                std::to_string(payload.size()) + " sent";
    return out;
  }
  const std::string_view user = payload.substr(0, request.user_octets);
  const std::string_view password = payload.substr(request.user_octets);
  if (user.find(':') != std::string_view::npos) {
    out.error = "the user name may not contain ':'";
  } else if (has_control(user)) {
    out.error = "the user name may not contain control characters";
  } else if (has_control(password)) {
    out.error = "the password may not contain control characters (line ends, NUL)";
  } else {
    out.login = SmarthostLogin{user, password};
  }
  return out;
}

std::string tls_install_line(std::size_t chain_octets, std::size_t key_octets) {
  return "tls-install " + std::to_string(chain_octets) + " " + std::to_string(key_octets);
}

std::optional<TlsUpload> split_tls_upload(const Request& request, std::string_view payload) {
  if (request.verb != Verb::TlsInstall || !request.error.empty() || payload.size() != request.payload()) {
    return std::nullopt;
  }
  return TlsUpload{payload.substr(0, request.chain_octets), payload.substr(request.chain_octets)};
}

Request parse_request(std::string_view line) {
  Request r;
  if (line.ends_with('\n')) line.remove_suffix(1);
  if (line.ends_with('\r')) line.remove_suffix(1);
  if (line.size() > kMaxRequestLine) {
    r.error = "request line too long";
    return r;
  }
  for (char c : line) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      r.error = "control character in request";
      return r;
    }
  }
  const auto sp = line.find(' ');
  const std::string verb = text::ascii_lower(line.substr(0, sp));
  const std::string_view arg = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
  if (verb == "status" || verb == "reload" || verb == "stats" || verb == "tls" || verb == "tls-regenerate" ||
      verb == "smarthost-login-clear") {
    if (!arg.empty()) {
      r.error = verb + " takes no argument";
      return r;
    }
    r.verb = verb == "status"   ? Verb::Status
             : verb == "reload" ? Verb::Reload
             : verb == "stats"  ? Verb::Stats
             : verb == "tls"    ? Verb::Tls
             : verb == "tls-regenerate" ? Verb::TlsRegenerate
                                        : Verb::SmarthostLoginClear;
    return r;
  }
  if (verb == "tls-install") {
    parse_tls_install(arg, r);
    return r;
  }
  if (verb == "smarthost-login") {
    parse_smarthost_login(arg, r);
    return r;
  }
  if (verb == "queue") {
    r.verb = Verb::Queue;
    const auto sp2 = arg.find(' ');
    const std::string action = text::ascii_lower(arg.substr(0, sp2));
    const std::string_view id = sp2 == std::string_view::npos ? std::string_view() : arg.substr(sp2 + 1);
    static constexpr char kUsage[] = "usage: queue list|flush, queue show|delete|retry QUEUE-ID";
    if (action == "list" || action == "flush") {
      if (!id.empty()) {
        r.error = "queue " + action + " takes no argument";
        return r;
      }
      r.queue_action = action == "list" ? QueueAction::List : QueueAction::Flush;
      return r;
    }
    if (action == "show" || action == "delete" || action == "retry") {
      if (!store::parse_queue_id(id)) {
        r.error = id.empty() ? std::string(kUsage) : "queue " + action + ": not a queue id";
        return r;
      }
      r.queue_action = action == "show" ? QueueAction::Show : action == "delete" ? QueueAction::Delete : QueueAction::Retry;
      r.queue_id = std::string(id);
      return r;
    }
    r.error = kUsage;
    return r;
  }
  if (verb == "relay-test") {
    parse_relay_test(arg, r);
    return r;
  }
  if (verb == "ban" || verb == "unban") {
    r.verb = verb == "ban" ? Verb::Ban : Verb::Unban;
    std::vector<std::string_view> words;
    for (std::size_t start = 0; start < arg.size();) {
      const auto end = std::min(arg.find(' ', start), arg.size());
      if (end > start) words.push_back(arg.substr(start, end - start));
      start = end + 1;
    }
    if (verb == "unban") {
      if (words.size() != 1) r.error = "usage: unban ADDRESS";
      else r.address = std::string(words[0]);
      return r;
    }
    if (words.size() < 2 || words.size() > 3) {
      r.error = "usage: ban ADDRESS SECONDS [REASON]";
      return r;
    }
    const auto n = text::parse_unsigned<unsigned>(words[1], kMaxBanSeconds);
    if (!n || n.value < 1) {
      r.error = "ban: SECONDS must be 1.." + std::to_string(kMaxBanSeconds);
      return r;
    }
    r.address = std::string(words[0]);
    r.seconds = n.value;
    r.reason = words.size() == 3 ? std::string(words[2]) : "manual";
    return r;
  }
  if (verb == "bans") {
    r.verb = Verb::Bans;
    if (!arg.empty()) r.error = "bans takes no argument";
    return r;
  }
  if (verb == "login-failed") {
    r.verb = Verb::LoginFailed;
    if (arg.empty() || arg.find(' ') != std::string_view::npos) r.error = "usage: login-failed ADDRESS";
    r.address = std::string(arg);
    return r;
  }
  if (verb == "log") {
    r.verb = Verb::Log;
    const auto n = text::parse_unsigned<unsigned>(arg, kMaxLogLines);
    if (n.error == text::NumberError::Empty || n.error == text::NumberError::NotANumber) {
      r.error = "usage: log N (1.." + std::to_string(kMaxLogLines) + ")";
      return r;
    }
    if (!n || n.value < 1) {
      r.error = "log: N must be 1.." + std::to_string(kMaxLogLines);
      return r;
    }
    r.count = n.value;
    return r;
  }
  r.error = verb.empty() ? "empty request"
                         : "unknown request (status, reload, log N, stats, tls, tls-install CHAIN KEY, tls-regenerate, "
                           "smarthost-login USER PASS, smarthost-login-clear, queue ..., relay-test ADDRESS [SENDER], "
                           "ban ADDRESS SECONDS [REASON], unban ADDRESS, bans, login-failed ADDRESS)";
  return r;
}

std::string format_reply(const Reply& reply) {
  std::string out = reply.ok ? "ok" : "error";
  if (!reply.head.empty()) {
    out += ' ';
    for (char c : reply.head) out += (c == '\r' || c == '\n') ? ' ' : c;
  }
  out += '\n';
  for (const std::string& l : reply.lines) {
    if (!l.empty() && l.front() == '.') out += '.';
    for (char c : l) out += (c == '\r' || c == '\n') ? ' ' : c;
    out += '\n';
  }
  out += ".\n";
  return out;
}

ReplyParse parse_reply(std::string_view text) {
  ReplyParse p;
  bool head = true;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto nl = text.find('\n', pos);
    if (nl == std::string_view::npos) return p;   // a partial line: not complete
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (head) {
      head = false;
      if (line == "ok" || line.starts_with("ok ")) {
        p.reply.ok = true;
        p.reply.head = std::string(line.substr(line.size() > 2 ? 3 : 2));
      } else if (line == "error" || line.starts_with("error ")) {
        p.reply.ok = false;
        p.reply.head = std::string(line.substr(line.size() > 5 ? 6 : 5));
      } else {
        p.error = "malformed reply head";
        return p;
      }
      continue;
    }
    if (line == ".") {
      p.complete = true;
      return p;
    }
    if (line.starts_with('.')) line.remove_prefix(1);
    p.reply.lines.emplace_back(line);
  }
  return p;
}

}  // namespace boxmail::control

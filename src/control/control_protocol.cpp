// control_protocol.cpp - see control_protocol.hpp.
#include "control/control_protocol.hpp"

#include "text/ascii.hpp"
#include "text/number.hpp"

namespace boxmail::control {
namespace {
}  // namespace

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
  if (verb == "status" || verb == "reload" || verb == "stats") {
    if (!arg.empty()) {
      r.error = verb + " takes no argument";
      return r;
    }
    r.verb = verb == "status" ? Verb::Status : verb == "reload" ? Verb::Reload : Verb::Stats;
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
  r.error = verb.empty() ? "empty request" : "unknown request (status, reload, log N, stats)";
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

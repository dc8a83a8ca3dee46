// command_parser.cpp - see command_parser.hpp.
#include "smtp/command_parser.hpp"

#include "text/ascii.hpp"
#include "text/number.hpp"

#include <array>
#include <utility>

namespace boxmail::smtp {
namespace {

constexpr std::array<std::pair<std::string_view, Verb>, 18> kVerbs{{
    {"HELO", Verb::Helo}, {"EHLO", Verb::Ehlo}, {"MAIL", Verb::Mail}, {"RCPT", Verb::Rcpt},
    {"DATA", Verb::Data}, {"RSET", Verb::Rset}, {"NOOP", Verb::Noop}, {"QUIT", Verb::Quit},
    {"HELP", Verb::Help}, {"VRFY", Verb::Vrfy}, {"EXPN", Verb::Expn}, {"GET", Verb::Http},
    {"POST", Verb::Http}, {"HEAD", Verb::Http}, {"PUT", Verb::Http}, {"CONNECT", Verb::Http},
    {"STARTTLS", Verb::StartTls}, {"AUTH", Verb::Auth},
}};

/// Splits "KEY[=VALUE] KEY[=VALUE]..." and calls f(key, value, has_value)
/// for each; stops when f returns false.
template <class F>
void for_each_param(std::string_view s, F&& f) {
  while (!s.empty()) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    if (s.empty()) break;
    auto sp = s.find(' ');
    std::string_view item = s.substr(0, sp);
    s = sp == std::string_view::npos ? std::string_view{} : s.substr(sp);
    auto eq = item.find('=');
    if (!f(item.substr(0, eq), eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1),
           eq != std::string_view::npos))
      return;
  }
}

}  // namespace

Command parse_command(std::string_view line) {
  Command cmd;
  auto sp = line.find(' ');
  cmd.verb_text = line.substr(0, sp);
  if (sp != std::string_view::npos) cmd.argument = line.substr(sp + 1);
  for (const auto& [name, verb] : kVerbs) {
    if (text::iequals(cmd.verb_text, name)) {
      cmd.verb = verb;
      break;
    }
  }
  return cmd;
}

MailFrom parse_mail_from(std::string_view argument) {
  MailFrom r;
  if (!text::istarts_with(argument, "FROM:")) {
    r.error = ReplyId::SyntaxParams;
    r.error_arg = "MAIL FROM:<address>";
    return r;
  }
  argument.remove_prefix(5);
  r.path = address::parse_reverse_path(argument);
  if (!r.path.error.empty()) {
    r.error = ReplyId::BadSender;
    r.error_arg = r.path.error;
    return r;
  }
  std::string_view rest = argument.substr(r.path.end);
  if (!rest.empty() && rest.front() != ' ') {
    r.error = ReplyId::BadSender;
    r.error_arg = "garbage after the address";
    return r;
  }
  for_each_param(rest, [&](std::string_view key, std::string_view value, bool has_value) {
    if (text::iequals(key, "SIZE")) {
      const auto n = text::parse_unsigned<std::uint64_t>(value);
      if (!has_value || !n) {
        r.error = ReplyId::SyntaxParams;
        r.error_arg = "SIZE=<octets>";
        return false;
      }
      r.size = n.value;
    } else if (text::iequals(key, "BODY")) {
      if (text::iequals(value, "7BIT")) {
        r.body = Body::SevenBit;
      } else if (text::iequals(value, "8BITMIME")) {
        r.body = Body::EightBitMime;
      } else {
        r.error = ReplyId::SyntaxParams;
        r.error_arg = "BODY=7BIT or BODY=8BITMIME";
        return false;
      }
    } else {
      r.error = ReplyId::UnknownParam;
      r.error_arg = std::string(key);
      return false;
    }
    return true;
  });
  return r;
}

RcptTo parse_rcpt_to(std::string_view argument) {
  RcptTo r;
  if (!text::istarts_with(argument, "TO:")) {
    r.error = ReplyId::SyntaxParams;
    r.error_arg = "RCPT TO:<address>";
    return r;
  }
  argument.remove_prefix(3);
  r.path = address::parse_forward_path(argument);
  if (!r.path.error.empty()) {
    r.error = ReplyId::BadRecipient;
    r.error_arg = r.path.error;
    return r;
  }
  std::string_view rest = argument.substr(r.path.end);
  if (!rest.empty() && rest.front() != ' ') {
    r.error = ReplyId::BadRecipient;
    r.error_arg = "garbage after the address";
    return r;
  }
  for_each_param(rest, [&](std::string_view key, std::string_view, bool) {
    r.error = ReplyId::UnknownParam;
    r.error_arg = std::string(key);
    return false;
  });
  return r;
}

}  // namespace boxmail::smtp

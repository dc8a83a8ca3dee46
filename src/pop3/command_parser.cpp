// command_parser.cpp - see command_parser.hpp.
#include "pop3/command_parser.hpp"

#include "proto/sasl.hpp"
#include "text/ascii.hpp"
#include "text/number.hpp"

#include <array>
#include <limits>

namespace boxmail::pop3 {
namespace {

char upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

struct VerbName {
  std::string_view name;
  Verb verb;
};

constexpr std::array<VerbName, 20> kVerbs{{
    {"USER", Verb::User}, {"PASS", Verb::Pass}, {"QUIT", Verb::Quit}, {"STAT", Verb::Stat},
    {"LIST", Verb::List}, {"RETR", Verb::Retr}, {"DELE", Verb::Dele}, {"NOOP", Verb::Noop},
    {"RSET", Verb::Rset}, {"TOP", Verb::Top},   {"UIDL", Verb::Uidl}, {"CAPA", Verb::Capa},
    {"AUTH", Verb::Auth}, {"STLS", Verb::Stls}, {"APOP", Verb::Apop}, {"GET", Verb::Http},
    {"POST", Verb::Http}, {"HEAD", Verb::Http}, {"PUT", Verb::Http},  {"CONNECT", Verb::Http},
}};

}  // namespace

Command parse_command(std::string_view line) {
  Command c;
  const auto sp = line.find(' ');
  c.verb_text = line.substr(0, sp);
  if (sp != std::string_view::npos) c.argument = line.substr(sp + 1);
  for (const auto& v : kVerbs) {
    if (text::iequals(c.verb_text, v.name)) {
      c.verb = v.verb;
      break;
    }
  }
  return c;
}

Numbers parse_numbers(std::string_view argument, std::size_t min, std::size_t max, std::string_view usage) {
  Numbers n;
  std::size_t pos = 0;
  while (pos < argument.size()) {
    const auto sp = argument.find(' ', pos);
    const std::string_view item = argument.substr(pos, sp == std::string_view::npos ? sp : sp - pos);
    const auto v = text::parse_unsigned<std::uint64_t>(item, std::numeric_limits<std::uint32_t>::max());
    if (!v || n.values.size() >= max) {
      n.values.clear();
      n.error = std::string(usage);
      return n;
    }
    n.values.push_back(v.value);
    if (sp == std::string_view::npos) break;
    pos = sp + 1;
    if (pos == argument.size()) {   // a trailing space
      n.values.clear();
      n.error = std::string(usage);
      return n;
    }
  }
  if (n.values.size() < min) {
    n.values.clear();
    n.error = std::string(usage);
  }
  return n;
}

AuthArgs parse_auth(std::string_view argument) {
  AuthArgs a;
  if (argument.empty()) return a;
  const auto sp = argument.find(' ');
  for (char c : argument.substr(0, sp)) a.mechanism += upper(c);
  if (a.mechanism.empty()) {
    a.error = "AUTH mechanism [initial-response]";
    return a;
  }
  if (sp != std::string_view::npos) {
    const std::string_view rest = argument.substr(sp + 1);
    if (rest.empty() || rest.find(' ') != std::string_view::npos) {
      a.error = "AUTH mechanism [initial-response]";
      return a;
    }
    a.initial = rest;
  }
  return a;
}

std::optional<std::string> base64_decode(std::string_view in) {
  // The line limit bounds the length before this is called.
  proto::sasl::Decoded d = proto::sasl::decode_base64(in, in.size());
  if (d.failure != proto::sasl::Failure::None) return std::nullopt;
  return std::move(d.data);
}

std::string base64_encode(std::string_view in) { return proto::sasl::encode_base64(in); }

PlainCredentials parse_plain(std::string_view decoded) {
  PlainCredentials p;
  const auto a = decoded.find('\0');
  if (a == std::string_view::npos) return p;
  const auto b = decoded.find('\0', a + 1);
  if (b == std::string_view::npos) return p;
  if (decoded.find('\0', b + 1) != std::string_view::npos) return p;
  p.authzid = std::string(decoded.substr(0, a));
  p.authcid = std::string(decoded.substr(a + 1, b - a - 1));
  p.password = std::string(decoded.substr(b + 1));
  p.ok = !p.authcid.empty();
  return p;
}

std::string login_mailbox(std::string_view login) {
  const auto at = login.rfind('@');
  if (at != std::string_view::npos) login = login.substr(0, at);
  std::string out;
  out.reserve(login.size());
  for (char c : login) out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return out;
}

}  // namespace boxmail::pop3

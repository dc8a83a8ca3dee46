// command_parser.cpp - see command_parser.hpp.
#include "pop3/command_parser.hpp"

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

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

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
  if (in.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (std::size_t i = 0; i < in.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = in[i + static_cast<std::size_t>(k)];
      if (c == '=') {
        // Padding only in the last group's last one or two places.
        if (i + 4 != in.size() || k < 2) return std::nullopt;
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return std::nullopt;
      v[k] = b64_value(c);
      if (v[k] < 0) return std::nullopt;
    }
    const unsigned triple = (static_cast<unsigned>(v[0]) << 18) | (static_cast<unsigned>(v[1]) << 12) |
                            (static_cast<unsigned>(v[2]) << 6) | static_cast<unsigned>(v[3]);
    out += static_cast<char>((triple >> 16) & 0xff);
    if (pad < 2) out += static_cast<char>((triple >> 8) & 0xff);
    if (pad < 1) out += static_cast<char>(triple & 0xff);
  }
  return out;
}

std::string base64_encode(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const unsigned t = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(t >> 18) & 63];
    out += kAlphabet[(t >> 12) & 63];
    out += kAlphabet[(t >> 6) & 63];
    out += kAlphabet[t & 63];
  }
  if (i < in.size()) {
    unsigned t = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) t |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kAlphabet[(t >> 18) & 63];
    out += kAlphabet[(t >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(t >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

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

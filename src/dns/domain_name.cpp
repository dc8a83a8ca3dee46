// domain_name.cpp - see domain_name.hpp.
#include "dns/domain_name.hpp"

#include "text/ascii.hpp"
#include "text/number.hpp"

#include <arpa/inet.h>

namespace boxmail::dns {
namespace {

constexpr std::size_t kMaxNameText = 253;   // 255 octets in wire form (RFC 1035 2.3.4)
constexpr std::size_t kMaxLabel = 63;

constexpr bool is_let_dig(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool numeric_address(const std::string& text, bool& v6) {
  unsigned char buf[16];
  if (::inet_pton(AF_INET, text.c_str(), buf) == 1) {
    v6 = false;
    return true;
  }
  if (::inet_pton(AF_INET6, text.c_str(), buf) == 1) {
    v6 = true;
    return true;
  }
  return false;
}

}  // namespace

std::string_view describe(NameError e) {
  switch (e) {
    case NameError::None: return "is a domain name";
    case NameError::Empty: return "is empty";
    case NameError::TooLong: return "is longer than 253 octets";
    case NameError::EmptyLabel: return "has an empty label";
    case NameError::LabelTooLong: return "has a label longer than 63 octets";
    case NameError::BadCharacter: return "has a character that is not a letter, digit or hyphen";
    case NameError::BadHyphen: return "has a label that starts or ends with a hyphen";
  }
  return "is not a domain name";
}

NameError check_name(std::string_view name, NameKind kind) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty()) return NameError::Empty;
  if (name.size() > kMaxNameText) return NameError::TooLong;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = name.find('.', start);
    const std::string_view label = name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty()) return NameError::EmptyLabel;
    if (label.size() > kMaxLabel) return NameError::LabelTooLong;
    for (const char c : label) {
      if (is_let_dig(c) || c == '-') continue;
      if (c == '_' && kind == NameKind::Lookup) continue;
      return NameError::BadCharacter;
    }
    if (kind == NameKind::Host && (label.front() == '-' || label.back() == '-')) return NameError::BadHyphen;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return NameError::None;
}

std::optional<std::string> normalize_name(std::string_view name, NameKind kind) {
  if (check_name(name, kind) != NameError::None) return std::nullopt;
  if (name.back() == '.') name.remove_suffix(1);
  return text::ascii_lower(name);
}

std::optional<NameServer> parse_name_server(std::string_view text, std::string& error) {
  const auto fail = [&](std::string_view why) -> std::optional<NameServer> {
    error = "name server '" + std::string(text) + "' " + std::string(why);
    return std::nullopt;
  };
  NameServer s;
  std::string_view address = text;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return fail("has no closing ']'");
    address = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return fail("has text after ']' that is not ':port'");
      port = rest.substr(1);
      if (port.empty()) return fail("has an empty port");
    }
  } else if (const auto colon = text.find(':');
             colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
    address = text.substr(0, colon);   // one colon: IPv4 address and port
    port = text.substr(colon + 1);
    if (port.empty()) return fail("has an empty port");
  }
  s.address = std::string(address);
  if (s.address.empty() || !numeric_address(s.address, s.v6)) {
    return fail("is not a numeric IP address (expected e.g. 192.0.2.53, 192.0.2.53:5353, 2001:db8::53 or [2001:db8::53]:5353)");
  }
  if (text.front() == '[' && !s.v6) return fail("has brackets around an IPv4 address");
  if (!port.empty()) {
    const auto n = text::parse_unsigned<std::uint16_t>(port, 65535);
    if (!n || n.value == 0) return fail("has a port that is not 1..65535");
    s.port = n.value;
  }
  return s;
}

}  // namespace boxmail::dns

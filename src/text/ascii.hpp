// ascii.hpp - ASCII case helpers for protocol text (pure, header-only).
//
// SMTP verbs, POP3 commands, domains, mailbox names, INI keys and HTTP
// header names compare case-insensitively in ASCII only (RFC 5321 2.4,
// RFC 1939 3, RFC 5234 2.3); these never depend on the C locale.
#pragma once

#include <string>
#include <string_view>

namespace boxmail::text {

/// 'A'..'Z' -> 'a'..'z'; every other octet unchanged.
constexpr char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

/// The value of one hexadecimal digit (0-9, a-f, A-F), -1 for any other
/// octet. Used by percent-decoding (RFC 3986 2.1: URL forms, the control
/// protocol's escaped words).
constexpr int hex_digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// `s` with ASCII upper case letters lowered.
inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

/// ASCII case-insensitive equality.
constexpr bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

/// ASCII case-insensitive prefix test.
constexpr bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

}  // namespace boxmail::text

// session.cpp - see session.hpp.
#include "cgi/session.hpp"

#include "proto/sasl.hpp"
#include "text/lines.hpp"
#include "text/number.hpp"

#include <limits>

namespace boxmail::cgi {

namespace {
/// Unix seconds: a non-negative decimal that fits std::int64_t (text/number.hpp).
bool unix_seconds(std::string_view s, std::int64_t& out) {
  const auto n = text::parse_unsigned<std::uint64_t>(s, std::numeric_limits<std::int64_t>::max());
  if (!n) return false;
  out = static_cast<std::int64_t>(n.value);
  return true;
}
}  // namespace

std::string hex128(const Random128& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

bool valid_token(std::string_view s) {
  if (s.size() != 32) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string format_session(const SessionRecord& s) {
  return "version: 2\nuser: " + s.user + "\ncsrf: " + s.csrf + "\nadmin: " + s.admin_stamp + "\ncreated: " + std::to_string(s.created) +
         "\nlast: " + std::to_string(s.last) + "\n";
}

std::optional<SessionRecord> parse_session(std::string_view text) {
  SessionRecord s;
  bool version = false, csrf = false, stamp = false, created = false, last = false;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::string_view line = text::next_line(text, pos);
    const auto colon = line.find(": ");
    if (colon == std::string_view::npos) return std::nullopt;
    const std::string_view key = line.substr(0, colon);
    const std::string_view value = line.substr(colon + 2);
    auto number = [&](std::int64_t& out) { return unix_seconds(value, out); };
    if (key == "version") {
      if (value != "2") return std::nullopt;
      version = true;
    } else if (key == "user") {
      s.user = std::string(value);
    } else if (key == "csrf") {
      if (!valid_token(value)) return std::nullopt;
      s.csrf = std::string(value);
      csrf = true;
    } else if (key == "admin") {
      if (!valid_token(value)) return std::nullopt;
      s.admin_stamp = std::string(value);
      stamp = true;
    } else if (key == "created") {
      if (!number(s.created)) return std::nullopt;
      created = true;
    } else if (key == "last") {
      if (!number(s.last)) return std::nullopt;
      last = true;
    }
  }
  if (!version || !csrf || !stamp || !created || !last || s.user.empty()) return std::nullopt;
  return s;
}

bool session_expired(const SessionRecord& s, std::int64_t now) {
  return now - s.last > kIdleSeconds || now - s.created > kMaxSessionSeconds || s.last - now > 60 ||
         s.created - now > 60;
}

std::string login_token_data(std::string_view nonce, std::int64_t issued) {
  return "boxmail-login\n" + std::string(nonce) + "\n" + std::to_string(issued);
}

std::string format_login_token(const LoginToken& t) {
  return t.nonce + "-" + std::to_string(t.issued) + "-" + t.mac;
}

std::optional<LoginToken> parse_login_token(std::string_view text) {
  const auto a = text.find('-');
  const auto b = text.rfind('-');
  if (a == std::string_view::npos || a == b) return std::nullopt;
  LoginToken t;
  const std::string_view nonce = text.substr(0, a), issued = text.substr(a + 1, b - a - 1), mac = text.substr(b + 1);
  if (!valid_token(nonce) || !valid_token(mac) || !unix_seconds(issued, t.issued)) return std::nullopt;
  t.nonce = std::string(nonce);
  t.mac = std::string(mac);
  return t;
}

bool login_token_fresh(std::int64_t issued, std::int64_t now) {
  return now - issued <= kLoginTokenSeconds && issued - now <= 60;
}

bool session_needs_touch(const SessionRecord& s, std::int64_t now) { return now - s.last >= kTouchSeconds; }

bool csrf_ok(std::string_view expected, const std::string* given) {
  if (given == nullptr || given->empty() || expected.empty()) return false;
  return proto::sasl::constant_time_equal(expected, *given);
}

bool served_over_https(const char* https_variable) {
  if (https_variable == nullptr) return false;
  const std::string_view v(https_variable);
  if (v.empty()) return false;
  const bool off = v.size() == 3 && (v[0] == 'o' || v[0] == 'O') && (v[1] == 'f' || v[1] == 'F') &&
                   (v[2] == 'f' || v[2] == 'F');
  return !off;
}

std::string session_cookie(std::string_view id, bool secure) {
  return std::string(kCookieName) + "=" + std::string(id) + "; Path=/; HttpOnly; SameSite=Strict" +
         (secure ? "; Secure" : "");
}

std::string clear_session_cookie(bool secure) {
  return std::string(kCookieName) + "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "");
}

std::string login_cookie(std::string_view token, bool secure) {
  return std::string(kLoginCookieName) + "=" + std::string(token) + "; Path=/; HttpOnly; SameSite=Strict" +
         (secure ? "; Secure" : "");
}

std::string clear_login_cookie(bool secure) {
  return std::string(kLoginCookieName) + "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict" +
         (secure ? "; Secure" : "");
}

}  // namespace boxmail::cgi

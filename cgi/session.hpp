// session.hpp - the panel's login sessions and CSRF tokens (pure).
//
// A session is a random 128-bit id (32 lower-case hex digits) in a cookie
// (HttpOnly, SameSite=Strict, Path=/, Secure under HTTPS; no Max-Age, so it
// ends with the browser) and a record in the state directory, one file per
// session named by its id:
//
//   version: 2
//   user: admin
//   csrf: <32 hex digits>
//   admin: <32 hex digits: a stamp of the administrator's password hash>
//   created: <unix seconds>
//   last: <unix seconds>
//
// A session ends when it is idle for kIdleSeconds, kMaxSessionSeconds after
// it was opened whatever its use, and as soon as the administrator password
// changes (the glue compares the stamp with one made from the admin file's
// current hash; records of an older version are not sessions at all).
//
// Every POST except the login form carries the session's CSRF token in the
// hidden field "csrf" (as LuCI's "token"); a missing or different token is
// refused with 403 before anything is changed. A session idle for longer
// than kIdleSeconds is gone.
//
// The login form's token is issued by the server: "<nonce>-<issued>-<mac>",
// where nonce is 32 hex digits also set as the double-submit cookie (so
// the token is bound to this browser), issued the unix time of the GET, and
// mac the first 16 octets (hex) of HMAC-SHA-256 under the panel's secret of
// login_token_data(nonce, issued). A client cannot make one up, and one
// older than kLoginTokenSeconds is refused. The random octets come from the caller (the
// glue draws them from getrandom(2), process/os_random.hpp), so everything here is pure.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace boxmail::cgi {

constexpr std::int64_t kIdleSeconds = 30 * 60;
/// The absolute lifetime of a session, however busy.
constexpr std::int64_t kMaxSessionSeconds = 12 * 60 * 60;
/// How long a login form's token is taken.
constexpr std::int64_t kLoginTokenSeconds = 60 * 60;
/// `last` is rewritten at most this often (fewer writes on a flash board).
constexpr std::int64_t kTouchSeconds = 60;
constexpr std::string_view kCookieName = "boxmail_session";
/// Before there is a session, the login form's CSRF token is a double-submit
/// cookie: GET /login sets it and puts the same value in the form; POST
/// /login needs both, equal (so another site cannot log a browser in).
constexpr std::string_view kLoginCookieName = "boxmail_login";

using Random128 = std::array<unsigned char, 16>;

/// 32 lower-case hex digits.
std::string hex128(const Random128& bytes);

/// True for exactly 32 lower-case hex digits (the only names the glue will
/// ever turn into a file name).
bool valid_token(std::string_view s);

struct SessionRecord {
  std::string user;
  std::string csrf;
  std::string admin_stamp;   ///< 32 hex digits (see above)
  std::int64_t created = 0;
  std::int64_t last = 0;
  bool operator==(const SessionRecord&) const = default;
};

std::string format_session(const SessionRecord& s);
/// nullopt when the text is not a version-2 record with a valid csrf and
/// admin stamp.
std::optional<SessionRecord> parse_session(std::string_view text);

/// Idle for longer than kIdleSeconds, opened more than kMaxSessionSeconds
/// ago, or `last`/`created` in the future by more than a minute (a clock
/// step), at `now`.
bool session_expired(const SessionRecord& s, std::int64_t now);
/// Whether `last` should be rewritten at `now`.
bool session_needs_touch(const SessionRecord& s, std::int64_t now);

/// The submitted token equals the session's, compared in constant time;
/// false when `given` is null or empty.
bool csrf_ok(std::string_view expected, const std::string* given);

/// The login form's token, taken apart; see above.
struct LoginToken {
  std::string nonce;        ///< 32 hex digits
  std::int64_t issued = 0;  ///< unix seconds
  std::string mac;          ///< 32 hex digits
};
/// The octets the token's MAC covers.
std::string login_token_data(std::string_view nonce, std::int64_t issued);
std::string format_login_token(const LoginToken& t);
/// nullopt unless `text` is exactly "<32 hex>-<decimal>-<32 hex>".
std::optional<LoginToken> parse_login_token(std::string_view text);
/// Whether a token issued at `issued` may still be used at `now`.
bool login_token_fresh(std::int64_t issued, std::int64_t now);

/// Whether the request came over TLS, decided from the CGI variable HTTPS
/// as the web server sets it (lighttpd, Apache and uhttpd set "on" on
/// their TLS sockets; IIS sets "off" without TLS; busybox httpd never sets
/// it): true unless `https_variable` is null (unset), empty or "off" in any
/// case. Only the server's own variable counts: a client's "HTTPS: on"
/// header reaches a CGI as HTTP_HTTPS, X-Forwarded-Proto as
/// HTTP_X_FORWARDED_PROTO, and neither is looked at (the panel is never
/// behind a proxy). Decides the cookies' Secure attribute.
bool served_over_https(const char* https_variable);

/// Set-Cookie values: the session cookie, and one that removes it.
std::string session_cookie(std::string_view id, bool secure);
std::string clear_session_cookie(bool secure);
/// Set-Cookie values for the login form's token, and one that removes it.
std::string login_cookie(std::string_view token, bool secure);
std::string clear_login_cookie(bool secure);

}  // namespace boxmail::cgi

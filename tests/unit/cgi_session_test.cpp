// cgi_session_test.cpp - sessions, CSRF tokens and cookies (cgi/session.hpp),
// and escaping (cgi/html.hpp).
#include "cgi/html.hpp"
#include "cgi/session.hpp"

#include <gtest/gtest.h>

namespace {

using namespace boxmail::cgi;

TEST(CgiSession, Tokens) {
  Random128 r{};
  for (std::size_t i = 0; i < r.size(); ++i) r[i] = static_cast<unsigned char>(i * 17);
  const std::string t = hex128(r);
  EXPECT_EQ(t, "00112233445566778899aabbccddeeff");
  EXPECT_TRUE(valid_token(t));
  for (std::string_view bad : {"", "00112233445566778899aabbccddeef", "00112233445566778899AABBCCDDEEFF",
                               "../../../../../../../../etc/pass", "00112233445566778899aabbccddeefg"}) {
    EXPECT_FALSE(valid_token(bad)) << bad;
  }
}

TEST(CgiSession, RecordRoundTripAndRejects) {
  const std::string stamp = "fedcba9876543210fedcba9876543210";
  const SessionRecord s{"admin", "0123456789abcdef0123456789abcdef", stamp, 1000, 1500};
  EXPECT_EQ(parse_session(format_session(s)), s);
  EXPECT_EQ(format_session(s), "version: 2\nuser: admin\ncsrf: 0123456789abcdef0123456789abcdef\nadmin: " + stamp +
                                   "\ncreated: 1000\nlast: 1500\n");
  const std::string good_csrf = "csrf: 0123456789abcdef0123456789abcdef\n";
  for (const std::string& bad :
       {std::string(), "version: 1\nuser: a\n" + good_csrf + "admin: " + stamp + "\ncreated: 1\nlast: 1\n",
        "version: 2\nuser: a\n" + good_csrf + "created: 1\nlast: 1\n",   // no admin stamp (an old record)
        "version: 2\nuser: a\n" + good_csrf + "admin: short\ncreated: 1\nlast: 1\n",
        "version: 2\nuser: a\ncsrf: short\nadmin: " + stamp + "\ncreated: 1\nlast: 1\n",
        "version: 2\nuser: a\n" + good_csrf + "admin: " + stamp + "\ncreated: x\nlast: 1\n",
        "version: 2\n" + good_csrf + "admin: " + stamp + "\ncreated: 1\nlast: 1\n", std::string("garbage")}) {
    EXPECT_EQ(parse_session(bad), std::nullopt) << bad;
  }
}

TEST(CgiSession, IdleExpiry) {
  const SessionRecord s{"admin", std::string(32, 'a'), std::string(32, 'b'), 10000, 10000};
  EXPECT_FALSE(session_expired(s, 10000));
  EXPECT_FALSE(session_expired(s, 10000 + kIdleSeconds));
  EXPECT_TRUE(session_expired(s, 10000 + kIdleSeconds + 1));
  EXPECT_TRUE(session_expired(s, 10000 - 61));   // clock stepped back
  EXPECT_FALSE(session_needs_touch(s, 10000 + kTouchSeconds - 1));
  EXPECT_TRUE(session_needs_touch(s, 10000 + kTouchSeconds));
}

TEST(CgiSession, AbsoluteLifetime) {
  // A session in use all the time still ends kMaxSessionSeconds after login.
  SessionRecord s{"admin", std::string(32, 'a'), std::string(32, 'b'), 10000, 10000};
  s.last = 10000 + kMaxSessionSeconds;
  EXPECT_FALSE(session_expired(s, 10000 + kMaxSessionSeconds));
  s.last = 10000 + kMaxSessionSeconds + 1;
  EXPECT_TRUE(session_expired(s, 10000 + kMaxSessionSeconds + 1));
}

TEST(CgiSession, LoginTokens) {
  const LoginToken t{"0123456789abcdef0123456789abcdef", 1700000000, "fedcba9876543210fedcba9876543210"};
  const std::string text = format_login_token(t);
  EXPECT_EQ(text, "0123456789abcdef0123456789abcdef-1700000000-fedcba9876543210fedcba9876543210");
  const auto back = parse_login_token(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->nonce, t.nonce);
  EXPECT_EQ(back->issued, t.issued);
  EXPECT_EQ(back->mac, t.mac);
  for (std::string_view bad : {"", "0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef--x",
                               "0123456789abcdef0123456789abcdef-1-short",
                               "0123456789abcdef0123456789abcdef-+1-fedcba9876543210fedcba9876543210",
                               "0123456789abcdef0123456789abcdef-99999999999999999999-fedcba9876543210fedcba9876543210",
                               "0123456789abcdef0123456789abcdef-1-2-fedcba9876543210fedcba9876543210"}) {
    EXPECT_FALSE(parse_login_token(bad)) << bad;
  }
  EXPECT_NE(login_token_data("a", 1), login_token_data("a", 2));
  EXPECT_TRUE(login_token_fresh(1000, 1000 + kLoginTokenSeconds));
  EXPECT_FALSE(login_token_fresh(1000, 1000 + kLoginTokenSeconds + 1));
  EXPECT_FALSE(login_token_fresh(1000, 1000 - 61));
}

TEST(CgiSession, Csrf) {
  const std::string t = "0123456789abcdef0123456789abcdef";
  const std::string same = t, other = "0123456789abcdef0123456789abcdee", shorter = t.substr(0, 31), empty;
  EXPECT_TRUE(csrf_ok(t, &same));
  EXPECT_FALSE(csrf_ok(t, nullptr));
  EXPECT_FALSE(csrf_ok(t, &empty));
  EXPECT_FALSE(csrf_ok(t, &other));
  EXPECT_FALSE(csrf_ok(t, &shorter));
  EXPECT_FALSE(csrf_ok("", &empty));
}

TEST(CgiSession, Cookies) {
  EXPECT_EQ(session_cookie("abc", false), "boxmail_session=abc; Path=/; HttpOnly; SameSite=Strict");
  EXPECT_EQ(session_cookie("abc", true), "boxmail_session=abc; Path=/; HttpOnly; SameSite=Strict; Secure");
  EXPECT_EQ(clear_session_cookie(false), "boxmail_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
  EXPECT_EQ(clear_session_cookie(true), "boxmail_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure");
  // The login form's token cookie (CSRF before there is a session) follows the same rule.
  EXPECT_EQ(login_cookie("n0nce", false), "boxmail_login=n0nce; Path=/; HttpOnly; SameSite=Strict");
  EXPECT_EQ(login_cookie("n0nce", true), "boxmail_login=n0nce; Path=/; HttpOnly; SameSite=Strict; Secure");
  EXPECT_EQ(clear_login_cookie(false), "boxmail_login=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
  EXPECT_EQ(clear_login_cookie(true), "boxmail_login=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure");
}

TEST(CgiSession, SecureOnlyWhenTheServerSaysHttps) {
  // The CGI variable HTTPS as lighttpd/Apache/uhttpd set it on TLS sockets.
  EXPECT_TRUE(served_over_https("on"));
  EXPECT_TRUE(served_over_https("ON"));
  EXPECT_TRUE(served_over_https("1"));
  // Unset (busybox httpd, any plain-HTTP server), empty, or "off" (IIS).
  EXPECT_FALSE(served_over_https(nullptr));
  EXPECT_FALSE(served_over_https(""));
  EXPECT_FALSE(served_over_https("off"));
  EXPECT_FALSE(served_over_https("Off"));
  EXPECT_FALSE(served_over_https("OFF"));
}

TEST(CgiHtml, Escape) {
  EXPECT_EQ(escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;");
  EXPECT_EQ(escape("plain"), "plain");
  const std::string n = notice(false, "<b>").str();
  EXPECT_NE(n.find("&lt;b&gt;"), std::string::npos);
  EXPECT_EQ(n.find("<b>"), std::string::npos);
  EXPECT_NE(csrf_field("\"><x").str().find("value=\"&quot;&gt;&lt;x\""), std::string::npos);
}

TEST(CgiHtml, LayoutHasMenuAndLogoutOnlyWhenLoggedIn) {
  const std::vector<MenuItem> menu = {{"/status", "Status"}, {"/feed", "Mail feed"}};
  const std::string in = layout("/cgi-bin/boxmail.cgi", "Mail feed", menu, "/feed", "tok", Html::trusted("<p>x</p>")).str();
  EXPECT_NE(in.find("href=\"/cgi-bin/boxmail.cgi/feed\" aria-current=\"page\""), std::string::npos);
  EXPECT_NE(in.find("/logout"), std::string::npos);
  EXPECT_NE(in.find("name=\"viewport\""), std::string::npos);
  const std::string out = layout("/x", "Log in", {}, "", "", Html()).str();
  EXPECT_EQ(out.find("/logout"), std::string::npos);
  EXPECT_EQ(out.find("<nav>"), std::string::npos);
}

}  // namespace

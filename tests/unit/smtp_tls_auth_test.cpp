// smtp_tls_auth_test.cpp - the SMTP session's TLS and AUTH transitions
// (smtp/session.hpp): STARTTLS (RFC 3207), AUTH PLAIN/LOGIN (RFC 4954),
// submission (RFC 6409) and the sender and relay rules of an authenticated
// user. The glue's work (handshake, password check) is played by the test.
#include "smtp/session.hpp"
#include "test_accounts.hpp"

#include "config/schema.hpp"
#include "proto/sasl.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace boxmail;
using smtp::Action;
using smtp::AuthOutcome;
using smtp::Output;
using smtp::Security;
using smtp::Session;

namespace {

std::shared_ptr<const config::AccountTable> accounts() { return test_fixtures::alice_and_bob(); }

config::ConfigPtr make_config(bool feed_mode = false) {
  auto c = std::make_shared<config::Config>(*config::default_config());
  c->aliases["sales"] = {"alice", "bob"};
  c->aliases["team"] = {"sales"};
  c->aliases["bobs"] = {"bob"};
  if (!feed_mode) c->smtp.accept_domains = {"example.com"};
  c->smtp.max_errors = 5;
  return c;
}

/// One session and what it said; Authenticate is answered with `outcome`.
struct Box {
  explicit Box(Security sec, config::ConfigPtr cfg = make_config())
      : s(cfg, accounts(), smtp::ClientInfo{"192.0.2.1", 4321}, "mx.test", [] { return std::string("QID1"); },
          Session::SteadyTime{}, sec) {
    s.greet();
  }

  /// Feeds `in` whole; stops at StartTls/Authenticate like the glue (the
  /// rest of the input is returned unread).
  std::string feed(std::string_view in) {
    std::string replies;
    while (!in.empty()) {
      std::size_t used = 0;
      std::string body;
      Output o = s.on_input(in, std::chrono::system_clock::time_point{}, body, used);
      in.remove_prefix(used);
      replies += o.replies;
      last = o.action;
      if (o.login_failed) ++login_failures;
      if (o.action == Action::Authenticate) {
        checked.push_back(s.credentials());
        Output r = s.on_auth_result(outcome, outcome == AuthOutcome::Ok ? s.credentials().authcid : "");
        replies += r.replies;
        last = r.action;
        if (r.action == Action::Close) return replies;
        continue;
      }
      if (o.action == Action::StartTls) {
        unread = std::string(in);
        return replies;
      }
      if (o.action == Action::BeginData) prefix = s.envelope().prefix;
      if (o.action == Action::Close) return replies;
      if (used == 0) break;
    }
    return replies;
  }

  Session s;
  AuthOutcome outcome = AuthOutcome::Ok;
  Action last = Action::None;
  std::vector<proto::sasl::Credentials> checked;
  std::string unread, prefix;
  int login_failures = 0;
};

const Security kPlain{.tls_available = true};
const Security kNoCert{};
const Security kImplicit{.tls_available = true, .tls_active = true};
const Security kSubmission{.tls_available = true, .submission = true};

std::string plain(std::string_view user, std::string_view pw) {
  return proto::sasl::encode_base64(std::string(1, '\0') + std::string(user) + '\0' + std::string(pw));
}

/// A box after STARTTLS and the handshake.
Box secured(Security sec = kPlain, config::ConfigPtr cfg = make_config()) {
  Box b(sec, cfg);
  b.feed("STARTTLS\r\n");
  EXPECT_EQ(b.last, Action::StartTls);
  EXPECT_TRUE(b.s.on_tls_started(true, "TLSv1.2 TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384").replies.empty());
  return b;
}

TEST(SmtpTls, EhloOffersStartTlsBeforeAndAuthAfter) {
  Box b(kPlain);
  const std::string before = b.feed("EHLO c\r\n");
  EXPECT_NE(before.find("250-STARTTLS\r\n"), std::string::npos) << before;
  EXPECT_EQ(before.find("AUTH"), std::string::npos) << before;
  Box t = secured();
  const std::string after = t.feed("EHLO c\r\n");
  EXPECT_EQ(after.find("STARTTLS"), std::string::npos) << after;
  EXPECT_NE(after.find("250-AUTH PLAIN LOGIN\r\n"), std::string::npos) << after;
  EXPECT_TRUE(after.ends_with("250 ENHANCEDSTATUSCODES\r\n")) << after;
  // Without a certificate neither is offered.
  Box n(kNoCert);
  const std::string none = n.feed("EHLO c\r\n");
  EXPECT_EQ(none.find("STARTTLS"), std::string::npos);
  EXPECT_EQ(none.find("AUTH"), std::string::npos);
}

TEST(SmtpTls, StartTlsStopsAtTheCommandAndForgetsEverything) {
  Box b(kPlain);
  EXPECT_EQ(b.feed("EHLO c\r\nMAIL FROM:<x@y>\r\nSTARTTLS\r\nRSET\r\nMAIL FROM:<evil@y>\r\n").substr(0, 4), "250-");
  EXPECT_EQ(b.last, Action::StartTls);
  // What was pipelined after STARTTLS is left for the driver to drop.
  EXPECT_EQ(b.unread, "RSET\r\nMAIL FROM:<evil@y>\r\n");
  b.s.on_tls_started(true, "TLSv1.2 X");
  EXPECT_TRUE(b.s.tls_active());
  // RFC 3207 4.2: no EHLO, no transaction survive.
  EXPECT_EQ(b.feed("MAIL FROM:<a@example.com>\r\n"), "503 5.5.1 Error: send HELO/EHLO first\r\n");
  EXPECT_EQ(b.feed("EHLO c\r\nRCPT TO:<alice@example.com>\r\n").substr(0, 4), "250-");
}

TEST(SmtpTls, StartTlsRefusals) {
  Box none(kNoCert);
  EXPECT_EQ(none.feed("STARTTLS\r\n"), "454 4.7.0 TLS not available due to temporary reason\r\n");
  Box b(kPlain);
  EXPECT_EQ(b.feed("STARTTLS now\r\n"), "501 5.5.4 Syntax: STARTTLS\r\n");
  Box t = secured();
  EXPECT_EQ(t.feed("STARTTLS\r\n"), "503 5.5.1 Error: TLS already active\r\n");
  Box i(kImplicit);
  EXPECT_EQ(i.feed("STARTTLS\r\n"), "503 5.5.1 Error: TLS already active\r\n");
}

TEST(SmtpTls, FailedHandshakeCloses) {
  Box b(kPlain);
  b.feed("STARTTLS\r\n");
  const Output o = b.s.on_tls_started(false, "");
  EXPECT_EQ(o.action, Action::Close);
  EXPECT_TRUE(o.replies.empty());   // nothing can be said in the clear any more
}

TEST(SmtpAuth, RefusedBeforeTls) {
  Box c(kPlain);
  const std::string r = c.feed("EHLO c\r\nAUTH PLAIN " + plain("alice", "pw") + "\r\n");
  EXPECT_TRUE(r.ends_with("538 5.7.11 Encryption required for requested authentication mechanism: send STARTTLS "
                          "first\r\n"))
      << r;
  EXPECT_TRUE(c.checked.empty());   // the password was never looked at
}

TEST(SmtpAuth, PlaintextAllowedNetwork) {
  Box b(Security{.tls_available = true, .plaintext_auth = true});
  const std::string r = b.feed("EHLO c\r\nAUTH PLAIN " + plain("alice", "pw") + "\r\n");
  EXPECT_NE(r.find("250-AUTH PLAIN LOGIN"), std::string::npos);
  EXPECT_TRUE(r.ends_with("235 2.7.0 Authentication successful\r\n")) << r;
}

TEST(SmtpAuth, PlainWithInitialResponseAndWithout) {
  Box b = secured();
  EXPECT_TRUE(b.feed("EHLO c\r\nAUTH PLAIN " + plain("alice", "secret") + "\r\n")
                  .ends_with("235 2.7.0 Authentication successful\r\n"));
  ASSERT_EQ(b.checked.size(), 1u);
  EXPECT_EQ(b.checked[0].authcid, "alice");
  EXPECT_EQ(b.checked[0].password, "secret");
  EXPECT_EQ(b.s.authenticated(), "alice");
  EXPECT_TRUE(b.s.credentials().password.empty());   // forgotten after the check
  EXPECT_EQ(b.feed("AUTH PLAIN " + plain("bob", "x") + "\r\n"), "503 5.5.1 Error: already authenticated\r\n");
  EXPECT_EQ(b.feed("EHLO c\r\n").find("AUTH"), std::string::npos);   // not offered again

  Box c = secured();
  c.feed("EHLO c\r\n");
  EXPECT_EQ(c.feed("AUTH PLAIN\r\n"), "334 \r\n");
  EXPECT_EQ(c.feed(plain("bob", "pw") + "\r\n"), "235 2.7.0 Authentication successful\r\n");
  EXPECT_EQ(c.s.authenticated(), "bob");
}

TEST(SmtpAuth, LoginExchange) {
  Box b = secured();
  b.feed("EHLO c\r\n");
  EXPECT_EQ(b.feed("AUTH LOGIN\r\n"), "334 VXNlcm5hbWU6\r\n");
  EXPECT_EQ(b.feed(proto::sasl::encode_base64("alice") + "\r\n"), "334 UGFzc3dvcmQ6\r\n");
  EXPECT_EQ(b.feed(proto::sasl::encode_base64("pw word") + "\r\n"), "235 2.7.0 Authentication successful\r\n");
  ASSERT_EQ(b.checked.size(), 1u);
  EXPECT_EQ(b.checked[0].password, "pw word");
  // With the user name as initial response.
  Box c = secured();
  c.feed("EHLO c\r\n");
  EXPECT_EQ(c.feed("AUTH LOGIN " + proto::sasl::encode_base64("bob") + "\r\n"), "334 UGFzc3dvcmQ6\r\n");
}

TEST(SmtpAuth, FailuresGiveOneReplyAndSpendTheBudget) {
  Box b = secured();
  b.outcome = AuthOutcome::Failed;
  b.feed("EHLO c\r\n");
  // Wrong password and unknown user: the glue says Failed for both; the
  // reply is the same.
  EXPECT_EQ(b.feed("AUTH PLAIN " + plain("alice", "wrong") + "\r\n"), "535 5.7.8 Error: authentication failed\r\n");
  EXPECT_EQ(b.feed("AUTH PLAIN " + plain("nosuchuser", "x") + "\r\n"), "535 5.7.8 Error: authentication failed\r\n");
  // A malformed PLAIN message (one NUL) is decided by the session: same
  // reply, counted for the address by the glue.
  EXPECT_EQ(b.feed("AUTH PLAIN " + proto::sasl::encode_base64(std::string("alice\0pw", 8)) + "\r\n"),
            "535 5.7.8 Error: authentication failed\r\n");
  EXPECT_EQ(b.login_failures, 1);
  EXPECT_EQ(b.checked.size(), 2u);
  EXPECT_EQ(b.feed("AUTH PLAIN " + plain("alice", "w") + "\r\n"), "535 5.7.8 Error: authentication failed\r\n");
  // max_errors = 5: the fifth error closes.
  const std::string last = b.feed("AUTH PLAIN " + plain("alice", "w") + "\r\n");
  EXPECT_NE(last.find("421 4.7.0 mx.test Error: too many errors"), std::string::npos) << last;
  EXPECT_EQ(b.last, Action::Close);
}

TEST(SmtpAuth, TemporaryRefusals) {
  Box b = secured();
  b.outcome = AuthOutcome::Blocked;
  b.feed("EHLO c\r\n");
  EXPECT_EQ(b.feed("AUTH PLAIN " + plain("alice", "pw") + "\r\n"),
            "454 4.7.0 Temporary authentication failure, try again later\r\n");
  b.outcome = AuthOutcome::Busy;
  EXPECT_EQ(b.feed("AUTH PLAIN " + plain("alice", "pw") + "\r\n"),
            "454 4.7.0 Temporary authentication failure, try again later\r\n");
  EXPECT_TRUE(b.s.authenticated().empty());
}

TEST(SmtpAuth, ExchangeErrors) {
  auto cfg = std::make_shared<config::Config>(*make_config());
  cfg->smtp.max_errors = 50;
  Box b = secured(kPlain, cfg);
  b.feed("EHLO c\r\n");
  EXPECT_EQ(b.feed("AUTH CRAM-MD5\r\n"), "504 5.5.4 Unrecognized authentication type: CRAM-MD5\r\n");
  EXPECT_EQ(b.feed("AUTH\r\n"), "501 5.5.4 Syntax: AUTH mechanism [initial-response]\r\n");
  EXPECT_EQ(b.feed("AUTH LOGIN\r\n"), "334 VXNlcm5hbWU6\r\n");
  EXPECT_EQ(b.feed("*\r\n"), "501 5.7.0 Authentication cancelled\r\n");
  EXPECT_EQ(b.feed("AUTH PLAIN\r\n"), "334 \r\n");
  EXPECT_EQ(b.feed("not base64!\r\n"), "501 5.5.2 Error: cannot decode the authentication response\r\n");
  // A response line over the command-line limit.
  EXPECT_EQ(b.feed("AUTH PLAIN\r\n"), "334 \r\n");
  EXPECT_EQ(b.feed(std::string(3000, 'A') + "\r\n"), "500 5.5.6 Authentication Exchange line is too long\r\n");
  EXPECT_TRUE(b.checked.empty());
  // Not inside a transaction; not before EHLO.
  Box c = secured(Security{.tls_available = true, .plaintext_auth = true});
  c.feed("EHLO c\r\nMAIL FROM:<x@elsewhere.example>\r\n");
  EXPECT_EQ(c.feed("AUTH PLAIN " + plain("alice", "pw") + "\r\n"),
            "503 5.5.1 Error: AUTH not allowed during a mail transaction\r\n");
  Box d = secured();
  EXPECT_EQ(d.feed("AUTH PLAIN " + plain("alice", "pw") + "\r\n"), "503 5.5.1 Error: send HELO/EHLO first\r\n");
}

TEST(SmtpSubmission, AuthRequiredBeforeMail) {
  Box c = secured(kSubmission);
  const std::string r = c.feed("EHLO c\r\nMAIL FROM:<alice@example.com>\r\n");
  EXPECT_TRUE(r.ends_with("530 5.7.0 Authentication required\r\n")) << r;
  EXPECT_TRUE(c.feed("AUTH PLAIN " + plain("alice", "pw") + "\r\nMAIL FROM:<alice@example.com>\r\n")
                  .ends_with("250 2.1.0 Sender ok\r\n"));
}

TEST(SmtpSubmission, SenderMustBeTheUsers) {
  struct Case {
    const char* from;
    bool ok;
  } cases[] = {
      {"alice@example.com", true},        // the mailbox itself
      {"Alice@EXAMPLE.com", true},        // any case
      {"sales@example.com", true},        // an alias that reaches alice
      {"team@example.com", true},         // nested
      {"bob@example.com", false},         // another user
      {"bobs@example.com", false},        // an alias of another user
      {"alice@elsewhere.example", false}, // a domain not delivered here
      {"postmaster@example.com", false},  // only by the fallback rule
      {"alice%x@example.com", false},     // route-like
      {"", true},                         // the null reverse-path: an MTA's notices (another boxmail's)
  };
  for (const Case& c : cases) {
    Box b = secured(kSubmission);
    b.feed("EHLO c\r\nAUTH PLAIN " + plain("alice", "pw") + "\r\n");
    const std::string r = b.feed("MAIL FROM:<" + std::string(c.from) + ">\r\n");
    if (c.ok) {
      EXPECT_EQ(r, "250 2.1.0 Sender ok\r\n") << c.from;
    } else {
      EXPECT_EQ(r, "553 5.7.1 Sender address rejected: not owned by the logged-in user: <" + std::string(c.from) +
                       ">\r\n")
          << c.from;
    }
  }
  // The catch-all never makes an address the user's.
  auto cfg = std::make_shared<config::Config>(*make_config());
  cfg->smtp.catch_all = "alice";
  Box b = secured(kSubmission, cfg);
  b.feed("EHLO c\r\nAUTH PLAIN " + plain("alice", "pw") + "\r\n");
  EXPECT_EQ(b.feed("MAIL FROM:<anyone@example.com>\r\n").substr(0, 3), "553");
}

TEST(SmtpSubmission, OtherDomainsNeedAnOutgoingRoute) {
  Box b = secured(kSubmission);
  b.feed("EHLO c\r\nAUTH PLAIN " + plain("alice", "pw") + "\r\nMAIL FROM:<alice@example.com>\r\n");
  EXPECT_EQ(b.feed("RCPT TO:<friend@elsewhere.example>\r\n"),
            "550 5.7.1 Relay access denied: no outgoing mail route is configured: "
            "<friend@elsewhere.example>\r\n");
  EXPECT_EQ(b.feed("RCPT TO:<bob@example.com>\r\nDATA\r\n"),
            "250 2.1.5 Recipient ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n");
  EXPECT_NE(b.prefix.find("(using TLSv1.2 TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384)"), std::string::npos) << b.prefix;
  EXPECT_NE(b.prefix.find("with ESMTPSA id QID1"), std::string::npos) << b.prefix;
  // An unauthenticated feed client still gets the plain relay refusal.
  Box f(kPlain);
  EXPECT_TRUE(f.feed("EHLO c\r\nMAIL FROM:<x@y.example>\r\nRCPT TO:<friend@elsewhere.example>\r\n")
                  .ends_with("550 5.7.1 Relay access denied: <friend@elsewhere.example>\r\n"));
}

TEST(SmtpTls, ReceivedSaysEsmtpsWithoutAuth) {
  Box b = secured();
  b.feed("EHLO c\r\nMAIL FROM:<x@y.example>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n");
  EXPECT_NE(b.prefix.find("with ESMTPS id"), std::string::npos) << b.prefix;
  Box p(kPlain);
  p.feed("EHLO c\r\nMAIL FROM:<x@y.example>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n");
  EXPECT_NE(p.prefix.find("with ESMTP id"), std::string::npos) << p.prefix;
  EXPECT_EQ(p.prefix.find("using"), std::string::npos);
}

}  // namespace

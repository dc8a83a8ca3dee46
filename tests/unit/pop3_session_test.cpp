// pop3_session_test.cpp - the POP3 session state machine driven directly:
// dialogues with exact replies, each fed whole and trickled one byte at a
// time; login failures and their budget; the idle timer with injected time
// (RFC 1939's 10-minute minimum makes a real-time integration test too slow
// for CI, so the timeout is tested here).
#include "pop3/session.hpp"

#include "config/password.hpp"
#include "config/schema.hpp"
#include "pop3/command_parser.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

using namespace boxmail;
using pop3::Action;
using pop3::AuthResult;
using pop3::Output;
using pop3::Session;

namespace {

using Clock = std::chrono::steady_clock;
const Clock::time_point kT0{};

config::Pop3Config pop3_config() {
  config::Pop3Config c = config::default_config()->pop3;
  c.max_errors = 4;
  c.login_failures = 3;
  return c;
}

/// Messages of the test mailbox: sizes and uids.
std::vector<pop3::MessageInfo> mailbox() {
  return {{120, "1700000000.M1P1Q1.mx,S=110,W=120"}, {200, "1700000001.M2P1Q2.mx,S=190,W=200"},
          {50, "uid-3"}};
}

/// A client in [server] plaintext_login_networks, no certificate loaded:
/// logins work without TLS (the dialogues below), STLS is not offered.
pop3::Security plaintext_lan() {
  pop3::Security s;
  s.plaintext_login = true;
  return s;
}

/// A certificate is loaded; `plaintext`: the client is in plaintext_login_networks.
pop3::Security tls_offered(bool plaintext = false) {
  pop3::Security s;
  s.tls_available = true;
  s.plaintext_login = plaintext;
  return s;
}

/// Drives a session like the glue does. Passwords: alice "pw-alice" (ok),
/// carol "pw-carol" (POP3 off), dave "pw-dave" (mailbox in use).
/// Action::StartTls is carried out as proto::Driver does: the rest of the
/// input given to that feed() is dropped (counted in `dropped`), then
/// on_tls_started(handshake_ok). `implicit_tls`: on_tls_started(true)
/// before the greeting (POP3S).
struct Driver {
  explicit Driver(config::Pop3Config cfg = pop3_config(), pop3::Security security = plaintext_lan(),
                  bool implicit_tls = false)
      : s(cfg, pop3::ClientInfo{"192.0.2.1", 4321}, "mx.test", kT0, security) {
    if (implicit_tls) take(s.on_tls_started(true));
    transcript += s.greet().replies;
  }
  void feed(std::string_view in, std::size_t step = 0) {
    if (step == 0) step = in.size() ? in.size() : 1;
    for (std::size_t pos = 0; pos < in.size() && !closed; pos += step) {
      std::string_view chunk = in.substr(pos, step);
      const std::size_t end = pos + chunk.size();
      while (!chunk.empty() && !closed) {
        std::size_t used = 0;
        Output o = s.on_input(chunk, now, used);
        chunk.remove_prefix(used);
        const bool start_tls = o.action == Action::StartTls;
        take(o);
        if (start_tls) {   // what the client sent after STLS is never read
          dropped += in.size() - (end - chunk.size());
          ++handshakes;
          take(s.on_tls_started(handshake_ok));
          return;
        }
        if (used == 0 && o.action == Action::None) break;
      }
    }
  }
  void take(const Output& o) {
    transcript += o.replies;
    if (o.delay) ++delayed;
    if (o.login_failed) ++failed_logins;
    offences.insert(offences.end(), o.offences.begin(), o.offences.end());
    log.insert(log.end(), o.log.begin(), o.log.end());
    switch (o.action) {
      case Action::None:
      case Action::StartTls:   // carried out by feed()
        break;
      case Action::Close:
        closed = true;
        break;
      case Action::Authenticate: {
        const auto& c = s.credentials();
        logins.push_back(c.mailbox + ":" + c.password);
        AuthResult r = AuthResult::Failed;
        if (refuse) {   // the glue refused before checking (blocked address, full checker)
          take(s.on_auth_result(*refuse));
          break;
        }
        if (c.mailbox == "alice" && c.password == "pw-alice") r = AuthResult::Ok;
        if (c.mailbox == "carol" && c.password == "pw-carol") r = AuthResult::Pop3Disabled;
        if (c.mailbox == "dave" && c.password == "pw-dave") r = AuthResult::InUse;
        take(s.on_auth_result(r));
        break;
      }
      case Action::ListMailbox:
        take(s.on_mailbox(listing_fails ? std::nullopt : std::optional(mailbox())));
        break;
      case Action::Retrieve: {
        const auto r = s.retrieval();
        const bool is_damaged = damaged.count(r.index + 1) > 0;
        take(is_damaged ? s.on_retrieve(pop3::RetrieveResult::Damaged) : s.on_retrieve(!gone));
        if (!gone && !is_damaged) {
          transcript += "<msg " + std::to_string(r.index + 1) +
                        (r.top_lines ? " top " + std::to_string(*r.top_lines) : std::string()) + ">\r\n.\r\n";
        }
        break;
      }
      case Action::Commit:
        committed = true;
        deleted = s.changes().deleted;
        retrieved = s.changes().retrieved;
        take(s.on_committed(commit_failures));
        break;
    }
  }
  Session s;
  Clock::time_point now = kT0;
  std::string transcript;
  std::vector<std::string> logins;
  bool closed = false, committed = false, listing_fails = false, gone = false;
  std::size_t commit_failures = 0;
  int delayed = 0, failed_logins = 0;
  std::vector<net::Offence> offences;
  std::vector<std::size_t> deleted, retrieved;
  std::set<std::size_t> damaged;   // message numbers whose file does not match its size
  std::optional<AuthResult> refuse;
  std::vector<std::string> log;
  bool handshake_ok = true;
  int handshakes = 0;
  std::size_t dropped = 0;          // octets after STLS, dropped unread
};

const std::string kGreeting = "+OK mx.test POP3 boxmail ready\r\n";
const std::string kLogin = "USER alice\r\nPASS pw-alice\r\n";
const std::string kLoggedIn = "+OK Send PASS\r\n+OK Logged in: 3 messages (370 octets)\r\n";

struct DialogueCase {
  std::string_view name;
  std::string in;
  std::string out;   // after the greeting
  bool closed = false;
};

const DialogueCase kDialogues[] = {
    {"quit at once", "QUIT\r\n", "+OK Logging out\r\n", true},
    {"lower case, bare LF", "quit\n", "+OK Logging out\r\n", true},
    {"capa", "CAPA\r\n",
     "+OK Capability list follows\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n"
     "USER\r\nSASL PLAIN\r\nIMPLEMENTATION boxmail\r\n.\r\n"},
    {"login", kLogin, kLoggedIn},
    {"login name@domain, any case", "USER Alice@Example.COM\r\nPASS pw-alice\r\n", kLoggedIn},
    {"stat", kLogin + "STAT\r\n", kLoggedIn + "+OK 3 370\r\n"},
    {"list", kLogin + "LIST\r\n", kLoggedIn + "+OK 3 messages (370 octets)\r\n1 120\r\n2 200\r\n3 50\r\n.\r\n"},
    {"list one", kLogin + "LIST 2\r\n", kLoggedIn + "+OK 2 200\r\n"},
    {"list none", kLogin + "LIST 4\r\nLIST 0\r\n", kLoggedIn + "-ERR No such message\r\n-ERR No such message\r\n"},
    {"uidl", kLogin + "UIDL\r\nUIDL 3\r\n",
     kLoggedIn + "+OK Unique-ID listing follows\r\n1 1700000000.M1P1Q1.mx,S=110,W=120\r\n"
                 "2 1700000001.M2P1Q2.mx,S=190,W=200\r\n3 uid-3\r\n.\r\n+OK 3 uid-3\r\n"},
    {"retr", kLogin + "RETR 1\r\n", kLoggedIn + "+OK 120 octets\r\n<msg 1>\r\n.\r\n"},
    {"top", kLogin + "TOP 2 5\r\n", kLoggedIn + "+OK 200 octets\r\n<msg 2 top 5>\r\n.\r\n"},
    {"dele", kLogin + "DELE 1\r\nSTAT\r\nLIST\r\nRETR 1\r\nDELE 1\r\n",
     kLoggedIn + "+OK Message 1 deleted\r\n+OK 2 250\r\n+OK 2 messages (250 octets)\r\n2 200\r\n3 50\r\n.\r\n"
                 "-ERR Message 1 already deleted\r\n-ERR Message 1 already deleted\r\n"},
    {"rset", kLogin + "DELE 1\r\nDELE 3\r\nRSET\r\nSTAT\r\n",
     kLoggedIn + "+OK Message 1 deleted\r\n+OK Message 3 deleted\r\n+OK 3 messages (370 octets)\r\n+OK 3 370\r\n"},
    {"dele quit", kLogin + "DELE 2\r\nQUIT\r\n",
     kLoggedIn + "+OK Message 2 deleted\r\n+OK Logging out (2 messages left)\r\n", true},
    {"noop", kLogin + "NOOP\r\n", kLoggedIn + "+OK\r\n"},
    {"pipelined", kLogin + "STAT\r\nRETR 3\r\nNOOP\r\nQUIT\r\n",
     kLoggedIn + "+OK 3 370\r\n+OK 50 octets\r\n<msg 3>\r\n.\r\n+OK\r\n+OK Logging out (3 messages left)\r\n", true},
    {"wrong state before login", "STAT\r\nRETR 1\r\n",
     "-ERR Command not valid in this state\r\n-ERR Command not valid in this state\r\n"},
    {"wrong state after login", kLogin + "USER bob\r\nPASS x\r\n",
     kLoggedIn + "-ERR Command not valid in this state\r\n-ERR Command not valid in this state\r\n"},
    {"pass first", "PASS pw-alice\r\n", "-ERR Send USER first\r\n"},
    {"user needs a name", "USER\r\n", "-ERR Syntax: USER name\r\n"},
    {"unknown", "XYZZY\r\n", "-ERR Unknown command\r\n"},
    {"syntax", kLogin + "RETR\r\nRETR x\r\nTOP 1\r\nSTAT 1\r\n",
     kLoggedIn + "-ERR Syntax: RETR msg\r\n-ERR Syntax: RETR msg\r\n-ERR Syntax: TOP msg n\r\n-ERR Syntax: STAT\r\n"
                 "-ERR Too many errors, closing\r\n",
     true},
    {"stls not offered", "STLS\r\n", "-ERR STLS is not available: no TLS certificate is loaded\r\n"},
    {"http", "GET / HTTP/1.1\r\nHost: x\r\n", "-ERR This is a POP3 server, not HTTP; closing\r\n", true},
    {"too many errors", "A\r\nB\r\nC\r\nD\r\nE\r\n",
     "-ERR Unknown command\r\n-ERR Unknown command\r\n-ERR Unknown command\r\n-ERR Unknown command\r\n"
     "-ERR Too many errors, closing\r\n",
     true},
    {"auth list", "AUTH\r\n", "+OK SASL mechanisms follow\r\nPLAIN\r\n.\r\n"},
    {"auth plain initial", "AUTH PLAIN AGFsaWNlAHB3LWFsaWNl\r\n", "+OK Logged in: 3 messages (370 octets)\r\n"},
    {"auth plain continued", "AUTH PLAIN\r\nAGFsaWNlAHB3LWFsaWNl\r\n",
     "+ \r\n+OK Logged in: 3 messages (370 octets)\r\n"},
    {"auth plain authzid same", "AUTH PLAIN YWxpY2UAYWxpY2UAcHctYWxpY2U=\r\n", "+OK Logged in: 3 messages (370 octets)\r\n"},
    {"auth cancelled", "AUTH PLAIN\r\n*\r\n", "+ \r\n-ERR Authentication cancelled\r\n"},
    {"auth bad base64", "AUTH PLAIN !!!!\r\n", "-ERR Invalid base64 data\r\n"},
    {"auth other mechanism", "AUTH CRAM-MD5\r\n", "-ERR Unsupported authentication mechanism\r\n"},
    {"line too long", "USER " + std::string(600, 'a') + "\r\nNOOP\r\n",
     "-ERR Line too long\r\n-ERR Command not valid in this state\r\n"},
    {"quit with argument", "QUIT now\r\n", "-ERR Syntax: QUIT\r\n"},
};

TEST(Pop3Session, Dialogues) {
  for (const auto& c : kDialogues) {
    for (std::size_t step : {std::size_t{0}, std::size_t{1}}) {
      SCOPED_TRACE(std::string(c.name) + (step ? " (trickled)" : " (whole)"));
      Driver d;
      d.feed(c.in, step);
      EXPECT_EQ(d.transcript, kGreeting + c.out);
      EXPECT_EQ(d.closed, c.closed);
    }
  }
}

TEST(Pop3Session, CommitCarriesDeletionsAndRetrievals) {
  for (std::size_t step : {std::size_t{0}, std::size_t{1}}) {
    Driver d;
    d.feed(kLogin + "RETR 1\r\nTOP 2 0\r\nRETR 3\r\nDELE 3\r\nQUIT\r\n", step);
    EXPECT_TRUE(d.committed);
    EXPECT_EQ(d.deleted, (std::vector<std::size_t>{2}));
    EXPECT_EQ(d.retrieved, (std::vector<std::size_t>{0}));   // TOP is no retrieval; 3 is deleted
    EXPECT_TRUE(d.closed);
  }
}

TEST(Pop3Session, RsetKeepsEverything) {
  Driver d;
  d.feed(kLogin + "DELE 1\r\nDELE 2\r\nRSET\r\nQUIT\r\n");
  EXPECT_TRUE(d.committed);
  EXPECT_TRUE(d.deleted.empty());
}

TEST(Pop3Session, DroppedConnectionSavesNothing) {
  Driver d;
  d.feed(kLogin + "DELE 1\r\nDELE 2\r\n");
  EXPECT_FALSE(d.committed);   // no QUIT: the glue never gets a Commit
  Output o = d.s.on_shutdown();
  EXPECT_EQ(o.replies, "-ERR [SYS/TEMP] Server shutting down\r\n");
  EXPECT_EQ(o.action, Action::Close);
}

TEST(Pop3Session, LoginFailuresSameReplyThenClose) {
  for (std::size_t step : {std::size_t{0}, std::size_t{1}}) {
    Driver d;
    d.feed("USER nobody\r\nPASS x\r\n", step);    // unknown mailbox
    d.feed("USER alice\r\nPASS wrong\r\n", step); // wrong password
    EXPECT_FALSE(d.closed);
    d.feed("AUTH PLAIN AGFsaWNlAHdyb25n\r\n", step);   // wrong password over SASL
    EXPECT_EQ(d.transcript, kGreeting +
                                "+OK Send PASS\r\n-ERR [AUTH] Authentication failed\r\n"
                                "+OK Send PASS\r\n-ERR [AUTH] Authentication failed\r\n"
                                "-ERR [AUTH] Authentication failed; too many failures, closing\r\n");
    EXPECT_TRUE(d.closed);
    EXPECT_EQ(d.delayed, 3);
    EXPECT_EQ(d.failed_logins, 3);
    EXPECT_EQ(d.logins, (std::vector<std::string>{"nobody:x", "alice:wrong", "alice:wrong"}));
  }
}

TEST(Pop3Session, Pop3DisabledAndInUse) {
  Driver d;
  d.feed("USER carol\r\nPASS pw-carol\r\n");
  d.feed("USER dave\r\nPASS pw-dave\r\n");
  d.feed(kLogin);
  EXPECT_EQ(d.transcript, kGreeting +
                              "+OK Send PASS\r\n-ERR [AUTH] POP3 access is disabled for this mailbox\r\n"
                              "+OK Send PASS\r\n-ERR [IN-USE] Mailbox is in use by another POP3 session\r\n" +
                              kLoggedIn);
  EXPECT_EQ(d.failed_logins, 0);   // the password was right both times
}

TEST(Pop3Session, OtherAuthorizationIdentityRefused) {
  Driver d;
  d.feed("AUTH PLAIN " + pop3::base64_encode(std::string("bob\0alice\0pw-alice", 18)) + "\r\n");
  EXPECT_EQ(d.transcript, kGreeting + "-ERR [AUTH] Authentication failed\r\n");
  EXPECT_TRUE(d.logins.empty());
  EXPECT_EQ(d.failed_logins, 1);
}

TEST(Pop3Session, PasswordWithSpaces) {
  Driver d;
  d.feed("USER alice\r\nPASS two words \r\n");
  EXPECT_EQ(d.logins, (std::vector<std::string>{"alice:two words "}));
}

TEST(Pop3Session, MailboxUnreadable) {
  Driver d;
  d.listing_fails = true;
  d.feed(kLogin + "STAT\r\n");
  EXPECT_EQ(d.transcript, kGreeting + "+OK Send PASS\r\n-ERR [SYS/TEMP] Cannot open the mailbox\r\n");
  EXPECT_TRUE(d.closed);
}

TEST(Pop3Session, MessageGone) {
  Driver d;
  d.gone = true;
  d.feed(kLogin + "RETR 2\r\nNOOP\r\n");
  EXPECT_EQ(d.transcript, kGreeting + kLoggedIn + "-ERR [SYS/TEMP] Message 2 is no longer available\r\n+OK\r\n");
}

TEST(Pop3Session, CommitFailure) {
  Driver d;
  d.commit_failures = 1;
  d.feed(kLogin + "DELE 1\r\nQUIT\r\n");
  EXPECT_EQ(d.transcript, kGreeting + kLoggedIn +
                              "+OK Message 1 deleted\r\n-ERR [SYS/TEMP] Some changes were not saved: 1 of them failed\r\n");
  EXPECT_TRUE(d.closed);
}


TEST(Pop3Session, IdleTimeoutWithInjectedTime) {
  Driver d;   // idle_timeout defaults to 600 s (RFC 1939 3: at least 10 minutes)
  EXPECT_EQ(d.s.deadline(), kT0 + std::chrono::seconds(600));
  EXPECT_EQ(d.s.on_tick(kT0 + std::chrono::seconds(599)).action, Action::None);
  d.now = kT0 + std::chrono::seconds(300);
  d.feed(kLogin + "DELE 1\r\n");   // activity moves the deadline
  EXPECT_EQ(d.s.deadline(), kT0 + std::chrono::seconds(900));
  EXPECT_EQ(d.s.on_tick(kT0 + std::chrono::seconds(899)).action, Action::None);
  d.s.touch(kT0 + std::chrono::seconds(400));   // output progress (RETR streaming)
  EXPECT_EQ(d.s.on_tick(kT0 + std::chrono::seconds(999)).action, Action::None);
  Output o = d.s.on_tick(kT0 + std::chrono::seconds(1000));
  EXPECT_EQ(o.replies, "-ERR Disconnected for inactivity\r\n");
  EXPECT_EQ(o.action, Action::Close);
  EXPECT_FALSE(d.committed);   // autologout does not enter UPDATE: nothing deleted
  EXPECT_TRUE(d.s.closed());
}

TEST(Pop3Session, IncompleteLineIsNoActivity) {
  Driver d;
  d.now = kT0 + std::chrono::seconds(100);
  d.feed("NOO");   // no complete command yet
  EXPECT_EQ(d.s.deadline(), kT0 + std::chrono::seconds(600));
}

TEST(Pop3Session, LastProgressMovesOnlyOnCompleteCommandsWholeAndTrickled) {
  for (std::size_t step : {std::size_t{0}, std::size_t{1}}) {
    Driver d;
    EXPECT_EQ(d.s.last_progress(), kT0);
    d.now = kT0 + std::chrono::seconds(10);
    d.feed("USER al", step);   // a trickled, unfinished line is no progress
    EXPECT_EQ(d.s.last_progress(), kT0) << step;
    d.now = kT0 + std::chrono::seconds(20);
    d.feed("ice\r\n", step);
    EXPECT_EQ(d.s.last_progress(), kT0 + std::chrono::seconds(20)) << step;
    EXPECT_EQ(d.s.deadline(), d.s.last_progress() + std::chrono::seconds(600)) << step;
  }
}

TEST(Pop3Session, EvictedClosesWithoutSaving) {
  Driver d;
  d.feed(kLogin + "DELE 1\r\n");
  Output o = d.s.on_evicted();
  EXPECT_EQ(o.replies, "-ERR Disconnected for inactivity to make room for another client\r\n");
  EXPECT_EQ(o.action, Action::Close);
  ASSERT_EQ(o.log.size(), 1u);
  EXPECT_NE(o.log[0].find("closed: no progress for too long"), std::string::npos);
  EXPECT_FALSE(d.committed);
  EXPECT_TRUE(d.s.closed());
  EXPECT_TRUE(d.s.on_evicted().replies.empty());   // once only
}

TEST(Pop3Reply, OutOfDescriptors) {
  EXPECT_EQ(pop3::format_reply(pop3::ReplyId::NoDescriptors),
            "-ERR [SYS/TEMP] Server out of resources, try again later\r\n");
}

}  // namespace

namespace {

TEST(Pop3Session, DamagedMessageIsReportedNotSent) {
  const std::string damaged = "-ERR [SYS/TEMP] Message 2 cannot be sent: its file does not match its size\r\n";
  const std::string in = kLogin + "RETR 2\r\nTOP 2 0\r\nLIST 2\r\nSTAT\r\nLIST\r\nRETR 1\r\nDELE 2\r\nQUIT\r\n";
  const std::string want = kLoggedIn + damaged + damaged + damaged + "+OK 2 170\r\n" +
                           "+OK 2 messages (170 octets)\r\n1 120\r\n3 50\r\n.\r\n" +
                           "+OK 120 octets\r\n<msg 1>\r\n.\r\n+OK Message 2 deleted\r\n" +
                           "+OK Logging out (2 messages left)\r\n";
  for (std::size_t step : {std::size_t{0}, std::size_t{1}}) {
    Driver d;
    d.damaged = {2};
    d.feed(in, step);
    EXPECT_EQ(d.transcript, kGreeting + want) << "step " << step;
    EXPECT_EQ(d.deleted, std::vector<std::size_t>{1});
    EXPECT_EQ(d.retrieved, std::vector<std::size_t>{0});
  }
}

}  // namespace

// ---- login checks: refused before hashing --------------------------------------------

TEST(Pop3Session, BlockedAddressGetsSysTempWhateverThePassword) {
  for (std::size_t step : {std::size_t{0}, std::size_t{1}}) {
    Driver d;
    d.refuse = AuthResult::Blocked;
    d.feed(kLogin + "AUTH PLAIN " + "AGFsaWNlAHB3LWFsaWNl" + "\r\n", step);   // \0alice\0pw-alice
    const std::string blocked = "-ERR [SYS/TEMP] Too many failed logins from your address; try again later\r\n";
    EXPECT_EQ(d.transcript, kGreeting + "+OK Send PASS\r\n" + blocked + blocked) << "step " << step;
    EXPECT_EQ(d.delayed, 2);         // answered after login_delay, like a failure
    EXPECT_EQ(d.failed_logins, 0);   // not counted again: the address is already blocked
    EXPECT_FALSE(d.closed);
    // Once the glue lets the address through again, the same password works.
    d.refuse.reset();
    d.feed(kLogin, step);
    EXPECT_TRUE(d.s.in_transaction());
  }
}

TEST(Pop3Session, FullCheckerGetsSysTemp) {
  for (std::size_t step : {std::size_t{0}, std::size_t{1}}) {
    Driver d;
    d.refuse = AuthResult::Busy;
    d.feed(kLogin, step);
    EXPECT_EQ(d.transcript,
              kGreeting + "+OK Send PASS\r\n-ERR [SYS/TEMP] Too many logins being checked; try again later\r\n");
    EXPECT_EQ(d.delayed, 1);
    EXPECT_EQ(d.failed_logins, 0);
    d.refuse.reset();
    d.feed("PASS pw-alice\r\n", step);   // USER is needed again
    d.feed(kLogin, step);
    EXPECT_TRUE(d.s.in_transaction());
  }
}

TEST(Pop3Session, OverlongPasswordFailsWithoutACheck) {
  const std::string longest(config::kMaxPasswordLength, 'x');
  const std::string over(config::kMaxPasswordLength + 1, 'x');
  // SASL PLAIN "\0alice\0" + over, base64 by hand-free means: build it.
  auto b64 = [](std::string_view in) {
    static constexpr char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string o;
    for (std::size_t i = 0; i < in.size(); i += 3) {
      const std::size_t n = std::min<std::size_t>(3, in.size() - i);
      std::uint32_t v = 0;
      for (std::size_t k = 0; k < 3; ++k) v = (v << 8) | (k < n ? static_cast<unsigned char>(in[i + k]) : 0u);
      for (std::size_t k = 0; k < 4; ++k) o += k <= n ? t[(v >> (18 - 6 * k)) & 63] : '=';
    }
    return o;
  };
  for (std::size_t step : {std::size_t{0}, std::size_t{1}}) {
    config::Pop3Config cfg = pop3_config();
    cfg.max_command_line = 1024;
    Driver d(cfg);
    d.feed("USER alice\r\nPASS " + over + "\r\nAUTH PLAIN " + b64(std::string("\0alice\0", 7) + over) + "\r\n",
           step);
    EXPECT_TRUE(d.logins.empty()) << "an over-long password must not reach the check";
    EXPECT_EQ(d.transcript, kGreeting + "+OK Send PASS\r\n-ERR [AUTH] Authentication failed\r\n"
                                        "-ERR [AUTH] Authentication failed\r\n");
    EXPECT_EQ(d.failed_logins, 2);   // counted for the address
    EXPECT_EQ(d.delayed, 2);
    d.feed("USER alice\r\nPASS " + longest + "\r\n", step);
    EXPECT_EQ(d.logins.size(), 1u) << "the longest allowed password is checked";
  }
}

TEST(Pop3Session, ReadsNothingWhileAuthenticating) {
  Session s(pop3_config(), pop3::ClientInfo{"192.0.2.1", 1}, "mx.test", kT0, plaintext_lan());
  s.greet();
  std::string_view in = "USER alice\r\nPASS pw-alice\r\nSTAT\r\n";
  std::size_t used = 0;
  Output o = s.on_input(in, kT0, used);
  EXPECT_EQ(o.action, Action::Authenticate);
  in.remove_prefix(used);
  EXPECT_EQ(in, "STAT\r\n");
  EXPECT_TRUE(s.authenticating());
  o = s.on_input(in, kT0, used);   // the check is pending: STAT waits
  EXPECT_EQ(used, 0u);
  EXPECT_EQ(o.replies, "");
  EXPECT_EQ(o.action, Action::None);
  o = s.on_auth_result(AuthResult::Ok);
  EXPECT_EQ(o.action, Action::ListMailbox);
  o = s.on_mailbox(mailbox());
  o = s.on_input(in, kT0, used);
  EXPECT_EQ(used, in.size());
  EXPECT_EQ(o.replies, "+OK 3 370\r\n");
  // A result that comes when no check is pending changes nothing.
  EXPECT_EQ(s.on_auth_result(AuthResult::Failed).replies, "");
}

// ---- TLS (RFC 2595 STLS, RFC 8314 implicit TLS) and the plaintext rule -------------------

namespace {

const std::string kCapaHead =
    "+OK Capability list follows\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n";
const std::string kCapaLogin = "USER\r\nSASL PLAIN\r\n";
const std::string kCapaTail = "IMPLEMENTATION boxmail\r\n.\r\n";
const std::string kStlsOk = "+OK Begin TLS negotiation\r\n";
const std::string kPlaintextRefused =
    "-ERR [AUTH] Plaintext logins are not allowed without TLS: use STLS (or the POP3S port)\r\n";

TEST(Pop3SessionTls, CapaBeforeAndAfterStls) {
  for (std::size_t step : {std::size_t{0}, std::size_t{1}}) {
    SCOPED_TRACE(step);
    Driver d(pop3_config(), tls_offered());
    d.feed("CAPA\r\n", step);
    // No login is possible yet: no USER, no SASL; STLS is.
    EXPECT_EQ(d.transcript, kGreeting + kCapaHead + "STLS\r\n" + kCapaTail);
    d.transcript.clear();
    d.feed("STLS\r\n", step);
    EXPECT_EQ(d.handshakes, 1);
    EXPECT_EQ(d.transcript, kStlsOk);   // no second greeting after the handshake (RFC 2595 4)
    EXPECT_TRUE(d.s.tls_active());
    d.transcript.clear();
    d.feed("CAPA\r\n", step);
    EXPECT_EQ(d.transcript, kCapaHead + kCapaLogin + kCapaTail);   // RFC 2449 5: the list changed
    d.transcript.clear();
    d.feed(kLogin + "CAPA\r\n", step);
    EXPECT_EQ(d.transcript, kLoggedIn + kCapaHead + kCapaLogin + kCapaTail);
    ASSERT_FALSE(d.log.empty());
    EXPECT_NE(d.log.back().find("user=alice login: 3 messages (370 octets), TLS"), std::string::npos) << d.log.back();
  }
}

TEST(Pop3SessionTls, StlsStopsReadingAtItsLine) {
  Session s(pop3_config(), pop3::ClientInfo{"192.0.2.1", 1}, "mx.test", kT0, tls_offered());
  s.greet();
  std::string_view in = "STLS\r\nSTAT\r\nUSER alice\r\n";
  std::size_t used = 0;
  Output o = s.on_input(in, kT0, used);
  EXPECT_EQ(o.replies, kStlsOk);
  EXPECT_EQ(o.action, Action::StartTls);
  EXPECT_EQ(used, 6u);   // the STLS line only: the rest is the driver's to drop
  o = s.on_input(in.substr(used), kT0, used);   // nothing is read during the handshake
  EXPECT_EQ(used, 0u);
  EXPECT_EQ(o.replies, "");
  EXPECT_EQ(o.action, Action::None);
  o = s.on_tls_started(true);
  EXPECT_EQ(o.replies, "");
  EXPECT_EQ(o.action, Action::None);
  o = s.on_input("CAPA\r\n", kT0, used);
  EXPECT_EQ(o.replies, kCapaHead + kCapaLogin + kCapaTail);
}

TEST(Pop3SessionTls, PipelinedAfterStlsIsDroppedAndUserForgotten) {
  for (std::size_t step : {std::size_t{0}, std::size_t{1}}) {
    SCOPED_TRACE(step);
    // A client in plaintext_login_networks gives USER in the clear, then STLS
    // with PASS pipelined behind it: PASS is dropped, and after TLS the
    // session is at the start of AUTHORIZATION (the USER is forgotten).
    Driver d(pop3_config(), tls_offered(true));
    d.feed("USER alice\r\nSTLS\r\nPASS pw-alice\r\n", step);
    EXPECT_EQ(d.transcript, kGreeting + "+OK Send PASS\r\n" + kStlsOk);
    EXPECT_EQ(d.dropped, std::string("PASS pw-alice\r\n").size());
    EXPECT_TRUE(d.logins.empty());
    d.feed("PASS pw-alice\r\n", step);
    EXPECT_EQ(d.transcript, kGreeting + "+OK Send PASS\r\n" + kStlsOk + "-ERR Send USER first\r\n");
    d.feed(kLogin, step);
    EXPECT_TRUE(d.s.in_transaction());
    EXPECT_EQ(d.logins, (std::vector<std::string>{"alice:pw-alice"}));
  }
}

TEST(Pop3SessionTls, StlsTwiceAndWithArgument) {
  Driver d(pop3_config(), tls_offered());
  d.feed("STLS now\r\n");
  d.feed("STLS\r\n");
  d.feed("STLS\r\n");
  EXPECT_EQ(d.handshakes, 1);
  EXPECT_EQ(d.transcript, kGreeting + "-ERR Syntax: STLS\r\n" + kStlsOk + "-ERR TLS is already active\r\n");
  EXPECT_FALSE(d.closed);
}

TEST(Pop3SessionTls, StlsAfterLoginRefused) {
  Driver d(pop3_config(), tls_offered(true));
  d.feed(kLogin + "CAPA\r\nSTLS\r\nSTAT\r\n");
  EXPECT_EQ(d.handshakes, 0);
  // After the login: no STLS in CAPA (RFC 2595 4: AUTHORIZATION only), STLS refused.
  EXPECT_EQ(d.transcript, kGreeting + kLoggedIn + kCapaHead + kCapaLogin + kCapaTail +
                              "-ERR Command not valid in this state\r\n+OK 3 370\r\n");
  EXPECT_FALSE(d.s.tls_active());
}

TEST(Pop3SessionTls, FailedHandshakeCloses) {
  Driver d(pop3_config(), tls_offered());
  d.handshake_ok = false;
  d.feed("STLS\r\nCAPA\r\n");
  EXPECT_EQ(d.transcript, kGreeting + kStlsOk);
  EXPECT_TRUE(d.closed);
  EXPECT_TRUE(d.s.closed());
}

TEST(Pop3SessionTls, PlaintextLoginRefusedBeforeTls) {
  for (std::size_t step : {std::size_t{0}, std::size_t{1}}) {
    SCOPED_TRACE(step);
    Driver d(pop3_config(), tls_offered());   // max_errors 4
    d.feed("USER alice\r\nPASS pw-alice\r\nAUTH PLAIN AGFsaWNlAHB3LWFsaWNl\r\nAUTH\r\nAUTH PLAIN\r\n", step);
    EXPECT_EQ(d.transcript, kGreeting + kPlaintextRefused + kPlaintextRefused + kPlaintextRefused +
                                "+OK SASL mechanisms follow\r\n.\r\n" + kPlaintextRefused +
                                "-ERR Too many errors, closing\r\n");
    EXPECT_TRUE(d.closed);   // each refusal spent the error budget (4)
    EXPECT_TRUE(d.logins.empty()) << "a password sent in the clear must never be checked";
    EXPECT_EQ(d.failed_logins, 0);   // not a failed login: the throttle does not count it
    EXPECT_EQ(d.delayed, 0);
    ASSERT_GE(d.log.size(), 1u);
    EXPECT_EQ(d.log[0], "pop3: client=192.0.2.1 refused: USER without TLS (not in plaintext_login_networks)");
  }
}

TEST(Pop3SessionTls, PlaintextLoginAcceptedAfterStls) {
  Driver d(pop3_config(), tls_offered());
  d.feed("USER alice\r\n");
  d.feed("STLS\r\n");
  d.feed("USER alice\r\nPASS wrong\r\n");
  d.feed("USER nobody\r\nPASS pw-alice\r\n");
  d.feed("AUTH PLAIN AGFsaWNlAHB3LWFsaWNl\r\n");
  // Under TLS the usual rules: one reply whatever was wrong, each failure
  // delayed and counted for the address.
  EXPECT_EQ(d.transcript, kGreeting + kPlaintextRefused + kStlsOk +
                              "+OK Send PASS\r\n-ERR [AUTH] Authentication failed\r\n"
                              "+OK Send PASS\r\n-ERR [AUTH] Authentication failed\r\n"
                              "+OK Logged in: 3 messages (370 octets)\r\n");
  EXPECT_EQ(d.failed_logins, 2);
  EXPECT_EQ(d.delayed, 2);
  EXPECT_TRUE(d.s.in_transaction());
}

TEST(Pop3SessionTls, PlaintextAllowedFromListedNetwork) {
  Driver d(pop3_config(), tls_offered(true));
  d.feed("CAPA\r\nAUTH\r\n" + kLogin);
  EXPECT_EQ(d.transcript, kGreeting + kCapaHead + kCapaLogin + "STLS\r\n" + kCapaTail +
                              "+OK SASL mechanisms follow\r\nPLAIN\r\n.\r\n" + kLoggedIn);
  ASSERT_FALSE(d.log.empty());
  EXPECT_NE(d.log.back().find("login: 3 messages (370 octets), no TLS"), std::string::npos) << d.log.back();
}

TEST(Pop3SessionTls, NoCertificateNoLoginWithoutListedNetwork) {
  Driver d(pop3_config(), pop3::Security{});
  d.feed("CAPA\r\nSTLS\r\nUSER alice\r\n");
  EXPECT_EQ(d.transcript, kGreeting + kCapaHead + kCapaTail +
                              "-ERR STLS is not available: no TLS certificate is loaded\r\n"
                              "-ERR [SYS/PERM] Plaintext logins are not allowed without TLS, and no TLS "
                              "certificate is loaded\r\n");
  EXPECT_EQ(d.handshakes, 0);
}

TEST(Pop3SessionTls, ImplicitTls) {
  for (std::size_t step : {std::size_t{0}, std::size_t{1}}) {
    SCOPED_TRACE(step);
    Driver d(pop3_config(), tls_offered(), /*implicit_tls=*/true);
    EXPECT_TRUE(d.s.tls_active());
    d.feed("CAPA\r\nSTLS\r\n" + kLogin, step);
    EXPECT_EQ(d.transcript, kGreeting + kCapaHead + kCapaLogin + kCapaTail + "-ERR TLS is already active\r\n" +
                                kLoggedIn);
    EXPECT_EQ(d.handshakes, 0);
  }
}

TEST(Pop3SessionTls, TlsStartedIgnoredOutsideAuthorization) {
  Driver d(pop3_config(), tls_offered(true));
  d.feed(kLogin);
  Output o = d.s.on_tls_started(true);   // no STLS was asked for
  EXPECT_EQ(o.action, Action::None);
  EXPECT_FALSE(d.s.tls_active());
  EXPECT_TRUE(d.s.in_transaction());
}


// The error budget spent counts toward a ban (net/abuse_score.hpp); failed
// logins go there through the LoginService, not as session offences.
TEST(Pop3Session, ErrorBudgetSpentIsAnOffence) {
  Driver d;
  d.feed("A\r\nB\r\n");
  EXPECT_TRUE(d.offences.empty()) << "a few errors are no offence";
  d.feed("C\r\nD\r\nE\r\nF\r\nG\r\nH\r\nI\r\nJ\r\nK\r\n");
  ASSERT_TRUE(d.closed) << d.transcript;
  EXPECT_EQ(d.offences, (std::vector<net::Offence>{net::Offence::ProtocolError}));
}

}  // namespace

// session_test.cpp - the SMTP session state machine driven directly: dialogues
// with exact replies, each fed whole and trickled one byte at a time.
#include "smtp/session.hpp"
#include "net/ip_network.hpp"
#include "test_accounts.hpp"

#include "config/schema.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

using namespace boxmail;
using smtp::Action;
using smtp::Output;
using smtp::Session;

namespace {

std::shared_ptr<const config::AccountTable> accounts() { return test_fixtures::alice_and_bob(); }

config::ConfigPtr make_config(void (*tweak)(config::Config&) = nullptr) {
  auto c = std::make_shared<config::Config>(*config::default_config());
  c->aliases["sales"] = {"alice", "bob"};
  c->aliases["void"] = {"null"};
  if (tweak) tweak(*c);
  return c;
}

/// Drives a session like the glue does; commits succeed at once.
struct Driver {
  explicit Driver(config::ConfigPtr cfg = make_config())
      : s(cfg, accounts(), smtp::ClientInfo{"192.0.2.1", 4321}, "mx.test", [this] { return "QID" + std::to_string(++ids); }) {
    transcript = s.greet().replies;
  }
  /// Feeds `in` in steps of `step` octets; collects replies, body, actions.
  void feed(std::string_view in, std::size_t step = 0) {
    if (step == 0) step = in.size() ? in.size() : 1;
    for (std::size_t pos = 0; pos < in.size() && !closed; pos += step) {
      std::string_view chunk = in.substr(pos, step);
      while (!chunk.empty() && !closed) {
        std::size_t used = 0;
        Output o = s.on_input(chunk, std::chrono::system_clock::time_point{}, body, used);
        chunk.remove_prefix(used);
        take(o);
        if (o.action == Action::Commit) take(s.on_committed(0));
        if (used == 0 && o.action == Action::None) break;
      }
    }
  }
  void take(const Output& o) {
    transcript += o.replies;
    if (o.progress) ++progress;
    data_octets += o.data_octets;
    events.insert(events.end(), o.events.begin(), o.events.end());
    offences.insert(offences.end(), o.offences.begin(), o.offences.end());
    if (o.action == Action::BeginData) {
      body.clear();
      prefix = s.envelope().prefix;
    }
    if (o.action == Action::Commit) {
      committed.push_back(body);
      mailboxes.push_back(s.envelope().mailboxes);
    }
    if (o.action == Action::AbortData) aborted++;
    if (o.action == Action::Close) closed = true;
  }
  int ids = 0;
  Session s;
  std::string transcript, body, prefix;
  std::vector<std::string> committed;
  std::vector<std::vector<std::string>> mailboxes;
  int aborted = 0;
  bool closed = false;
  int progress = 0;              // outputs that reported progress
  std::uint64_t data_octets = 0; // message data octets reported
  std::vector<smtp::Event> events;
  std::vector<net::Offence> offences;
};

struct DialogueCase {
  const char* name;
  std::string input;
  std::string replies;   // expected transcript after the greeting
};

const std::string kGreeting = "220 mx.test ESMTP boxmail\r\n";
const std::string kEhlo =
    "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 26214400\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n";

std::vector<DialogueCase> dialogue_cases() {
  return {
      {"ehlo", "EHLO client.example\r\n", kEhlo},
      {"helo", "HELO client.example\r\n", "250 mx.test\r\n"},
      {"ehlo without name", "EHLO\r\n", "501 5.5.4 Syntax: EHLO hostname\r\n"},
      {"noop rset quit", "NOOP\r\nRSET\r\nQUIT\r\n", "250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n221 2.0.0 Bye\r\n"},
      {"unknown verb", "FOO\r\n", "500 5.5.2 Error: command not recognized\r\n"},
      {"lower case verbs", "ehlo x\r\nmail from:<a@b>\r\n", kEhlo + "250 2.1.0 Sender ok\r\n"},
      {"mail before helo", "MAIL FROM:<a@b>\r\n", "503 5.5.1 Error: send HELO/EHLO first\r\n"},
      {"rcpt before mail", "EHLO x\r\nRCPT TO:<alice@x>\r\n", kEhlo + "503 5.5.1 Error: need MAIL command\r\n"},
      {"data before mail", "EHLO x\r\nDATA\r\n", kEhlo + "503 5.5.1 Error: need MAIL command\r\n"},
      {"data before rcpt", "EHLO x\r\nMAIL FROM:<a@b>\r\nDATA\r\n",
       kEhlo + "250 2.1.0 Sender ok\r\n503 5.5.1 Error: need RCPT command\r\n"},
      {"no valid rcpt", "EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<nobody@x>\r\nDATA\r\n",
       kEhlo + "250 2.1.0 Sender ok\r\n550 5.1.1 Recipient address rejected: User unknown: <nobody@x>\r\n"
               "554 5.5.1 Error: no valid recipients\r\n"},
      {"nested mail", "EHLO x\r\nMAIL FROM:<a@b>\r\nMAIL FROM:<a@b>\r\n",
       kEhlo + "250 2.1.0 Sender ok\r\n503 5.5.1 Error: nested MAIL command\r\n"},
      {"bad sender", "EHLO x\r\nMAIL FROM:<a@b@c>\r\n", ""},  // code checked below
      {"unknown mail param", "EHLO x\r\nMAIL FROM:<a@b> FOO=1\r\n",
       kEhlo + "555 5.5.4 Unsupported parameter: FOO\r\n"},
      {"size too big", "EHLO x\r\nMAIL FROM:<a@b> SIZE=999999999\r\n", kEhlo + "552 5.3.4 Message size exceeds fixed limit\r\n"},
      {"vrfy off", "VRFY alice\r\n", "252 2.5.0 Cannot VRFY user, but will accept message\r\n"},
      {"expn", "EXPN sales\r\n", "502 5.5.1 Error: command not implemented\r\n"},
      {"http", "GET / HTTP/1.1\r\nHost: x\r\n", "554 5.7.0 This is an SMTP server, not HTTP; closing\r\n"},
      {"relay trick", "EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<alice%evil.example@x>\r\n",
       kEhlo + "250 2.1.0 Sender ok\r\n550 5.7.1 Route-like address refused: <alice%evil.example@x>\r\n"},
      {"postmaster", "EHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<Postmaster>\r\n",
       kEhlo + "250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n"},
  };
}

}  // namespace

TEST(Session, Greeting) {
  Driver d;
  EXPECT_EQ(d.transcript, kGreeting);
}

TEST(Session, Dialogues) {
  for (const auto& c : dialogue_cases()) {
    for (std::size_t step : {std::size_t{0}, std::size_t{1}}) {
      SCOPED_TRACE(std::string(c.name) + (step ? " (trickled)" : " (whole)"));
      Driver d;
      d.feed(c.input, step);
      if (std::string(c.name) == "bad sender") {
        EXPECT_NE(d.transcript.find("501 5.1.7 Bad sender address syntax"), std::string::npos) << d.transcript;
      } else {
        EXPECT_EQ(d.transcript, kGreeting + c.replies);
      }
    }
  }
}

TEST(Session, WholeTransaction) {
  const std::string in =
      "EHLO client\r\nMAIL FROM:<sender@src.example>\r\nRCPT TO:<ALICE@feed.example>\r\nRCPT TO:<sales@x>\r\n"
      "DATA\r\nSubject: hi\r\n\r\n..dot\r\nbody\r\n.\r\nQUIT\r\n";
  for (std::size_t step : {std::size_t{0}, std::size_t{1}}) {
    Driver d;
    d.feed(in, step);
    EXPECT_EQ(d.transcript, kGreeting + kEhlo +
                                "250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n250 2.1.5 Recipient ok\r\n"
                                "354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as QID1\r\n"
                                "221 2.0.0 Bye\r\n");
    ASSERT_EQ(d.committed.size(), 1u);
    EXPECT_EQ(d.committed[0], "Subject: hi\n\n.dot\nbody\n");
    EXPECT_EQ(d.mailboxes[0], (std::vector<std::string>{"alice", "bob"}));
    EXPECT_EQ(d.prefix.rfind("Return-Path: <sender@src.example>\nReceived: from client (unknown [192.0.2.1])\n"
                             "\tby mx.test (boxmail) with ESMTP id QID1\n\t; ",
                             0),
              0u)
        << d.prefix;
  }
}

TEST(Session, SingleRecipientReceivedHasFor) {
  Driver d;
  d.feed("HELO c\r\nMAIL FROM:<>\r\nRCPT TO:<bob@x>\r\nDATA\r\n");
  EXPECT_NE(d.prefix.find("with SMTP id QID1\n\tfor <bob@x>; "), std::string::npos) << d.prefix;
  EXPECT_EQ(d.s.envelope().prefix_lines, 4u);
}

TEST(Session, SmugglingGivesOneMessage) {
  const std::string in =
      "EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<alice@x>\r\nDATA\r\nx\n.\nMAIL FROM:<e@x>\r\nRCPT TO:<bob@x>\r\n"
      "DATA\r\nsmuggled\r\n.\r\n";
  for (std::size_t step : {std::size_t{0}, std::size_t{1}}) {
    Driver d;
    d.feed(in, step);
    ASSERT_EQ(d.committed.size(), 1u);
    EXPECT_NE(d.committed[0].find("smuggled"), std::string::npos);
    EXPECT_EQ(d.mailboxes[0], std::vector<std::string>{"alice"});
  }
}

TEST(Session, RefusalsAfterData) {
  struct R {
    void (*tweak)(config::Config&);
    std::string body;
    std::string reply;
  };
  const std::vector<R> rows = {
      {[](config::Config& c) { c.smtp.max_message_size = 10; }, std::string(20, 'x') + "\r\n",
       "552 5.3.4 Message size exceeds fixed limit\r\n"},
      {[](config::Config& c) { c.smtp.bare_lf = config::BareLf::Reject; }, "a\nb\r\n",
       "550 5.5.2 Message refused: bare LF (line feed without carriage return)\r\n"},
      {[](config::Config& c) { c.smtp.bare_cr = config::BareCr::Reject; }, "a\rb\r\n",
       "550 5.5.2 Message refused: bare CR (carriage return without line feed)\r\n"},
      {[](config::Config& c) { c.smtp.max_text_line = 1000; }, std::string(1001, 'x') + "\r\n",
       "554 5.6.0 Message refused: line too long; the limit in octets is 1000\r\n"},
      {[](config::Config& c) { c.smtp.max_hops = 2; }, "Received: a\r\nReceived: b\r\nReceived: c\r\n\r\nx\r\n",
       "554 5.4.6 Too many hops (mail loop?)\r\n"},
  };
  for (const auto& r : rows) {
    Driver d(make_config(r.tweak));
    d.feed("EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<alice@x>\r\nDATA\r\n" + r.body + ".\r\nNOOP\r\n");
    EXPECT_TRUE(d.committed.empty());
    EXPECT_EQ(d.aborted, 1);
    const std::string tail = r.reply + "250 2.0.0 Ok\r\n";
    ASSERT_GE(d.transcript.size(), tail.size());
    EXPECT_EQ(d.transcript.substr(d.transcript.size() - tail.size()), tail);
  }
}

TEST(Session, TooManyRecipients) {
  Driver d(make_config([](config::Config& c) { c.smtp.max_recipients = 2; }));
  d.feed("EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<alice@x>\r\nRCPT TO:<bob@x>\r\nRCPT TO:<postmaster@x>\r\n");
  EXPECT_NE(d.transcript.find("452 4.5.3 Error: too many recipients\r\n"), std::string::npos);
}

TEST(Session, RelayNetworksClientInFeedMode) {
  // The box takes the ISP's feed (accept_domains = *) and its own domain is
  // own.test. The client 192.0.2.1 is in relay_networks: alice@own.test is
  // local, bob@elsewhere.test is remote (no route yet: 550 5.7.1). From a
  // feed client both are local.
  auto tweak = [](config::Config& c) {
    std::string why;
    c.relay.relay_networks = {*net::parse_network("192.0.2.*", why)};
    c.relay.local_domains = {"own.test"};
  };
  Driver lan(make_config(tweak));
  lan.feed("EHLO c\r\nMAIL FROM:<carol@own.test>\r\nRCPT TO:<alice@own.test>\r\nRCPT TO:<bob@elsewhere.test>\r\n");
  EXPECT_TRUE(lan.transcript.ends_with(
      "250 2.1.5 Recipient ok\r\n"
      "550 5.7.1 Relay access denied: no outgoing mail route is configured: <bob@elsewhere.test>\r\n"))
      << lan.transcript;
  Driver feed(make_config([](config::Config& c) { c.relay.local_domains = {"own.test"}; }));
  feed.feed("EHLO c\r\nMAIL FROM:<x@isp.test>\r\nRCPT TO:<alice@own.test>\r\nRCPT TO:<bob@elsewhere.test>\r\n");
  EXPECT_TRUE(feed.transcript.ends_with("250 2.1.5 Recipient ok\r\n250 2.1.5 Recipient ok\r\n")) << feed.transcript;
}

TEST(Session, ErrorBudget) {
  Driver d(make_config([](config::Config& c) { c.smtp.max_errors = 3; }));
  d.feed("FOO\r\nBAR\r\nBAZ\r\nNOOP\r\n");
  EXPECT_EQ(d.transcript, kGreeting + "500 5.5.2 Error: command not recognized\r\n"
                                      "500 5.5.2 Error: command not recognized\r\n"
                                      "500 5.5.2 Error: command not recognized\r\n"
                                      "421 4.7.0 mx.test Error: too many errors\r\n");
  EXPECT_TRUE(d.closed);
}

TEST(Session, UnknownRecipientsDoNotCountAsErrors) {
  Driver d(make_config([](config::Config& c) { c.smtp.max_errors = 2; }));
  d.feed("EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<x1@x>\r\nRCPT TO:<x2@x>\r\nRCPT TO:<x3@x>\r\nNOOP\r\n");
  EXPECT_FALSE(d.closed);
  EXPECT_NE(d.transcript.find("250 2.0.0 Ok\r\n"), std::string::npos);
}

// What counts toward a ban (net/abuse_score.hpp): a relay attempt from
// outside relay_networks, a route-like address, an unknown user, the error
// budget spent; a refused relay from the LAN and a plain error do not.
TEST(Session, OffencesForTheAutoBan) {
  using net::Offence;
  Driver d(make_config([](config::Config& c) {
    c.smtp.accept_domains = {"own.test"};
    c.smtp.max_errors = 2;
  }));
  d.feed("EHLO c\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<x@elsewhere.test>\r\nRCPT TO:<nobody@own.test>\r\n"
         "RCPT TO:<@hop.test:x@elsewhere.test>\r\n");
  EXPECT_EQ(d.offences, (std::vector<Offence>{Offence::RelayAttempt, Offence::UnknownRecipient, Offence::RelayAttempt}))
      << d.transcript;
  d.feed("FOO\r\n");
  EXPECT_EQ(d.offences.size(), 3u) << "one error is not an offence";
  d.feed("BAR\r\n");
  EXPECT_TRUE(d.closed);
  EXPECT_EQ(d.offences.back(), Offence::ProtocolError);

  Driver lan(make_config([](config::Config& c) {
    std::string why;
    c.smtp.accept_domains = {"own.test"};
    c.relay.relay_networks = {*net::parse_network("192.0.2.0/24", why)};
  }));
  lan.feed("EHLO c\r\nMAIL FROM:<a@own.test>\r\nRCPT TO:<x@elsewhere.test>\r\n");
  EXPECT_NE(lan.transcript.find("550 5.7.1"), std::string::npos) << lan.transcript;
  EXPECT_TRUE(lan.offences.empty()) << "the LAN without a route is not an attacker";
}

TEST(Session, LongCommandLine) {
  Driver d(make_config([](config::Config& c) { c.smtp.max_command_line = 512; }));
  d.feed("NOOP " + std::string(600, 'x') + "\r\nNOOP\r\n", 1);
  EXPECT_EQ(d.transcript, kGreeting + "500 5.5.2 Error: line too long\r\n250 2.0.0 Ok\r\n");
}

TEST(Session, NullAliasIsCommittedWithNoMailbox) {
  Driver d;
  d.feed("EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<void@x>\r\nDATA\r\nhi\r\n.\r\n");
  ASSERT_EQ(d.mailboxes.size(), 1u);
  EXPECT_TRUE(d.mailboxes[0].empty());
}

TEST(Session, TimeoutAndShutdown) {
  Driver d;
  EXPECT_EQ(d.s.on_timeout().replies, "421 4.4.2 mx.test Error: timeout exceeded\r\n");
  Driver e;
  Output o = e.s.on_shutdown();
  EXPECT_EQ(o.replies, "421 4.3.2 mx.test Service shutting down\r\n");
  EXPECT_EQ(o.action, Action::Close);
}

TEST(Session, ProgressReportedWholeAndTrickled) {
  // `progress` is per Output: fed whole, several commands share one Output;
  // trickled, each command's last octet gives one.
  const std::string data = "Subject: x\r\n\r\nhello\r\n.\r\n";
  for (std::size_t step : {std::size_t{0}, std::size_t{1}}) {
    Driver d;
    d.feed("EHLO client.example\r\nMAIL FROM:<a@client.example>\r\nRCPT TO:<alice@x.example>\r\nDATA\r\n", step);
    if (step == 1) {
      EXPECT_EQ(d.progress, 4);   // each complete command, whatever its reply
    }
    EXPECT_GE(d.progress, 1) << step;
    EXPECT_EQ(d.data_octets, 0u) << step;
    const int before_data = d.progress;
    d.feed(data, step);
    // the end of data and the commit are progress; every octet of DATA is reported
    EXPECT_EQ(d.progress, before_data + 2) << step;
    EXPECT_EQ(d.data_octets, data.size()) << step;
    ASSERT_EQ(d.committed.size(), 1u);
    const int before = d.progress;
    d.feed("NOO", step);                // an unfinished line is no progress
    EXPECT_EQ(d.progress, before) << step;
    d.feed("P\r\n", step);
    EXPECT_EQ(d.progress, before + 1) << step;
    d.feed("BOGUS\r\n", step);         // a complete line is, even a refused one
    EXPECT_EQ(d.progress, before + 2) << step;
  }
}

TEST(Session, OverlongLineIsNoProgress) {
  Driver d;
  d.feed("EHLO client.example\r\n");
  const int before = d.progress;
  d.feed(std::string(3000, 'x'), 1);   // trickled, never ends: 500 5.5.2, no progress
  EXPECT_NE(d.transcript.find("500 5.5.2"), std::string::npos);
  EXPECT_EQ(d.progress, before);
}

TEST(Session, Evicted) {
  Driver d;
  d.feed("EHLO client.example\r\nMAIL FROM:<a@client.example>\r\nRCPT TO:<alice@x.example>\r\nDATA\r\nabc");
  Output o = d.s.on_evicted();
  EXPECT_EQ(o.replies, "421 4.4.2 mx.test Error: no progress for too long; closing to make room\r\n");
  EXPECT_EQ(o.action, Action::Close);
  ASSERT_EQ(o.log.size(), 1u);
  EXPECT_EQ(o.log[0], "client=192.0.2.1 closed: no progress for too long in DATA, connection slot needed");
  EXPECT_EQ(smtp::format_reply(smtp::ReplyId::NoDescriptors, {}, "mx"),
            "421 4.3.2 mx Error: out of resources, try again later\r\n");
}

TEST(Session, CommitFailures) {
  for (auto [err, reply] : {std::pair{ENOSPC, "452 4.3.1"}, std::pair{EIO, "451 4.3.0"}}) {
    Driver d;
    std::size_t used = 0;
    std::string body;
    d.s.on_input("EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<bob@x>\r\nDATA\r\n", {}, body, used);
    Output o = d.s.on_input("x\r\n.\r\n", {}, body, used);
    ASSERT_EQ(o.action, Action::Commit);
    EXPECT_EQ(d.s.on_committed(err).replies.rfind(reply, 0), 0u);
  }
}

TEST(Session, Rfc5322Date) {
  EXPECT_EQ(smtp::rfc5322_date(std::chrono::system_clock::from_time_t(1795117920)),
            "Thu, 19 Nov 2026 19:52:00 +0000");
}

TEST(Session, VrfyWhenEnabled) {
  Driver d(make_config([](config::Config& c) { c.smtp.vrfy = true; }));
  d.feed("VRFY alice\r\nVRFY <bob@x>\r\nVRFY sales\r\nVRFY nobody\r\n");
  EXPECT_EQ(d.transcript, kGreeting + "250 2.1.5 <alice>\r\n250 2.1.5 <bob>\r\n250 2.1.5 <alice>, <bob>\r\n"
                                      "550 5.1.1 User unknown\r\n");
}

// ---- typed events for the counters (STYLE.md 17) ------------------------------------

namespace {
using smtp::Event;
using smtp::EventKind;
}  // namespace

TEST(Session, EventsWhereThingsHappen) {
  const std::string in =
      "EHLO x\r\nMAIL FROM:<a@b> SIZE=99999999\r\nMAIL FROM:<a@b>\r\n"
      "RCPT TO:<nobody@x>\r\nRCPT TO:<alice@x>\r\nRCPT TO:<bob@x>\r\nDATA\r\nhi\r\n.\r\n"
      "MAIL FROM:<a@b>\r\nRCPT TO:<alice@other.example>\r\nQUIT\r\n";
  for (std::size_t step : {std::size_t{0}, std::size_t{1}}) {
    Driver d(make_config([](config::Config& c) { c.smtp.accept_domains = {"x"}; }));
    d.feed(in, step);
    const std::vector<Event> want = {{EventKind::SenderRefused, 0},
                                     {EventKind::RecipientRefused, 0},
                                     {EventKind::MessageAccepted, 2},
                                     {EventKind::RecipientRefused, 0}};
    EXPECT_EQ(d.events, want) << "step " << step;
  }
}

TEST(Session, ForgedResultInLocalPartCountsAsRefused) {
  // The attack on the log-text counters: a quoted local-part that reads
  // " result=accepted " in the log line of each refused RCPT.
  std::string in = "EHLO x\r\nMAIL FROM:<a@b>\r\n";
  for (int i = 0; i < 5; ++i) in += "RCPT TO:<\" result=accepted \"@x>\r\n";
  in += "QUIT\r\n";
  for (std::size_t step : {std::size_t{0}, std::size_t{1}}) {
    Driver d;
    d.feed(in, step);
    ASSERT_EQ(d.events.size(), 5u) << d.transcript;
    for (const Event& e : d.events) EXPECT_EQ(e.kind, EventKind::RecipientRefused);
  }
}

TEST(Session, EventsForRefusedAndDeferredMessages) {
  Driver d(make_config([](config::Config& c) { c.smtp.max_message_size = 10; }));
  d.feed("EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<alice@x>\r\nDATA\r\n0123456789abcdef\r\n.\r\n");
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(d.events[0], (Event{EventKind::MessageRefused, 1}));
  Output o = d.s.on_committed(EIO);   // not committing: still reports what it was told
  ASSERT_EQ(o.events.size(), 1u);
  EXPECT_EQ(o.events[0].kind, EventKind::MessageDeferred);
}

// The session owns its deadline (the driver's watchdog only reads it):
// idle_timeout after the last progress, capped by session_timeout from the
// start; DATA is credited at min_data_rate.
TEST(Session, DeadlineFollowsProgressCappedBySessionLimit) {
  using std::chrono::seconds;
  const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  auto cfg = make_config([](config::Config& c) {
    c.smtp.idle_timeout = 300;
    c.smtp.session_timeout = 1000;
    c.smtp.min_data_rate = 100;   // octets/s
  });
  Session s(cfg, accounts(), smtp::ClientInfo{"192.0.2.1", 4321}, "mx.test", [] { return std::string("QID"); }, t0);
  EXPECT_EQ(s.deadline(), t0 + seconds(300));
  EXPECT_EQ(s.last_progress(), t0);

  std::string body;
  std::size_t used = 0;
  Output o = s.on_input("HELO x\r\n", std::chrono::system_clock::time_point{}, body, used);
  EXPECT_TRUE(s.note_progress(o, t0 + seconds(100)));
  EXPECT_EQ(s.last_progress(), t0 + seconds(100));
  EXPECT_EQ(s.deadline(), t0 + seconds(400));

  Output none;   // nothing reported: nothing moves
  EXPECT_FALSE(s.note_progress(none, t0 + seconds(200)));
  EXPECT_EQ(s.deadline(), t0 + seconds(400));

  // 1000 octets of data at 100 octets/s credit 10 s of progress, not 100 s.
  Output data;
  data.data_octets = 1000;
  EXPECT_TRUE(s.note_progress(data, t0 + seconds(200)));
  EXPECT_EQ(s.last_progress(), t0 + seconds(110));

  // Late progress cannot pass the whole-session limit.
  Output cmd;
  cmd.progress = true;
  EXPECT_TRUE(s.note_progress(cmd, t0 + seconds(900)));
  EXPECT_EQ(s.deadline(), t0 + seconds(1000));
}

// smtp_client_session_test.cpp - the SMTP client state machine
// (relay/client_session.hpp) driven by scripted server replies: each
// dialogue is played whole and trickled one octet at a time, and checks
// what the client sends, the actions it asks for, and every recipient's
// result. Covers pipelining and not, EHLO -> HELO, SIZE, 8BITMIME, the
// three TLS policies, AUTH PLAIN / LOGIN and their refusal without TLS,
// 421 at any point, partial and total RCPT refusal, multi-line and
// malformed replies, two messages on one connection with RSET.
#include "relay/client_session.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace boxmail::relay;

namespace {

/// One step of a dialogue: what the server does (`server`: reply octets,
/// or "<TLS>", "<TLS-FAIL>", "<BODY>", "<EOF>", "<TIMEOUT>") and what the
/// client must send and do in answer.
struct Step {
  std::string server;
  std::string client;
  ClientAction action = ClientAction::None;
};

const std::string kGreeting = "220 mx.example ESMTP\r\n";
/// The first step of most dialogues: the greeting, answered by EHLO.
const Step kHello{kGreeting, "EHLO box.example\r\n"};
/// The last: QUIT's reply, and the session closes.
const Step kBye{"221 Bye\r\n", "", ClientAction::Close};

/// An EHLO reply with the given extension lines.
std::string ehlo(std::vector<std::string> ext) {
  std::string r = "250";
  r += ext.empty() ? " " : "-";
  r += "mx.example\r\n";
  for (std::size_t i = 0; i < ext.size(); ++i) r += "250" + std::string(i + 1 == ext.size() ? " " : "-") + ext[i] + "\r\n";
  return r;
}

OutgoingEnvelope envelope(std::vector<std::string> rcpts, std::string from = "alice@example.com",
                          std::uint64_t size = 100, bool eight_bit = false) {
  OutgoingEnvelope e;
  e.reverse_path = std::move(from);
  e.recipients = std::move(rcpts);
  e.size = size;
  e.eight_bit = eight_bit;
  return e;
}

ClientOptions plain_options() {
  ClientOptions o;
  o.ehlo_name = "box.example";
  o.tls = TlsPolicy::None;
  return o;
}

/// Plays `steps` against a new session; `trickle` feeds reply octets one at
/// a time. Returns the session for result checks.
ClientSession play(ClientOptions options, std::vector<OutgoingEnvelope> messages, const std::vector<Step>& steps,
                   bool trickle) {
  ClientSession s(std::move(options), std::move(messages));
  for (std::size_t n = 0; n < steps.size(); ++n) {
    const Step& st = steps[n];
    SCOPED_TRACE("step " + std::to_string(n) + " server " + testing::PrintToString(st.server));
    std::string sent;
    ClientAction action = ClientAction::None;
    auto take = [&](const ClientOutput& out) {
      sent += out.send;
      if (out.action != ClientAction::None) {
        EXPECT_EQ(action, ClientAction::None) << "two actions in one step";
        action = out.action;
      }
    };
    if (st.server == "<TLS>") {
      take(s.tls_started(true));
    } else if (st.server == "<TLS-FAIL>") {
      take(s.tls_started(false, "the server's certificate (SHA-256 AB:CD) is not the pinned one"));
    } else if (st.server == "<BODY>") {
      take(s.body_sent());
    } else if (st.server == "<EOF>") {
      take(s.connection_lost("connection closed by the server", LossCause::Closed));
    } else if (st.server == "<TIMEOUT>") {
      take(s.connection_lost("", LossCause::Timeout));
    } else if (trickle) {
      for (std::size_t i = 0; i < st.server.size() && action == ClientAction::None; ++i) {
        const ClientOutput out = s.receive(std::string_view(st.server).substr(i, 1));
        EXPECT_EQ(out.used, 1u);
        take(out);
      }
    } else {
      const ClientOutput out = s.receive(st.server);
      if (out.action == ClientAction::None) {
        EXPECT_EQ(out.used, st.server.size());
      }
      take(out);
    }
    EXPECT_EQ(sent, st.client);
    EXPECT_EQ(action, st.action);
  }
  return s;
}

/// Runs a dialogue whole and trickled; `check` inspects the session each time.
template <typename Check>
void both(const ClientOptions& o, const std::vector<OutgoingEnvelope>& m, const std::vector<Step>& steps, Check check) {
  for (const bool trickle : {false, true}) {
    SCOPED_TRACE(trickle ? "trickled" : "whole");
    const ClientSession s = play(o, m, steps, trickle);
    check(s);
  }
}

const RecipientResult& rcpt(const ClientSession& s, std::size_t m, std::size_t r) {
  return s.results().at(m).recipients.at(r);
}

// ---- reply parsing -----------------------------------------------------------

TEST(SmtpReplyLine, Parses) {
  auto r = parse_reply_line("250 ok");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, 250);
  EXPECT_FALSE(r->more);
  EXPECT_EQ(r->text, "ok");
  r = parse_reply_line("250-PIPELINING");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->more);
  EXPECT_EQ(r->text, "PIPELINING");
  r = parse_reply_line("354");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, 354);
  EXPECT_EQ(r->text, "");
  for (const char* bad : {"", "25", "25O ok", "250x", "199 x", "600 x", "099 x", " 250 x", "250\tx", "2500 x"}) {
    EXPECT_FALSE(parse_reply_line(bad)) << bad;
  }
}

TEST(SmtpReplyLine, EnhancedCode) {
  EXPECT_EQ(enhanced_code(550, "5.1.1 user unknown"), "5.1.1");
  EXPECT_EQ(enhanced_code(250, "2.0.0"), "2.0.0");
  EXPECT_EQ(enhanced_code(452, "4.5.3 too many"), "4.5.3");
  EXPECT_EQ(enhanced_code(550, "5.123.456 x"), "5.123.456");
  EXPECT_EQ(enhanced_code(550, "4.1.1 class differs"), "");
  EXPECT_EQ(enhanced_code(550, "5.1 short"), "");
  EXPECT_EQ(enhanced_code(550, "5.1.1x"), "");
  EXPECT_EQ(enhanced_code(550, "5.1234.1 x"), "");
  EXPECT_EQ(enhanced_code(550, "user unknown"), "");
}

// ---- the plain dialogue ------------------------------------------------------

TEST(SmtpClientSession, WithoutPipeliningOneCommandPerReply) {
  both(plain_options(), {envelope({"bob@b.example", "carol@c.example"})},
       {{"", ""},
        kHello,
        {ehlo({"8BITMIME", "ENHANCEDSTATUSCODES"}), "MAIL FROM:<alice@example.com>\r\n"},
        {"250 2.1.0 Ok\r\n", "RCPT TO:<bob@b.example>\r\n"},
        {"250 2.1.5 Ok\r\n", "RCPT TO:<carol@c.example>\r\n"},
        {"250 2.1.5 Ok\r\n", "DATA\r\n"},
        {"354 go ahead\r\n", "", ClientAction::SendBody},
        {"<BODY>", ""},
        {"250 2.0.0 Ok: queued as ABC\r\n", "QUIT\r\n"},
        {"221 2.0.0 Bye\r\n", "", ClientAction::Close}},
       [](const ClientSession& s) {
         ASSERT_TRUE(s.closed());
         EXPECT_FALSE(s.host_failed());
         EXPECT_EQ(s.results()[0].status(), Status::Accepted);
         EXPECT_TRUE(s.results()[0].body_sent);
         ASSERT_TRUE(s.results()[0].final_reply);
         EXPECT_EQ(s.results()[0].final_reply->summary(), "250 2.0.0 Ok: queued as ABC");
         EXPECT_EQ(rcpt(s, 0, 1).code, 250);
         EXPECT_EQ(rcpt(s, 0, 1).enhanced, "2.0.0");
         EXPECT_EQ(rcpt(s, 0, 1).stage, Stage::Body);
         EXPECT_TRUE(rcpt(s, 0, 1).remote);
         const auto& t = s.transcript();
         ASSERT_GE(t.size(), 4u);
         EXPECT_EQ(t[0], "S: 220 mx.example ESMTP");
         EXPECT_EQ(t[1], "C: EHLO box.example");
       });
}

TEST(SmtpClientSession, WaitingForNamesTheStageForTimeouts) {
  ClientSession s(plain_options(), {envelope({"bob@b.example"})});
  EXPECT_EQ(s.waiting_for(), Stage::Greeting);
  s.receive(kGreeting);
  EXPECT_EQ(s.waiting_for(), Stage::Ehlo);
  s.receive(ehlo({}));
  EXPECT_EQ(s.waiting_for(), Stage::Mail);
  s.receive("250 ok\r\n");
  EXPECT_EQ(s.waiting_for(), Stage::Rcpt);
  s.receive("250 ok\r\n");
  EXPECT_EQ(s.waiting_for(), Stage::Data);
  EXPECT_EQ(s.receive("354 go\r\n").action, ClientAction::SendBody);
  EXPECT_EQ(s.waiting_for(), std::nullopt);   // the glue's data-block timeout applies
  s.body_sent();
  EXPECT_EQ(s.waiting_for(), Stage::Body);
}

TEST(SmtpClientSession, PipeliningSendsOneGroupAndMatchesRepliesInOrder) {
  both(plain_options(), {envelope({"bob@b.example", "nobody@b.example", "carol@c.example"}, "", 100)},
       {kHello,
        {ehlo({"PIPELINING", "SIZE 10240000", "8BITMIME"}),
         "MAIL FROM:<> SIZE=100\r\nRCPT TO:<bob@b.example>\r\nRCPT TO:<nobody@b.example>\r\n"
         "RCPT TO:<carol@c.example>\r\nDATA\r\n"},
        {"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n550 5.1.1 <nobody@b.example>: Recipient address rejected\r\n"
         "451 4.3.0 try later\r\n354 End data with <CR><LF>.<CR><LF>\r\n",
         "", ClientAction::SendBody},
        {"<BODY>", ""},
        {"250 2.0.0 Ok: queued\r\n", "QUIT\r\n"},
        kBye},
       [](const ClientSession& s) {
         EXPECT_EQ(rcpt(s, 0, 0).status, Status::Accepted);
         EXPECT_EQ(rcpt(s, 0, 1).status, Status::Permanent);
         EXPECT_EQ(rcpt(s, 0, 1).code, 550);
         EXPECT_EQ(rcpt(s, 0, 1).enhanced, "5.1.1");
         EXPECT_EQ(rcpt(s, 0, 1).stage, Stage::Rcpt);
         EXPECT_EQ(rcpt(s, 0, 1).text, "5.1.1 <nobody@b.example>: Recipient address rejected");
         EXPECT_EQ(rcpt(s, 0, 2).status, Status::Temporary);
         EXPECT_EQ(rcpt(s, 0, 2).code, 451);
         EXPECT_EQ(s.results()[0].status(), Status::Temporary);   // mixed
       });
}

TEST(SmtpClientSession, PipeliningAllRcptsRefusedAndDataRefused) {
  both(plain_options(), {envelope({"a@b.example", "c@d.example"})},
       {kHello,
        {ehlo({"PIPELINING"}), "MAIL FROM:<alice@example.com>\r\nRCPT TO:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n"},
        {"250 ok\r\n550 5.1.1 no\r\n450 4.2.0 greylisted\r\n554 5.5.1 Error: no valid recipients\r\n", "QUIT\r\n"},
        kBye},
       [](const ClientSession& s) {
         EXPECT_EQ(rcpt(s, 0, 0).status, Status::Permanent);
         EXPECT_EQ(rcpt(s, 0, 1).status, Status::Temporary);
         EXPECT_EQ(rcpt(s, 0, 1).text, "4.2.0 greylisted");
         EXPECT_FALSE(s.results()[0].body_sent);
       });
}

TEST(SmtpClientSession, PipeliningDataAcceptedWithoutRecipientsGetsAnEmptyDot) {
  // RFC 2920 3.1: 354 after every RCPT failed: send "." alone, ignore the reply.
  both(plain_options(), {envelope({"a@b.example"})},
       {kHello,
        {ehlo({"PIPELINING"}), "MAIL FROM:<alice@example.com>\r\nRCPT TO:<a@b.example>\r\nDATA\r\n"},
        {"250 ok\r\n550 5.1.1 no\r\n354 go\r\n", ".\r\n"},
        {"554 5.5.1 no valid recipients\r\n", "QUIT\r\n"},
        kBye},
       [](const ClientSession& s) {
         EXPECT_EQ(rcpt(s, 0, 0).status, Status::Permanent);
         EXPECT_EQ(rcpt(s, 0, 0).stage, Stage::Rcpt);
         EXPECT_FALSE(s.results()[0].body_sent);
       });
}

TEST(SmtpClientSession, PipeliningRefusedMailDecidesEveryRecipient) {
  both(plain_options(), {envelope({"a@b.example", "c@d.example"})},
       {kHello,
        {ehlo({"PIPELINING"}), "MAIL FROM:<alice@example.com>\r\nRCPT TO:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n"},
        {"553 5.7.1 sender refused\r\n503 5.5.1 need MAIL\r\n503 5.5.1 need MAIL\r\n503 5.5.1 need MAIL\r\n", "QUIT\r\n"},
        kBye},
       [](const ClientSession& s) {
         for (std::size_t i = 0; i < 2; ++i) {
           EXPECT_EQ(rcpt(s, 0, i).status, Status::Permanent);
           EXPECT_EQ(rcpt(s, 0, i).stage, Stage::Mail);
           EXPECT_EQ(rcpt(s, 0, i).code, 553);
         }
       });
}

TEST(SmtpClientSession, WithoutPipeliningRefusedRcptsSendNoData) {
  both(plain_options(), {envelope({"a@b.example", "c@d.example"})},
       {kHello,
        {ehlo({}), "MAIL FROM:<alice@example.com>\r\n"},
        {"250 ok\r\n", "RCPT TO:<a@b.example>\r\n"},
        {"550 5.1.1 no\r\n", "RCPT TO:<c@d.example>\r\n"},
        {"452 4.2.2 full\r\n", "QUIT\r\n"},
        kBye},
       [](const ClientSession& s) {
         EXPECT_EQ(rcpt(s, 0, 0).status, Status::Permanent);
         EXPECT_EQ(rcpt(s, 0, 1).status, Status::Temporary);
       });
}

TEST(SmtpClientSession, WithoutPipeliningRefusedMailSendsNoRcpt) {
  both(plain_options(), {envelope({"a@b.example"})},
       {kHello,
        {ehlo({}), "MAIL FROM:<alice@example.com>\r\n"},
        {"451 4.3.0 later\r\n", "QUIT\r\n"},
        kBye},
       [](const ClientSession& s) {
         EXPECT_EQ(rcpt(s, 0, 0).status, Status::Temporary);
         EXPECT_EQ(rcpt(s, 0, 0).stage, Stage::Mail);
         EXPECT_FALSE(s.host_failed());   // the MAIL was sent: a reason of this message
       });
}

TEST(SmtpClientSession, FinalReplyDecidesTheAcceptedRecipients) {
  for (const auto& [reply, status] : {std::pair{std::string("452 4.3.1 no room\r\n"), Status::Temporary},
                                      std::pair{std::string("554 5.6.0 content refused\r\n"), Status::Permanent}}) {
    both(plain_options(), {envelope({"a@b.example", "c@d.example"})},
         {kHello,
          {ehlo({"PIPELINING"}), "MAIL FROM:<alice@example.com>\r\nRCPT TO:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n"},
          {"250 ok\r\n250 ok\r\n550 no\r\n354 go\r\n", "", ClientAction::SendBody},
          {"<BODY>", ""},
          {reply, "QUIT\r\n"},
          kBye},
         [&, st = status](const ClientSession& s) {
           EXPECT_EQ(rcpt(s, 0, 0).status, st);
           EXPECT_EQ(rcpt(s, 0, 0).stage, Stage::Body);
           EXPECT_EQ(rcpt(s, 0, 1).status, Status::Permanent);
           EXPECT_EQ(rcpt(s, 0, 1).stage, Stage::Rcpt);
           EXPECT_EQ(rcpt(s, 0, 1).enhanced, "5.0.0");   // none in the reply: the class's default
         });
  }
}

TEST(SmtpClientSession, DataRefusedDecidesTheAcceptedRecipients) {
  both(plain_options(), {envelope({"a@b.example"})},
       {kHello,
        {ehlo({}), "MAIL FROM:<alice@example.com>\r\n"},
        {"250 ok\r\n", "RCPT TO:<a@b.example>\r\n"},
        {"250 ok\r\n", "DATA\r\n"},
        {"554 5.3.0 no data today\r\n", "QUIT\r\n"},
        kBye},
       [](const ClientSession& s) {
         EXPECT_EQ(rcpt(s, 0, 0).status, Status::Permanent);
         EXPECT_EQ(rcpt(s, 0, 0).stage, Stage::Data);
       });
}

// ---- EHLO, HELO, greeting -------------------------------------------------------

TEST(SmtpClientSession, EhloRefusedFallsBackToHeloWithoutExtensions) {
  ClientOptions o = plain_options();
  o.tls = TlsPolicy::Opportunistic;
  both(o, {envelope({"a@b.example"}, "alice@example.com", 100, true)},
       {kHello,
        {"502 5.5.2 Error: command not recognized\r\n", "HELO box.example\r\n"},
        {"250 mx.example\r\n", "MAIL FROM:<alice@example.com>\r\n"},   // no SIZE=, no BODY=, no STARTTLS
        {"250 ok\r\n", "RCPT TO:<a@b.example>\r\n"},
        {"250 ok\r\n", "DATA\r\n"},
        {"354 go\r\n", "", ClientAction::SendBody},
        {"<BODY>", ""},
        {"250 ok\r\n", "QUIT\r\n"},
        kBye},
       [](const ClientSession& s) {
         EXPECT_EQ(rcpt(s, 0, 0).status, Status::Accepted);
         EXPECT_FALSE(s.secure());
       });
}

TEST(SmtpClientSession, HeloRefusedFailsTheHost) {
  both(plain_options(), {envelope({"a@b.example"})},
       {kHello,
        {"500 no\r\n", "HELO box.example\r\n"},
        {"550 go away\r\n", "QUIT\r\n"},
        kBye},
       [](const ClientSession& s) {
         EXPECT_EQ(rcpt(s, 0, 0).status, Status::Permanent);
         EXPECT_EQ(rcpt(s, 0, 0).stage, Stage::Helo);
         EXPECT_TRUE(s.host_failed());
       });
}

TEST(SmtpClientSession, EhloTemporaryFailureFailsTheHost) {
  both(plain_options(), {envelope({"a@b.example"})},
       {kHello,
        {"454 4.7.0 not now\r\n", "QUIT\r\n"},
        {"<EOF>", "", ClientAction::Close}},
       [](const ClientSession& s) {
         EXPECT_EQ(rcpt(s, 0, 0).status, Status::Temporary);
         EXPECT_EQ(rcpt(s, 0, 0).code, 454);
         EXPECT_TRUE(s.host_failed());
       });
}

TEST(SmtpClientSession, GreetingOtherThan220FailsTheHostTemporarily) {
  both(plain_options(), {envelope({"a@b.example"}), envelope({"c@d.example"})},
       {{"554 5.7.1 no service for you\r\n", "QUIT\r\n"}, kBye},
       [](const ClientSession& s) {
         for (std::size_t m = 0; m < 2; ++m) {
           EXPECT_EQ(rcpt(s, m, 0).status, Status::Temporary);
           EXPECT_EQ(rcpt(s, m, 0).stage, Stage::Greeting);
           EXPECT_EQ(rcpt(s, m, 0).code, 554);
         }
         EXPECT_TRUE(s.host_failed());
       });
}

TEST(SmtpClientSession, MultilineRepliesAndEhloKeywordsAnyCase) {
  both(plain_options(), {envelope({"a@b.example"}, "alice@example.com", 100, true)},
       {{"220-mx.example ESMTP\r\n220-second line\r\n220 third line\r\n", "EHLO box.example\r\n"},
        {"250-mx.example\r\n250-pipelining\r\n250-Size\r\n250 8bitmime\r\n",
         "MAIL FROM:<alice@example.com> SIZE=100 BODY=8BITMIME\r\nRCPT TO:<a@b.example>\r\nDATA\r\n"},
        {"250 ok\r\n550-5.1.1 first line\r\n550-5.1.1 second line\r\n550 5.1.1 last line\r\n554 no\r\n",
         "QUIT\r\n"},
        kBye},
       [](const ClientSession& s) {
         EXPECT_EQ(s.size_limit(), 0u);   // SIZE without a number: no limit given
         EXPECT_TRUE(s.offers_pipelining());
         EXPECT_TRUE(s.offers_8bitmime());
         EXPECT_EQ(rcpt(s, 0, 0).text, "5.1.1 first line 5.1.1 second line 5.1.1 last line");
         EXPECT_EQ(rcpt(s, 0, 0).enhanced, "5.1.1");
       });
}

// ---- SIZE and 8BITMIME -------------------------------------------------------------

TEST(SmtpClientSession, MessageOverTheServersSizeIsRefusedWithoutSending) {
  both(plain_options(),
       {envelope({"a@b.example"}, "alice@example.com", 2000), envelope({"c@d.example"}, "", 1000)},
       {kHello,
        {ehlo({"SIZE 1000"}), "MAIL FROM:<> SIZE=1000\r\n"},   // the first is skipped, the second fits exactly
        {"250 ok\r\n", "RCPT TO:<c@d.example>\r\n"},
        {"250 ok\r\n", "DATA\r\n"},
        {"354 go\r\n", "", ClientAction::SendBody},
        {"<BODY>", ""},
        {"250 ok\r\n", "QUIT\r\n"},
        kBye},
       [](const ClientSession& s) {
         EXPECT_EQ(rcpt(s, 0, 0).status, Status::Permanent);
         EXPECT_EQ(rcpt(s, 0, 0).enhanced, "5.3.4");
         EXPECT_EQ(rcpt(s, 0, 0).code, 0);
         EXPECT_FALSE(rcpt(s, 0, 0).remote);
         EXPECT_FALSE(s.results()[0].body_sent);
         EXPECT_EQ(rcpt(s, 1, 0).status, Status::Accepted);
       });
}

TEST(SmtpClientSession, EightBitWithoutEightBitMimeIsSentAsItIs) {
  both(plain_options(), {envelope({"a@b.example"}, "alice@example.com", 100, true)},
       {kHello,
        {ehlo({"SIZE 5000"}), "MAIL FROM:<alice@example.com> SIZE=100\r\n"},
        {"250 ok\r\n", "RCPT TO:<a@b.example>\r\n"},
        {"250 ok\r\n", "DATA\r\n"},
        {"354 go\r\n", "", ClientAction::SendBody}},
       [](const ClientSession&) {});
}

// ---- STARTTLS -------------------------------------------------------------------------

TEST(SmtpClientSession, OpportunisticStartTlsDropsPlaintextAfter220AndSaysEhloAgain) {
  ClientOptions o = plain_options();
  o.tls = TlsPolicy::Opportunistic;
  for (const bool trickle : {false, true}) {
    ClientSession s(o, {envelope({"a@b.example"})});
    s.receive(kGreeting);
    ClientOutput out = s.receive(ehlo({"PIPELINING", "STARTTLS"}));
    EXPECT_EQ(out.send, "STARTTLS\r\n");
    // A man in the middle appends a reply in the clear after the 220: it
    // must not be taken as the TLS server's.
    const std::string in = "220 2.0.0 Ready to start TLS\r\n250 injected\r\n";
    if (trickle) {
      for (std::size_t i = 0; i < in.size(); ++i) {
        out = s.receive(in.substr(i, 1));
        if (out.action != ClientAction::None) break;
      }
    } else {
      out = s.receive(in);
      EXPECT_EQ(out.used, in.size() - std::string("250 injected\r\n").size());
    }
    EXPECT_EQ(out.action, ClientAction::StartTls);
    EXPECT_FALSE(s.secure());
    out = s.tls_started(true);
    EXPECT_TRUE(s.secure());
    EXPECT_EQ(out.send, "EHLO box.example\r\n");
    EXPECT_FALSE(s.offers_starttls());   // forgotten (RFC 3207 4.2)
    out = s.receive(ehlo({"PIPELINING"}));
    EXPECT_EQ(out.send, "MAIL FROM:<alice@example.com>\r\nRCPT TO:<a@b.example>\r\nDATA\r\n");
    for (const auto& line : s.transcript()) EXPECT_EQ(line.find("injected"), std::string::npos) << line;
  }
}

TEST(SmtpClientSession, OpportunisticStartTlsRefusedGoesOnInTheClear) {
  ClientOptions o = plain_options();
  o.tls = TlsPolicy::Opportunistic;
  both(o, {envelope({"a@b.example"})},
       {kHello,
        {ehlo({"STARTTLS"}), "STARTTLS\r\n"},
        {"454 4.7.0 TLS not available\r\n", "MAIL FROM:<alice@example.com>\r\n"}},
       [](const ClientSession& s) { EXPECT_FALSE(s.secure()); });
}

TEST(SmtpClientSession, OpportunisticWithoutStartTlsGoesOnInTheClear) {
  ClientOptions o = plain_options();
  o.tls = TlsPolicy::Opportunistic;
  both(o, {envelope({"a@b.example"})},
       {kHello, {ehlo({"SIZE 100"}), "MAIL FROM:<alice@example.com> SIZE=100\r\n"}},
       [](const ClientSession&) {});
}

TEST(SmtpClientSession, PolicyNoneNeverStartsTls) {
  both(plain_options(), {envelope({"a@b.example"})},
       {kHello, {ehlo({"STARTTLS"}), "MAIL FROM:<alice@example.com>\r\n"}},
       [](const ClientSession& s) { EXPECT_FALSE(s.secure()); });
}

TEST(SmtpClientSession, RequiredTlsNotOfferedFailsTemporarily) {
  ClientOptions o = plain_options();
  o.tls = TlsPolicy::Required;
  both(o, {envelope({"a@b.example"})},
       {kHello,
        {ehlo({"PIPELINING"}), "QUIT\r\n"},
        kBye},
       [](const ClientSession& s) {
         EXPECT_EQ(rcpt(s, 0, 0).status, Status::Temporary);
         EXPECT_EQ(rcpt(s, 0, 0).enhanced, "4.7.10");
         EXPECT_EQ(rcpt(s, 0, 0).stage, Stage::StartTls);
         EXPECT_TRUE(s.host_failed());
       });
}

TEST(SmtpClientSession, RequiredTlsRefusedFailsTemporarily) {
  ClientOptions o = plain_options();
  o.tls = TlsPolicy::Required;
  both(o, {envelope({"a@b.example"})},
       {kHello,
        {ehlo({"STARTTLS"}), "STARTTLS\r\n"},
        {"554 5.7.0 no TLS for you\r\n", "QUIT\r\n"},
        kBye},
       [](const ClientSession& s) {
         EXPECT_EQ(rcpt(s, 0, 0).status, Status::Temporary);   // the policy's failure, whatever the class
         EXPECT_EQ(rcpt(s, 0, 0).code, 554);
       });
}

TEST(SmtpClientSession, FailedHandshakeClosesAndSaysSo) {
  for (const TlsPolicy p : {TlsPolicy::Required, TlsPolicy::Opportunistic}) {
    ClientOptions o = plain_options();
    o.tls = p;
    both(o, {envelope({"a@b.example"})},
         {kHello,
          {ehlo({"STARTTLS"}), "STARTTLS\r\n"},
          {"220 go\r\n", "", ClientAction::StartTls},
          {"<TLS-FAIL>", "", ClientAction::Close}},
         [](const ClientSession& s) {
           EXPECT_EQ(rcpt(s, 0, 0).status, Status::Temporary);
           EXPECT_EQ(rcpt(s, 0, 0).stage, Stage::Tls);
           EXPECT_EQ(rcpt(s, 0, 0).enhanced, "4.7.5");
           // The TLS layer's reason is kept (the queue logs and records it).
           EXPECT_EQ(rcpt(s, 0, 0).text,
                     "the TLS handshake failed: the server's certificate (SHA-256 AB:CD) is not the pinned one");
           EXPECT_TRUE(s.tls_failed());
           EXPECT_TRUE(s.host_failed());
         });
  }
}

// ---- AUTH -------------------------------------------------------------------------------

ClientOptions auth_options(TlsPolicy tls = TlsPolicy::Required) {
  ClientOptions o = plain_options();
  o.tls = tls;
  o.auth = AuthCredentials{"alice", "pw-alice"};
  return o;
}

/// The steps up to the EHLO after STARTTLS.
std::vector<Step> through_tls(std::string ehlo_after) {
  return {kHello,
          {ehlo({"STARTTLS", "AUTH PLAIN LOGIN"}), "STARTTLS\r\n"},
          {"220 go\r\n", "", ClientAction::StartTls},
          {"<TLS>", "EHLO box.example\r\n"},
          {std::move(ehlo_after), ""}};
}

void no_secret_in_transcript(const ClientSession& s) {
  for (const auto& line : s.transcript()) {
    EXPECT_EQ(line.find("pw-alice"), std::string::npos) << line;
    EXPECT_EQ(line.find("AGFsaWNl"), std::string::npos) << line;   // base64 of "\0alice"
    EXPECT_EQ(line.find("cHctYWxpY2U"), std::string::npos) << line;   // base64 of "pw-alice"
    EXPECT_EQ(line.find("YWxpY2U"), std::string::npos) << line;   // base64 of "alice"
  }
}

TEST(SmtpClientSession, AuthPlainAfterTlsWithInitialResponse) {
  std::vector<Step> steps = through_tls(ehlo({"AUTH LOGIN PLAIN"}));   // both: PLAIN preferred
  steps.back().client = "AUTH PLAIN AGFsaWNlAHB3LWFsaWNl\r\n";   // "\0alice\0pw-alice"
  steps.push_back({"235 2.7.0 Authentication successful\r\n", "MAIL FROM:<alice@example.com>\r\n"});
  both(auth_options(), {envelope({"a@b.example"})}, steps, [](const ClientSession& s) {
    EXPECT_TRUE(s.secure());
    no_secret_in_transcript(s);
  });
}

TEST(SmtpClientSession, AuthLoginWhenPlainIsNotOffered) {
  std::vector<Step> steps = through_tls(ehlo({"AUTH=LOGIN"}));
  steps.back().client = "AUTH LOGIN\r\n";
  steps.push_back({"334 VXNlcm5hbWU6\r\n", "YWxpY2U=\r\n"});
  steps.push_back({"334 UGFzc3dvcmQ6\r\n", "cHctYWxpY2U=\r\n"});
  steps.push_back({"235 2.7.0 ok\r\n", "MAIL FROM:<alice@example.com>\r\n"});
  both(auth_options(), {envelope({"a@b.example"})}, steps, no_secret_in_transcript);
}

TEST(SmtpClientSession, AuthRefusedFailsTemporarily) {
  std::vector<Step> steps = through_tls(ehlo({"AUTH PLAIN"}));
  steps.back().client = "AUTH PLAIN AGFsaWNlAHB3LWFsaWNl\r\n";
  steps.push_back({"535 5.7.8 Error: authentication failed\r\n", "QUIT\r\n"});
  steps.push_back(kBye);
  both(auth_options(), {envelope({"a@b.example"})}, steps, [](const ClientSession& s) {
    EXPECT_EQ(rcpt(s, 0, 0).status, Status::Temporary);
    EXPECT_EQ(rcpt(s, 0, 0).code, 535);
    EXPECT_EQ(rcpt(s, 0, 0).stage, Stage::Auth);
    EXPECT_TRUE(s.host_failed());
  });
}

TEST(SmtpClientSession, AuthWithoutTlsSendsNoCredentials) {
  for (const TlsPolicy p : {TlsPolicy::None, TlsPolicy::Opportunistic}) {
    // Opportunistic: STARTTLS is not offered, AUTH is: still nothing sent.
    both(auth_options(p), {envelope({"a@b.example"})},
         {kHello,
          {ehlo({"AUTH PLAIN LOGIN"}), "QUIT\r\n"},
          kBye},
         [](const ClientSession& s) {
           EXPECT_EQ(rcpt(s, 0, 0).status, Status::Temporary);
           EXPECT_EQ(rcpt(s, 0, 0).enhanced, "4.7.10");
           EXPECT_EQ(rcpt(s, 0, 0).stage, Stage::Auth);
           no_secret_in_transcript(s);
         });
  }
}

TEST(SmtpClientSession, AuthInTheClearOnlyWhenAllowed) {
  ClientOptions o = auth_options(TlsPolicy::None);
  o.allow_plaintext_auth = true;
  both(o, {envelope({"a@b.example"})},
       {kHello,
        {ehlo({"AUTH PLAIN"}), "AUTH PLAIN AGFsaWNlAHB3LWFsaWNl\r\n"},
        {"235 ok\r\n", "MAIL FROM:<alice@example.com>\r\n"}},
       no_secret_in_transcript);
}

TEST(SmtpClientSession, AuthWithoutACommonMechanismFails) {
  std::vector<Step> steps = through_tls(ehlo({"AUTH CRAM-MD5 XOAUTH2"}));
  steps.back().client = "QUIT\r\n";
  both(auth_options(), {envelope({"a@b.example"})}, steps, [](const ClientSession& s) {
    EXPECT_EQ(rcpt(s, 0, 0).status, Status::Temporary);
  });
}

TEST(SmtpClientSession, AuthNotOfferedGoesOnWithout) {
  std::vector<Step> steps = through_tls(ehlo({"PIPELINING"}));
  steps.back().client = "MAIL FROM:<alice@example.com>\r\nRCPT TO:<a@b.example>\r\nDATA\r\n";
  both(auth_options(), {envelope({"a@b.example"})}, steps, [](const ClientSession&) {});
}

TEST(SmtpClientSession, ImplicitTlsNeverSaysStartTlsAndMayAuthenticate) {
  ClientOptions o = auth_options(TlsPolicy::Required);
  o.tls_on_connect = true;
  both(o, {envelope({"a@b.example"})},
       {kHello,
        {ehlo({"STARTTLS", "AUTH PLAIN"}), "AUTH PLAIN AGFsaWNlAHB3LWFsaWNl\r\n"},
        {"235 ok\r\n", "MAIL FROM:<alice@example.com>\r\n"}},
       [](const ClientSession& s) { EXPECT_TRUE(s.secure()); });
}

// ---- 421, lost connections, malformed replies -------------------------------------------

TEST(SmtpClientSession, Reply421MidSessionFailsTheRestWithoutQuit) {
  both(plain_options(), {envelope({"a@b.example", "c@d.example"}), envelope({"e@f.example"})},
       {kHello,
        {ehlo({}), "MAIL FROM:<alice@example.com>\r\n"},
        {"250 ok\r\n", "RCPT TO:<a@b.example>\r\n"},
        {"250 ok\r\n", "RCPT TO:<c@d.example>\r\n"},
        {"421 4.4.2 mx.example Error: timeout exceeded\r\n", "", ClientAction::Close}},
       [](const ClientSession& s) {
         EXPECT_TRUE(s.closed());
         for (const auto& [m, r] : {std::pair{0, 0}, std::pair{0, 1}, std::pair{1, 0}}) {
           EXPECT_EQ(rcpt(s, m, r).status, Status::Temporary);
           EXPECT_EQ(rcpt(s, m, r).code, 421);
           EXPECT_EQ(rcpt(s, m, r).enhanced, "4.4.2");
         }
         EXPECT_FALSE(s.host_failed());
       });
}

TEST(SmtpClientSession, Reply421InAPipelinedGroup) {
  both(plain_options(), {envelope({"a@b.example", "c@d.example"})},
       {kHello,
        {ehlo({"PIPELINING"}), "MAIL FROM:<alice@example.com>\r\nRCPT TO:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n"},
        {"250 ok\r\n250 ok\r\n421 4.7.0 too many errors\r\n", "", ClientAction::Close}},
       [](const ClientSession& s) {
         EXPECT_EQ(rcpt(s, 0, 0).status, Status::Temporary);   // accepted at RCPT, never delivered
         EXPECT_EQ(rcpt(s, 0, 1).status, Status::Temporary);
       });
}

TEST(SmtpClientSession, LostConnectionAndTimeout) {
  both(plain_options(), {envelope({"a@b.example"})},
       {kHello,
        {ehlo({}), "MAIL FROM:<alice@example.com>\r\n"},
        {"250 ok\r\n", "RCPT TO:<a@b.example>\r\n"},
        {"<TIMEOUT>", "", ClientAction::Close}},
       [](const ClientSession& s) {
         EXPECT_EQ(rcpt(s, 0, 0).status, Status::Temporary);
         EXPECT_EQ(rcpt(s, 0, 0).stage, Stage::Rcpt);
         EXPECT_EQ(rcpt(s, 0, 0).enhanced, "4.4.2");
         EXPECT_EQ(rcpt(s, 0, 0).text, "timed out while waiting for the reply to RCPT TO");
       });
  both(plain_options(), {envelope({"a@b.example"})},
       {kHello,
        {ehlo({"PIPELINING"}), "MAIL FROM:<alice@example.com>\r\nRCPT TO:<a@b.example>\r\nDATA\r\n"},
        {"250 ok\r\n250 ok\r\n354 go\r\n", "", ClientAction::SendBody},
        {"<BODY>", ""},
        {"<EOF>", "", ClientAction::Close}},
       [](const ClientSession& s) {
         EXPECT_EQ(rcpt(s, 0, 0).status, Status::Temporary);
         EXPECT_EQ(rcpt(s, 0, 0).stage, Stage::Body);
         EXPECT_TRUE(s.results()[0].body_sent);
       });
}

TEST(SmtpClientSession, LostWhileSendingTheBody) {
  ClientSession s(plain_options(), {envelope({"a@b.example"})});
  s.receive(kGreeting);
  s.receive(ehlo({"PIPELINING"}));
  ASSERT_EQ(s.receive("250 ok\r\n250 ok\r\n354 go\r\n").action, ClientAction::SendBody);
  EXPECT_EQ(s.connection_lost("Broken pipe", LossCause::Error).action, ClientAction::Close);
  EXPECT_EQ(rcpt(s, 0, 0).stage, Stage::Body);
  EXPECT_EQ(rcpt(s, 0, 0).text, "lost connection while sending the message body: Broken pipe");
}

TEST(SmtpClientSession, MalformedRepliesFailTheConnectionTemporarily) {
  const std::string long_line = "250 " + std::string(3000, 'x') + "\r\n";
  std::string many = kGreeting;
  for (int i = 0; i < 150; ++i) many += "250-x\r\n";
  many += "250 x\r\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"letter in the code", kGreeting + "25O ok\r\n"},
      {"code out of range", kGreeting + "150 ok\r\n"},
      {"continuation with another code", kGreeting + "250-x\r\n251 y\r\n"},
      {"line too long", kGreeting + long_line},
      {"too many lines", many},
      {"garbage greeting", "hello there\r\n"},
      {"no separator", kGreeting + "250ok\r\n"},
  };
  for (const auto& [name, in] : cases) {
    SCOPED_TRACE(name);
    for (const bool trickle : {false, true}) {
      ClientSession s(plain_options(), {envelope({"a@b.example"}), envelope({"c@d.example"})});
      ClientOutput out;
      if (trickle) {
        for (std::size_t i = 0; i < in.size() && out.action == ClientAction::None; ++i) out = s.receive(in.substr(i, 1));
      } else {
        out = s.receive(in);
      }
      EXPECT_EQ(out.action, ClientAction::Close);
      EXPECT_TRUE(s.closed());
      EXPECT_EQ(rcpt(s, 0, 0).status, Status::Temporary);
      EXPECT_EQ(rcpt(s, 0, 0).enhanced, "4.5.0");
      EXPECT_EQ(rcpt(s, 1, 0).status, Status::Temporary);
      // Nothing more is taken once closed.
      EXPECT_EQ(s.receive("250 ok\r\n").action, ClientAction::Close);
    }
  }
}

TEST(SmtpClientSession, AReplyNobodyAskedForIsAProtocolError) {
  // While the body is being sent no reply is due (the glue reads nothing
  // then; a reply found afterwards before body_sent() is out of turn).
  ClientSession s(plain_options(), {envelope({"a@b.example"})});
  s.receive(kGreeting);
  s.receive(ehlo({"PIPELINING"}));
  ASSERT_EQ(s.receive("250 ok\r\n250 ok\r\n354 go\r\n").action, ClientAction::SendBody);
  const ClientOutput out = s.receive("250 early\r\n");
  EXPECT_EQ(out.action, ClientAction::Close);
  EXPECT_EQ(rcpt(s, 0, 0).status, Status::Temporary);
  EXPECT_EQ(rcpt(s, 0, 0).enhanced, "4.5.0");
  // The same after QUIT's reply was read: nothing more is taken.
  ClientSession q(plain_options(), {});
  q.receive(kGreeting);
  EXPECT_EQ(q.receive(ehlo({})).send, "QUIT\r\n");
  EXPECT_EQ(q.receive("221 bye\r\n250 extra\r\n").action, ClientAction::Close);
}

// ---- several messages -------------------------------------------------------------------

TEST(SmtpClientSession, TwoMessagesOnOneConnectionWithRset) {
  for (const bool pipelining : {false, true}) {
    SCOPED_TRACE(pipelining ? "pipelining" : "one by one");
    std::vector<Step> steps = {kHello};
    if (pipelining) {
      steps.push_back({ehlo({"PIPELINING"}), "MAIL FROM:<alice@example.com>\r\nRCPT TO:<a@b.example>\r\nDATA\r\n"});
      steps.push_back({"250 ok\r\n250 ok\r\n354 go\r\n", "", ClientAction::SendBody});
    } else {
      steps.push_back({ehlo({}), "MAIL FROM:<alice@example.com>\r\n"});
      steps.push_back({"250 ok\r\n", "RCPT TO:<a@b.example>\r\n"});
      steps.push_back({"250 ok\r\n", "DATA\r\n"});
      steps.push_back({"354 go\r\n", "", ClientAction::SendBody});
    }
    steps.push_back({"<BODY>", ""});
    steps.push_back({"250 2.0.0 queued as 1\r\n", "RSET\r\n"});
    if (pipelining) {
      steps.push_back({"250 2.0.0 Ok\r\n", "MAIL FROM:<>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n"});
      steps.push_back({"250 ok\r\n250 ok\r\n354 go\r\n", "", ClientAction::SendBody});
    } else {
      steps.push_back({"250 2.0.0 Ok\r\n", "MAIL FROM:<>\r\n"});
      steps.push_back({"250 ok\r\n", "RCPT TO:<c@d.example>\r\n"});
      steps.push_back({"250 ok\r\n", "DATA\r\n"});
      steps.push_back({"354 go\r\n", "", ClientAction::SendBody});
    }
    steps.push_back({"<BODY>", ""});
    steps.push_back({"250 2.0.0 queued as 2\r\n", "QUIT\r\n"});
    steps.push_back(kBye);
    both(plain_options(), {envelope({"a@b.example"}), envelope({"c@d.example"}, "")}, steps,
         [](const ClientSession& s) {
           EXPECT_EQ(s.results()[0].final_reply->summary(), "250 2.0.0 queued as 1");
           EXPECT_EQ(s.results()[1].final_reply->summary(), "250 2.0.0 queued as 2");
           EXPECT_EQ(s.results()[0].status(), Status::Accepted);
           EXPECT_EQ(s.results()[1].status(), Status::Accepted);
         });
  }
}

// The daemon's clean stop: the transaction in progress ends, no other
// starts, the messages not begun are "not tried" (no attempt counted).
TEST(SmtpClientSession, StopEndsAfterTheTransactionInProgress) {
  ClientSession s(plain_options(), {envelope({"a@b.example"}), envelope({"c@d.example", "e@d.example"})});
  std::string sent;
  auto feed = [&](std::string_view reply) {
    const ClientOutput out = s.receive(reply);
    sent += out.send;
    return out.action;
  };
  EXPECT_EQ(feed(kGreeting), ClientAction::None);
  EXPECT_EQ(feed(ehlo({})), ClientAction::None);
  EXPECT_EQ(feed("250 ok\r\n"), ClientAction::None);
  s.stop();   // during the first transaction
  EXPECT_EQ(feed("250 ok\r\n"), ClientAction::None);
  EXPECT_EQ(feed("354 go\r\n"), ClientAction::SendBody);
  sent += s.body_sent().send;
  EXPECT_EQ(feed("250 2.0.0 queued as 1\r\n"), ClientAction::None);
  EXPECT_EQ(sent, "EHLO box.example\r\nMAIL FROM:<alice@example.com>\r\nRCPT TO:<a@b.example>\r\nDATA\r\nQUIT\r\n");
  EXPECT_EQ(feed("221 Bye\r\n"), ClientAction::Close);
  EXPECT_EQ(rcpt(s, 0, 0).status, Status::Accepted);
  EXPECT_TRUE(rcpt(s, 0, 0).tried);
  for (std::size_t r = 0; r < 2; ++r) {
    EXPECT_EQ(rcpt(s, 1, r).status, Status::Temporary);
    EXPECT_FALSE(rcpt(s, 1, r).tried);
    EXPECT_EQ(rcpt(s, 1, r).enhanced, "4.3.2");
  }
  EXPECT_FALSE(s.host_failed()) << "a stop is not the host's failure: no other host or route is tried";
}

TEST(SmtpClientSession, RsetRefusedFailsTheRest) {
  both(plain_options(), {envelope({"a@b.example"}), envelope({"c@d.example"})},
       {kHello,
        {ehlo({}), "MAIL FROM:<alice@example.com>\r\n"},
        {"550 no\r\n", "RSET\r\n"},
        {"500 what\r\n", "QUIT\r\n"},
        kBye},
       [](const ClientSession& s) {
         EXPECT_EQ(rcpt(s, 0, 0).status, Status::Permanent);
         EXPECT_EQ(rcpt(s, 1, 0).status, Status::Temporary);
         EXPECT_EQ(rcpt(s, 1, 0).stage, Stage::Rset);
       });
}

TEST(SmtpClientSession, AddressesThatCannotBeSentFailBeforeTheDialogue) {
  both(plain_options(),
       {envelope({"bad\r\nRCPT TO:<x@y>@b.example", "ok@b.example", "j\xc3\xbcrgen@b.example", ""}),
        envelope({"c@d.example"}, "evil>@x.example")},
       {kHello,
        {ehlo({}), "MAIL FROM:<alice@example.com>\r\n"},
        {"250 ok\r\n", "RCPT TO:<ok@b.example>\r\n"},
        {"250 ok\r\n", "DATA\r\n"},
        {"354 go\r\n", "", ClientAction::SendBody},
        {"<BODY>", ""},
        {"250 ok\r\n", "QUIT\r\n"},   // the second message is never begun
        kBye},
       [](const ClientSession& s) {
         EXPECT_EQ(rcpt(s, 0, 0).status, Status::Permanent);
         EXPECT_EQ(rcpt(s, 0, 0).enhanced, "5.1.3");
         EXPECT_EQ(rcpt(s, 0, 1).status, Status::Accepted);
         EXPECT_EQ(rcpt(s, 0, 2).enhanced, "5.6.7");
         EXPECT_EQ(rcpt(s, 0, 3).enhanced, "5.1.3");
         EXPECT_EQ(rcpt(s, 1, 0).status, Status::Permanent);
         EXPECT_EQ(rcpt(s, 1, 0).enhanced, "5.1.7");
       });
}

TEST(SmtpClientSession, NoMessagesJustQuits) {
  both(plain_options(), {},
       {kHello, {ehlo({}), "QUIT\r\n"}, kBye},
       [](const ClientSession& s) { EXPECT_TRUE(s.results().empty()); });
}

TEST(SmtpClientSession, BadEhloNameIsRefused) {
  for (const char* name : {"", "a b", "a\r\nMAIL", "h\xc3\xa9"}) {
    ClientOptions o = plain_options();
    o.ehlo_name = name;
    EXPECT_THROW(ClientSession(o, {}), std::invalid_argument) << name;
  }
}

}  // namespace

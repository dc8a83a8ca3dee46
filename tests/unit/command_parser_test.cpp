// command_parser_test.cpp - verbs, MAIL/RCPT arguments and ESMTP parameters.
#include "smtp/command_parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace boxmail::smtp;

TEST(CommandParser, Verbs) {
  struct Row {
    const char* line;
    Verb verb;
    const char* arg;
  };
  const std::vector<Row> rows = {
      {"EHLO client.example", Verb::Ehlo, "client.example"}, {"ehlo x", Verb::Ehlo, "x"},
      {"HELO x", Verb::Helo, "x"},   {"MAIL FROM:<a@b>", Verb::Mail, "FROM:<a@b>"},
      {"RCPT TO:<a@b>", Verb::Rcpt, "TO:<a@b>"}, {"DATA", Verb::Data, ""},
      {"RSET", Verb::Rset, ""},      {"NOOP x", Verb::Noop, "x"}, {"QUIT", Verb::Quit, ""},
      {"HELP", Verb::Help, ""},      {"VRFY alice", Verb::Vrfy, "alice"}, {"EXPN list", Verb::Expn, "list"},
      {"GET / HTTP/1.0", Verb::Http, "/ HTTP/1.0"}, {"POST /x", Verb::Http, "/x"},
      {"CONNECT a:25", Verb::Http, "a:25"}, {"HEAD /", Verb::Http, "/"},
      {"FOO", Verb::Unknown, ""},    {"", Verb::Unknown, ""}, {"MAILX FROM:<>", Verb::Unknown, "FROM:<>"},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.line);
    Command c = parse_command(r.line);
    EXPECT_EQ(c.verb, r.verb);
    EXPECT_EQ(c.argument, r.arg);
  }
}

TEST(CommandParser, MailFrom) {
  auto m = parse_mail_from("FROM:<a@b.example> SIZE=1000 BODY=8BITMIME");
  ASSERT_FALSE(m.error);
  EXPECT_EQ(m.path.mailbox.to_string(), "a@b.example");
  EXPECT_EQ(m.size, 1000u);
  EXPECT_EQ(m.body, Body::EightBitMime);

  m = parse_mail_from("from:<>");
  ASSERT_FALSE(m.error);
  EXPECT_TRUE(m.path.null_path);

  m = parse_mail_from("FROM: <a@b>");  // tolerated space after the colon
  EXPECT_FALSE(m.error);

  m = parse_mail_from("FROM:<a@b> body=7bit size=0");
  ASSERT_FALSE(m.error);
  EXPECT_EQ(m.body, Body::SevenBit);
  EXPECT_EQ(m.size, 0u);
}

TEST(CommandParser, MailFromErrors) {
  struct Row {
    const char* arg;
    ReplyId error;
  };
  const std::vector<Row> rows = {
      {"", ReplyId::SyntaxParams},
      {"TO:<a@b>", ReplyId::SyntaxParams},
      {"FROM:a@b", ReplyId::BadSender},
      {"FROM:<a@b@c>", ReplyId::BadSender},
      {"FROM:<a@b>x", ReplyId::BadSender},
      {"FROM:<a@b> SIZE=", ReplyId::SyntaxParams},
      {"FROM:<a@b> SIZE=12x", ReplyId::SyntaxParams},
      {"FROM:<a@b> SIZE=999999999999999999999999", ReplyId::SyntaxParams},
      {"FROM:<a@b> BODY=BINARYMIME", ReplyId::SyntaxParams},
      {"FROM:<a@b> AUTH=<>", ReplyId::UnknownParam},
      {"FROM:<a@b> SMTPUTF8", ReplyId::UnknownParam},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.arg);
    auto m = parse_mail_from(r.arg);
    ASSERT_TRUE(m.error.has_value());
    EXPECT_EQ(*m.error, r.error);
  }
}

TEST(CommandParser, RcptTo) {
  auto r = parse_rcpt_to("TO:<alice@feed.example>");
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.path.mailbox.local_part, "alice");
  r = parse_rcpt_to("To:<Postmaster>");
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.path.mailbox.domain, "");
  r = parse_rcpt_to("TO:<a@b> NOTIFY=NEVER");
  ASSERT_TRUE(r.error);
  EXPECT_EQ(*r.error, ReplyId::UnknownParam);
  r = parse_rcpt_to("TO:<>");
  ASSERT_TRUE(r.error);
  EXPECT_EQ(*r.error, ReplyId::BadRecipient);
  r = parse_rcpt_to("FROM:<a@b>");
  ASSERT_TRUE(r.error);
  EXPECT_EQ(*r.error, ReplyId::SyntaxParams);
}

TEST(Reply, Format) {
  EXPECT_EQ(format_reply(ReplyId::Ok), "250 2.0.0 Ok\r\n");
  EXPECT_EQ(format_reply(ReplyId::StartData), "354 End data with <CR><LF>.<CR><LF>\r\n");
  EXPECT_EQ(format_reply(ReplyId::Timeout, {}, "mx"), "421 4.4.2 mx Error: timeout exceeded\r\n");
  EXPECT_EQ(format_reply(ReplyId::UserUnknown, "<a\r\nb>"), "550 5.1.1 Recipient address rejected: User unknown: <a  b>\r\n");
  // Every reply but 354 carries an enhanced status code whose class matches.
  for (int i = 0; i <= static_cast<int>(ReplyId::HttpRefused); ++i) {
    const auto& info = reply_info(static_cast<ReplyId>(i));
    if (info.code == 354) continue;
    ASSERT_FALSE(info.enhanced.empty()) << info.code;
    EXPECT_EQ(info.enhanced[0], static_cast<char>('0' + info.code / 100)) << info.code;
  }
}

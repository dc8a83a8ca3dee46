// pop3_command_parser_test.cpp - POP3 keywords, numeric arguments, AUTH,
// base64 and SASL PLAIN, login names; the reply table. Table-driven.
#include "pop3/command_parser.hpp"
#include "pop3/reply.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace boxmail::pop3;

namespace {

TEST(Pop3Parser, Keywords) {
  struct Case {
    std::string_view line;
    Verb verb;
    std::string_view argument;
  } cases[] = {
      {"USER alice", Verb::User, "alice"},     {"user alice", Verb::User, "alice"},
      {"PASS a b  c", Verb::Pass, "a b  c"},   {"PASS", Verb::Pass, ""},
      {"QUIT", Verb::Quit, ""},                {"STAT", Verb::Stat, ""},
      {"LIST 1", Verb::List, "1"},             {"RETR 12", Verb::Retr, "12"},
      {"DELE 1", Verb::Dele, "1"},             {"NOOP", Verb::Noop, ""},
      {"RSET", Verb::Rset, ""},                {"TOP 1 10", Verb::Top, "1 10"},
      {"UIDL", Verb::Uidl, ""},                {"CAPA", Verb::Capa, ""},
      {"AUTH PLAIN", Verb::Auth, "PLAIN"},     {"STLS", Verb::Stls, ""},
      {"APOP a b", Verb::Apop, "a b"},         {"GET / HTTP/1.0", Verb::Http, "/ HTTP/1.0"},
      {"CONNECT x:443 HTTP/1.1", Verb::Http, "x:443 HTTP/1.1"},
      {"RETRX 1", Verb::Unknown, "1"},         {"", Verb::Unknown, ""},
      {" USER a", Verb::Unknown, "USER a"},    {"ReTr 1", Verb::Retr, "1"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.line);
    const Command cmd = parse_command(c.line);
    EXPECT_EQ(cmd.verb, c.verb);
    EXPECT_EQ(cmd.argument, c.argument);
  }
}

TEST(Pop3Parser, Numbers) {
  struct Case {
    std::string_view arg;
    std::size_t min, max;
    std::vector<std::uint64_t> values;
    bool ok;
  } cases[] = {
      {"", 0, 1, {}, true},
      {"1", 0, 1, {1}, true},
      {"0", 0, 1, {0}, true},
      {"4294967295", 1, 1, {4294967295ULL}, true},
      {"4294967296", 1, 1, {}, false},
      {"99999999999", 1, 1, {}, false},
      {"18446744073709551615", 1, 1, {}, false},
      {"18446744073709551617", 1, 1, {}, false},
      {"1 99999999999999999999", 2, 2, {}, false},
      {"99999999999999999999 1", 2, 2, {}, false},
      {"1 2", 0, 1, {}, false},
      {"1 2", 2, 2, {1, 2}, true},
      {"1  2", 2, 2, {}, false},
      {"1 ", 1, 1, {}, false},
      {" 1", 1, 1, {}, false},
      {"-1", 1, 1, {}, false},
      {"+1", 1, 1, {}, false},
      {"1a", 1, 1, {}, false},
      {"", 1, 1, {}, false},
      {"7", 2, 2, {}, false},
      {"1 2 3", 2, 2, {}, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.arg));
    const Numbers n = parse_numbers(c.arg, c.min, c.max, "USAGE");
    EXPECT_EQ(n.error.empty(), c.ok);
    if (!c.ok) {
      EXPECT_EQ(n.error, "USAGE");
    }
    EXPECT_EQ(n.values, c.values);
  }
}

TEST(Pop3Parser, Auth) {
  AuthArgs a = parse_auth("");
  EXPECT_TRUE(a.mechanism.empty());
  EXPECT_TRUE(a.error.empty());
  a = parse_auth("plain");
  EXPECT_EQ(a.mechanism, "PLAIN");
  EXPECT_FALSE(a.initial);
  a = parse_auth("PLAIN AGFsaWNlAHB3");
  EXPECT_EQ(a.mechanism, "PLAIN");
  ASSERT_TRUE(a.initial);
  EXPECT_EQ(*a.initial, "AGFsaWNlAHB3");
  a = parse_auth("PLAIN =");
  ASSERT_TRUE(a.initial);
  EXPECT_EQ(*a.initial, "=");
  EXPECT_FALSE(parse_auth("PLAIN a b").error.empty());
  EXPECT_FALSE(parse_auth("PLAIN ").error.empty());
  EXPECT_FALSE(parse_auth(" PLAIN").error.empty());
}

TEST(Pop3Parser, Base64) {
  struct Case {
    std::string_view text;
    std::optional<std::string> decoded;
  } cases[] = {
      {"", std::string()},
      {"Zg==", std::string("f")},
      {"Zm8=", std::string("fo")},
      {"Zm9v", std::string("foo")},
      {"Zm9vYmFy", std::string("foobar")},
      {"AGFsaWNlAHB3LWFsaWNl", std::string("\0alice\0pw-alice", 15)},
      {"Zm9", std::nullopt},
      {"Zm9v=", std::nullopt},
      {"Z===", std::nullopt},
      {"Zg=a", std::nullopt},
      {"Zg==Zg==", std::nullopt},
      {"Zm 9", std::nullopt},
      {"Zm9*", std::nullopt},
      {"Zh==", std::nullopt},   // non-zero bits under the padding: not the one encoding of "f"
      {"Zm9=", std::nullopt},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.text));
    EXPECT_EQ(base64_decode(c.text), c.decoded);
    if (c.decoded) {
      EXPECT_EQ(base64_encode(*c.decoded), c.text);
    }
  }
}

TEST(Pop3Parser, Plain) {
  PlainCredentials p = parse_plain(std::string("\0alice\0secret word", 18));
  EXPECT_TRUE(p.ok);
  EXPECT_EQ(p.authzid, "");
  EXPECT_EQ(p.authcid, "alice");
  EXPECT_EQ(p.password, "secret word");
  p = parse_plain(std::string("alice\0alice\0pw", 14));
  EXPECT_TRUE(p.ok);
  EXPECT_EQ(p.authzid, "alice");
  EXPECT_FALSE(parse_plain("alice").ok);
  EXPECT_FALSE(parse_plain(std::string("\0alice", 6)).ok);
  EXPECT_FALSE(parse_plain(std::string("\0\0pw", 4)).ok);
  EXPECT_FALSE(parse_plain(std::string("\0a\0b\0c", 6)).ok);
}

TEST(Pop3Parser, LoginMailbox) {
  EXPECT_EQ(login_mailbox("alice"), "alice");
  EXPECT_EQ(login_mailbox("Alice"), "alice");
  EXPECT_EQ(login_mailbox("alice@example.com"), "alice");
  EXPECT_EQ(login_mailbox("ALICE@Any.Domain"), "alice");
  EXPECT_EQ(login_mailbox("a@b@c"), "a@b");
  EXPECT_EQ(login_mailbox("@example.com"), "");
}

TEST(Pop3Reply, Formats) {
  EXPECT_EQ(format_reply(ReplyId::Ok), "+OK\r\n");
  EXPECT_EQ(format_reply(ReplyId::Greeting, "mx.test"), "+OK mx.test POP3 boxmail ready\r\n");
  EXPECT_EQ(format_reply(ReplyId::MessageFollows, "120"), "+OK 120 octets\r\n");
  EXPECT_EQ(format_reply(ReplyId::Stat, "2 320"), "+OK 2 320\r\n");
  EXPECT_EQ(format_reply(ReplyId::InUse), "-ERR [IN-USE] Mailbox is in use by another POP3 session\r\n");
  EXPECT_EQ(format_reply(ReplyId::AuthFailed), "-ERR [AUTH] Authentication failed\r\n");
  EXPECT_EQ(format_reply(ReplyId::SaslContinue), "+ \r\n");
  EXPECT_EQ(format_reply(ReplyId::Syntax, "a\r\nb"), "-ERR Syntax: a  b\r\n");
  EXPECT_EQ(reply_info(ReplyId::Bye).next, Next::Close);
  EXPECT_EQ(reply_info(ReplyId::AuthFailed).next, Next::Keep);
  EXPECT_EQ(reply_info(ReplyId::AuthFailedClose).next, Next::Close);
}

}  // namespace

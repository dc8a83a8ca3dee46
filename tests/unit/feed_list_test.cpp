// feed_list_test.cpp - [smtp] feed_servers: who the feed port admits
// (smtp::FeedList), the refused session's dialogue (RFC 5321 3.1), and the
// ban table's lookup at accept.
#include "config/schema.hpp"
#include "firewall/ban_table.hpp"
#include "smtp/feed_list.hpp"
#include "smtp/session.hpp"
#include "test_accounts.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace boxmail;

namespace {

net::IpNetwork host(const char* text) { return *net::parse_address(text); }

std::vector<net::IpNetwork> loopback() { return {host("127.0.0.1"), host("::1")}; }

std::vector<std::string> texts(const std::vector<net::IpNetwork>& networks) {
  std::vector<std::string> out;
  for (const auto& n : networks) out.push_back(n.to_string());
  return out;
}

TEST(FeedList, EmptyAdmitsEveryone) {
  smtp::FeedList f;
  f.configure({}, loopback());
  EXPECT_FALSE(f.active());
  EXPECT_TRUE(f.admits("192.0.2.1"));
  EXPECT_TRUE(f.admits("2001:db8::1"));
  EXPECT_TRUE(f.names().empty());
  EXPECT_TRUE(f.networks().empty());
}

TEST(FeedList, AdmitsListedNetworksAndTheAllowList) {
  smtp::FeedList f;
  f.configure({"127.0.0.3", "198.51.100.0/28", "2001:db8::25", "mx.isp.example"}, loopback());
  EXPECT_TRUE(f.active());
  EXPECT_TRUE(f.admits("127.0.0.3"));
  EXPECT_TRUE(f.admits("::ffff:127.0.0.3"));   // a dual-stack socket's IPv4 client
  EXPECT_TRUE(f.admits("198.51.100.15"));
  EXPECT_FALSE(f.admits("198.51.100.16"));
  EXPECT_TRUE(f.admits("2001:db8::25"));
  EXPECT_FALSE(f.admits("2001:db8::26"));
  EXPECT_TRUE(f.admits("127.0.0.1"));          // [firewall] allow: the box itself
  EXPECT_TRUE(f.admits("::1"));
  EXPECT_FALSE(f.admits("127.0.0.5"));
  EXPECT_FALSE(f.admits("not-an-address"));
  // Not resolved yet: the name admits nobody (the port never opens up).
  ASSERT_EQ(f.names().size(), 1u);
  EXPECT_EQ(f.names()[0].name, "mx.isp.example");
  EXPECT_FALSE(f.names()[0].resolved);
  EXPECT_EQ(texts(f.networks()),
            (std::vector<std::string>{"127.0.0.3", "198.51.100.0/28", "2001:db8::25", "127.0.0.1", "::1"}));
}

TEST(FeedList, ResolvedNamesKeepTheirLastGoodAddresses) {
  smtp::FeedList f;
  f.configure({"mx.isp.example", "mx2.isp.example"}, {});
  EXPECT_FALSE(f.admits("127.0.0.4"));
  EXPECT_TRUE(f.resolved("mx.isp.example", {host("127.0.0.4"), host("2001:db8::4"), host("127.0.0.4")}));
  EXPECT_TRUE(f.admits("127.0.0.4"));
  EXPECT_TRUE(f.admits("2001:db8::4"));
  EXPECT_TRUE(f.names()[0].resolved);
  EXPECT_EQ(f.names()[0].addresses.size(), 2u);   // each address once
  // The same answer again (any order): nothing changed.
  EXPECT_FALSE(f.resolved("mx.isp.example", {host("2001:db8::4"), host("127.0.0.4")}));
  // A failed lookup keeps the last addresses.
  EXPECT_FALSE(f.resolved("mx.isp.example", {}));
  EXPECT_TRUE(f.admits("127.0.0.4"));
  // A new address replaces the old one.
  EXPECT_TRUE(f.resolved("mx.isp.example", {host("127.0.0.6")}));
  EXPECT_FALSE(f.admits("127.0.0.4"));
  EXPECT_TRUE(f.admits("127.0.0.6"));
  // A name that is not listed changes nothing.
  EXPECT_FALSE(f.resolved("other.example", {host("192.0.2.9")}));
  EXPECT_FALSE(f.admits("192.0.2.9"));
  EXPECT_EQ(texts(f.networks()), (std::vector<std::string>{"127.0.0.6"}));
  // A reload keeps what names still listed resolved to, drops the others.
  f.configure({"mx.isp.example", "192.0.2.0/24"}, loopback());
  EXPECT_TRUE(f.admits("127.0.0.6"));
  f.configure({"mx2.isp.example"}, {});
  EXPECT_FALSE(f.admits("127.0.0.6"));
  EXPECT_FALSE(f.names()[0].resolved);
}

/// A session of the feed port for client 192.0.2.1, refused or not.
struct Dialogue {
  explicit Dialogue(bool refused) : s(make(), test_fixtures::alice_and_bob(), smtp::ClientInfo{"192.0.2.1", 4321}, "mx.test",
                                      [] { return std::string("QID"); }, {}, security(refused)) {
    transcript = s.greet().replies;
  }
  static config::ConfigPtr make() {
    auto c = std::make_shared<config::Config>(*config::default_config());
    c->smtp.max_errors = 3;
    return c;
  }
  static smtp::Security security(bool refused) {
    smtp::Security sec;
    sec.refused = refused;
    return sec;
  }
  void feed(std::string_view in) {
    std::string body;
    std::size_t used = 0;
    while (!in.empty() && !closed) {
      const smtp::Output o = s.on_input(in, {}, body, used);
      transcript += o.replies;
      closed = o.action == smtp::Action::Close;
      in.remove_prefix(used);
      if (used == 0) break;
    }
  }
  smtp::Session s;
  std::string transcript;
  bool closed = false;
};

TEST(FeedRefusal, GreetingIs554ThenOnly503UntilQuit) {
  Dialogue d(true);
  EXPECT_EQ(d.transcript,
            "554 5.7.1 No SMTP service here for client host [192.0.2.1]: not one of this port's feed servers\r\n");
  d.transcript.clear();
  d.feed("EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nQUIT\r\n");
  EXPECT_EQ(d.transcript,
            "503 5.5.1 Error: no SMTP service here; send QUIT\r\n"
            "503 5.5.1 Error: no SMTP service here; send QUIT\r\n"
            "221 2.0.0 Bye\r\n");
  EXPECT_TRUE(d.closed);
}

TEST(FeedRefusal, ErrorBudgetEndsAClientThatNeverQuits) {
  Dialogue d(true);
  d.feed("HELO a\r\nHELO b\r\nHELO c\r\nHELO d\r\n");
  EXPECT_TRUE(d.closed);
  EXPECT_NE(d.transcript.find("421 4.7.0 mx.test Error: too many errors\r\n"), std::string::npos) << d.transcript;
  EXPECT_EQ(d.transcript.find("250"), std::string::npos);
}

TEST(FeedRefusal, AnAdmittedClientIsGreetedAsUsual) {
  Dialogue d(false);
  EXPECT_EQ(d.transcript.rfind("220 mx.test ESMTP", 0), 0u) << d.transcript;
  d.feed("HELO a\r\n");
  EXPECT_EQ(d.transcript.find("503"), std::string::npos);
}

TEST(BanLookup, BannedUntilTheEndNotAfter) {
  firewall::BanTable t;
  EXPECT_FALSE(t.banned("192.0.2.1", 1000));
  ASSERT_TRUE(t.ban("192.0.2.1", 2000, "manual"));
  ASSERT_TRUE(t.ban("2001:db8::1", 3000, "login"));
  EXPECT_TRUE(t.banned("192.0.2.1", 1999));
  EXPECT_FALSE(t.banned("192.0.2.1", 2000));   // over at its end
  EXPECT_FALSE(t.banned("192.0.2.2", 1000));
  EXPECT_TRUE(t.banned("2001:db8::1", 1000));
  // Banned again: the new end counts.
  ASSERT_TRUE(t.ban("192.0.2.1", 5000, "manual"));
  EXPECT_TRUE(t.banned("192.0.2.1", 4000));
  EXPECT_TRUE(t.unban("192.0.2.1"));
  EXPECT_FALSE(t.banned("192.0.2.1", 1000));
  EXPECT_EQ(t.expire(3500), 1u);
  EXPECT_FALSE(t.banned("2001:db8::1", 1000));   // expired out of the table
  EXPECT_TRUE(t.bans().empty());
}

}  // namespace

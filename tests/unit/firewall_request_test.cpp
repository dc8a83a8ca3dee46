// firewall_request_test.cpp - the boxmaild <-> boxmail-fw protocol
// (firewall/request.hpp) and the nft scripts written from it
// (firewall/ruleset.hpp): every refusal, the canonical round trip, the
// scripts' text and the reading of nft's set listing.
#include "firewall/request.hpp"
#include "firewall/ruleset.hpp"

#include <gtest/gtest.h>

namespace {

using namespace boxmail::firewall;

Request parsed(std::string_view d) {
  const RequestParse p = parse_request(d);
  EXPECT_TRUE(p.request) << d << ": " << p.error;
  EXPECT_EQ(p.error, "");
  return p.request.value_or(Request{});
}

TEST(FwRequest, AcceptsEachVerbInCanonicalForm) {
  for (const char* d : {"1 ban 192.0.2.1 600 manual", "1 ban 2001:db8::1 1 login-failures", "1 ban ::1 2592000 a",
                        "1 unban 192.0.2.1", "1 unban 2001:db8::5", "1 list", "1 stop",
                        "1 apply ports=25 allow=-", "1 apply ports=25,110,465,587,995 allow=127.0.0.1,::1",
                        "1 apply ports=1,65535 allow=192.168.1.0/24,fd00::/8,10.0.0.0/9"}) {
    const Request r = parsed(d);
    EXPECT_EQ(format_request(r), d);   // the one canonical form
  }
  const Request b = parsed("1 ban 192.0.2.1 600 manual");
  EXPECT_EQ(b.verb, Verb::Ban);
  EXPECT_EQ(b.address.to_string(), "192.0.2.1");
  EXPECT_EQ(b.seconds, 600u);
  EXPECT_EQ(b.reason, "manual");
  const Request a = parsed("1 apply ports=25,110 allow=192.168.1.0/24,fd00::/8");
  EXPECT_EQ(a.verb, Verb::Apply);
  EXPECT_EQ(a.ports, (std::vector<std::uint16_t>{25, 110}));
  ASSERT_EQ(a.allow.size(), 2u);
  EXPECT_TRUE(a.allow[1].v6);
}

TEST(FwRequest, RefusesEveryMalformedRequest) {
  const std::string too_long = "1 ban " + std::string(kMaxRequest, 'a');
  std::string many_ports = "1 apply ports=";
  for (int p = 1; p <= static_cast<int>(kMaxPorts) + 1; ++p) many_ports += (p > 1 ? "," : "") + std::to_string(p);
  many_ports += " allow=-";
  std::string many_nets = "1 apply ports=25 allow=";
  for (int n = 1; n <= static_cast<int>(kMaxAllow) + 1; ++n) many_nets += (n > 1 ? ",10.0.0." : "10.0.0.") + std::to_string(n);
  const std::vector<std::string> refused = {
      "", " ", "1", "1 ", "2 list", "v1 list", "1  list", "1 list ", " 1 list", "1 LIST", "1 list\n", "1 list\r",
      std::string("1 list\0", 7), "1 l\xc3\xa9st", "1 flush", "1 nft add table ip filter",
      "1 list extra", "1 stop now",
      // ban: arguments
      "1 ban", "1 ban 192.0.2.1", "1 ban 192.0.2.1 600", "1 ban 192.0.2.1 600 manual extra",
      // ban: addresses not in their one canonical form, networks, names
      "1 ban 192.0.2.1/32 600 manual", "1 ban 192.0.2.0/24 600 manual", "1 ban 192.0.2.* 600 manual",
      "1 ban 192.000.2.1 600 manual", "1 ban 010.0.0.1 600 manual", "1 ban 2001:DB8::1 600 manual",
      "1 ban 2001:db8:0::1 600 manual", "1 ban 2001:0db8::1 600 manual", "1 ban ::ffff:192.0.2.1 600 manual",
      "1 ban ::ffff:c000:201 600 manual", "1 ban [::1] 600 manual", "1 ban localhost 600 manual",
      "1 ban 192.0.2.256 600 manual", "1 ban 192.0.2 600 manual", "1 ban 1.2.3.4.5 600 manual",
      "1 ban 0x7f.0.0.1 600 manual", "1 ban fe80::1%lo 600 manual",
      // ban: seconds
      "1 ban 192.0.2.1 0 manual", "1 ban 192.0.2.1 2592001 manual", "1 ban 192.0.2.1 0600 manual",
      "1 ban 192.0.2.1 -5 manual", "1 ban 192.0.2.1 +5 manual", "1 ban 192.0.2.1 1h manual",
      "1 ban 192.0.2.1 99999999999999999999 manual", "1 ban 192.0.2.1 6.5 manual",
      // ban: reasons
      "1 ban 192.0.2.1 600 Manual", "1 ban 192.0.2.1 600 1st", "1 ban 192.0.2.1 600 -x",
      "1 ban 192.0.2.1 600 a_b", "1 ban 192.0.2.1 600 a\"b", "1 ban 192.0.2.1 600 a;b",
      "1 ban 192.0.2.1 600 abcdefghijklmnopqrstuvwxy", "1 ban 192.0.2.1 600 a}b",
      // unban
      "1 unban", "1 unban 192.0.2.1 600", "1 unban 192.0.2.0/24", "1 unban 2001:DB8::1",
      // apply
      "1 apply", "1 apply ports=25", "1 apply allow=- ports=25", "1 apply ports= allow=-",
      "1 apply ports=0 allow=-", "1 apply ports=65536 allow=-", "1 apply ports=025 allow=-",
      "1 apply ports=110,25 allow=-", "1 apply ports=25,25 allow=-", "1 apply ports=25,,110 allow=-",
      "1 apply ports=25, allow=-", "1 apply ports=smtp allow=-", "1 apply ports=25 allow=",
      "1 apply ports=25 allow=-,-", "1 apply ports=25 allow=0.0.0.0/0", "1 apply ports=25 allow=::/0",
      "1 apply ports=25 allow=192.168.1.1/24", "1 apply ports=25 allow=192.168.*",
      "1 apply ports=25 allow=127.0.0.1/32", "1 apply ports=25 allow=FD00::/8",
      "1 apply ports=25 allow=10.0.0.0/8,,10.1.0.0/16", "1 apply ports=25 allow=10.0.0.0/8;flush",
      "1 apply ports=25 allow=- extra", "1 apply ports=25 deny=-",
      too_long, many_ports, many_nets};
  for (const std::string& d : refused) {
    const RequestParse p = parse_request(d);
    EXPECT_FALSE(p.request) << "accepted: " << d;
    EXPECT_NE(p.error, "") << d;
    // An error never carries the octets that could break a log line.
    for (char c : p.error) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << d;
    EXPECT_LT(p.error.size(), 200u) << d;
  }
}

TEST(FwRequest, LimitsAreInclusive) {
  std::string ports = "1 apply ports=";
  for (int p = 1; p <= static_cast<int>(kMaxPorts); ++p) ports += (p > 1 ? "," : "") + std::to_string(p);
  EXPECT_TRUE(parse_request(ports + " allow=-").request);
  std::string nets = "1 apply ports=25 allow=";
  for (int n = 0; n < static_cast<int>(kMaxAllow); ++n)
    nets += (n ? "," : "") + std::string("2001:db8:ffff:ffff:ffff:ffff:ffff:") + std::to_string(1000 + n);
  EXPECT_LE(nets.size(), kMaxRequest);
  EXPECT_TRUE(parse_request(nets).request) << parse_request(nets).error;
  EXPECT_TRUE(parse_request("1 ban 192.0.2.1 600 abcdefghijklmnopqrstuvwx").request);
}

TEST(FwReply, RoundTripsAndRefusesGarbage) {
  Reply r{true, "2 banned", {{"192.0.2.1", 540, "manual"}, {"2001:db8::1", 3, "-"}}};
  const std::string d = format_reply(r);
  EXPECT_EQ(d, "1 ok 2 banned\n192.0.2.1 540 manual\n2001:db8::1 3 -");
  const ReplyParse p = parse_reply(d);
  ASSERT_TRUE(p.reply) << p.error;
  EXPECT_TRUE(p.reply->ok);
  EXPECT_EQ(p.reply->text, "2 banned");
  EXPECT_EQ(p.reply->bans, r.bans);
  const ReplyParse e = parse_reply(format_reply(Reply{false, "bad\nline", {}}));
  ASSERT_TRUE(e.reply);
  EXPECT_FALSE(e.reply->ok);
  EXPECT_EQ(e.reply->text, "bad?line");
  for (const char* bad : {"", "ok", "1 ok", "2 ok x", "1 okay", "1 ok x\n", "1 ok x\nnot-an-address 1 -",
                          "1 ok x\n192.0.2.1 1", "1 ok x\n192.0.2.1 x manual", "1 ok x\n192.0.2.1 1 Bad"}) {
    EXPECT_FALSE(parse_reply(bad).reply) << bad;
  }
}

TEST(FwRuleset, ApplyScriptBuildsOnlyBoxmailsTable) {
  const Request a = parsed("1 apply ports=25,110 allow=127.0.0.1,192.168.1.0/24,fd00::/8");
  const std::string s = apply_script(a);
  EXPECT_EQ(s,
            "add table inet boxmail\n"
            "add set inet boxmail banned4 { type ipv4_addr; flags timeout; }\n"
            "add set inet boxmail banned6 { type ipv6_addr; flags timeout; }\n"
            "add set inet boxmail allow4 { type ipv4_addr; flags interval; auto-merge; }\n"
            "add set inet boxmail allow6 { type ipv6_addr; flags interval; auto-merge; }\n"
            "add set inet boxmail feed4 { type ipv4_addr; flags interval; auto-merge; }\n"
            "add set inet boxmail feed6 { type ipv6_addr; flags interval; auto-merge; }\n"
            "add counter inet boxmail banned_drops\n"
            "add counter inet boxmail feed_drops\n"
            "add chain inet boxmail input { type filter hook input priority -10; policy accept; }\n"
            "flush chain inet boxmail input\n"
            "flush set inet boxmail allow4\n"
            "flush set inet boxmail allow6\n"
            "flush set inet boxmail feed4\n"
            "flush set inet boxmail feed6\n"
            "add element inet boxmail allow4 { 127.0.0.1, 192.168.1.0/24 }\n"
            "add element inet boxmail allow6 { fd00::/8 }\n"
            "add rule inet boxmail input ip saddr @allow4 accept\n"
            "add rule inet boxmail input ip6 saddr @allow6 accept\n"
            "add rule inet boxmail input tcp dport { 25, 110 } ip saddr @banned4 counter name banned_drops drop\n"
            "add rule inet boxmail input tcp dport { 25, 110 } ip6 saddr @banned6 counter name banned_drops drop\n");
  // The bans survive a re-apply: their sets are never flushed or deleted.
  EXPECT_EQ(s.find("flush set inet boxmail banned"), std::string::npos);
  EXPECT_EQ(s.find("delete"), std::string::npos);
  // No allowed networks: no element line.
  EXPECT_EQ(apply_script(parsed("1 apply ports=25 allow=-")).find("add element"), std::string::npos);
}

TEST(FwRequest, ApplyWithFeedServers) {
  for (const char* d : {"1 apply ports=25,587 allow=127.0.0.1 feed=25 from=-",
                        "1 apply ports=25,110 allow=- feed=25,2525 from=127.0.0.1,192.0.2.0/28,2001:db8::25"}) {
    EXPECT_EQ(format_request(parsed(d)), d);
  }
  const Request a = parsed("1 apply ports=25,110 allow=- feed=25 from=192.0.2.0/28,2001:db8::25");
  EXPECT_EQ(a.feed_ports, (std::vector<std::uint16_t>{25}));
  ASSERT_EQ(a.feed.size(), 2u);
  EXPECT_EQ(a.feed[0].to_string(), "192.0.2.0/28");
  EXPECT_TRUE(parsed("1 apply ports=25 allow=-").feed_ports.empty());
  std::string many = "1 apply ports=25 allow=- feed=25 from=";
  for (int n = 1; n <= static_cast<int>(kMaxFeed) + 1; ++n) many += (n > 1 ? ",10.0.0." : "10.0.0.") + std::to_string(n);
  for (const std::string& bad :
       {std::string("1 apply ports=25 allow=- feed=25"), std::string("1 apply ports=25 allow=- from=- feed=25"),
        std::string("1 apply ports=25 allow=- feed= from=-"), std::string("1 apply ports=25 allow=- feed=25 from="),
        std::string("1 apply ports=25 allow=- feed=25 from=0.0.0.0/0"),
        std::string("1 apply ports=25 allow=- feed=25 from=::/0"),
        std::string("1 apply ports=25 allow=- feed=25,25 from=-"),
        std::string("1 apply ports=25 allow=- feed=25 from=192.0.2.1/24"),
        std::string("1 apply ports=25 allow=- feed=25 from=mx.isp.example"),
        std::string("1 apply ports=25 allow=- feed=25 from=- extra"), many}) {
    EXPECT_FALSE(parse_request(bad).request) << bad;
  }
  // The largest apply fits a request.
  std::string nets;
  for (int n = 0; n < static_cast<int>(kMaxAllow); ++n)
    nets += (n ? "," : "") + std::string("2001:db8:ffff:ffff:ffff:ffff:ffff:") + std::to_string(1000 + n);
  const std::string largest = "1 apply ports=25 allow=" + nets + " feed=25 from=" + nets;
  EXPECT_LE(largest.size(), kMaxRequest);
  EXPECT_TRUE(parse_request(largest).request);
}

TEST(FwRuleset, FeedSetsAndRules) {
  const std::string s = apply_script(parsed("1 apply ports=25,110 allow=127.0.0.1,192.168.1.0/24 feed=25 from="
                                            "127.0.0.1,192.0.2.0/28,2001:db8::25"));
  // The sets and their elements (flushed and refilled at each apply).
  EXPECT_NE(s.find("flush set inet boxmail feed4\nflush set inet boxmail feed6\n"), std::string::npos) << s;
  EXPECT_NE(s.find("add element inet boxmail feed4 { 127.0.0.1, 192.0.2.0/28 }\n"), std::string::npos) << s;
  EXPECT_NE(s.find("add element inet boxmail feed6 { 2001:db8::25 }\n"), std::string::npos) << s;
  // The drop rules, on the feed ports only, before the allow-list's accept
  // (relay_networks in allow4 is not a feed server).
  const auto drop4 = s.find("add rule inet boxmail input tcp dport { 25 } ip saddr != @feed4 counter name feed_drops drop\n");
  const auto drop6 = s.find("add rule inet boxmail input tcp dport { 25 } ip6 saddr != @feed6 counter name feed_drops drop\n");
  const auto allow = s.find("add rule inet boxmail input ip saddr @allow4 accept\n");
  ASSERT_NE(drop4, std::string::npos) << s;
  ASSERT_NE(drop6, std::string::npos) << s;
  EXPECT_LT(drop4, allow);
  EXPECT_LT(drop6, allow);
  // Restricted with no address: the rules stay, the sets stay empty.
  const std::string empty = apply_script(parsed("1 apply ports=25 allow=- feed=25 from=-"));
  EXPECT_NE(empty.find("ip saddr != @feed4"), std::string::npos);
  EXPECT_EQ(empty.find("add element"), std::string::npos);
  // Not restricted: the sets exist (a later apply may fill them), no rule.
  const std::string open = apply_script(parsed("1 apply ports=25 allow=-"));
  EXPECT_NE(open.find("add set inet boxmail feed4"), std::string::npos);
  EXPECT_EQ(open.find("feed_drops drop"), std::string::npos);
}

TEST(FwRuleset, BanUnbanAndStopScripts) {
  EXPECT_EQ(ban_script(parsed("1 ban 192.0.2.1 600 manual")),
            "add element inet boxmail banned4 { 192.0.2.1 }\n"
            "delete element inet boxmail banned4 { 192.0.2.1 }\n"
            "add element inet boxmail banned4 { 192.0.2.1 timeout 600s comment \"manual\" }\n");
  EXPECT_EQ(unban_script(parsed("1 unban 2001:db8::1")),
            "add element inet boxmail banned6 { 2001:db8::1 }\n"
            "delete element inet boxmail banned6 { 2001:db8::1 }\n");
  EXPECT_EQ(delete_script(), "delete table inet boxmail\n");
  EXPECT_EQ(list_script(), "list table inet boxmail\n");
}

TEST(FwRuleset, ReadsNftsListing) {
  // As nft 1.0.6 prints list_script's output (shortened: the chain and
  // other sets come after the banned ones; their elements are no bans).
  const std::string out =
      "table inet boxmail {\n\tcounter banned_drops {\n\t\tpackets 0 bytes 0\n\t}\n\n"
      "\tset banned4 {\n\t\ttype ipv4_addr\n\t\tflags timeout\n"
      "\t\telements = { 127.0.0.5 timeout 10m expires 9m59s960ms comment \"manual\",\n"
      "\t\t\t     127.0.0.6 timeout 2d3h expires 2d2h59m59s936ms comment \"login-failures\",\n"
      "\t\t\t     127.0.0.7 timeout 1m expires 30s comment \"Not A Token\",\n"
      "\t\t\t     127.0.0.8 timeout 1m expires 1s }\n\t}\n\n"
      "\tset banned6 {\n\t\ttype ipv6_addr\n\t\tflags timeout\n"
      "\t\telements = { 2001:db8::1 timeout 1m expires 59s904ms comment \"x\" }\n\t}\n\n"
      "\tset allow4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\tauto-merge\n"
      "\t\telements = { 127.0.0.1, 192.168.1.0/24 }\n\t}\n\n"
      "\tset other {\n\t\ttype ipv4_addr\n\t\tflags timeout\n"
      "\t\telements = { 127.0.0.10 timeout 1m expires 1s }\n\t}\n}\n";
  const std::vector<ListedBan> want = {{"127.0.0.5", 600, "manual"},
                                       {"127.0.0.6", 2 * 86400 + 3 * 3600, "login-failures"},
                                       {"127.0.0.7", 30, "-"},
                                       {"127.0.0.8", 1, "-"},
                                       {"2001:db8::1", 60, "x"}};
  EXPECT_EQ(parse_listing(out), want);
  EXPECT_TRUE(parse_listing("table inet boxmail {\n\tset banned4 {\n\t}\n}\n").empty());
  EXPECT_TRUE(parse_listing("set banned4 { elements = { 127.0.0.1 timeout 1m } }").empty());   // no expires
  EXPECT_TRUE(parse_listing("elements = { 127.0.0.1 timeout 1m expires 1s }").empty());   // not in a banned set
}

TEST(FwRuleset, ReadsTheDropCounter) {
  const std::string out =
      "table inet boxmail {\n\tcounter banned_drops {\n\t\tpackets 17 bytes 1020\n\t}\n\n"
      "\tset banned4 {\n\t\ttype ipv4_addr\n\t\tflags timeout\n\t}\n}\n";
  EXPECT_EQ(parse_drop_counter(out), 17u);
  EXPECT_EQ(parse_drop_counter("counter banned_drops {\n packets 0 bytes 0\n}"), 0u);
  EXPECT_FALSE(parse_drop_counter("table inet boxmail {\n}\n"));
  EXPECT_FALSE(parse_drop_counter("counter banned_drops {\n}\n packets 5"));   // not inside its block
  EXPECT_FALSE(parse_drop_counter("counter banned_drops { packets x bytes 0 }"));
  EXPECT_FALSE(parse_drop_counter("counter other { packets 3 bytes 0 }"));
  EXPECT_FALSE(parse_drop_counter("counter banned_drops { packets 99999999999999999999999 bytes 0 }"));
}

TEST(FwReply, ListHeadCarriesTheDrops) {
  EXPECT_EQ(list_head_text(2, 17), "2 banned drops=17");
  EXPECT_EQ(list_head_text(0, std::nullopt), "0 banned");
  EXPECT_EQ(listed_drops("2 banned drops=17"), 17u);
  EXPECT_EQ(listed_drops(list_head_text(500, 0)), 0u);
  for (std::string_view bad : {"2 banned", "banned drops=1", "x banned drops=1", "2 banned drops=", "2 banned drops=1 ",
                               "2 banned drops=-1", "2 banned  drops=1", "no ruleset applied yet"}) {
    EXPECT_FALSE(listed_drops(bad)) << bad;
  }
  // Through the datagram as boxmaild reads it (the head only).
  const ReplyParse p = parse_reply_head(format_reply(Reply{true, list_head_text(1, 42), {{"192.0.2.1", 5, "x"}}}));
  ASSERT_TRUE(p.reply) << p.error;
  EXPECT_EQ(listed_drops(p.reply->text), 42u);
}

TEST(FwRuleset, NftDurations) {
  EXPECT_EQ(parse_nft_duration("10m"), 600u);
  EXPECT_EQ(parse_nft_duration("59s904ms"), 60u);
  EXPECT_EQ(parse_nft_duration("2d2h59m59s936ms"), 2 * 86400u + 3 * 3600u);
  EXPECT_EQ(parse_nft_duration("0ms"), 0u);
  for (const char* bad : {"", "10", "m", "10x", "1s2m", "1m1m", "1h-2m", "1msx", "s"}) {
    EXPECT_FALSE(parse_nft_duration(bad)) << bad;
  }
}

TEST(FwRuleset, AllowedAddresses) {
  const Request a = parsed("1 apply ports=25 allow=127.0.0.1,192.168.1.0/24,fd00::/8");
  EXPECT_TRUE(is_allowed(a.allow, *parse_canonical_address("192.168.1.77")));
  EXPECT_TRUE(is_allowed(a.allow, *parse_canonical_address("fd00::5")));
  EXPECT_TRUE(is_allowed(a.allow, *parse_canonical_address("127.0.0.1")));
  EXPECT_FALSE(is_allowed(a.allow, *parse_canonical_address("127.0.0.5")));
  EXPECT_FALSE(is_allowed(a.allow, *parse_canonical_address("2001:db8::1")));
}

}  // namespace

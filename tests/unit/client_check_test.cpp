// client_check_test.cpp - the checks at connection time, pure parts: DNSBL
// query names (RFC 5782 2.1, 2.4), answer codes, TXT sanitizing, the
// verdict from lookup results, who is checked, and the session's RCPT
// waiting for the verdict (whole and trickled).
#include "dns/dnsbl.hpp"
#include "net/ip_network.hpp"
#include "smtp/client_check.hpp"
#include "smtp/session.hpp"
#include "test_accounts.hpp"

#include "config/schema.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace boxmail;
using dns::LookupStatus;
using smtp::BlockedBy;
using smtp::ClientLookups;
using smtp::ClientVerdict;
using smtp::DnsblResult;
using smtp::ForwardResult;
using smtp::ReplyId;
using ReverseDnsPolicy = config::ReverseDnsPolicy;

namespace {

// ---- query names ------------------------------------------------------------------

TEST(Dnsbl, QueryNamesIpv4) {
  EXPECT_EQ(dns::dnsbl_query_name("192.0.2.99", "bl.example"), "99.2.0.192.bl.example");
  EXPECT_EQ(dns::dnsbl_query_name("127.0.0.2", "zen.spamhaus.org"), "2.0.0.127.zen.spamhaus.org");
  // A dual-stack socket's IPv4 client is asked as IPv4.
  EXPECT_EQ(dns::dnsbl_query_name("::ffff:192.0.2.99", "bl.example"), "99.2.0.192.bl.example");
}

TEST(Dnsbl, QueryNamesIpv6Nibbles) {
  // RFC 5782 2.4's own example.
  EXPECT_EQ(dns::dnsbl_query_name("2001:db8:1:2:3:4:567:89ab", "ugly.example.com"),
            "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ugly.example.com");
  EXPECT_EQ(dns::dnsbl_query_name("::1", "bl.example"),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.bl.example");
}

TEST(Dnsbl, QueryNamesRefused) {
  EXPECT_FALSE(dns::dnsbl_query_name("not an address", "bl.example"));
  EXPECT_FALSE(dns::dnsbl_query_name("192.0.2.0/24", "bl.example"));
  EXPECT_FALSE(dns::dnsbl_query_name("192.0.2.1", "bad zone"));
  EXPECT_FALSE(dns::dnsbl_query_name("192.0.2.1", "bl.example."));
  EXPECT_FALSE(dns::dnsbl_query_name("192.0.2.1", ""));
  // The longest zone still leaves room for an IPv6 name; one more octet does not.
  std::string longest;
  while (longest.size() < dns::kMaxDnsblZone) longest += (longest.empty() ? "" : ".") + std::string(9, 'a');
  longest.resize(dns::kMaxDnsblZone);
  if (longest.back() == '.') longest.back() = 'b';
  const auto name = dns::dnsbl_query_name("2001:db8::1", longest);
  ASSERT_TRUE(name);
  EXPECT_EQ(name->size(), 253u);
  EXPECT_FALSE(dns::dnsbl_query_name("2001:db8::1", longest + "c"));
}

TEST(Dnsbl, AnswerCodes) {
  using A = dns::DnsblAnswer;
  EXPECT_EQ(dns::classify_dnsbl_answer({"127.0.0.2"}), A::Listed);
  EXPECT_EQ(dns::classify_dnsbl_answer({"127.0.0.11"}), A::Listed);
  EXPECT_EQ(dns::classify_dnsbl_answer({"127.0.1.4"}), A::Listed);
  EXPECT_EQ(dns::classify_dnsbl_answer({}), A::NotListed);
  // RFC 5782's error range: the list refuses to answer.
  for (const char* code : {"127.255.255.252", "127.255.255.253", "127.255.255.254", "127.255.255.255"}) {
    EXPECT_EQ(dns::classify_dnsbl_answer({code}), A::Refused) << code;
  }
  EXPECT_EQ(dns::classify_dnsbl_answer({"127.255.255.251"}), A::Listed);
  // Not a listing: 127.0.0.1 (never listed, RFC 5782 5) and addresses outside 127/8.
  EXPECT_EQ(dns::classify_dnsbl_answer({"127.0.0.1"}), A::Unexpected);
  EXPECT_EQ(dns::classify_dnsbl_answer({"192.0.2.80"}), A::Unexpected);
  // A listing code wins.
  EXPECT_EQ(dns::classify_dnsbl_answer({"192.0.2.80", "127.255.255.254", "127.0.0.4"}), A::Listed);
  EXPECT_EQ(dns::classify_dnsbl_answer({"192.0.2.80", "127.255.255.254"}), A::Refused);
}

// ---- TXT sanitizing ---------------------------------------------------------------

TEST(Dnsbl, TxtSanitizing) {
  EXPECT_EQ(dns::sanitize_dns_text("Listed: see https://bl.example/q?ip=192.0.2.1"),
            "Listed: see https://bl.example/q?ip=192.0.2.1");
  // An injected reply: one line, the CR LF a blank.
  EXPECT_EQ(dns::sanitize_dns_text("spam\r\n250 2.0.0 Ok\r\nRCPT TO:<x@y>"), "spam 250 2.0.0 Ok RCPT TO:<x@y>");
  EXPECT_EQ(dns::sanitize_dns_text("\r\n\t  a \n\n b  \r\n"), "a b");
  EXPECT_EQ(dns::sanitize_dns_text(std::string("a\0b\x1b[31mc\x7f\xff", 11)), "a?b?[31mc??");
  EXPECT_EQ(dns::sanitize_dns_text("say \"accepted\""), "say 'accepted'");
  const std::string huge(5000, 'x');
  const std::string cut = dns::sanitize_dns_text(huge);
  EXPECT_EQ(cut.size(), dns::kMaxDnsText);
  EXPECT_TRUE(cut.ends_with("..."));
  EXPECT_EQ(dns::sanitize_dns_text(std::string(dns::kMaxDnsText, 'y')), std::string(dns::kMaxDnsText, 'y'));
  EXPECT_EQ(dns::sanitize_dns_text(""), "");
}

// ---- the verdict ------------------------------------------------------------------

DnsblResult zone(std::string name, LookupStatus status, std::vector<std::string> addresses = {},
                 std::vector<std::string> texts = {}) {
  DnsblResult r;
  r.zone = std::move(name);
  r.name = "x." + r.zone;
  r.status = status;
  r.addresses = std::move(addresses);
  if (!texts.empty()) {
    r.txt_status = LookupStatus::Ok;
    r.texts = std::move(texts);
  }
  return r;
}

ClientLookups lookups(std::vector<DnsblResult> zones) {
  ClientLookups l;
  l.client = "192.0.2.1";
  l.dnsbl = std::move(zones);
  l.timeout_seconds = 10;
  return l;
}

std::string reply_of(const ClientVerdict& v) { return smtp::format_reply(v.reply, v.reply_arg); }

bool logged(const ClientVerdict& v, std::string_view text) {
  for (const auto& l : v.log) {
    if (l.find(text) != std::string::npos) return true;
  }
  return false;
}

TEST(ClientVerdict, ListedGets554WithTheReason) {
  const auto v = smtp::client_verdict(
      lookups({zone("a.example", LookupStatus::NxDomain),
               zone("b.example", LookupStatus::Ok, {"127.0.0.2"}, {"Spam source\r\n250 ok", "second"})}),
      ReverseDnsPolicy::Off);
  EXPECT_EQ(v.blocked, BlockedBy::Dnsbl);
  EXPECT_EQ(reply_of(v), "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using b.example; "
                         "Spam source 250 ok\r\n");
  EXPECT_TRUE(logged(v, "client=192.0.2.1 dnsbl=a.example not listed")) << v.log[0];
  EXPECT_TRUE(logged(v, "client=192.0.2.1 dnsbl=b.example listed answer=127.0.0.2 txt=\"Spam source 250 ok\""));
}

TEST(ClientVerdict, FirstListingZoneInOrderAndNoTxt) {
  auto b = zone("b.example", LookupStatus::Ok, {"127.0.0.4"});
  b.txt_status = LookupStatus::NxDomain;
  const auto v = smtp::client_verdict(lookups({b, zone("c.example", LookupStatus::Ok, {"127.0.0.2"}, {"c"})}),
                                      ReverseDnsPolicy::Off);
  EXPECT_EQ(reply_of(v), "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using b.example\r\n");
}

TEST(ClientVerdict, FailuresLetTheClientThroughAndAreLogged) {
  auto slow = zone("slow.example", LookupStatus::Cancelled);
  slow.timed_out = true;
  const auto v = smtp::client_verdict(
      lookups({slow, zone("sf.example", LookupStatus::TempFail),
               zone("busy.example", LookupStatus::Ok, {"127.255.255.254"}),
               zone("odd.example", LookupStatus::Ok, {"192.0.2.80"}), zone("one.example", LookupStatus::Ok, {"127.0.0.1"})}),
      ReverseDnsPolicy::Off);
  EXPECT_EQ(v.blocked, BlockedBy::None);
  EXPECT_TRUE(logged(v, "dnsbl=slow.example no answer within 10 s: not checked, client let through"));
  EXPECT_TRUE(logged(v, "dnsbl=sf.example tempfail: not checked"));
  EXPECT_TRUE(logged(v, "dnsbl=busy.example refused answer=127.255.255.254: the list refuses our queries"));
  EXPECT_TRUE(logged(v, "dnsbl=odd.example unexpected answer=192.0.2.80"));
  EXPECT_TRUE(logged(v, "dnsbl=one.example unexpected answer=127.0.0.1"));
}

ClientLookups reverse(LookupStatus ptr, std::vector<ForwardResult> forward, std::string client = "192.0.2.1") {
  ClientLookups l;
  l.client = std::move(client);
  l.reverse_asked = true;
  l.timeout_seconds = 10;
  l.reverse.ptr_status = ptr;
  for (const auto& f : forward) l.reverse.names.push_back(f.name);
  l.reverse.forward = std::move(forward);
  return l;
}

TEST(ClientVerdict, ReverseDnsOutcomes) {
  // Confirmed: passes under reject.
  auto ok = smtp::client_verdict(reverse(LookupStatus::Ok, {{"a.example", LookupStatus::Ok, {"192.0.2.9"}},
                                                            {"b.example", LookupStatus::Ok, {"192.0.2.1"}}}),
                                 ReverseDnsPolicy::Reject);
  EXPECT_EQ(ok.blocked, BlockedBy::None);
  EXPECT_TRUE(logged(ok, "client=192.0.2.1 reverse_dns=pass confirmed b.example"));

  // No PTR: 550 5.7.25 under reject; logged only under log.
  for (auto s : {LookupStatus::NxDomain, LookupStatus::NoData}) {
    auto v = smtp::client_verdict(reverse(s, {}), ReverseDnsPolicy::Reject);
    EXPECT_EQ(v.blocked, BlockedBy::ReverseDns);
    EXPECT_EQ(reply_of(v), "550 5.7.25 Client host rejected: cannot find your hostname, [192.0.2.1]\r\n");
    auto l = smtp::client_verdict(reverse(s, {}), ReverseDnsPolicy::Log);
    EXPECT_EQ(l.blocked, BlockedBy::None);
    EXPECT_TRUE(logged(l, "reverse_dns=fail no PTR")) << l.log.at(0);
    EXPECT_TRUE(logged(l, "(reverse_dns = log: not refused)"));
  }
  // Off: nothing looked at, nothing logged.
  EXPECT_TRUE(smtp::client_verdict(reverse(LookupStatus::NxDomain, {}), ReverseDnsPolicy::Off).log.empty());

  // Not forward-confirmed: 550 5.7.25 naming the PTR name.
  auto mismatch = smtp::client_verdict(
      reverse(LookupStatus::Ok, {{"liar.example", LookupStatus::Ok, {"192.0.2.66"}}, {"gone.example", LookupStatus::NxDomain, {}}}),
      ReverseDnsPolicy::Reject);
  EXPECT_EQ(reply_of(mismatch),
            "550 5.7.25 Client host rejected: your hostname does not resolve to your address: liar.example [192.0.2.1]\r\n");
  EXPECT_TRUE(logged(mismatch, "reverse_dns=fail PTR liar.example,gone.example does not resolve to the client"));

  // DNS failures: 450 4.7.25 (PTR SERVFAIL, PTR timeout, a forward lookup failed and none matched).
  auto sf = smtp::client_verdict(reverse(LookupStatus::TempFail, {}), ReverseDnsPolicy::Reject);
  EXPECT_EQ(reply_of(sf),
            "450 4.7.25 Client host rejected: cannot find your hostname (DNS failed; try again later), [192.0.2.1]\r\n");
  auto late = reverse(LookupStatus::Cancelled, {});
  late.reverse.timed_out = true;
  auto lv = smtp::client_verdict(late, ReverseDnsPolicy::Reject);
  EXPECT_EQ(lv.reply, ReplyId::ClientHostTempFail);
  EXPECT_TRUE(logged(lv, "reverse_dns=tempfail PTR lookup no answer within 10 s"));
  auto fwd = smtp::client_verdict(reverse(LookupStatus::Ok, {{"a.example", LookupStatus::TempFail, {}},
                                                             {"b.example", LookupStatus::Ok, {"192.0.2.7"}}}),
                                  ReverseDnsPolicy::Reject);
  EXPECT_EQ(fwd.reply, ReplyId::ClientHostTempFail);

  // IPv6 client: addresses compared as addresses, not texts.
  auto v6 = smtp::client_verdict(
      reverse(LookupStatus::Ok, {{"six.example", LookupStatus::Ok, {"2001:db8:0:0::1"}}}, "2001:db8::1"),
      ReverseDnsPolicy::Reject);
  EXPECT_EQ(v6.blocked, BlockedBy::None);
}

TEST(ClientVerdict, DnsblWinsOverReverseDns) {
  auto l = reverse(LookupStatus::NxDomain, {});
  l.dnsbl = {zone("bl.example", LookupStatus::Ok, {"127.0.0.3"}, {"why"})};
  const auto v = smtp::client_verdict(l, ReverseDnsPolicy::Reject);
  EXPECT_EQ(v.blocked, BlockedBy::Dnsbl);
  EXPECT_EQ(v.log.size(), 2u);
}

// ---- who is checked ---------------------------------------------------------------

config::Config checked_config() {
  config::Config c = *config::default_config();
  c.smtp.dnsbl_zones = {"bl.example"};
  std::string why;
  c.relay.relay_networks = {*net::parse_network("192.168.1.0/24", why)};
  return c;
}

TEST(ClientChecked, Exemptions) {
  const config::Config c = checked_config();
  EXPECT_TRUE(smtp::client_checked(c, "192.0.2.1", true));
  EXPECT_FALSE(smtp::client_checked(c, "192.0.2.1", false));          // submission ports
  EXPECT_FALSE(smtp::client_checked(c, "192.168.1.20", true));        // relay_networks
  EXPECT_FALSE(smtp::client_checked(c, "::ffff:192.168.1.20", true));
  EXPECT_TRUE(smtp::client_checked(c, "203.0.113.16", true));
  config::Config feed = c;   // a restricted feed port: only feed servers get in, none is checked
  feed.smtp.feed_servers = {"mx.isp.example", "198.51.100.7"};
  EXPECT_FALSE(smtp::client_checked(feed, "198.51.100.7", true));
  EXPECT_FALSE(smtp::client_checked(feed, "203.0.113.16", true));
  config::Config off = c;
  off.smtp.dnsbl_zones.clear();
  EXPECT_FALSE(smtp::client_checked(off, "192.0.2.1", true));         // nothing to check
  off.smtp.reverse_dns = ReverseDnsPolicy::Log;
  EXPECT_TRUE(smtp::client_checked(off, "192.0.2.1", true));
}

// ---- the session waits at RCPT ------------------------------------------------------

struct Dialogue {
  explicit Dialogue(bool checked)
      : s(std::make_shared<config::Config>(*config::default_config()), test_fixtures::alice_and_bob(),
          smtp::ClientInfo{"192.0.2.1", 4321}, "mx.test", [] { return std::string("QID"); }) {
    s.greet();
    if (checked) s.expect_client_check();
  }
  /// Feeds `in` `step` octets at a time; stops at ClientCheck (the glue's wait).
  std::size_t feed(std::string_view in, std::size_t step) {
    std::size_t total = 0;
    for (std::size_t pos = 0; pos < in.size(); pos += step) {
      std::string_view chunk = in.substr(pos, step);
      while (!chunk.empty()) {
        std::size_t used = 0;
        smtp::Output o = s.on_input(chunk, {}, body, used);
        chunk.remove_prefix(used);
        total += used;
        take(o);
        if (o.action == smtp::Action::ClientCheck) {
          waited = true;
          return total;
        }
        if (used == 0) break;
      }
    }
    return total;
  }
  void take(const smtp::Output& o) {
    transcript += o.replies;
    events.insert(events.end(), o.events.begin(), o.events.end());
    log.insert(log.end(), o.log.begin(), o.log.end());
  }
  smtp::Session s;
  std::string transcript, body;
  std::vector<smtp::Event> events;
  std::vector<std::string> log;
  bool waited = false;
};

ClientVerdict listed() {
  return smtp::client_verdict(lookups({zone("bl.example", LookupStatus::Ok, {"127.0.0.2"}, {"go away"})}),
                              ReverseDnsPolicy::Off);
}

TEST(SessionClientCheck, RcptWaitsForTheVerdictThenEveryRcptIsRefused) {
  const std::string in = "EHLO c\r\nMAIL FROM:<s@x.test>\r\nRCPT TO:<alice@x.test>\r\nRCPT TO:<bob@x.test>\r\nDATA\r\n";
  for (std::size_t step : {in.size(), std::size_t{1}}) {
    Dialogue d(true);
    const std::size_t used = d.feed(in, step);
    ASSERT_TRUE(d.waited) << step;
    EXPECT_TRUE(d.s.waiting_for_client_check());
    EXPECT_EQ(in.substr(0, used), "EHLO c\r\nMAIL FROM:<s@x.test>\r\nRCPT TO:<alice@x.test>\r\n");
    EXPECT_TRUE(d.transcript.ends_with("250 2.1.0 Sender ok\r\n")) << d.transcript;
    d.take(d.s.on_client_check(listed(), {}));
    EXPECT_FALSE(d.s.waiting_for_client_check());
    d.waited = false;
    d.feed(in.substr(used), step);
    EXPECT_FALSE(d.waited);
    const std::string refusal =
        "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using bl.example; go away\r\n";
    EXPECT_TRUE(d.transcript.ends_with(refusal + refusal + "554 5.5.1 Error: no valid recipients\r\n")) << d.transcript;
    ASSERT_EQ(d.events.size(), 3u);
    EXPECT_EQ(d.events[0].kind, smtp::EventKind::RecipientRefused);
    EXPECT_EQ(d.events[1], (smtp::Event{smtp::EventKind::ClientBlocked, 0, BlockedBy::Dnsbl}));
    EXPECT_EQ(d.events[2].kind, smtp::EventKind::RecipientRefused);   // blocked counted once
    ASSERT_FALSE(d.log.empty());
    EXPECT_EQ(d.log[0], "client=192.0.2.1 from=<s@x.test> rcpt=<alice@x.test> refused: listed by bl.example");
  }
}

TEST(SessionClientCheck, VerdictBeforeRcptAndPassingClients) {
  Dialogue early(true);
  early.take(early.s.on_client_check(ClientVerdict{}, {}));   // nothing waited: empty output
  EXPECT_EQ(early.transcript, "");
  early.feed("EHLO c\r\nMAIL FROM:<s@x.test>\r\nRCPT TO:<alice@x.test>\r\n", 1000);
  EXPECT_FALSE(early.waited);
  EXPECT_TRUE(early.transcript.ends_with("250 2.1.5 Recipient ok\r\n"));
  Dialogue unchecked(false);   // exempt: never waits
  unchecked.feed("EHLO c\r\nMAIL FROM:<s@x.test>\r\nRCPT TO:<alice@x.test>\r\n", 1000);
  EXPECT_FALSE(unchecked.waited);
  EXPECT_TRUE(unchecked.transcript.ends_with("250 2.1.5 Recipient ok\r\n"));
  // A syntax error in RCPT is answered at once, without waiting.
  Dialogue bad(true);
  bad.feed("EHLO c\r\nMAIL FROM:<s@x.test>\r\nRCPT TO:<<>\r\n", 1000);
  EXPECT_FALSE(bad.waited);
  EXPECT_NE(bad.transcript.find("\r\n501 "), std::string::npos) << bad.transcript;
}

}  // namespace

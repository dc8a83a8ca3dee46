// dns_mx_route_test.cpp - the hosts to try for a domain (dns/mx_route.hpp)
// and the names the resolver refuses to query (dns/domain_name.hpp).
#include "dns/domain_name.hpp"
#include "dns/mx_route.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace {

using boxmail::dns::check_name;
using boxmail::dns::LookupStatus;
using boxmail::dns::mx_route;
using boxmail::dns::MxAnswer;
using boxmail::dns::MxRecord;
using boxmail::dns::MxRoute;
using boxmail::dns::NameError;
using boxmail::dns::NameKind;
using boxmail::dns::normalize_name;
using boxmail::dns::parse_name_server;

using Hosts = std::vector<std::string>;

/// Always the first index: the shuffle leaves equal preferences in a fixed
/// (rotated) order.
std::size_t first(std::size_t) { return 0; }
/// Always the last index: Fisher-Yates leaves the order unchanged.
std::size_t last(std::size_t n) { return n - 1; }

MxAnswer ok(std::vector<MxRecord> records) { return {LookupStatus::Ok, std::move(records)}; }

TEST(MxRoute, SortedByPreference) {
  const MxAnswer a = ok({{30, "mx3.example.test"}, {10, "mx1.example.test"}, {20, "MX2.Example.Test."}});
  const MxRoute r = mx_route("example.test", a, last);
  ASSERT_EQ(r.kind, MxRoute::Kind::Hosts);
  EXPECT_EQ(r.hosts, (Hosts{"mx1.example.test", "mx2.example.test", "mx3.example.test"}));
  EXPECT_FALSE(r.implicit);
  EXPECT_EQ(r.enhanced_status, "");
}

TEST(MxRoute, EqualPreferencesAreShuffledWithTheGivenRandomSource) {
  const MxAnswer a = ok({{10, "a.test"}, {20, "z.test"}, {10, "b.test"}, {10, "c.test"}});
  EXPECT_EQ(mx_route("example.test", a, last).hosts, (Hosts{"a.test", "b.test", "c.test", "z.test"}));
  // first(): i=3 swaps [2]<->[0] (c b a), i=2 swaps [1]<->[0] (b c a).
  EXPECT_EQ(mx_route("example.test", a, first).hosts, (Hosts{"b.test", "c.test", "a.test", "z.test"}));
  // Over many seeds every host of preference 10 comes first some time,
  // and z.test (20) is always last.
  std::set<std::string> firsts;
  unsigned state = 1;
  const auto lcg = [&](std::size_t n) {
    state = state * 1103515245u + 12345u;
    return static_cast<std::size_t>((state >> 16) % n);
  };
  for (int i = 0; i < 200; ++i) {
    const MxRoute r = mx_route("example.test", a, lcg);
    ASSERT_EQ(r.hosts.size(), 4u);
    EXPECT_EQ(r.hosts.back(), "z.test");
    firsts.insert(r.hosts.front());
  }
  EXPECT_EQ(firsts, (std::set<std::string>{"a.test", "b.test", "c.test"}));
}

TEST(MxRoute, DuplicatesKeepTheirLowestPreference) {
  const MxAnswer a = ok({{20, "mx.test"}, {10, "other.test"}, {5, "MX.test."}, {10, "other.test"}});
  EXPECT_EQ(mx_route("example.test", a, last).hosts, (Hosts{"mx.test", "other.test"}));
}

TEST(MxRoute, NoMxIsTheImplicitMx) {
  for (const MxAnswer& a : {MxAnswer{LookupStatus::NoData, {}}, ok({})}) {
    const MxRoute r = mx_route("Example.TEST.", a, first);
    ASSERT_EQ(r.kind, MxRoute::Kind::Hosts);
    EXPECT_EQ(r.hosts, (Hosts{"example.test"}));
    EXPECT_TRUE(r.implicit);
  }
}

TEST(MxRoute, NullMxIsPermanent) {
  for (const char* root : {".", ""}) {
    const MxRoute r = mx_route("example.test", ok({{0, root}}), first);
    EXPECT_EQ(r.kind, MxRoute::Kind::Permanent);
    EXPECT_EQ(r.enhanced_status, "5.1.10");
    EXPECT_EQ(r.text, "example.test has a null MX (RFC 7505): it accepts no mail");
    EXPECT_TRUE(r.hosts.empty());
  }
  // A root exchange next to real ones is not a null MX: the real one is used.
  const MxRoute mixed = mx_route("example.test", ok({{0, "."}, {10, "mx.example.test"}}), first);
  EXPECT_EQ(mixed.kind, MxRoute::Kind::Hosts);
  EXPECT_EQ(mixed.hosts, (Hosts{"mx.example.test"}));
}

TEST(MxRoute, NxDomainIsPermanentTempFailIsTemporary) {
  MxRoute r = mx_route("nx.test", {LookupStatus::NxDomain, {}}, first);
  EXPECT_EQ(r.kind, MxRoute::Kind::Permanent);
  EXPECT_EQ(r.enhanced_status, "5.1.2");
  EXPECT_EQ(r.text, "nx.test does not exist (NXDOMAIN)");
  for (const LookupStatus s : {LookupStatus::TempFail, LookupStatus::Cancelled}) {
    r = mx_route("sf.test", {s, {}}, first);
    EXPECT_EQ(r.kind, MxRoute::Kind::Temporary);
    EXPECT_EQ(r.enhanced_status, "4.4.3");
    EXPECT_NE(r.text.find("sf.test"), std::string::npos);
  }
}

TEST(MxRoute, BadDomainIsPermanent) {
  for (const char* d : {"", "a..b", "exa mple.test", "-x.test"}) {
    const MxRoute r = mx_route(d, ok({{10, "mx.test"}}), first);
    EXPECT_EQ(r.kind, MxRoute::Kind::Permanent) << d;
    EXPECT_EQ(r.enhanced_status, "5.1.2") << d;
  }
  EXPECT_EQ(mx_route("x.test", {LookupStatus::BadName, {}}, first).kind, MxRoute::Kind::Permanent);
}

TEST(MxRoute, GarbageExchangesAreDropped) {
  const MxAnswer a = ok({{5, "bad\\032name.test"}, {10, "good.test"}, {1, "a..b"}});
  EXPECT_EQ(mx_route("example.test", a, first).hosts, (Hosts{"good.test"}));
  const MxRoute none = mx_route("example.test", ok({{5, "bad\\032name.test"}, {6, "x y"}}), first);
  EXPECT_EQ(none.kind, MxRoute::Kind::Temporary);
  EXPECT_EQ(none.enhanced_status, "4.4.3");
}

TEST(MxRoute, OwnNameDropsItselfAndWorse) {
  const MxAnswer a = ok({{10, "backup.test"}, {5, "primary.test"}, {10, "box.test"}, {20, "later.test"}});
  const MxRoute r = mx_route("example.test", a, last, {{"Box.Test."}});
  EXPECT_EQ(r.hosts, (Hosts{"primary.test"}));
  const MxRoute loop = mx_route("example.test", ok({{10, "box.test"}, {20, "b.test"}}), last, {{"box.test"}});
  EXPECT_EQ(loop.kind, MxRoute::Kind::Permanent);
  EXPECT_EQ(loop.enhanced_status, "5.4.6");
}

TEST(DomainName, ValidNames) {
  for (const char* n : {"example.test", "EXAMPLE.test.", "a", "1.2.3.in-addr.arpa", "xn--bcher-kva.example",
                        "a-b.c-d.test", "3com.test"}) {
    EXPECT_EQ(check_name(n), NameError::None) << n;
  }
  EXPECT_EQ(normalize_name("Mx1.Example.TEST."), "mx1.example.test");
  EXPECT_EQ(check_name("_dmarc.example.test", NameKind::Lookup), NameError::None);
  EXPECT_EQ(check_name("_dmarc.example.test", NameKind::Host), NameError::BadCharacter);
  // 63-octet label, 253-octet name: the limits themselves are fine.
  EXPECT_EQ(check_name(std::string(63, 'a') + ".test"), NameError::None);
  std::string longest;
  while (longest.size() < 253) longest += longest.empty() ? "a" : ".a";
  ASSERT_EQ(longest.size(), 253u);
  EXPECT_EQ(check_name(longest), NameError::None);
  EXPECT_EQ(check_name(longest + "."), NameError::None);
}

TEST(DomainName, MalformedNamesAreRefused) {
  struct Case {
    std::string name;
    NameError error;
  };
  std::string too_long;
  while (too_long.size() < 254) too_long += too_long.empty() ? "a" : ".a";
  const Case cases[] = {
      {"", NameError::Empty},
      {".", NameError::Empty},
      {too_long, NameError::TooLong},
      {std::string(300, 'a'), NameError::TooLong},
      {"a..b", NameError::EmptyLabel},
      {".a", NameError::EmptyLabel},
      {"a..", NameError::EmptyLabel},
      {std::string(64, 'a') + ".test", NameError::LabelTooLong},
      {"ex ample.test", NameError::BadCharacter},
      {"example.test\r\n", NameError::BadCharacter},
      {std::string("exa\0mple.test", 13), NameError::BadCharacter},
      {"b\\195\\188cher.test", NameError::BadCharacter},   // udns' escape of a raw octet
      {"b\xc3\xbc" "cher.test", NameError::BadCharacter},  // UTF-8, not an A-label
      {"user@example.test", NameError::BadCharacter},
      {"*.example.test", NameError::BadCharacter},
      {"[192.0.2.1]", NameError::BadCharacter},
      {"-a.test", NameError::BadHyphen},
      {"a-.test", NameError::BadHyphen},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(check_name(c.name), c.error) << c.name;
    EXPECT_FALSE(normalize_name(c.name)) << c.name;
  }
}

TEST(DomainName, NameServers) {
  std::string error;
  auto s = parse_name_server("127.0.0.1", error);
  ASSERT_TRUE(s) << error;
  EXPECT_EQ(*s, (boxmail::dns::NameServer{"127.0.0.1", 53, false}));
  s = parse_name_server("127.0.0.1:5353", error);
  ASSERT_TRUE(s) << error;
  EXPECT_EQ(s->port, 5353);
  s = parse_name_server("::1", error);
  ASSERT_TRUE(s) << error;
  EXPECT_EQ(*s, (boxmail::dns::NameServer{"::1", 53, true}));
  s = parse_name_server("[2001:db8::53]:5300", error);
  ASSERT_TRUE(s) << error;
  EXPECT_EQ(*s, (boxmail::dns::NameServer{"2001:db8::53", 5300, true}));
  for (const char* bad : {"", "localhost", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:x",
                          "[::1", "[::1]x", "[127.0.0.1]:53", "1.2.3.4.5", "::1:53:"}) {
    error.clear();
    EXPECT_FALSE(parse_name_server(bad, error)) << bad;
    EXPECT_NE(error, "") << bad;
  }
}

}  // namespace

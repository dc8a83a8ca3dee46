// mailbox_test.cpp - table tests for the RFC 5321 4.1.2 path parser
// (src/address/mailbox.hpp): valid and invalid reverse-/forward-paths, the
// length limits of RFC 5321 4.5.3.1, Mailbox::to_string round trips and
// is_valid_domain. The parser takes a whole command argument, not a stream,
// so instead of trickling bytes every valid case is also checked with every
// strict prefix (must fail cleanly) and with ESMTP parameters appended (must
// give the same `end`).
#include "address/mailbox.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace boxmail::address {
namespace {

using namespace std::literals;

std::string rep(char c, std::size_t n) { return std::string(n, c); }

/// A domain of exactly `n` octets (n >= 1) made of labels of at most 63.
std::string domain_of(std::size_t n) {
  std::string d;
  while (d.size() < n) {
    if (!d.empty()) d.push_back('.');
    const std::size_t room = n - d.size();
    // Never leave a single octet for a trailing "." + empty label.
    std::size_t len = room > 63 ? 63 : room;
    if (room > 63 && room - 63 == 1) len = 61;
    d += rep('a', len);
  }
  return d;
}

enum class Which { Both, ReverseOnly, ForwardOnly };

struct ValidCase {
  std::string name;
  std::string input;
  std::string local;
  std::string domain;
  bool quoted = false;
  bool literal = false;
  std::size_t end = std::string::npos;   // npos: input.size()
  Which which = Which::Both;
};

std::vector<ValidCase> valid_cases() {
  return {
      {"simple", "<user@example.com>", "user", "example.com"},
      {"case kept", "<User.Name@Example.COM>", "User.Name", "Example.COM"},
      {"dot-string atoms", "<first.middle.last@ex.org>", "first.middle.last", "ex.org"},
      {"all atext", "<!#$%&'*+-/=?^_`{|}~@ex.org>", "!#$%&'*+-/=?^_`{|}~", "ex.org"},
      {"digits", "<123@456.example>", "123", "456.example"},
      {"single label domain", "<user@localhost>", "user", "localhost"},
      {"hyphen inside label", "<u@my-host.ex-ample.com>", "u", "my-host.ex-ample.com"},
      {"numeric domain", "<u@1.2.3.4>", "u", "1.2.3.4"},
      {"leading spaces", "   <user@example.com>", "user", "example.com"},
      {"params follow", "<user@example.com> SIZE=100", "user", "example.com", false, false, 18},
      {"quoted simple", "<\"user\"@example.com>", "user", "example.com", true},
      {"quoted space", "<\"john doe\"@example.com>", "john doe", "example.com", true},
      {"quoted at", "<\"user@host\"@example.com>", "user@host", "example.com", true},
      {"quoted escapes", R"(<"a\"b\\c"@ex.org>)", "a\"b\\c", "ex.org", true},
      {"quoted escaped letter", R"(<"\a\ b"@ex.org>)", "a b", "ex.org", true},
      {"quoted specials", "<\"a,b;c<d>e[f]\"@ex.org>", "a,b;c<d>e[f]", "ex.org", true},
      {"quoted dots", "<\"..a..\"@ex.org>", "..a..", "ex.org", true},
      {"ipv4 literal", "<u@[192.0.2.1]>", "u", "[192.0.2.1]", false, true},
      {"ipv4 literal zeros", "<u@[0.0.0.0]>", "u", "[0.0.0.0]", false, true},
      {"ipv4 literal 255", "<u@[255.255.255.255]>", "u", "[255.255.255.255]", false, true},
      {"ipv4 leading zeros", "<u@[010.001.0.1]>", "u", "[010.001.0.1]", false, true},
      {"ipv6 full", "<u@[IPv6:2001:db8:0:0:0:0:0:1]>", "u", "[IPv6:2001:db8:0:0:0:0:0:1]", false, true},
      {"ipv6 comp", "<u@[IPv6:2001:db8::1]>", "u", "[IPv6:2001:db8::1]", false, true},
      {"ipv6 loopback", "<u@[IPv6:::1]>", "u", "[IPv6:::1]", false, true},
      {"ipv6 any", "<u@[IPv6:::]>", "u", "[IPv6:::]", false, true},
      {"ipv6 trailing ::", "<u@[IPv6:fe80::]>", "u", "[IPv6:fe80::]", false, true},
      {"ipv6 tag any case", "<u@[ipv6:FFFF::abcd]>", "u", "[ipv6:FFFF::abcd]", false, true},
      {"ipv6v4 full", "<u@[IPv6:0:0:0:0:0:ffff:192.0.2.1]>", "u", "[IPv6:0:0:0:0:0:ffff:192.0.2.1]", false, true},
      {"ipv6v4 comp", "<u@[IPv6:::ffff:192.0.2.1]>", "u", "[IPv6:::ffff:192.0.2.1]", false, true},
      {"ipv6 one group ::", "<u@[IPv6:1:2:3:4:5:6::8]>", "u", "[IPv6:1:2:3:4:5:6::8]", false, true},
      {"general literal", "<u@[x-tag:some!content]>", "u", "[x-tag:some!content]", false, true},
      {"general literal colons", "<u@[abc:1:2:3]>", "u", "[abc:1:2:3]", false, true},
      // Standardized-tag = Ldh-str may be all digits, so an IPv6 address
      // without "IPv6:" is syntactically a General-address-literal.
      {"general literal numeric tag", "<u@[2001:db8::1]>", "u", "[2001:db8::1]", false, true},
      {"source route one", "<@relay.example:user@example.com>", "user", "example.com"},
      {"source route two", "<@a.example,@b.example:user@example.com>", "user", "example.com"},
      {"source route quoted", "<@a.example:\"x y\"@example.com>", "x y", "example.com", true},
      {"local-part 64", "<" + rep('a', 64) + "@ex.org>", rep('a', 64), "ex.org"},
      {"quoted local-part 64 on the wire", "<\"" + rep('b', 62) + "\"@ex.org>", rep('b', 62), "ex.org", true},
      {"label 63", "<u@" + rep('c', 63) + ".org>", "u", rep('c', 63) + ".org"},
      {"domain 255", "<u@" + domain_of(255) + ">", "u", domain_of(255)},
      {"null reverse-path", "<>", "", "", false, false, std::string::npos, Which::ReverseOnly},
      {"null reverse-path params", " <> BODY=8BITMIME", "", "", false, false, 3, Which::ReverseOnly},
      {"postmaster", "<Postmaster>", "Postmaster", "", false, false, std::string::npos, Which::ForwardOnly},
      {"postmaster lower", "<postmaster>", "postmaster", "", false, false, std::string::npos, Which::ForwardOnly},
      {"postmaster upper params", "<POSTMASTER> X=1", "POSTMASTER", "", false, false, 12, Which::ForwardOnly},
      {"postmaster with domain", "<postmaster@example.com>", "postmaster", "example.com"},
  };
}

void expect_valid(const ValidCase& c, const PathResult& r) {
  ASSERT_EQ(r.error, "") << c.name << ": " << c.input;
  EXPECT_EQ(r.mailbox.local_part, c.local) << c.name;
  EXPECT_EQ(r.mailbox.domain, c.domain) << c.name;
  EXPECT_EQ(r.mailbox.quoted, c.quoted) << c.name;
  EXPECT_EQ(r.mailbox.address_literal, c.literal) << c.name;
  EXPECT_EQ(r.null_path, c.input.find("<>") != std::string::npos) << c.name;
  EXPECT_EQ(r.end, c.end == std::string::npos ? c.input.size() : c.end) << c.name;
}

TEST(MailboxPath, ValidCases) {
  for (const ValidCase& c : valid_cases()) {
    SCOPED_TRACE(c.name);
    if (c.which != Which::ForwardOnly) expect_valid(c, parse_reverse_path(c.input));
    if (c.which != Which::ReverseOnly) expect_valid(c, parse_forward_path(c.input));
    if (c.which == Which::ReverseOnly) {
      EXPECT_NE(parse_forward_path(c.input).error, "");
    }
    if (c.which == Which::ForwardOnly) {
      EXPECT_NE(parse_reverse_path(c.input).error, "");
    }
  }
}

TEST(MailboxPath, ValidCasesWithParametersKeepEnd) {
  for (const ValidCase& c : valid_cases()) {
    SCOPED_TRACE(c.name);
    const std::string in = c.input + " SIZE=1000 BODY=7BIT";
    const std::size_t end = c.end == std::string::npos ? c.input.size() : c.end;
    const auto r = c.which == Which::ReverseOnly ? parse_reverse_path(in) : parse_forward_path(in);
    EXPECT_EQ(r.error, "");
    EXPECT_EQ(r.end, end);
  }
}

TEST(MailboxPath, EveryStrictPrefixOfAValidPathFails) {
  for (const ValidCase& c : valid_cases()) {
    SCOPED_TRACE(c.name);
    const std::size_t end = c.end == std::string::npos ? c.input.size() : c.end;
    for (std::size_t n = 0; n < end; ++n) {
      const std::string_view prefix = std::string_view(c.input).substr(0, n);
      const auto r = c.which == Which::ReverseOnly ? parse_reverse_path(prefix)
                                                   : parse_forward_path(prefix);
      EXPECT_NE(r.error, "") << "prefix of length " << n << ": " << prefix;
      EXPECT_EQ(r.end, 0u);
      EXPECT_EQ(r.mailbox.local_part, "");
    }
  }
}

struct InvalidCase {
  std::string name;
  std::string input;
  std::string error_has;   // substring of the error text
  Which which = Which::Both;
};

std::vector<InvalidCase> invalid_cases() {
  return {
      {"empty", "", "missing path"},
      {"only spaces", "   ", "missing path"},
      {"no brackets", "user@example.com", "'<'"},
      {"no closing bracket", "<user@example.com", "missing '>'"},
      {"no closing bracket params", "<user@example.com SIZE=1", "space"},
      {"only open bracket", "<", "missing"},
      {"null forward-path", "<>", "null path", Which::ForwardOnly},
      {"postmaster as reverse-path", "<Postmaster>", "'@'", Which::ReverseOnly},
      {"postmaster prefix", "<Postmasterx>", "'@'"},
      {"no domain", "<user>", "'@'"},
      {"empty domain", "<user@>", "missing domain"},
      {"empty local-part", "<@example.com>", "empty local-part"},
      {"empty local-part bare at", "<@>", "missing domain"},
      {"two @ then nothing", "<user@example.com@>", "more than one '@'"},
      {"empty quoted local-part", "<\"\"@example.com>", "empty local-part"},
      {"empty local-part after route", "<@a.example:@example.com>", "empty local-part"},
      {"user@host@us", "<user@host@us.example>", "more than one '@'"},
      {"leading dot", "<.user@ex.org>", "'.'"},
      {"trailing dot", "<user.@ex.org>", "'.'"},
      {"double dot", "<us..er@ex.org>", "'.'"},
      {"space in local-part", "<us er@ex.org>", "space"},
      {"space after <", "< user@ex.org>", "space"},
      {"space before >", "<user@ex.org >", "space"},
      {"space before @", "<user @ex.org>", "space"},
      {"comma in local-part", "<a,b@ex.org>", "','"},
      {"bracket in local-part", "<a[b@ex.org>", "'['"},
      {"quote inside dot-string", "<ab\"c\"@ex.org>", "'\"'"},
      {"unterminated quote", "<\"abc@ex.org>", "unterminated"},
      {"quote then junk", "<\"a\"b@ex.org>", "'b'"},
      {"quote then >", "<\"a\">", "'@'"},
      {"backslash at end", "<\"a\\", "unterminated"},
      {"tab in quoted", "<\"a\tb\"@ex.org>", "control"},
      {"escaped control", "<\"a\\\tb\"@ex.org>", "control"},
      {"cr in local-part", "<a\rb@ex.org>", "control"},
      {"nul in local-part", "<a\0b@ex.org>"s, "control"},
      {"del in domain", "<a@ex\x7f.org>", "control"},
      {"8-bit local-part", "<j\xc3\xb6rg@ex.org>", "SMTPUTF8"},
      {"8-bit quoted", "<\"j\xc3\xb6rg\"@ex.org>", "SMTPUTF8"},
      {"8-bit domain", "<u@b\xc3\xbc" "cher.example>", "SMTPUTF8"},
      {"8-bit literal", "<u@[x:\xc3\xbc]>", "SMTPUTF8"},
      {"8-bit before <", "\xc3\xbc<u@ex.org>", "SMTPUTF8"},
      {"local-part 65", "<" + rep('a', 65) + "@ex.org>", "64"},
      {"quoted local-part 65 on the wire", "<\"" + rep('b', 63) + "\"@ex.org>", "64"},
      {"domain 256", "<u@" + domain_of(256) + ">", "255"},
      {"label 64", "<u@" + rep('c', 64) + ".org>", "63"},
      {"label leading hyphen", "<u@-ex.org>", "'-'"},
      {"label trailing hyphen", "<u@ex-.org>", "'-'"},
      {"domain trailing dot", "<u@ex.org.>", "empty label"},
      {"domain leading dot", "<u@.ex.org>", "empty label"},
      {"domain double dot", "<u@ex..org>", "empty label"},
      {"domain underscore", "<u@ex_ample.org>", "'_'"},
      {"domain quoted", "<u@\"ex.org\">", "'\"'"},
      {"literal unterminated", "<u@[1.2.3.4>", "unterminated address literal"},
      {"literal empty", "<u@[]>", "empty address literal"},
      {"ipv4 three parts", "<u@[1.2.3]>", "IPv4"},
      {"ipv4 five parts", "<u@[1.2.3.4.5]>", "IPv4"},
      {"ipv4 256", "<u@[1.2.3.256]>", "IPv4"},
      {"ipv4 four digits", "<u@[1.2.3.0004]>", "IPv4"},
      {"ipv4 empty part", "<u@[1..3.4]>", "IPv4"},
      {"ipv4 trailing dot", "<u@[1.2.3.4.]>", "IPv4"},
      {"literal junk after ]", "<u@[1.2.3.4]x>", "'x'"},
      {"ipv6 too many groups", "<u@[IPv6:1:2:3:4:5:6:7:8:9]>", "IPv6"},
      {"ipv6 too few groups", "<u@[IPv6:1:2:3:4:5:6:7]>", "IPv6"},
      {"ipv6 two ::", "<u@[IPv6:1::2::3]>", "IPv6"},
      {"ipv6 ::: ", "<u@[IPv6:1:::2]>", "IPv6"},
      {"ipv6 group of 5", "<u@[IPv6:12345::1]>", "IPv6"},
      {"ipv6 non-hex", "<u@[IPv6:g::1]>", "IPv6"},
      {"ipv6 full plus ::", "<u@[IPv6:1:2:3:4:5:6:7::8]>", "IPv6"},
      {"ipv6 leading single colon", "<u@[IPv6::1:2:3:4:5:6:7]>", "IPv6"},
      {"ipv6 trailing single colon", "<u@[IPv6:1:2:3:4:5:6:7:]>", "IPv6"},
      {"ipv6 v4 not last", "<u@[IPv6:1.2.3.4::1]>", "IPv6"},
      {"ipv6 v4 bad", "<u@[IPv6:::ffff:1.2.3]>", "IPv6"},
      {"ipv6v4 too many", "<u@[IPv6:1:2:3:4:5:6:7:1.2.3.4]>", "IPv6"},
      {"ipv6 empty", "<u@[IPv6:]>", "IPv6"},
            {"general bad tag", "<u@[x-:abc]>", "tag"},
      {"general empty tag", "<u@[:abc]>", "tag"},
      {"general empty content", "<u@[x:]>", "empty address literal"},
      {"general backslash", "<u@[x:a\\b]>", "'\\'"},
      {"general space", "<u@[x:a b]>", "space"},
      {"literal without colon", "<u@[abc]>", "invalid address literal"},
      {"route without colon", "<@a.example,user@ex.org>", "invalid source route"},
      {"route bad separator", "<@a.example;user@ex.org>", "invalid source route"},
      {"route empty domain", "<@:user@ex.org>", "missing domain"},
      {"route bad domain", "<@-a:user@ex.org>", "'-'"},
      {"route trailing comma", "<@a.example,:user@ex.org>", "invalid source route"},
      {"route literal", "<@[1.2.3.4]:user@ex.org>", "'['"},
      {"route only", "<@a.example>", "empty local-part"},
  };
}

TEST(MailboxPath, InvalidCases) {
  for (const InvalidCase& c : invalid_cases()) {
    SCOPED_TRACE(c.name + ": " + c.input);
    if (c.which != Which::ForwardOnly) {
      const PathResult r = parse_reverse_path(c.input);
      EXPECT_NE(r.error.find(c.error_has), std::string::npos) << "error was: " << r.error;
      EXPECT_EQ(r.end, 0u);
      EXPECT_FALSE(r.null_path);
      EXPECT_EQ(r.mailbox.local_part, "");
      EXPECT_EQ(r.mailbox.domain, "");
    }
    if (c.which != Which::ReverseOnly) {
      const PathResult r = parse_forward_path(c.input);
      EXPECT_NE(r.error.find(c.error_has), std::string::npos) << "error was: " << r.error;
      EXPECT_EQ(r.end, 0u);
      EXPECT_EQ(r.mailbox.local_part, "");
    }
  }
}

TEST(MailboxPath, ErrorsAreShortSingleLines) {
  for (const InvalidCase& c : invalid_cases()) {
    const std::string e = parse_forward_path(c.input).error;
    EXPECT_LT(e.size(), 100u) << c.name;
    EXPECT_EQ(e.find_first_of("\r\n"), std::string::npos) << c.name;
    for (char ch : e) EXPECT_LT(static_cast<unsigned char>(ch), 0x80u) << c.name;
  }
}

struct ToStringCase {
  Mailbox mailbox;
  std::string text;
};

TEST(MailboxToString, Forms) {
  const std::vector<ToStringCase> cases = {
      {{"user", "example.com"}, "user@example.com"},
      {{"first.last", "ex.org"}, "first.last@ex.org"},
      {{"a+tag", "ex.org"}, "a+tag@ex.org"},
      {{"user", "[192.0.2.1]", false, true}, "user@[192.0.2.1]"},
      {{"john doe", "ex.org", true}, "\"john doe\"@ex.org"},
      {{"user", "ex.org", true}, "user@ex.org"},   // needless quotes dropped
      {{"a\"b", "ex.org", true}, R"("a\"b"@ex.org)"},
      {{"a\\b", "ex.org", true}, R"("a\\b"@ex.org)"},
      {{".a", "ex.org", true}, "\".a\"@ex.org"},
      {{"a..b", "ex.org", true}, "\"a..b\"@ex.org"},
      {{"a.", "ex.org", true}, "\"a.\"@ex.org"},
      {{"user@host", "ex.org", true}, "\"user@host\"@ex.org"},
      {{"Postmaster", ""}, "Postmaster"},
      {{"postmaster", ""}, "postmaster"},
      {{"", ""}, ""},   // the null path's mailbox
  };
  for (const auto& c : cases) EXPECT_EQ(c.mailbox.to_string(), c.text) << c.text;
}

TEST(MailboxToString, RoundTripsThroughTheParser) {
  for (const ValidCase& c : valid_cases()) {
    if (c.which == Which::ReverseOnly) continue;
    SCOPED_TRACE(c.name);
    const PathResult first = parse_forward_path(c.input);
    ASSERT_EQ(first.error, "");
    const std::string text = first.mailbox.to_string();
    const PathResult again = parse_forward_path("<" + text + ">");
    ASSERT_EQ(again.error, "") << text;
    EXPECT_EQ(again.mailbox.local_part, first.mailbox.local_part);
    EXPECT_EQ(again.mailbox.domain, first.mailbox.domain);
    EXPECT_EQ(again.mailbox.address_literal, first.mailbox.address_literal);
    EXPECT_EQ(again.mailbox.to_string(), text);   // canonical form is a fixed point
  }
}

TEST(MailboxDomain, IsValidDomain) {
  struct Row {
    std::string domain;
    bool valid;
  };
  const std::vector<Row> rows = {
      {"example.com", true},
      {"EXAMPLE.com", true},
      {"a", true},
      {"a-b.c-d", true},
      {"1.2.3.4", true},
      {"xn--bcher-kva.example", true},
      {rep('a', 63) + ".com", true},
      {domain_of(255), true},
      {"", false},
      {".", false},
      {"example.com.", false},
      {".example.com", false},
      {"a..b", false},
      {"-a.com", false},
      {"a-.com", false},
      {"a_b.com", false},
      {"a b.com", false},
      {"[1.2.3.4]", false},
      {rep('a', 64) + ".com", false},
      {domain_of(256), false},
      {"b\xc3\xbc" "cher.de", false},
  };
  for (const Row& r : rows) EXPECT_EQ(is_valid_domain(r.domain), r.valid) << r.domain;
  EXPECT_EQ(domain_of(255).size(), 255u);
  EXPECT_EQ(domain_of(256).size(), 256u);
}

}  // namespace
}  // namespace boxmail::address

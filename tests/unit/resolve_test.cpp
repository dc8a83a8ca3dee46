// resolve_test.cpp - table tests for recipient resolution
// (src/address/resolve.hpp): domain patterns, relay tricks, accounts before
// aliases, alias expansion (single, multi, nested, too deep, cyclic, null,
// unknown targets, duplicates), postmaster and catch-all. Recipients are
// written as RCPT TO paths and go through parse_forward_path first, as in the
// SMTP session.
#include "address/resolve.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace boxmail::address {
namespace {

using config::Account;
using config::AccountTable;
using config::Config;

struct DomainRow {
  std::string domain;
  std::vector<std::string> patterns;
  bool accepted;
};

TEST(ResolveDomain, Patterns) {
  const std::vector<std::string> list = {"example.com", "*.example.org"};
  const std::vector<DomainRow> rows = {
      {"example.com", list, true},
      {"EXAMPLE.Com", list, true},
      {"example.com.", list, true},            // trailing dot ignored
      {"Example.COM.", list, true},
      {"example.com..", list, false},
      {"a.example.com", list, false},          // exact pattern: no sub-domains
      {"xexample.com", list, false},
      {"example.co", list, false},
      {"example.org", list, false},            // "*.x" is strict sub-domains only
      {"a.example.org", list, true},
      {"A.B.Example.Org", list, true},
      {"a.example.org.", list, true},
      {"aexample.org", list, false},           // not a label boundary
      {"example.org.evil.net", list, false},
      {"[192.0.2.1]", list, false},            // literals only in "*" mode
      {"[IPv6:::1]", list, false},
      {"", list, false},
      {"anything.net", {"*"}, true},
      {"[192.0.2.1]", {"*"}, true},
      {"[IPv6:::1]", {"example.com", "*"}, true},
      {"example.com", {}, false},
      {"example.com", {"EXAMPLE.COM"}, true},  // patterns compared in any case too
      {"example.com", {"example.com."}, true},
      {"a.b", {"*.b."}, true},
      {"b", {"*.b"}, false},
      {".b", {"*.b"}, false},                  // needs a label before ".b"
      {"example.com", {"*example.com"}, false},
      {"example.com", {""}, false},
  };
  for (const DomainRow& r : rows) {
    std::string pats;
    for (const auto& p : r.patterns) pats += p + " ";
    EXPECT_EQ(domain_accepted(r.domain, r.patterns), r.accepted)
        << "domain '" << r.domain << "' patterns: " << pats;
  }
}

Account account(const std::string& name) {
  Account a;
  a.name = name;
  a.password = "{SHA512-CRYPT}$6$x$y";
  return a;
}

/// The configuration most rows use: two domains, three accounts, aliases of
/// every kind, max_alias_depth 3.
Config base_config() {
  Config c;
  c.smtp.accept_domains = {"example.com", "*.example.org"};
  c.smtp.max_alias_depth = 3;
  c.aliases = {
      {"info", {"alice"}},
      {"sales", {"alice", "bob"}},
      {"team", {"sales", "carol", "ALICE", "bob"}},         // nested + duplicates
      {"l1", {"l2"}},
      {"l2", {"l3"}},
      {"l3", {"carol"}},                                     // l1 -> l2 -> l3: depth 3, fine
      {"l0", {"l1"}},                                        // depth 4: too deep
      {"loop-a", {"loop-b"}},
      {"loop-b", {"loop-a"}},
      {"self", {"alice", "self"}},
      {"noreply", {"null"}},
      {"devnull", {"NULL", "noreply"}},
      {"half", {"null", "bob"}},
      {"partly", {"ghost", "carol", "friend@elsewhere.net"}},
      {"ghosts", {"ghost", "phantom"}},
      {"empty", {}},
      {"bob", {"carol"}},                                    // shadowed by the account
      {"diamond", {"left", "right"}},
      {"left", {"info"}},
      {"right", {"info", "bob"}},
  };
  return c;
}

AccountTable base_accounts() {
  AccountTable t;
  t.accounts = {account("alice"), account("bob"), account("carol")};
  return t;
}

struct ResolveRow {
  std::string name;
  std::string rcpt;                      // RCPT TO argument
  Verdict verdict;
  std::vector<std::string> mailboxes;
  std::string detail_has = {};           // substring of detail, when given
};

void run_rows(const std::vector<ResolveRow>& rows, const Config& config,
              const AccountTable& accounts, Sender sender = Sender::Feed) {
  for (const ResolveRow& r : rows) {
    SCOPED_TRACE(r.name + ": " + r.rcpt);
    const PathResult p = parse_forward_path(r.rcpt);
    ASSERT_EQ(p.error, "");
    const Resolution res = resolve_recipient(p.mailbox, config, accounts, sender);
    EXPECT_EQ(res.verdict, r.verdict) << res.detail;
    EXPECT_EQ(res.mailboxes, r.mailboxes) << res.detail;
    EXPECT_FALSE(res.detail.empty());
    if (!r.detail_has.empty()) {
      EXPECT_NE(res.detail.find(r.detail_has), std::string::npos) << res.detail;
    }
  }
}

TEST(ResolveRecipient, BaseConfiguration) {
  using V = Verdict;
  const std::vector<ResolveRow> rows = {
      // mailboxes, case-insensitive local-part and domain
      {"mailbox", "<alice@example.com>", V::Deliver, {"alice"}},
      {"mailbox upper case", "<ALICE@EXAMPLE.COM>", V::Deliver, {"alice"}},
      {"mailbox mixed case", "<Bob@Example.Com>", V::Deliver, {"bob"}},
      {"mailbox sub-domain", "<carol@mail.example.org>", V::Deliver, {"carol"}},
      {"mailbox quoted", "<\"alice\"@example.com>", V::Deliver, {"alice"}},
      {"mailbox via source route", "<@relay.net:alice@example.com>", V::Deliver, {"alice"}},
      // accounts first, then aliases
      {"account shadows alias", "<bob@example.com>", V::Deliver, {"bob"}, "mailbox"},
      // aliases
      {"alias single", "<info@example.com>", V::Deliver, {"alice"}, "alias 'info'"},
      {"alias upper case", "<INFO@example.com>", V::Deliver, {"alice"}},
      {"alias multi", "<sales@example.com>", V::Deliver, {"alice", "bob"}},
      {"alias nested, duplicates removed, order kept", "<team@example.com>", V::Deliver,
       {"alice", "bob", "carol"}},
      {"alias diamond is no loop", "<diamond@example.com>", V::Deliver, {"alice", "bob"}},
      {"alias at max depth", "<l1@example.com>", V::Deliver, {"carol"}},
      {"alias too deep", "<l0@example.com>", V::AliasLoop, {}, "deeper than 3"},
      {"alias cycle", "<loop-a@example.com>", V::AliasLoop, {}, "loop-a -> loop-b -> loop-a"},
      {"alias self cycle", "<self@example.com>", V::AliasLoop, {}, "loop"},
      {"alias null discards", "<noreply@example.com>", V::Deliver, {}, "null"},
      {"alias nested null", "<devnull@example.com>", V::Deliver, {}},
      {"alias null and mailbox", "<half@example.com>", V::Deliver, {"bob"}},
      {"alias unknown targets skipped, a forwarding target kept", "<partly@example.com>", V::Deliver, {"carol"},
       "-> carol, friend@elsewhere.net; skipped unknown target(s): ghost"},
      {"alias only unknown targets", "<ghosts@example.com>", V::UnknownUser, {}, "ghost, phantom"},
      {"alias without targets", "<empty@example.com>", V::UnknownUser, {}},
      // postmaster
      {"postmaster bare", "<Postmaster>", V::Deliver, {"alice"}, "postmaster"},
      {"postmaster bare lower", "<postmaster>", V::Deliver, {"alice"}},
      {"postmaster at domain", "<PostMaster@example.com>", V::Deliver, {"alice"}},
      {"postmaster at foreign domain", "<postmaster@elsewhere.net>", V::DomainRefused, {}},
      // unknown, no catch-all
      {"unknown user", "<nobody@example.com>", V::UnknownUser, {}, "nobody"},
      // relay tricks
      {"percent hack", "<alice%elsewhere.net@example.com>", V::RelayTrick, {}},
      {"quoted at", "<\"alice@elsewhere.net\"@example.com>", V::RelayTrick, {}},
      {"bang path", "<elsewhere.net!alice@example.com>", V::RelayTrick, {}},
      {"quoted percent", "<\"a%b\"@example.com>", V::RelayTrick, {}},
      {"relay trick for unknown name", "<x%y@mail.example.org>", V::RelayTrick, {}},
      // domains
      {"domain refused", "<alice@elsewhere.net>", V::DomainRefused, {}, "elsewhere.net"},
      {"parent of wildcard refused", "<alice@example.org>", V::DomainRefused, {}},
      {"relay trick to foreign domain is a domain refusal", "<a%b@elsewhere.net>",
       V::DomainRefused, {}},
      {"ipv4 literal in list mode", "<alice@[192.0.2.1]>", V::DomainRefused, {}},
      {"ipv6 literal in list mode", "<alice@[IPv6:::1]>", V::DomainRefused, {}},
  };
  run_rows(rows, base_config(), base_accounts());
}

TEST(ResolveRecipient, AnyDomainMode) {
  Config c = base_config();
  c.smtp.accept_domains = {"*"};
  using V = Verdict;
  run_rows({
               {"foreign domain delivered", "<alice@elsewhere.net>", V::Deliver, {"alice"}},
               {"ipv4 literal", "<bob@[192.0.2.1]>", V::Deliver, {"bob"}},
               {"ipv6 literal", "<bob@[IPv6:2001:db8::1]>", V::Deliver, {"bob"}},
               {"general literal", "<info@[x-tag:abc]>", V::Deliver, {"alice"}},
               {"relay trick still refused", "<a%b@elsewhere.net>", V::RelayTrick, {}},
               {"bang still refused", "<b!a@[192.0.2.1]>", V::RelayTrick, {}},
           },
           c, base_accounts());
}

TEST(ResolveRecipient, CatchAll) {
  Config c = base_config();
  c.smtp.catch_all = "carol";
  using V = Verdict;
  run_rows({
               {"unknown goes to catch-all", "<nobody@example.com>", V::Deliver, {"carol"},
                "catch-all"},
               {"known mailbox unaffected", "<alice@example.com>", V::Deliver, {"alice"}},
               {"alias unaffected", "<sales@example.com>", V::Deliver, {"alice", "bob"}},
               {"postmaster is still the first account", "<Postmaster>", V::Deliver, {"alice"}},
               {"relay trick not caught", "<a%b@example.com>", V::RelayTrick, {}},
               {"foreign domain not caught", "<nobody@elsewhere.net>", V::DomainRefused, {}},
               {"alias of unknowns is not caught", "<ghosts@example.com>", V::UnknownUser, {}},
               {"alias loop is not caught", "<loop-a@example.com>", V::AliasLoop, {}},
           },
           c, base_accounts());

  c.smtp.catch_all = "CAROL";   // matched like any account name
  run_rows({{"catch-all any case", "<nobody@example.com>", V::Deliver, {"carol"}}}, c,
           base_accounts());

  c.smtp.catch_all = "ghost";   // names no account: not used
  run_rows({{"catch-all not an account", "<nobody@example.com>", V::UnknownUser, {},
             "not a mailbox"}},
           c, base_accounts());
}

TEST(ResolveRecipient, PostmasterWithoutAccounts) {
  Config c = base_config();
  const AccountTable none;
  using V = Verdict;
  // No account and no catch-all: nothing can take postmaster's mail.
  run_rows({{"postmaster, empty table", "<Postmaster>", V::UnknownUser, {}},
            {"postmaster@, empty table", "<postmaster@example.com>", V::UnknownUser, {}}},
           c, none);
  // A catch-all must name an existing account, which an empty table lacks.
  c.smtp.catch_all = "carol";
  run_rows({{"postmaster, catch-all without account", "<Postmaster>", V::UnknownUser, {}}}, c,
           none);
  // A postmaster alias or account wins over the first-account rule.
  c.aliases["postmaster"] = {"bob"};
  run_rows({{"postmaster alias", "<Postmaster>", V::Deliver, {"bob"}, "alias"}}, c,
           base_accounts());
  AccountTable with_pm = base_accounts();
  with_pm.accounts.push_back(account("postmaster"));
  run_rows({{"postmaster account", "<POSTMASTER>", V::Deliver, {"postmaster"}, "mailbox"}}, c,
           with_pm);
}

TEST(ResolveRecipient, AliasDepthLimit) {
  Config c = base_config();
  using V = Verdict;
  c.smtp.max_alias_depth = 1;   // only flat aliases
  run_rows({{"flat alias ok", "<sales@example.com>", V::Deliver, {"alice", "bob"}},
            {"nested alias too deep", "<team@example.com>", V::AliasLoop, {}},
            {"null at depth 1", "<noreply@example.com>", V::Deliver, {}},
            {"null via nesting too deep", "<devnull@example.com>", V::AliasLoop, {}}},
           c, base_accounts());
  c.smtp.max_alias_depth = 0;   // aliases disabled
  run_rows({{"any alias too deep", "<info@example.com>", V::AliasLoop, {}},
            {"mailbox unaffected", "<alice@example.com>", V::Deliver, {"alice"}}},
           c, base_accounts());
  c.smtp.max_alias_depth = 4;
  run_rows({{"l0 fits at 4", "<l0@example.com>", V::Deliver, {"carol"}}}, c, base_accounts());
}

TEST(ResolveRecipient, DiamondReachedDeeperIsStillChecked) {
  // "x" is first expanded at depth 2 (fine), then reached again at depth 3
  // via "deep", where its child alias "y" would be at depth 4 > 3.
  Config c = base_config();
  c.smtp.max_alias_depth = 3;
  c.aliases["top"] = {"x", "deep"};
  c.aliases["deep"] = {"x"};
  c.aliases["x"] = {"y"};
  c.aliases["y"] = {"alice"};
  run_rows({{"deeper revisit over the limit", "<top@example.com>", Verdict::AliasLoop, {}}}, c,
           base_accounts());
  c.smtp.max_alias_depth = 4;
  run_rows({{"deeper revisit within the limit", "<top@example.com>", Verdict::Deliver,
             {"alice"}}},
           c, base_accounts());
}

TEST(ResolveRecipient, WideDiamondStaysFast) {
  // 2^20 paths through 20 levels if every path were walked; the memo keeps it linear.
  Config c = base_config();
  c.smtp.max_alias_depth = 25;
  for (int i = 0; i < 20; ++i) {
    const std::string next = i == 19 ? "alice" : "d" + std::to_string(i + 1);
    c.aliases["d" + std::to_string(i)] = {next, next};
  }
  run_rows({{"wide diamond", "<d0@example.com>", Verdict::Deliver, {"alice"}}}, c,
           base_accounts());
}

TEST(ResolveRecipient, RelayClientWithAcceptedDomains) {
  // accept_domains is a list: those are the box's own domains for the LAN
  // too; anything else is remote for a relay client, refused for the feed.
  using V = Verdict;
  const Config c = base_config();
  run_rows({
               {"own domain", "<alice@example.com>", V::Deliver, {"alice"}},
               {"own sub-domain", "<INFO@Mail.Example.ORG>", V::Deliver, {"alice"}},
               {"postmaster", "<postmaster>", V::Deliver, {"alice"}},
               {"unknown local user", "<ghost@example.com>", V::UnknownUser, {}},
               {"remote", "<friend@elsewhere.net>", V::NoRoute, {}, "no outgoing route"},
               {"remote, upper case", "<Friend@ElseWhere.NET>", V::NoRoute, {}},
               {"percent hack", "<friend%elsewhere.net@other.net>", V::RelayTrick, {}},
               {"bang path", "<elsewhere.net!friend@other.net>", V::RelayTrick, {}},
               {"quoted @", "<\"friend@elsewhere.net\"@other.net>", V::RelayTrick, {}},
               {"address literal", "<friend@[192.0.2.1]>", V::DomainRefused, {}, "address literal"},
           },
           c, base_accounts(), Sender::RelayClient);
  run_rows({{"feed: remote refused", "<friend@elsewhere.net>", V::DomainRefused, {}}}, c, base_accounts());
}

TEST(ResolveRecipient, FeedModeKeepsTheLanOutgoingMailApart) {
  // accept_domains = * (the ISP's feed): every domain is local for the
  // feed; for a relay client only local_domains are.
  using V = Verdict;
  Config c = base_config();
  c.smtp.accept_domains = {"*"};
  c.relay.local_domains = {"own.test", "*.own.test"};
  run_rows({
               {"own domain", "<alice@own.test>", V::Deliver, {"alice"}},
               {"own sub-domain", "<bob@lan.own.test>", V::Deliver, {"bob"}},
               {"elsewhere is remote", "<bob@elsewhere.test>", V::NoRoute, {}},
               {"a sibling is remote", "<bob@notown.test>", V::NoRoute, {}},
           },
           c, base_accounts(), Sender::RelayClient);
  run_rows({
               {"feed: own domain", "<alice@own.test>", V::Deliver, {"alice"}},
               {"feed: any domain is local", "<bob@elsewhere.test>", V::Deliver, {"bob"}},
           },
           c, base_accounts());
  // No local_domains in feed mode: every domain stays local for everyone.
  c.relay.local_domains.clear();
  run_rows({{"no own domains named", "<bob@elsewhere.test>", V::Deliver, {"bob"}}}, c, base_accounts(),
           Sender::RelayClient);
}

TEST(ResolveRecipient, LocalDomainsAreAcceptedFromTheFeedToo) {
  Config c = base_config();
  c.relay.local_domains = {"own.test"};
  run_rows({{"listed only in local_domains", "<alice@own.test>", Verdict::Deliver, {"alice"}},
            {"still refused", "<alice@elsewhere.test>", Verdict::DomainRefused, {}}},
           c, base_accounts());
  EXPECT_TRUE(own_domain("OWN.test", c));
  EXPECT_TRUE(own_domain("mail.example.org", c));
  EXPECT_FALSE(own_domain("elsewhere.test", c));
}

TEST(ResolveRecipient, ForwardingAliases) {
  // A target user@domain forwards: elsewhere it goes to the queue (the
  // configuration has a route), at one of the box's own domains it is
  // resolved here by its local-part.
  Config c = base_config();
  c.aliases["bob-away"] = {"bob@ELSEWHERE.net"};
  c.aliases["both"] = {"alice", "friend@elsewhere.net", "friend@elsewhere.net"};
  c.aliases["inside"] = {"carol@example.com", "info@mail.example.org"};
  c.aliases["chain"] = {"both", "bob-away"};
  const AccountTable accounts = base_accounts();
  auto resolve = [&](const char* rcpt) {
    const PathResult p = parse_forward_path(rcpt);
    return resolve_recipient(p.mailbox, c, accounts);
  };
  Resolution r = resolve("<bob-away@example.com>");
  EXPECT_EQ(r.verdict, Verdict::Deliver);
  EXPECT_TRUE(r.mailboxes.empty());
  EXPECT_EQ(r.remote, std::vector<std::string>{"bob@ELSEWHERE.net"});
  r = resolve("<both@example.com>");
  EXPECT_EQ(r.mailboxes, std::vector<std::string>{"alice"});
  EXPECT_EQ(r.remote, std::vector<std::string>{"friend@elsewhere.net"});
  r = resolve("<inside@example.com>");
  EXPECT_EQ(r.mailboxes, (std::vector<std::string>{"carol", "alice"}));
  EXPECT_TRUE(r.remote.empty());
  r = resolve("<chain@example.com>");
  EXPECT_EQ(r.mailboxes, std::vector<std::string>{"alice"});
  EXPECT_EQ(r.remote, (std::vector<std::string>{"friend@elsewhere.net", "bob@ELSEWHERE.net"}));
}

TEST(ResolveRecipient, MailboxWithoutDomainIsRefused) {
  // Only <Postmaster> comes without a domain from the parser; any other
  // Mailbox built by hand without one is refused.
  Mailbox m;
  m.local_part = "alice";
  const Resolution r = resolve_recipient(m, base_config(), base_accounts());
  EXPECT_EQ(r.verdict, Verdict::DomainRefused);
  EXPECT_TRUE(r.mailboxes.empty());
}

}  // namespace
}  // namespace boxmail::address

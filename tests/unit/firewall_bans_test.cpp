// firewall_bans_test.cpp - boxmaild's record of bans (firewall/ban_table.hpp),
// its state file, the BanList's checks (firewall/ban_list.hpp) and the
// control socket's ban verbs (control/control_protocol.hpp).
#include "control/control_protocol.hpp"
#include "firewall/ban_list.hpp"
#include "firewall/ban_table.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace {

using namespace boxmail::firewall;

std::string read_all(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

/// A temporary directory, removed with its files.
struct TempDir {
  std::string path;
  TempDir() {
    char t[] = "/tmp/boxmail-bans-XXXXXX";
    path = ::mkdtemp(t);
  }
  ~TempDir() { std::system(("rm -rf " + path).c_str()); }
};

TEST(FwBans, ParseHostTakesEveryWrittenFormOfOneAddress) {
  EXPECT_EQ(parse_host("192.0.2.1")->to_string(), "192.0.2.1");
  EXPECT_EQ(parse_host("::ffff:192.0.2.1")->to_string(), "192.0.2.1");   // a dual-stack socket's form
  EXPECT_EQ(parse_host("::FFFF:192.0.2.1")->to_string(), "192.0.2.1");
  EXPECT_EQ(parse_host("2001:DB8:0::1")->to_string(), "2001:db8::1");
  for (const char* bad : {"", "192.0.2.0/24", "192.0.2.1/32", "192.168.*", "mail.example.org", "1.2.3", "::1%lo",
                          "192.0.2.1 ", "[::1]"}) {
    EXPECT_FALSE(parse_host(bad)) << bad;
  }
}

TEST(FwBans, TableReplacesExpiresAndIsBounded) {
  BanTable t;
  EXPECT_TRUE(t.ban("192.0.2.1", 100, "manual"));
  EXPECT_TRUE(t.ban("192.0.2.2", 200, "login-failures"));
  EXPECT_TRUE(t.ban("192.0.2.1", 300, "manual"));   // again: replaced, moved to the end
  ASSERT_EQ(t.bans().size(), 2u);
  EXPECT_EQ(t.bans()[1], (Ban{"192.0.2.1", 300, "manual"}));
  EXPECT_EQ(t.expire(200), 1u);   // 192.0.2.2's time is over at 200
  EXPECT_EQ(t.bans().size(), 1u);
  EXPECT_FALSE(t.unban("192.0.2.2"));
  EXPECT_TRUE(t.unban("192.0.2.1"));
  for (std::size_t i = 0; i < kMaxBans; ++i) ASSERT_TRUE(t.ban("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256), 1000, "x"));
  EXPECT_FALSE(t.ban("192.0.2.9", 1000, "x"));
  EXPECT_TRUE(t.ban("10.0.0.0", 2000, "x"));   // a repeated ban still fits
}

TEST(FwBans, StateFileRoundTripsAndSkipsWhatItCannotRead) {
  const std::vector<Ban> bans = {{"192.0.2.1", 1000, "manual"}, {"2001:db8::1", 2000, "login-failures"}};
  const std::string text = format_state(bans);
  EXPECT_EQ(text, "boxmail-bans 1\n192.0.2.1 1000 manual\n2001:db8::1 2000 login-failures\n");
  EXPECT_EQ(parse_state(text, 999).bans, bans);
  EXPECT_EQ(parse_state(text, 1000).bans, (std::vector<Ban>{bans[1]}));   // expired: dropped
  const StateParse p = parse_state(
      "boxmail-bans 1\n192.0.2.1 1000 manual\nrubbish\n192.0.2.0/24 1000 x\n2001:DB8::1 1000 x\n"
      "192.0.2.3 -5 x\n192.0.2.4 1000 Bad\n192.0.2.5 1000\n\n192.0.2.6 1000 ok\n",
      0);
  EXPECT_EQ(p.bans, (std::vector<Ban>{{"192.0.2.1", 1000, "manual"}, {"192.0.2.6", 1000, "ok"}}));
  EXPECT_EQ(p.notes.size(), 7u);
  const StateParse v2 = parse_state("boxmail-bans 2\n192.0.2.1 1000 manual\n", 0);
  EXPECT_TRUE(v2.bans.empty());
  EXPECT_EQ(v2.notes.size(), 1u);
  EXPECT_TRUE(parse_state("", 0).bans.empty());
}

TEST(FwBans, BanListChecksRecordsAndPersists) {
  TempDir dir;
  const std::string path = dir.path + "/firewall-bans";
  std::int64_t clock = 1'000'000;
  {
    BanList list(path, nullptr);   // no helper: recorded all the same
    list.now = [&clock] { return clock; };
    EXPECT_TRUE(list.load().empty());   // no file yet: nothing to say
    std::string why;
    list.set_allow({*boxmail::net::parse_network("127.0.0.1", why), *boxmail::net::parse_network("192.168.1.0/24", why)});
    auto r = list.ban("192.168.1.5", 60, "manual");
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.message, "192.168.1.5 is allow-listed ([firewall] allow or [relay] relay_networks) and is never banned");
    EXPECT_FALSE(list.ban("::ffff:127.0.0.1", 60, "manual").ok);
    EXPECT_FALSE(list.ban("192.0.2.0/24", 60, "manual").ok);
    EXPECT_FALSE(list.ban("192.0.2.1", 0, "manual").ok);
    EXPECT_FALSE(list.ban("192.0.2.1", kMaxBanSeconds + 1, "manual").ok);
    EXPECT_FALSE(list.ban("192.0.2.1", 60, "no spaces").ok);
    EXPECT_FALSE(list.ban("192.0.2.1", 60, "").ok);
    EXPECT_EQ(::access(path.c_str(), F_OK), -1);   // nothing refused was written
    r = list.ban("::ffff:192.0.2.1", 60, "manual");
    EXPECT_TRUE(r.ok) << r.message;
    EXPECT_EQ(r.message, "banned 192.0.2.1 for 60 s (manual); the firewall helper is not running");
    EXPECT_TRUE(list.ban("2001:DB8::1", 3600, "login-failures").ok);
    EXPECT_EQ(read_all(path), "boxmail-bans 1\n192.0.2.1 1000060 manual\n2001:db8::1 1003600 login-failures\n");
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_FALSE(list.unban("192.0.2.9").ok);
    EXPECT_TRUE(list.unban("2001:db8::1").ok);
    EXPECT_TRUE(list.ban("192.0.2.2", 10, "manual").ok);
    clock += 30;   // 192.0.2.2 is over
    EXPECT_EQ(list.list(), (std::vector<Ban>{{"192.0.2.1", 1000060, "manual"}}));
    EXPECT_EQ(read_all(path), "boxmail-bans 1\n192.0.2.1 1000060 manual\n");
  }
  // A restart reads what is still running.
  BanList again(path, nullptr);
  again.now = [&clock] { return clock; };
  again.load();
  EXPECT_EQ(again.list(), (std::vector<Ban>{{"192.0.2.1", 1000060, "manual"}}));
  clock += 60;
  BanList later(path, nullptr);
  later.now = [&clock] { return clock; };
  later.load();
  EXPECT_TRUE(later.list().empty());
}

TEST(FwBans, ControlVerbs) {
  using boxmail::control::parse_request;
  using boxmail::control::Verb;
  auto r = parse_request("ban 192.0.2.1 600");
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.verb, Verb::Ban);
  EXPECT_EQ(r.address, "192.0.2.1");
  EXPECT_EQ(r.seconds, 600u);
  EXPECT_EQ(r.reason, "manual");
  r = parse_request("BAN 2001:db8:1234:5678:9abc:def0:1234:5678 2592000 login-failures\r\n");
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.reason, "login-failures");
  r = parse_request("unban 192.0.2.1");
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.verb, Verb::Unban);
  EXPECT_EQ(parse_request("bans").verb, Verb::Bans);
  EXPECT_EQ(parse_request("bans all").error, "bans takes no argument");
  r = parse_request("login-failed 2001:db8::7");   // the panel's failed logins, for the auto-ban
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.verb, Verb::LoginFailed);
  EXPECT_EQ(r.address, "2001:db8::7");
  EXPECT_EQ(parse_request("login-failed").error, "usage: login-failed ADDRESS");
  EXPECT_EQ(parse_request("login-failed 192.0.2.1 x").error, "usage: login-failed ADDRESS");
  EXPECT_EQ(parse_request("ban 192.0.2.1").error, "usage: ban ADDRESS SECONDS [REASON]");
  EXPECT_EQ(parse_request("ban 192.0.2.1 1 a b").error, "usage: ban ADDRESS SECONDS [REASON]");
  EXPECT_EQ(parse_request("ban 192.0.2.1 0").error, "ban: SECONDS must be 1..2592000");
  EXPECT_EQ(parse_request("ban 192.0.2.1 2592001").error, "ban: SECONDS must be 1..2592000");
  EXPECT_EQ(parse_request("ban 192.0.2.1 1h").error, "ban: SECONDS must be 1..2592000");
  EXPECT_EQ(parse_request("unban").error, "usage: unban ADDRESS");
  EXPECT_EQ(parse_request("unban a b").error, "usage: unban ADDRESS");
}

}  // namespace

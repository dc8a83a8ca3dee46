// quota_test.cpp - quotas and the free-space reserve: the pure rules
// (store/quota.hpp), the SMTP session applying them through its injected
// store query (dialogues fed whole and one byte at a time), and the usage
// table (store/usage_table.hpp) on a real temporary Maildir.
#include "store/quota.hpp"

#include "config/schema.hpp"
#include "smtp/session.hpp"
#include "store/maildir.hpp"
#include "store/usage_table.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>

using namespace boxmail;
using store::QuotaVerdict;
namespace fs = std::filesystem;

namespace {

// ---- the rules -------------------------------------------------------------------

TEST(Quota, UsageFromNames) {
  EXPECT_EQ(store::stored_octets("1700000000.M1P2Q3.mx,S=1234,W=1270"), 1234u);
  EXPECT_EQ(store::stored_octets("1700000000.M1P2Q3.mx,S=1234,W=1270:2,S"), 1234u);
  EXPECT_EQ(store::stored_octets("1700000000.M1P2Q3.mx,W=1270"), std::nullopt);
  EXPECT_EQ(store::stored_octets("foreign-name"), std::nullopt);
  EXPECT_EQ(store::stored_octets("x,S=99999999999999999999999"), std::nullopt);   // overflow: no S=
  store::MaildirUsage u;
  store::add_message(u, 100);
  store::add_message(u, 23);
  EXPECT_EQ(u, (store::MaildirUsage{123, 2}));
  EXPECT_EQ(store::subtract(u, {100, 1}), (store::MaildirUsage{23, 1}));
  EXPECT_EQ(store::subtract(u, {500, 7}), (store::MaildirUsage{0, 0}));   // never below zero
}

TEST(Quota, Rule) {
  struct Case {
    std::uint64_t usage, quota, size;
    QuotaVerdict want;
  } cases[] = {
      {0, 0, 0, QuotaVerdict::Ok},                 // no quota
      {5000, 0, 9000, QuotaVerdict::Ok},
      {0, 1000, 0, QuotaVerdict::Ok},
      {999, 1000, 0, QuotaVerdict::Ok},            // under: accepted, may cross during DATA
      {1000, 1000, 0, QuotaVerdict::Full},         // at the quota
      {1500, 1000, 0, QuotaVerdict::Full},
      {500, 1000, 500, QuotaVerdict::Ok},          // exactly fits
      {500, 1000, 501, QuotaVerdict::Full},        // SIZE= would cross it
      {0, 1000, 1001, QuotaVerdict::TooBig},       // never fits
      {1000, 1000, 5000, QuotaVerdict::Full},      // full wins: it may empty and a smaller one fit
  };
  for (const auto& c : cases) {
    EXPECT_EQ(store::check_quota(c.usage, c.quota, c.size), c.want) << c.usage << " " << c.quota << " " << c.size;
  }
}

TEST(Quota, ReserveRule) {
  EXPECT_FALSE(store::below_reserve(std::nullopt, 1 << 20, 0));       // ramfs: cannot tell
  EXPECT_FALSE(store::below_reserve(std::nullopt, 1 << 20, 1 << 30));
  EXPECT_FALSE(store::below_reserve(100, 0, 0));                      // no reserve
  EXPECT_TRUE(store::below_reserve(100, 0, 101));                     // SIZE= larger than what is free
  EXPECT_TRUE(store::below_reserve(1000, 1001, 0));
  EXPECT_FALSE(store::below_reserve(1000, 1000, 0));
  EXPECT_FALSE(store::below_reserve(1500, 1000, 500));
  EXPECT_TRUE(store::below_reserve(1500, 1000, 501));
}

// ---- the SMTP session with its store query -----------------------------------------

std::shared_ptr<const config::AccountTable> accounts_with_quota() {
  auto t = std::make_shared<config::AccountTable>();
  for (const char* n : {"alice", "bob"}) {
    config::Account a;
    a.name = n;
    a.password = "{SHA512-CRYPT}x";
    if (std::string(n) == "alice") config::set_quota(a, 1000);
    t->accounts.push_back(a);
  }
  return t;
}

struct StoreState {
  std::optional<std::uint64_t> free = 1ull << 40;
  std::map<std::string, std::uint64_t, std::less<>> usage;   // absent: not counted yet
};

/// Feeds `in` (whole or `step` octets at a time); returns the replies after the greeting.
std::string run(const StoreState& st, std::string_view in, std::size_t step = 0,
                std::vector<std::vector<std::string>>* delivered = nullptr) {
  auto cfg = std::make_shared<config::Config>(*config::default_config());
  cfg->aliases["team"] = {"alice", "bob"};
  cfg->store.min_free_space = 1000;
  smtp::Session s(cfg, accounts_with_quota(), smtp::ClientInfo{"192.0.2.1", 1}, "mx.test", [] { return "QID"; });
  s.set_store_query(smtp::StoreQuery{[&st] { return st.free; },
                                     [&st](std::string_view mb) -> std::optional<std::uint64_t> {
                                       auto it = st.usage.find(mb);
                                       if (it == st.usage.end()) return std::nullopt;
                                       return it->second;
                                     }});
  std::string out;
  s.greet();
  if (step == 0) step = in.size();
  std::string body;
  for (std::size_t pos = 0; pos < in.size(); pos += step) {
    std::string_view chunk = in.substr(pos, step);
    while (!chunk.empty()) {
      std::size_t used = 0;
      smtp::Output o = s.on_input(chunk, {}, body, used);
      chunk.remove_prefix(used);
      out += o.replies;
      if (o.action == smtp::Action::Commit) {
        if (delivered) delivered->push_back(s.envelope().mailboxes);
        out += s.on_committed(0).replies;
      }
      if (used == 0 && o.action == smtp::Action::None) break;
    }
  }
  return out;
}

const std::string kHead = "EHLO x\r\nMAIL FROM:<a@b>\r\n";
const std::string kEhloOk =
    "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 26214400\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n"
    "250 2.1.0 Sender ok\r\n";

TEST(QuotaSession, FullMailboxGets452WhileTheOtherRecipientIsDelivered) {
  StoreState st;
  st.usage = {{"alice", 1000}, {"bob", 5000}};
  const std::string in = kHead + "RCPT TO:<alice@x>\r\nRCPT TO:<bob@x>\r\nRCPT TO:<team@x>\r\nDATA\r\nhi\r\n.\r\n";
  const std::string want = kEhloOk +
                           "452 4.2.2 Recipient address rejected: Mailbox full: <alice@x>\r\n"
                           "250 2.1.5 Recipient ok\r\n"
                           "452 4.2.2 Recipient address rejected: Mailbox full: <team@x>\r\n"
                           "354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as QID\r\n";
  for (std::size_t step : {std::size_t{0}, std::size_t{1}}) {
    std::vector<std::vector<std::string>> delivered;
    EXPECT_EQ(run(st, in, step, &delivered), want) << "step " << step;
    ASSERT_EQ(delivered.size(), 1u);
    EXPECT_EQ(delivered[0], std::vector<std::string>{"bob"});
  }
}

TEST(QuotaSession, UnderQuotaOrNotCountedIsAccepted) {
  StoreState st;
  st.usage = {{"alice", 999}};
  EXPECT_EQ(run(st, kHead + "RCPT TO:<alice@x>\r\n"), kEhloOk + "250 2.1.5 Recipient ok\r\n");
  st.usage.clear();   // the first scan is not done: accepted
  EXPECT_EQ(run(st, kHead + "RCPT TO:<alice@x>\r\n"), kEhloOk + "250 2.1.5 Recipient ok\r\n");
}

TEST(QuotaSession, DeclaredSize) {
  StoreState st;
  st.usage = {{"alice", 400}};
  const std::string ok = "EHLO x\r\nMAIL FROM:<a@b> SIZE=600\r\nRCPT TO:<alice@x>\r\n";
  EXPECT_EQ(run(st, ok), kEhloOk + "250 2.1.5 Recipient ok\r\n");
  const std::string full = "EHLO x\r\nMAIL FROM:<a@b> SIZE=601\r\nRCPT TO:<alice@x>\r\n";
  EXPECT_EQ(run(st, full), kEhloOk + "452 4.2.2 Recipient address rejected: Mailbox full: <alice@x>\r\n");
  const std::string big = "EHLO x\r\nMAIL FROM:<a@b> SIZE=1001\r\nRCPT TO:<alice@x>\r\nRCPT TO:<bob@x>\r\n";
  EXPECT_EQ(run(st, big, 1), kEhloOk +
                                 "552 5.2.2 Recipient address rejected: Message larger than the mailbox's quota: "
                                 "<alice@x>\r\n250 2.1.5 Recipient ok\r\n");
}

TEST(QuotaSession, FreeSpaceReserveAtMail) {
  StoreState st;
  st.free = 999;   // below the reserve of 1000
  const std::string refused = "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 26214400\r\n250-8BITMIME\r\n"
                              "250 ENHANCEDSTATUSCODES\r\n452 4.3.1 Error: insufficient system storage\r\n";
  EXPECT_EQ(run(st, kHead), refused);
  EXPECT_EQ(run(st, kHead, 1), refused);
  // A refused MAIL opens no transaction: RCPT needs MAIL.
  EXPECT_EQ(run(st, kHead + "RCPT TO:<bob@x>\r\n"), refused + "503 5.5.1 Error: need MAIL command\r\n");
  st.free = 2000;
  EXPECT_EQ(run(st, kHead), kEhloOk);
  EXPECT_EQ(run(st, "EHLO x\r\nMAIL FROM:<a@b> SIZE=1001\r\n"), refused);   // SIZE= would eat the reserve
  st.free = std::nullopt;   // ramfs: cannot tell, never refused
  EXPECT_EQ(run(st, kHead), kEhloOk);
}

// ---- the usage table on a real Maildir -----------------------------------------------

struct TempRoot {
  TempRoot() {
    root = fs::path(::testing::TempDir()) / ("boxmail-usage-" + std::to_string(::getpid()) + "-" +
                                             std::to_string(counter++));
    fs::remove_all(root);
    for (const char* sub : {"new", "cur", "tmp"}) fs::create_directories(root / sub);
  }
  ~TempRoot() { fs::remove_all(root); }
  void put(const std::string& sub_name, std::size_t octets) {
    std::ofstream(root / sub_name, std::ios::binary) << std::string(octets, 'x');
  }
  fs::path root;
  static inline int counter = 0;
};

std::optional<store::MaildirUsage> wait_known(store::UsageTable& t, const std::string& root) {
  for (int i = 0; i < 2000; ++i) {
    if (auto u = t.get(root)) return u;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return std::nullopt;
}

TEST(UsageTable, ScanCountsSizesFromNamesAndStatsOnlyForeignFiles) {
  TempRoot m;
  m.put("new/1700000000.M1P1Q1.mx,S=100,W=104", 7);       // the name's S= counts, not the file
  m.put("cur/1700000001.M1P1Q2.mx,S=50,W=52:2,S", 50);
  m.put("cur/foreign-delivery", 33);                       // no S=: stat
  m.put("new/.hidden", 1000);                              // skipped
  const auto scan = store::scan_usage(m.root.string());
  EXPECT_EQ(scan.error, 0);
  EXPECT_EQ(scan.usage, (store::MaildirUsage{183, 3}));
  EXPECT_EQ(store::scan_usage((m.root / "missing").string()).usage, store::MaildirUsage{});

  store::UsageTable t;
  EXPECT_EQ(t.get(m.root.string()), std::nullopt);   // unknown at first; the scan is queued
  EXPECT_EQ(wait_known(t, m.root.string()), (store::MaildirUsage{183, 3}));
}

TEST(UsageTable, KeptUpToDateByWritersWithoutRescanning) {
  TempRoot m;
  store::UsageTable t;
  const std::string root = m.root.string();
  ASSERT_EQ(wait_known(t, root), store::MaildirUsage{});
  t.begin(root);
  m.put("new/1700000000.M1P1Q1.mx,S=100,W=104", 100);
  t.end(root, {100, 1}, {});
  EXPECT_EQ(t.get(root), (store::MaildirUsage{100, 1}));
  m.put("new/added-behind-our-back,S=5000", 5000);   // not seen until a resync: no rescan
  EXPECT_EQ(t.get(root), (store::MaildirUsage{100, 1}));
  t.begin(root);
  t.end(root, {}, {100, 1});
  EXPECT_EQ(t.get(root), (store::MaildirUsage{0, 0}));
  // A resync from a listing corrects it; one that overlapped a change is ignored.
  auto mark = t.mark(root);
  t.resync(root, store::scan_usage(root).usage, mark);
  EXPECT_EQ(t.get(root), (store::MaildirUsage{5100, 2}));
  mark = t.mark(root);
  t.begin(root);
  t.resync(root, {1, 1}, mark);
  t.end(root, {}, {});
  EXPECT_EQ(t.get(root), (store::MaildirUsage{5100, 2}));
  t.begin(root);
  mark = t.mark(root);   // taken while a change is in progress
  t.resync(root, {1, 1}, mark);
  t.end(root, {}, {});
  EXPECT_EQ(t.get(root), (store::MaildirUsage{5100, 2}));
}

TEST(UsageTable, ScanErrorIsReportedAndUsageStaysUnknown) {
  TempRoot m;
  fs::remove(m.root / "new");
  std::ofstream(m.root / "new") << "not a directory";   // ENOTDIR, also for root
  store::UsageTable t;
  EXPECT_EQ(t.get(m.root.string()), std::nullopt);
  std::vector<std::string> errors;
  for (int i = 0; i < 2000 && errors.empty(); ++i) {
    errors = t.take_errors();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("Not a directory"), std::string::npos) << errors[0];
  EXPECT_EQ(t.get(m.root.string()), std::nullopt);   // not retried before kRetryAfter
}

}  // namespace

// pop3_maildir_test.cpp - the Maildir side of POP3 (store/maildir.hpp):
// sizes from names (W=) or from the file, unique-ids, order, flags, and the
// changes at QUIT, on a real temporary directory.
#include "store/maildir.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

using namespace boxmail::store;
namespace fs = std::filesystem;

namespace {

struct TempMaildir {
  TempMaildir() {
    root = fs::path(::testing::TempDir()) / ("boxmail-maildir-" + std::to_string(::getpid()) + "-" +
                                             std::to_string(counter++));
    fs::remove_all(root);
    for (const char* sub : {"new", "cur", "tmp"}) fs::create_directories(root / sub);
  }
  ~TempMaildir() { fs::remove_all(root); }
  void put(const std::string& sub_name, const std::string& data) {
    std::ofstream(root / sub_name, std::ios::binary) << data;
  }
  std::set<std::string> names(const char* sub) const {
    std::set<std::string> out;
    for (const auto& e : fs::directory_iterator(root / sub)) out.insert(e.path().filename().string());
    return out;
  }
  fs::path root;
  static inline int counter = 0;
};

TEST(Pop3Maildir, Uid) {
  EXPECT_EQ(pop3_uid("1700000000.M1P2Q3.host,S=10,W=12"), "1700000000.M1P2Q3.host,S=10,W=12");
  const std::string long_name(71, 'x');
  const std::string h = pop3_uid(long_name);
  EXPECT_EQ(h.size(), 17u);
  EXPECT_EQ(h[0], 'H');
  EXPECT_EQ(h, pop3_uid(long_name));   // stable
  EXPECT_NE(h, pop3_uid(std::string(72, 'x')));
  EXPECT_EQ(pop3_uid("a b")[0], 'H');  // a blank is not allowed in a unique-id
  EXPECT_EQ(pop3_uid(std::string(70, 'y')), std::string(70, 'y'));
}

TEST(Pop3Maildir, WithFlag) {
  EXPECT_EQ(with_flag("a", 'S'), "a:2,S");
  EXPECT_EQ(with_flag("a:2,", 'S'), "a:2,S");
  EXPECT_EQ(with_flag("a:2,F", 'S'), "a:2,FS");
  EXPECT_EQ(with_flag("a:2,T", 'S'), "a:2,ST");
  EXPECT_EQ(with_flag("a:2,S", 'S'), "a:2,S");
  EXPECT_EQ(with_flag("a:1,xyz", 'S'), "a:1,xyz");   // an info of another version is kept
}

TEST(Pop3Maildir, ListsSizesFromNamesAndFiles) {
  TempMaildir m;
  m.put("new/1700000002.M5P1Q2.mx,S=4,W=999", "abc\n");   // W= is trusted, the file not read
  m.put("cur/1700000001.M9P1Q1.mx,S=6,W=8:2,S", "a\nb\r\n");
  m.put("new/1600000000.foreign", "x\ny\n");               // no W=: read, 4 + 2 LFs
  m.put("new/.hidden", "zzz");
  const MaildirListing l = list_maildir(m.root.string());
  EXPECT_EQ(l.error, 0);
  EXPECT_EQ(l.files_read, 1u);
  ASSERT_EQ(l.messages.size(), 3u);
  EXPECT_EQ(l.messages[0].name, "1600000000.foreign");
  EXPECT_EQ(l.messages[0].size, 6u);
  EXPECT_EQ(l.messages[0].sub, "new");
  EXPECT_EQ(l.messages[1].name, "1700000001.M9P1Q1.mx,S=6,W=8:2,S");
  EXPECT_EQ(l.messages[1].uid, "1700000001.M9P1Q1.mx,S=6,W=8");
  EXPECT_EQ(l.messages[1].size, 8u);
  EXPECT_EQ(l.messages[2].size, 999u);
}

TEST(Pop3Maildir, OrderIsDeliveryTime) {
  TempMaildir m;
  m.put("new/999999999.M900000P1Q1.mx,S=1,W=2", "\n");
  m.put("new/1000000000.M1P1Q2.mx,S=1,W=2", "\n");
  m.put("new/1000000000.M20P1Q3.mx,S=1,W=2", "\n");
  m.put("new/1000000000.M3P1Q4.mx,S=1,W=2", "\n");
  const MaildirListing l = list_maildir(m.root.string());
  ASSERT_EQ(l.messages.size(), 4u);
  EXPECT_EQ(l.messages[0].name.substr(0, 9), "999999999");
  EXPECT_EQ(l.messages[1].name, "1000000000.M1P1Q2.mx,S=1,W=2");
  EXPECT_EQ(l.messages[2].name, "1000000000.M3P1Q4.mx,S=1,W=2");
  EXPECT_EQ(l.messages[3].name, "1000000000.M20P1Q3.mx,S=1,W=2");
}

TEST(Pop3Maildir, MissingMaildirIsEmpty) {
  const MaildirListing l = list_maildir("/nonexistent/boxmail/maildir");
  EXPECT_EQ(l.error, 0);
  EXPECT_TRUE(l.messages.empty());
}

TEST(Pop3Maildir, ApplyChanges) {
  TempMaildir m;
  m.put("new/1.M1P1Q1.mx,S=1,W=2", "\n");          // deleted
  m.put("new/2.M1P1Q2.mx,S=1,W=2", "\n");          // retrieved -> cur/..:2,S
  m.put("new/3.M1P1Q3.mx,S=1,W=2", "\n");          // untouched -> cur/..:2,
  m.put("cur/4.M1P1Q4.mx,S=1,W=2:2,F", "\n");      // retrieved -> :2,FS
  m.put("cur/5.M1P1Q5.mx,S=1,W=2:2,", "\n");       // untouched: stays
  m.put("cur/6.M1P1Q6.mx,S=1,W=2:2,S", "\n");      // deleted
  const MaildirListing l = list_maildir(m.root.string());
  ASSERT_EQ(l.messages.size(), 6u);
  MaildirChanges c;
  c.deleted = {&l.messages[0], &l.messages[5]};
  c.seen = {&l.messages[1], &l.messages[3]};
  c.unseen = {&l.messages[2], &l.messages[4]};
  std::vector<std::string> errors;
  EXPECT_EQ(apply_changes(m.root.string(), c, errors), 0u);
  EXPECT_TRUE(errors.empty());
  EXPECT_TRUE(m.names("new").empty());
  EXPECT_EQ(m.names("cur"), (std::set<std::string>{"2.M1P1Q2.mx,S=1,W=2:2,S", "3.M1P1Q3.mx,S=1,W=2:2,",
                                                    "4.M1P1Q4.mx,S=1,W=2:2,FS", "5.M1P1Q5.mx,S=1,W=2:2,"}));
  // UIDs survive the move.
  const MaildirListing again = list_maildir(m.root.string());
  ASSERT_EQ(again.messages.size(), 4u);
  EXPECT_EQ(again.messages[0].uid, l.messages[1].uid);
  EXPECT_EQ(again.messages[1].uid, l.messages[2].uid);
  // A message already gone counts as done.
  EXPECT_EQ(apply_changes(m.root.string(), c, errors), 0u);
}

}  // namespace

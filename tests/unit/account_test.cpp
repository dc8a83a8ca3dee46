// account_test.cpp - mailbox names and the passwd-file format (account.hpp),
// and the atomic rewrite of the file (passwd_file.hpp).
#include "config/account.hpp"
#include "config/passwd_file.hpp"
#include "config/passwd_watcher.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {

using namespace boxmail::config;

// ---- names ------------------------------------------------------------------

struct NameCase {
  std::string name;
  std::string_view error;   ///< empty = valid; else a part of the message
};

const NameCase kNameCases[] = {
    {"alice", ""},
    {"a", ""},
    {"0day", ""},
    {"bob.smith", ""},
    {"x_y-z", ""},
    {"a.b.c", ""},
    {"trailing.", ""},
    {"nullx", ""},
    {std::string(64, 'a'), ""},
    {"", "mailbox name is empty"},
    {std::string(65, 'a'), "mailbox name is 65 octets long (at most 64)"},
    {"../x", "mailbox name contains '/'"},
    {"..", "must start with a letter or digit"},
    {"a/b", "mailbox name contains '/' (allowed: a-z, 0-9, '.', '_' and '-')"},
    {"/etc", "contains '/'"},
    {".x", "must start with a letter or digit"},
    {"-x", "must start with a letter or digit"},
    {"_x", "must start with a letter or digit"},
    {"a..b", "mailbox name must not contain '..'"},
    {"UPPER", "mailbox names are lower case (write 'upper')"},
    {"Alice", "mailbox names are lower case (write 'alice')"},
    {"a b", "contains \\x20"},
    {"a@b", "contains '@'"},
    {"a:b", "contains ':'"},
    {"a%b", "contains '%'"},
    {"tab\t", "contains \\x09"},
    {std::string("nul\0x", 5), "contains \\x00"},
    {"caf\xc3\xa9", "contains \\xc3"},
    {"null", "'null' is reserved"},
};

TEST(AccountName, Table) {
  for (const NameCase& c : kNameCases) {
    SCOPED_TRACE("name '" + c.name + "'");
    const auto err = mailbox_name_error(c.name);
    if (c.error.empty()) {
      EXPECT_FALSE(err) << *err;
    } else {
      ASSERT_TRUE(err);
      EXPECT_NE(err->find(c.error), std::string::npos) << *err;
    }
  }
}

// ---- the table --------------------------------------------------------------

TEST(AccountTable, FindIsCaseInsensitive) {
  AccountTable t;
  t.accounts.push_back(Account{"alice", "{SHA512-CRYPT}$6$x", "", "", "", "", "", ""});
  t.accounts.push_back(Account{"bob", "{SHA512-CRYPT}$6$y", "", "", "", "", "", ""});
  ASSERT_TRUE(t.find("alice"));
  EXPECT_EQ(t.find("ALICE"), &t.accounts[0]);
  EXPECT_EQ(t.find("Bob"), &t.accounts[1]);
  EXPECT_EQ(t.find("carol"), nullptr);
  EXPECT_EQ(t.find(""), nullptr);
  EXPECT_EQ(t.find("alic"), nullptr);
}

// ---- passwd-file text -------------------------------------------------------

const char kFile[] =
    "# boxmail mailboxes\n"
    "alice:{SHA512-CRYPT}$6$saltsaltsaltsalt$ph0y::::::\n"
    "\n"
    "bob:{SHA256-CRYPT}$5$abc$def:1000:1000:Bob Smith:/home/bob:/bin/false:userdb_quota_rule=*:storage=1G nopop3\n"
    "   \n"
    "carol:{BLF-CRYPT}$2b$05$x\n";

TEST(Passwd, Parse) {
  const AccountParse p = parse_passwd(kFile);
  EXPECT_TRUE(p.errors.empty());
  ASSERT_EQ(p.table.accounts.size(), 3u);
  const Account& bob = p.table.accounts[1];
  EXPECT_EQ(bob.name, "bob");
  EXPECT_EQ(bob.password, "{SHA256-CRYPT}$5$abc$def");
  EXPECT_EQ(bob.uid, "1000");
  EXPECT_EQ(bob.gid, "1000");
  EXPECT_EQ(bob.gecos, "Bob Smith");
  EXPECT_EQ(bob.home, "/home/bob");
  EXPECT_EQ(bob.shell, "/bin/false");
  EXPECT_EQ(bob.extra, "userdb_quota_rule=*:storage=1G nopop3");   // the last field keeps its ':'
  const Account& carol = p.table.accounts[2];
  EXPECT_EQ(carol.password, "{BLF-CRYPT}$2b$05$x");
  EXPECT_EQ(carol.uid, "");
  EXPECT_EQ(carol.extra, "");
}

TEST(Passwd, FormatAndRoundTrip) {
  const AccountParse p = parse_passwd(kFile);
  const std::string text = format_passwd(p.table);
  EXPECT_EQ(text,
            "alice:{SHA512-CRYPT}$6$saltsaltsaltsalt$ph0y::::::\n"
            "bob:{SHA256-CRYPT}$5$abc$def:1000:1000:Bob Smith:/home/bob:/bin/false:userdb_quota_rule=*:storage=1G nopop3\n"
            "carol:{BLF-CRYPT}$2b$05$x::::::\n");
  // Comments and blank lines are dropped; everything else comes back the same.
  const AccountParse again = parse_passwd(text);
  EXPECT_TRUE(again.errors.empty());
  EXPECT_EQ(format_passwd(again.table), text);
  EXPECT_EQ(format_passwd(AccountTable{}), "# boxmail: no mailboxes\n");   // deliberately empty, says so
}

TEST(Passwd, CrLfLineEnds) {
  const AccountParse p = parse_passwd("alice:{PLAIN}x\r\nbob:{PLAIN}y\r\n");
  EXPECT_TRUE(p.errors.empty());
  ASSERT_EQ(p.table.accounts.size(), 2u);
  EXPECT_EQ(p.table.accounts[0].password, "{PLAIN}x");
}

struct BadLine {
  std::string_view line;
  std::string_view error;   ///< a part of the message
};

const BadLine kBadLines[] = {
    {"alice", "expected 'name:{SCHEME}hash:...'"},
    {"Alice:{SHA512-CRYPT}$6$x", "mailbox names are lower case"},
    {"../x:{SHA512-CRYPT}$6$x", "contains '/'"},
    {"..x:{SHA512-CRYPT}$6$x", "must start with a letter or digit"},
    {"a/b:{SHA512-CRYPT}$6$x", "contains '/'"},
    {":{SHA512-CRYPT}$6$x", "mailbox name is empty"},
    {"bob:", "mailbox 'bob' has an empty password field"},
    {"bob::::::::", "empty password field"},
    {"bob:secret", "password of mailbox 'bob' does not start with {SCHEME}"},
    {"bob:$6$salt$hash", "does not start with {SCHEME}"},
    {"bob:{}x", "does not start with {SCHEME}"},
    {"bob:{SHA512-CRYPT}", "does not start with {SCHEME}"},
    {"bob:{SHA512-CRYPT", "does not start with {SCHEME}"},
    {"bob:{SHA 512}x", "does not start with {SCHEME}"},
    {"  bob:{PLAIN}x", "contains \\x20"},
};

TEST(Passwd, BadLines) {
  for (const BadLine& c : kBadLines) {
    SCOPED_TRACE(std::string(c.line));
    const std::string text = "# header\nalice:{PLAIN}a\n" + std::string(c.line) + "\ncarol:{PLAIN}c\n";
    const AccountParse p = parse_passwd(text);
    ASSERT_EQ(p.errors.size(), 1u);
    EXPECT_EQ(p.errors[0].line, 3);
    EXPECT_NE(p.errors[0].message.find(c.error), std::string::npos) << p.errors[0].message;
    // The good lines around it are kept, the bad one is not.
    ASSERT_EQ(p.table.accounts.size(), 2u);
    EXPECT_EQ(p.table.accounts[0].name, "alice");
    EXPECT_EQ(p.table.accounts[1].name, "carol");
  }
}

TEST(Passwd, DuplicateName) {
  const AccountParse p = parse_passwd("alice:{PLAIN}a\nbob:{PLAIN}b\n#\nalice:{PLAIN}c\n");
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_EQ(p.errors[0].line, 4);
  EXPECT_EQ(p.errors[0].message, "duplicate mailbox 'alice' (first on line 1)");
  ASSERT_EQ(p.table.accounts.size(), 2u);
  EXPECT_EQ(p.table.accounts[0].password, "{PLAIN}a");
}

TEST(Passwd, EmptyAndCommentsOnly) {
  EXPECT_TRUE(parse_passwd("").table.accounts.empty());
  EXPECT_FALSE(parse_passwd("").says_no_mailboxes);
  const AccountParse p = parse_passwd("# nothing\n\n   \n#alice:{PLAIN}x\n");
  EXPECT_TRUE(p.errors.empty());
  EXPECT_TRUE(p.table.accounts.empty());
  EXPECT_FALSE(p.says_no_mailboxes);
}

TEST(Passwd, NoMailboxesMarker) {
  // format_passwd of an empty table writes the marker; parse_passwd finds it.
  const AccountParse p = parse_passwd(format_passwd(AccountTable{}));
  EXPECT_TRUE(p.errors.empty());
  EXPECT_TRUE(p.table.accounts.empty());
  EXPECT_TRUE(p.says_no_mailboxes);
  EXPECT_TRUE(parse_passwd("  # boxmail: no mailboxes \r\n").says_no_mailboxes);
  EXPECT_FALSE(parse_passwd("# boxmail: no mailboxes yet\n").says_no_mailboxes);
  EXPECT_FALSE(parse_passwd("# boxmail: no\n").says_no_mailboxes);
  // A table is written without it.
  AccountTable t;
  t.accounts.push_back(Account{"alice", "{PLAIN}1", "", "", "", "", "", ""});
  EXPECT_EQ(format_passwd(t).find("no mailboxes"), std::string::npos);
}

TEST(Passwd, QuotaIsCheckedNumber) {
  Account a{"alice", "{PLAIN}1", "", "", "", "", "", "quota=1048576"};
  EXPECT_EQ(quota_of(a), 1048576u);
  a.extra = "quota=18446744073709551615";
  EXPECT_EQ(quota_of(a), 18446744073709551615ull);
  for (const char* bad : {"quota=18446744073709551616", "quota=99999999999999999999", "quota=-1",
                          "quota=+5", "quota=", "quota=5M", "quota= 5"}) {
    a.extra = bad;
    EXPECT_EQ(quota_of(a), 0u) << bad;
  }
}

// ---- passwd-file on disk ----------------------------------------------------

class PasswdFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("boxmail-passwd-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  static std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::filesystem::path dir_;
};

TEST_F(PasswdFile, SaveLoadBackup) {
  const std::string path = (dir_ / "etc" / "passwd").string();   // parent created on save
  PasswdLoad l = load_passwd_file(path, true);
  EXPECT_TRUE(l.errors.empty());
  EXPECT_TRUE(l.table.accounts.empty());
  l = load_passwd_file(path, false);
  ASSERT_EQ(l.errors.size(), 1u);
  EXPECT_EQ(l.errors[0], path + ": cannot open: No such file or directory");

  AccountTable t;
  t.accounts.push_back(Account{"alice", "{PLAIN}1", "", "", "", "", "", ""});
  ASSERT_EQ(save_passwd_file(path, t), "");
  EXPECT_EQ(slurp(path), "alice:{PLAIN}1::::::\n");
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  EXPECT_FALSE(std::filesystem::exists(path + ".bak"));   // nothing to keep the first time
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);

  t.accounts.push_back(Account{"bob", "{PLAIN}2", "", "", "", "", "", "x=y"});
  ASSERT_EQ(save_passwd_file(path, t), "");
  EXPECT_EQ(slurp(path), "alice:{PLAIN}1::::::\nbob:{PLAIN}2::::::x=y\n");
  EXPECT_EQ(slurp(path + ".bak"), "alice:{PLAIN}1::::::\n");

  t.accounts.erase(t.accounts.begin());
  ASSERT_EQ(save_passwd_file(path, t), "");
  EXPECT_EQ(slurp(path + ".bak"), "alice:{PLAIN}1::::::\nbob:{PLAIN}2::::::x=y\n");   // replaced

  l = load_passwd_file(path, false);
  EXPECT_TRUE(l.errors.empty());
  ASSERT_EQ(l.table.accounts.size(), 1u);
  EXPECT_EQ(l.table.accounts[0].name, "bob");
  EXPECT_EQ(l.table.accounts[0].extra, "x=y");
}

TEST_F(PasswdFile, BadLinesNameFileAndLine) {
  std::filesystem::create_directories(dir_);
  const std::string path = (dir_ / "passwd").string();
  std::ofstream(path) << "alice:{PLAIN}1\nbogus\n";
  const PasswdLoad l = load_passwd_file(path, false);
  ASSERT_EQ(l.errors.size(), 1u);
  EXPECT_EQ(l.errors[0], path + ":2: expected 'name:{SCHEME}hash:...' (no ':' found)");
  ASSERT_EQ(l.table.accounts.size(), 1u);
}


// ---- the watcher: only a file at least as good replaces the table -----------

TEST_F(PasswdFile, WatcherKeepsTheLastGoodTable) {
  std::filesystem::create_directories(dir_);
  const std::string path = (dir_ / "passwd").string();
  auto write = [&](const std::string& text) {
    // A new inode each time, as save_passwd_file and editors make it.
    std::filesystem::remove(path);
    std::ofstream(path) << text;
  };
  write("alice:{PLAIN}1\nbob:{PLAIN}2\n");
  PasswdWatcher w(path);
  PasswdPoll p = w.first_load();
  ASSERT_TRUE(p.table);
  EXPECT_EQ(p.table->accounts.size(), 2u);
  EXPECT_TRUE(p.errors.empty());
  EXPECT_FALSE(w.poll(false).table);   // unchanged: not read again

  struct Fault {
    const char* what;
    std::string text;   // "\x01" = delete the file
    std::string_view error;
  };
  const Fault faults[] = {
      {"empty", "", "holds no mailbox"},
      {"blank lines", "\n\n", "holds no mailbox"},
      {"comments only", "# cut off\n", "holds no mailbox"},
      {"deleted", "\x01", "is missing"},
      {"garbage", "\x7f\x45LF\x02\x01\n", ":1: "},
      {"one bad line", "alice:{PLAIN}1\nbob\n", ":2: "},
  };
  for (const Fault& f : faults) {
    SCOPED_TRACE(f.what);
    if (f.text == "\x01") {
      std::filesystem::remove(path);
    } else {
      write(f.text);
    }
    p = w.poll(false);
    EXPECT_FALSE(p.table);
    ASSERT_FALSE(p.errors.empty());
    std::string all;
    for (const auto& e : p.errors) all += e + "\n";
    EXPECT_NE(all.find(path), std::string::npos) << all;
    EXPECT_NE(all.find(f.error), std::string::npos) << all;
    EXPECT_NE(all.find("keeping the 2 mailboxes"), std::string::npos) << all;
    // The same fault is reported once, not at every poll; a forced poll reports it again.
    p = w.poll(false);
    EXPECT_FALSE(p.table);
    EXPECT_TRUE(p.errors.empty());
    p = w.poll(true);
    EXPECT_FALSE(p.table);
    EXPECT_FALSE(p.errors.empty());
  }
  // Fixed: taken, with a note.
  write("alice:{PLAIN}1\nbob:{PLAIN}2\ncarol:{PLAIN}3\n");
  p = w.poll(false);
  ASSERT_TRUE(p.table);
  EXPECT_EQ(p.table->accounts.size(), 3u);
  EXPECT_TRUE(p.errors.empty());
  EXPECT_EQ(p.notes.size(), 1u);
  // A deliberate "no mailboxes" (what boxmailctl writes for an empty table) is taken.
  ASSERT_EQ(save_passwd_file(path, AccountTable{}), "");
  p = w.poll(false);
  ASSERT_TRUE(p.table);
  EXPECT_TRUE(p.table->accounts.empty());
  EXPECT_TRUE(p.errors.empty());
}

TEST_F(PasswdFile, WatcherAtStart) {
  std::filesystem::create_directories(dir_);
  const std::string path = (dir_ / "passwd").string();
  // Missing: an empty table and a warning.
  PasswdPoll p = PasswdWatcher(path).first_load();
  ASSERT_TRUE(p.table);
  EXPECT_TRUE(p.table->accounts.empty());
  EXPECT_EQ(p.warnings.size(), 1u);
  // Empty: the same.
  std::ofstream(path) << "";
  p = PasswdWatcher(path).first_load();
  ASSERT_TRUE(p.table);
  EXPECT_EQ(p.warnings.size(), 1u);
  // A bad line: refused (no table), the error names file and line.
  std::ofstream(path) << "alice:{PLAIN}1\nbob\n";
  p = PasswdWatcher(path).first_load();
  EXPECT_FALSE(p.table);
  ASSERT_FALSE(p.errors.empty());
  EXPECT_EQ(p.errors[0].rfind(path + ":2: ", 0), 0u) << p.errors[0];
  // A missing file that then appears is taken.
  std::filesystem::remove(path);
  PasswdWatcher w(path);
  ASSERT_TRUE(w.first_load().table);
  EXPECT_FALSE(w.poll(false).table);   // still missing: nothing new, nothing reported
  EXPECT_TRUE(w.poll(false).errors.empty());
  std::ofstream(path) << "alice:{PLAIN}1\n";
  p = w.poll(false);
  ASSERT_TRUE(p.table);
  EXPECT_EQ(p.table->accounts.size(), 1u);
}

}  // namespace

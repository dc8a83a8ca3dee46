// system_account_test.cpp - /etc/passwd and /etc/group lookups (process/system_account.hpp).
#include "process/system_account.hpp"

#include <gtest/gtest.h>

using namespace boxmail::process;

namespace {

const char kPasswd[] =
    "root:x:0:0:root:/root:/bin/sh\n"
    "# a comment:x:1:1:::\n"
    "\n"
    "+nisuser::::::\n"
    "short:x:5:5\n"
    "broken:x:12a:100::/:/bin/false\n"
    "broken:x:300:300::/var/broken:/bin/false\n"
    "boxmail:x:100:101:boxmail:/var/mail:/sbin/nologin\r\n"
    "boxmail:x:999:999:second entry:/:/bin/false\n"
    "huge:x:4294967295:1::/:/bin/false\n"
    "big:x:4294967294:4294967294::/:/bin/false\n";

const char kGroup[] =
    "root:x:0:\n"
    "boxmail:x:101:\n"
    "boxmail-web:x:102:alice,bob\n"
    "bad:x:-1:\n";

}  // namespace

TEST(SystemAccount, FindsTheFirstWellFormedEntry) {
  const auto a = find_user(kPasswd, "boxmail");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->name, "boxmail");
  EXPECT_EQ(a->uid, 100u);
  EXPECT_EQ(a->gid, 101u);
  EXPECT_EQ(a->home, "/var/mail");   // the CR of a CRLF line is not part of the shell
  // A line with a bad number names nobody; the next one for the name counts.
  const auto b = find_user(kPasswd, "broken");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->uid, 300u);
  EXPECT_EQ(find_user(kPasswd, "root")->uid, 0u);
  EXPECT_EQ(find_user(kPasswd, "big")->uid, 4294967294u);
}

TEST(SystemAccount, RefusesWhatNamesNobody) {
  EXPECT_FALSE(find_user(kPasswd, "nobody"));
  EXPECT_FALSE(find_user(kPasswd, ""));
  EXPECT_FALSE(find_user(kPasswd, "short"));        // four fields, not seven
  EXPECT_FALSE(find_user(kPasswd, "+nisuser"));     // NIS entries are skipped
  EXPECT_FALSE(find_user(kPasswd, "# a comment"));
  EXPECT_FALSE(find_user(kPasswd, "huge"));         // (uid_t)-1 is "no change", never an id
  EXPECT_FALSE(find_user(kPasswd, "boxmail:x"));
  EXPECT_FALSE(find_user("", "boxmail"));
}

TEST(SystemAccount, FindsGroups) {
  EXPECT_EQ(find_group(kGroup, "boxmail")->gid, 101u);
  EXPECT_EQ(find_group(kGroup, "boxmail-web")->gid, 102u);
  EXPECT_FALSE(find_group(kGroup, "bad"));
  EXPECT_FALSE(find_group(kGroup, "wheel"));
}

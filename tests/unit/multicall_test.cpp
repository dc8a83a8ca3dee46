// multicall_test.cpp - app::pick_role: the multi-call binary's role by the
// name it was started under, or `boxmail ROLE`.
#include "app/roles.hpp"

#include <gtest/gtest.h>

namespace {

using boxmail::app::base_name;
using boxmail::app::pick_role;
using boxmail::app::Role;

TEST(MultiCall, BaseName) {
  EXPECT_EQ(base_name("/usr/sbin/boxmaild"), "boxmaild");
  EXPECT_EQ(base_name("boxmaild"), "boxmaild");
  EXPECT_EQ(base_name("./build/boxmail.cgi"), "boxmail.cgi");
  EXPECT_EQ(base_name("dir/"), "");
  EXPECT_EQ(base_name(""), "");
}

TEST(MultiCall, RoleFromTheLinkName) {
  struct Case {
    const char* argv0;
    Role role;
  };
  for (const Case& c : {Case{"boxmaild", Role::Daemon}, Case{"/usr/sbin/boxmaild", Role::Daemon},
                        Case{"/usr/bin/boxmailctl", Role::Ctl}, Case{"build/boxmailctl", Role::Ctl},
                        Case{"/usr/share/boxmail/www/cgi-bin/boxmail.cgi", Role::Cgi},
                        Case{"boxmail.cgi", Role::Cgi}}) {
    const auto p = pick_role(c.argv0, "user");   // arg1 is the role's own argument then
    ASSERT_TRUE(p.role) << c.argv0;
    EXPECT_EQ(*p.role, c.role) << c.argv0;
    EXPECT_EQ(p.skip, 0) << c.argv0;
  }
}

TEST(MultiCall, RoleAsFirstArgument) {
  auto p = pick_role("/usr/lib/boxmail/boxmail", "boxmailctl");
  ASSERT_TRUE(p.role);
  EXPECT_EQ(*p.role, Role::Ctl);
  EXPECT_EQ(p.skip, 1);
  p = pick_role("boxmail", "/anywhere/boxmaild");   // busybox takes a path there too
  ASSERT_TRUE(p.role);
  EXPECT_EQ(*p.role, Role::Daemon);
  p = pick_role("boxmail", "boxmail.cgi");
  ASSERT_TRUE(p.role);
  EXPECT_EQ(*p.role, Role::Cgi);
}

TEST(MultiCall, UnknownNames) {
  for (const char* argv0 : {"boxmail-fw", "BOXMAILD", "boxmaild.old", "sh", "", "/usr/sbin/"}) {
    const auto p = pick_role(argv0, "boxmaild");   // a role as argument counts only after "boxmail"
    EXPECT_FALSE(p.role) << argv0;
    EXPECT_EQ(p.skip, 0) << argv0;
  }
  auto p = pick_role("boxmail", std::nullopt);
  EXPECT_FALSE(p.role);
  EXPECT_EQ(p.skip, 1);
  EXPECT_EQ(p.name, "");
  p = pick_role("boxmail", "boxmail");   // no recursion
  EXPECT_FALSE(p.role);
  EXPECT_EQ(p.name, "boxmail");
  p = pick_role("boxmail", "--list");
  EXPECT_FALSE(p.role);
  EXPECT_EQ(p.name, "--list");
}

}  // namespace

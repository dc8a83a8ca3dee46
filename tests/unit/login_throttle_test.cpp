// login_throttle_test.cpp - the per-address failed-login table
// (net/login_throttle.hpp) with injected time: blocking, the window, checks
// in flight, the size bound.
#include "net/login_throttle.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace boxmail;
using net::LoginLimits;
using net::LoginThrottle;
using namespace std::chrono_literals;

namespace {
const LoginThrottle::TimePoint kT0 = LoginThrottle::TimePoint{} + 1000h;
const LoginLimits kLimits{5, 60s};
const std::string kGuesser = "192.0.2.7";
const std::string kUser = "192.0.2.8";

void fail_checked(LoginThrottle& t, const std::string& a, LoginThrottle::TimePoint now) {
  t.begin(a, now);
  t.finish(a, true, now, kLimits);
}
}  // namespace

TEST(NetLoginThrottle, BlocksAtTheLimitUntilTheWindowPasses) {
  LoginThrottle t;
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(t.allow(kGuesser, kT0 + i * 1s, kLimits)) << i;
    fail_checked(t, kGuesser, kT0 + i * 1s);
  }
  EXPECT_TRUE(t.allow(kGuesser, kT0 + 4s, kLimits));
  EXPECT_EQ(t.fail(kGuesser, kT0 + 4s, kLimits), 5u);
  EXPECT_EQ(t.failures(kGuesser, kT0 + 4s, kLimits), 5u);
  // Blocked: refused before any check, whatever the password.
  EXPECT_FALSE(t.allow(kGuesser, kT0 + 5s, kLimits));
  EXPECT_FALSE(t.allow(kGuesser, kT0 + 4s + 59s, kLimits));
  // Another address is not affected.
  EXPECT_TRUE(t.allow(kUser, kT0 + 5s, kLimits));
  // Refused attempts do not extend the block: it ends a window after the last failure.
  EXPECT_TRUE(t.allow(kGuesser, kT0 + 4s + 60s, kLimits));
  EXPECT_EQ(t.failures(kGuesser, kT0 + 4s + 60s, kLimits), 0u);
  // The next failure starts a new count.
  EXPECT_EQ(t.fail(kGuesser, kT0 + 70s, kLimits), 1u);
  EXPECT_TRUE(t.allow(kGuesser, kT0 + 71s, kLimits));
}

TEST(NetLoginThrottle, SpacedFailuresDoNotAddUp) {
  LoginThrottle t;
  for (int i = 0; i < 20; ++i) EXPECT_EQ(t.fail(kUser, kT0 + i * 61s, kLimits), 1u) << i;
  EXPECT_TRUE(t.allow(kUser, kT0 + 20 * 61s, kLimits));
}

TEST(NetLoginThrottle, ChecksInFlightCountUntilFinished) {
  LoginThrottle t;
  // Many concurrent attempts from one address: only `max_failures` get a check.
  int checked = 0;
  for (int i = 0; i < 50; ++i) {
    if (!t.allow(kGuesser, kT0, kLimits)) continue;
    t.begin(kGuesser, kT0);
    ++checked;
  }
  EXPECT_EQ(checked, 5);
  for (int i = 0; i < 5; ++i) t.finish(kGuesser, true, kT0 + 1s, kLimits);
  EXPECT_FALSE(t.allow(kGuesser, kT0 + 2s, kLimits));
  EXPECT_EQ(t.failures(kGuesser, kT0 + 2s, kLimits), 5u);
}

TEST(NetLoginThrottle, ARightPasswordDoesNotClearTheCount) {
  LoginThrottle t;
  for (int i = 0; i < 4; ++i) fail_checked(t, kGuesser, kT0);
  t.begin(kGuesser, kT0 + 1s);
  EXPECT_EQ(t.finish(kGuesser, false, kT0 + 1s, kLimits), 4u);
  fail_checked(t, kGuesser, kT0 + 2s);
  EXPECT_FALSE(t.allow(kGuesser, kT0 + 3s, kLimits));
}

TEST(NetLoginThrottle, SuccessWithoutFailuresKeepsNothing) {
  LoginThrottle t;
  t.begin(kUser, kT0);
  EXPECT_EQ(t.finish(kUser, false, kT0, kLimits), 0u);
  EXPECT_EQ(t.size(), 0u);
}

TEST(NetLoginThrottle, LimitsTakeEffectAtOnce) {
  LoginThrottle t;
  for (int i = 0; i < 3; ++i) t.fail(kGuesser, kT0, kLimits);
  EXPECT_TRUE(t.allow(kGuesser, kT0, kLimits));
  EXPECT_FALSE(t.allow(kGuesser, kT0, LoginLimits{3, 60s}));
  EXPECT_TRUE(t.allow(kGuesser, kT0 + 11s, LoginLimits{3, 10s}));
}

TEST(NetLoginThrottle, SizeIsBoundedAndTheNewestBlocksStay) {
  LoginThrottle t(8);
  for (int i = 0; i < 1000; ++i) {
    const std::string a = "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256);
    t.fail(a, kT0 + i * 1ms, kLimits);
    EXPECT_LE(t.size(), 8u);
  }
  for (int i = 0; i < 5; ++i) t.fail(kGuesser, kT0 + 2s, kLimits);
  for (int i = 0; i < 7; ++i) t.fail("10.1.0." + std::to_string(i), kT0 + 3s, kLimits);
  EXPECT_EQ(t.size(), 8u);
  EXPECT_FALSE(t.allow(kGuesser, kT0 + 4s, kLimits));
  // An address with a check in flight is never evicted (its finish() must find it).
  LoginThrottle u(2);
  u.begin("a", kT0);
  u.fail("b", kT0 + 1s, kLimits);
  u.fail("c", kT0 + 2s, kLimits);
  EXPECT_FALSE(u.allow("a", kT0 + 3s, LoginLimits{1, 60s}));
}

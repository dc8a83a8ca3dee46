// cgi_login_throttle_test.cpp - the panel's failed-login record and its
// verdicts (cgi/login_throttle.hpp).
#include "cgi/login_throttle.hpp"

#include <gtest/gtest.h>

namespace {

using namespace boxmail::cgi;

constexpr std::int64_t T0 = 1'700'000'000;

/// Fails `n` times from `addr`, each attempt at the first moment it is allowed.
std::int64_t fail(LoginFailures& f, const std::string& addr, unsigned n, std::int64_t now) {
  for (unsigned i = 0; i < n; ++i) {
    const auto v = check_login(f, addr, now);
    if (!v.allowed) now += v.retry_after;
    EXPECT_TRUE(check_login(f, addr, now).allowed) << i;
    record_attempt(f, addr, now);
  }
  return now;
}

TEST(LoginThrottle, FreeFailuresThenGrowingDelays) {
  LoginFailures f;
  for (unsigned i = 0; i < kFreeFailures; ++i) {
    EXPECT_TRUE(check_login(f, "192.0.2.7", T0).allowed);
    record_attempt(f, "192.0.2.7", T0);
  }
  // The next attempt waits kFirstDelaySeconds after the last failure.
  EXPECT_TRUE(check_login(f, "192.0.2.7", T0).allowed);
  record_attempt(f, "192.0.2.7", T0);
  auto v = check_login(f, "192.0.2.7", T0 + 1);
  EXPECT_FALSE(v.allowed);
  EXPECT_FALSE(v.locked_out);
  EXPECT_EQ(v.retry_after, kFirstDelaySeconds - 1);
  EXPECT_TRUE(check_login(f, "192.0.2.7", T0 + kFirstDelaySeconds).allowed);
  record_attempt(f, "192.0.2.7", T0 + kFirstDelaySeconds);
  v = check_login(f, "192.0.2.7", T0 + kFirstDelaySeconds);
  EXPECT_EQ(v.retry_after, 2 * kFirstDelaySeconds);   // doubled
  // Another address is not held back at all.
  EXPECT_TRUE(check_login(f, "192.0.2.8", T0 + kFirstDelaySeconds).allowed);
}

TEST(LoginThrottle, LockoutAfterManyFailuresAndRightPasswordStaysOut) {
  LoginFailures f;
  const std::int64_t end = fail(f, "2001:db8::1", kLockoutFailures, T0);
  auto v = check_login(f, "2001:db8::1", end + kMaxDelaySeconds);
  EXPECT_FALSE(v.allowed);
  EXPECT_TRUE(v.locked_out);
  EXPECT_EQ(v.retry_after, kWindowSeconds - kMaxDelaySeconds);
  EXPECT_TRUE(check_login(f, "2001:db8::2", end).allowed);
  // The window passes: forgotten.
  EXPECT_TRUE(check_login(f, "2001:db8::1", end + kWindowSeconds + 1).allowed);
}

TEST(LoginThrottle, SuccessClearsTheAddress) {
  LoginFailures f;
  const std::int64_t end = fail(f, "198.51.100.1", kFreeFailures + 1, T0);
  EXPECT_FALSE(check_login(f, "198.51.100.1", end).allowed);
  record_success(f, "198.51.100.1");
  EXPECT_TRUE(check_login(f, "198.51.100.1", end).allowed);
}

TEST(LoginThrottle, OverallAlarmDelaysFromTheFirstFailure) {
  LoginFailures f;
  for (unsigned i = 0; i <= kOverallAlarm; ++i) record_attempt(f, "10.0.0." + std::to_string(i % 200), T0);
  // Spread over many addresses: one failure is now enough for a delay.
  EXPECT_FALSE(check_login(f, "10.0.0.1", T0).allowed);
  EXPECT_TRUE(check_login(f, "10.0.9.9", T0).allowed);   // never failed: never held back
}

TEST(LoginThrottle, RecordIsBoundedAndRoundTrips) {
  LoginFailures f;
  for (unsigned i = 0; i < kMaxAddresses + 50; ++i)
    record_attempt(f, "10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250), T0 + i);
  EXPECT_EQ(f.addresses.size(), kMaxAddresses);
  EXPECT_EQ(f.addresses.front().address, "10.1.0.50");   // the oldest went first
  EXPECT_EQ(parse_login_failures(format_login_failures(f)), f);
}

TEST(LoginThrottle, DamagedRecordIsEmptyNeverAnError) {
  for (std::string_view bad : {"", "garbage", "version: 1\naddr 1.2.3.4 x 5\n", "version: 1\naddr a b c d e\n",
                               "version: 1\ntotal 1 99999999999999999999999\n", "addr 1.2.3.4 1 1\n",
                               "version: 1\naddr <script> 1 1\n", "version: 1\naddr 1.2.3.4 -1 5\n"}) {
    EXPECT_EQ(parse_login_failures(bad), LoginFailures{}) << bad;
  }
  EXPECT_FALSE(valid_client_address("1.2.3.4 5"));
  EXPECT_FALSE(valid_client_address(""));
  EXPECT_TRUE(valid_client_address("::ffff:127.0.0.1"));
}

}  // namespace

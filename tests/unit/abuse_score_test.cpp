// abuse_score_test.cpp - who gets banned (net/abuse_score.hpp): limits per
// kind, mixed offences, the window, repeat offenders, the table's bound.
#include "net/abuse_score.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using boxmail::net::AbuseLimits;
using boxmail::net::AbuseScore;
using boxmail::net::Offence;
using std::chrono::seconds;

const AbuseScore::TimePoint t0 = AbuseScore::TimePoint{} + std::chrono::hours(1000);

AbuseLimits limits() {
  AbuseLimits l;
  l.limit = {5, 3, 2, 10};   // login, protocol, relay, harvest
  l.window = seconds(600);
  l.ban_time = seconds(3600);
  l.ban_time_max = seconds(4 * 3600);
  return l;
}

TEST(AbuseScore, TheLimitOfOneKindBans) {
  AbuseScore s;
  const AbuseLimits l = limits();
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(s.report("192.0.2.5", Offence::LoginFailure, t0 + seconds(i), l)) << i;
  EXPECT_DOUBLE_EQ(s.score("192.0.2.5", t0 + seconds(4), l), 0.8);
  EXPECT_FALSE(s.report("192.0.2.6", Offence::LoginFailure, t0, l)) << "another address has its own count";
  const auto ban = s.report("192.0.2.5", Offence::LoginFailure, t0 + seconds(5), l);
  ASSERT_TRUE(ban);
  EXPECT_EQ(ban->length, seconds(3600));
  EXPECT_EQ(ban->reason, Offence::LoginFailure);
  EXPECT_EQ(ban->repeat, 0u);
  EXPECT_STREQ(offence_name(ban->reason), "login");
  EXPECT_EQ(s.score("192.0.2.5", t0 + seconds(5), l), 0) << "the count starts again after a ban";
}

TEST(AbuseScore, MixedOffencesAddUp) {
  AbuseScore s;
  const AbuseLimits l = limits();
  // 2/5 logins + 1/3 protocol + 5/10 unknown recipients = 1.23
  EXPECT_FALSE(s.report("2001:db8::1", Offence::LoginFailure, t0, l));
  EXPECT_FALSE(s.report("2001:db8::1", Offence::LoginFailure, t0, l));
  EXPECT_FALSE(s.report("2001:db8::1", Offence::ProtocolError, t0, l));
  for (int i = 0; i < 2; ++i) EXPECT_FALSE(s.report("2001:db8::1", Offence::UnknownRecipient, t0, l));
  const auto ban = s.report("2001:db8::1", Offence::UnknownRecipient, t0, l);
  ASSERT_TRUE(ban) << s.score("2001:db8::1", t0, l);
  EXPECT_EQ(ban->reason, Offence::LoginFailure) << "the kind nearest its own limit (2/5 > 1/3 > 3/10)";
}

TEST(AbuseScore, APauseLongerThanTheWindowStartsAgain) {
  AbuseScore s;
  const AbuseLimits l = limits();
  EXPECT_FALSE(s.report("192.0.2.7", Offence::RelayAttempt, t0, l));
  EXPECT_EQ(s.score("192.0.2.7", t0 + seconds(600), l), 0);
  EXPECT_FALSE(s.report("192.0.2.7", Offence::RelayAttempt, t0 + seconds(600), l)) << "the first was forgotten";
  EXPECT_TRUE(s.report("192.0.2.7", Offence::RelayAttempt, t0 + seconds(1199), l)) << "within the window of the last";
}

TEST(AbuseScore, RepeatOffendersGetLongerBansUpToTheMaximum) {
  AbuseScore s;
  const AbuseLimits l = limits();
  auto t = t0;
  std::vector<long> lengths;
  for (int round = 0; round < 5; ++round) {
    s.report("192.0.2.8", Offence::RelayAttempt, t, l);
    const auto ban = s.report("192.0.2.8", Offence::RelayAttempt, t, l);
    ASSERT_TRUE(ban) << round;
    EXPECT_EQ(ban->repeat, static_cast<std::uint32_t>(round));
    lengths.push_back(static_cast<long>(ban->length.count()));
    t += ban->length;   // comes back when the ban ends
  }
  EXPECT_EQ(lengths, (std::vector<long>{3600, 7200, 14400, 14400, 14400}));
  // Forgiven after ban_time_max without a ban.
  t += l.ban_time_max;
  s.report("192.0.2.8", Offence::RelayAttempt, t, l);
  const auto ban = s.report("192.0.2.8", Offence::RelayAttempt, t, l);
  ASSERT_TRUE(ban);
  EXPECT_EQ(ban->length, seconds(3600));
  EXPECT_EQ(ban->repeat, 0u);
}

TEST(AbuseScore, AKindWithLimitZeroIsNotCounted) {
  AbuseScore s;
  AbuseLimits l = limits();
  l.limit[static_cast<std::size_t>(Offence::UnknownRecipient)] = 0;
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(s.report("192.0.2.9", Offence::UnknownRecipient, t0, l));
  EXPECT_EQ(s.score("192.0.2.9", t0, l), 0);
}

// An attacker spread over many addresses cannot grow the table without
// bound, and the newest records stay.
TEST(AbuseScore, TheTableIsBounded) {
  AbuseScore s(100);
  const AbuseLimits l = limits();
  for (int i = 0; i < 1000; ++i) {
    s.report("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256), Offence::LoginFailure,
             t0 + seconds(i), l);
  }
  EXPECT_EQ(s.size(), 100u);
  EXPECT_GT(s.score("10.0.3.231", t0 + seconds(1000), l), 0) << "the newest (i = 999) was pushed out";
  EXPECT_EQ(s.score("10.0.0.1", t0 + seconds(1000), l), 0);
}

}  // namespace

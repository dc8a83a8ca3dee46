// relay_schedule_test.cpp - retry times (retry_min doubling to retry_max,
// the last try at max_lifetime), giving up, the one delay notice, and who
// gets a notice (never the null sender, a failed notice to postmaster once).
#include "relay/schedule.hpp"

#include <gtest/gtest.h>

namespace {

using namespace boxmail::relay;
using boxmail::store::NoticeKind;
using boxmail::store::QueueEnvelope;
using boxmail::store::QueueRecipient;
using boxmail::store::RecipientState;

constexpr std::int64_t kArrival = 1767225600;

TEST(Schedule, BackoffDoublesUpToTheMaximum) {
  const RetryPolicy p;   // 300 s .. 4 h
  EXPECT_EQ(backoff(p, 1), 300);
  EXPECT_EQ(backoff(p, 2), 600);
  EXPECT_EQ(backoff(p, 3), 1200);
  EXPECT_EQ(backoff(p, 6), 9600);
  EXPECT_EQ(backoff(p, 7), 14400);
  EXPECT_EQ(backoff(p, 200), 14400);
  EXPECT_EQ(backoff(p, 0xffffffffu), 14400) << "no overflow";
  EXPECT_EQ(backoff(RetryPolicy{0, 0, 10, 0}, 5), 1) << "never a zero wait";
  EXPECT_EQ(backoff(RetryPolicy{900, 300, 10, 0}, 1), 300) << "retry_max caps retry_min too";
}

TEST(Schedule, AfterAnAttempt) {
  const RetryPolicy p;
  Verdict v = after_attempt(p, kArrival, kArrival + 10, 1, Outcome::Delivered);
  EXPECT_EQ(v.state, RecipientState::Delivered);
  v = after_attempt(p, kArrival, kArrival + 10, 1, Outcome::Permanent);
  EXPECT_EQ(v.state, RecipientState::Failed);
  EXPECT_FALSE(v.expired);
  v = after_attempt(p, kArrival, kArrival + 10, 1, Outcome::Temporary);
  EXPECT_EQ(v.state, RecipientState::Pending);
  EXPECT_EQ(v.next_attempt, kArrival + 310);
  v = after_attempt(p, kArrival, kArrival + 5000, 4, Outcome::Temporary);
  EXPECT_EQ(v.next_attempt, kArrival + 5000 + 2400);
}

// A whole life of temporary failures: the attempts follow the schedule, the
// last is at the end of max_lifetime, and it then fails as expired.
TEST(Schedule, GivesUpAtMaxLifetime) {
  const RetryPolicy p;
  std::int64_t now = kArrival;
  std::uint32_t attempts = 0;
  std::vector<std::int64_t> waits;
  for (;;) {
    ++attempts;
    const Verdict v = after_attempt(p, kArrival, now, attempts, Outcome::Temporary);
    if (v.state == RecipientState::Failed) {
      EXPECT_TRUE(v.expired);
      break;
    }
    ASSERT_EQ(v.state, RecipientState::Pending);
    ASSERT_GT(v.next_attempt, now);
    waits.push_back(v.next_attempt - now);
    now = v.next_attempt;
    ASSERT_LT(attempts, 1000u);
  }
  EXPECT_EQ(now, kArrival + p.max_lifetime) << "the last attempt is at the end of the lifetime";
  ASSERT_GE(waits.size(), 8u);
  EXPECT_EQ(waits[0], 300);
  EXPECT_EQ(waits[1], 600);
  EXPECT_EQ(waits[6], 14400);
  // 7 attempts in the first 18,900 s (waits 300..9600), 28 at 4 h steps,
  // the last one at 5 days exactly.
  EXPECT_EQ(attempts, 36u);
}

QueueEnvelope queued(NoticeKind kind, std::string sender) {
  QueueEnvelope e;
  e.queue_id = "0ABCDEFGHJKMN";
  e.arrival = kArrival;
  e.kind = kind;
  e.reverse_path = std::move(sender);
  QueueRecipient r;
  r.forward_path = "bob@example.com";
  e.recipients.push_back(r);
  return e;
}

TEST(Schedule, WhoGetsAFailureNotice) {
  EXPECT_EQ(failure_notice_route(queued(NoticeKind::Normal, "alice@example.org")), NoticeRoute::Sender);
  EXPECT_EQ(failure_notice_route(queued(NoticeKind::Normal, "")), NoticeRoute::None) << "null sender";
  EXPECT_EQ(failure_notice_route(queued(NoticeKind::Failure, "")), NoticeRoute::Postmaster);
  EXPECT_EQ(failure_notice_route(queued(NoticeKind::Delay, "")), NoticeRoute::Postmaster);
  EXPECT_EQ(failure_notice_route(queued(NoticeKind::DoubleBounce, "")), NoticeRoute::None) << "a loop";
}

TEST(Schedule, OneDelayNotice) {
  const RetryPolicy p;   // after 4 h
  QueueEnvelope e = queued(NoticeKind::Normal, "alice@example.org");
  EXPECT_FALSE(delay_notice_due(p, e, kArrival + 4 * 3600 - 1));
  EXPECT_TRUE(delay_notice_due(p, e, kArrival + 4 * 3600));
  e.delay_notice_sent = true;
  EXPECT_FALSE(delay_notice_due(p, e, kArrival + 5 * 3600)) << "only once";
  e.delay_notice_sent = false;
  e.recipients[0].state = RecipientState::Delivered;
  EXPECT_FALSE(delay_notice_due(p, e, kArrival + 5 * 3600)) << "nothing pending";
  EXPECT_FALSE(delay_notice_due(p, queued(NoticeKind::Normal, ""), kArrival + 5 * 3600)) << "null sender";
  EXPECT_FALSE(delay_notice_due(p, queued(NoticeKind::Failure, ""), kArrival + 5 * 3600)) << "a notice";
  RetryPolicy off = p;
  off.delay_notice_after = 0;
  EXPECT_FALSE(delay_notice_due(off, queued(NoticeKind::Normal, "a@b"), kArrival + 5 * 86400)) << "0 = off";
  EXPECT_EQ(retry_until(p, e), kArrival + 5 * 86400);
}

}  // namespace

// net_progress_test.cpp - the pure parts of slow-client handling and of the
// accept-error log: ProgressClock (the idle clock with DATA credited at a
// minimum rate), pick_idlest (which session to close when every slot is
// taken), LogThrottle, and ConnectionLimits::acquire (over the total after
// an eviction).
#include "net/connection_limits.hpp"
#include "net/log_throttle.hpp"
#include "net/progress.hpp"

#include <gtest/gtest.h>

#include <vector>

using namespace boxmail::net;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

const SteadyTime kT0 = SteadyTime{} + std::chrono::hours(1);

TEST(ProgressClock, CommandsMoveItToNow) {
  ProgressClock p(kT0);
  EXPECT_EQ(p.last(), kT0);
  p.command(kT0 + seconds(7));
  EXPECT_EQ(p.last(), kT0 + seconds(7));
  p.command(kT0 + seconds(3));   // never backwards
  EXPECT_EQ(p.last(), kT0 + seconds(7));
}

TEST(ProgressClock, DataAtOrAboveTheRateKeepsUp) {
  ProgressClock p(kT0);
  // 8 KiB every second at min_rate 500: credit 16 s per chunk, capped at now.
  for (int i = 1; i <= 10; ++i) p.data(8192, 500, kT0 + seconds(i));
  EXPECT_EQ(p.last(), kT0 + seconds(10));
  // exactly the rate: 500 octets per second keeps it at now
  for (int i = 11; i <= 20; ++i) p.data(500, 500, kT0 + seconds(i));
  EXPECT_EQ(p.last(), kT0 + seconds(20));
}

TEST(ProgressClock, TrickleHardlyMovesIt) {
  ProgressClock p(kT0);
  // one octet every 3 s for 5 minutes at min_rate 500: 100 octets = 0.2 s of credit
  for (int i = 1; i <= 100; ++i) p.data(1, 500, kT0 + seconds(3 * i));
  EXPECT_EQ(p.last(), kT0 + milliseconds(200));
}

TEST(ProgressClock, HalfTheRateHalfTheIdleGrowth) {
  ProgressClock p(kT0);
  for (int i = 1; i <= 100; ++i) p.data(250, 500, kT0 + seconds(i));
  EXPECT_EQ(p.last(), kT0 + seconds(50));   // idle 50 s after 100 s
  // a burst catches up, but never past now
  p.data(1000000, 500, kT0 + seconds(101));
  EXPECT_EQ(p.last(), kT0 + seconds(101));
}

TEST(ProgressClock, RateZeroCountsAnyDataAndHugeChunksDoNotOverflow) {
  ProgressClock p(kT0);
  p.data(0, 0, kT0 + seconds(5));   // nothing is nothing
  EXPECT_EQ(p.last(), kT0);
  p.data(1, 0, kT0 + seconds(5));
  EXPECT_EQ(p.last(), kT0 + seconds(5));
  p.data(UINT64_MAX, 1, kT0 + seconds(9));
  EXPECT_EQ(p.last(), kT0 + seconds(9));
  ProgressClock q(kT0);
  q.data(UINT64_MAX - 1, 1000000000, kT0 + std::chrono::hours(5));
  EXPECT_EQ(q.last(), kT0 + std::chrono::hours(1));   // capped at an hour of credit
}

TEST(PickIdlest, LongestIdleOverTheThreshold) {
  const SteadyTime now = kT0 + seconds(100);
  std::vector<IdleCandidate> c = {
      {kT0 + seconds(90), false},   // idle 10 s
      {kT0 + seconds(20), false},   // idle 80 s
      {kT0 + seconds(10), true},    // idle 90 s but already closing
      {kT0 + seconds(50), false},   // idle 50 s
  };
  EXPECT_EQ(pick_idlest(c, now, seconds(30)), 1u);
  EXPECT_EQ(pick_idlest(c, now, seconds(80)), 1u);    // exactly the threshold counts
  EXPECT_EQ(pick_idlest(c, now, seconds(81)), std::nullopt);
  c[1].closing = true;
  EXPECT_EQ(pick_idlest(c, now, seconds(30)), 3u);
  EXPECT_EQ(pick_idlest({}, now, seconds(0)), std::nullopt);
  // ties go to the first
  std::vector<IdleCandidate> t = {{kT0, false}, {kT0, false}};
  EXPECT_EQ(pick_idlest(t, now, seconds(1)), 0u);
}

TEST(LogThrottle, OneLinePerIntervalWithSuppressedCount) {
  LogThrottle t(seconds(10));
  EXPECT_EQ(t.allow(kT0), 0u);   // the first is logged, nothing suppressed
  // 12 events a second for 10 s: all suppressed
  int logged = 0;
  for (int i = 1; i < 120; ++i) {
    if (t.allow(kT0 + milliseconds(i * 1000 / 12))) ++logged;
  }
  EXPECT_EQ(logged, 0);
  EXPECT_FALSE(t.ready(kT0 + milliseconds(9999)));
  EXPECT_TRUE(t.ready(kT0 + seconds(10)));
  EXPECT_EQ(t.allow(kT0 + seconds(10)), 119u);   // the next line carries the count
  EXPECT_EQ(t.allow(kT0 + seconds(11)), std::nullopt);
  EXPECT_EQ(t.take_suppressed(), 1u);
  EXPECT_EQ(t.take_suppressed(), 0u);
  // an hour of 12 errors a second gives at most 360 lines
  LogThrottle h(seconds(10));
  int lines = 0;
  for (int i = 0; i < 3600 * 12; ++i) {
    if (h.allow(kT0 + milliseconds(i * 1000 / 12))) ++lines;
  }
  EXPECT_LE(lines, 361);
  EXPECT_GE(lines, 359);
}

TEST(ConnectionLimits, AcquireGoesOverTheTotalAndReleases) {
  ConnectionLimits l;
  EXPECT_EQ(l.try_acquire("a", 2, 2), ConnectionLimits::Verdict::Ok);
  EXPECT_EQ(l.try_acquire("b", 2, 2), ConnectionLimits::Verdict::Ok);
  EXPECT_EQ(l.try_acquire("c", 2, 2), ConnectionLimits::Verdict::TooMany);
  l.acquire("c");   // an idle session was closed to make room
  EXPECT_EQ(l.total(), 3u);
  EXPECT_EQ(l.from("c"), 1u);
  l.release("a");   // the evicted one goes
  EXPECT_EQ(l.total(), 2u);
  EXPECT_EQ(l.try_acquire("d", 2, 2), ConnectionLimits::Verdict::TooMany);
  l.release("c");
  EXPECT_EQ(l.from("c"), 0u);
  EXPECT_EQ(l.try_acquire("d", 2, 2), ConnectionLimits::Verdict::Ok);
}

}  // namespace

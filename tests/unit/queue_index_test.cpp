// queue_index_test.cpp - the queue runner's in-memory index: due messages
// earliest first, in flight until put back, erased when done; destination
// keys; and its size with 10,000 messages queued (under 200 octets each).
#include "store/maildir_name.hpp"
#include "store/queue_index.hpp"

#include <gtest/gtest.h>

#include <malloc.h>

#include <cstdint>
#include <vector>

namespace {

using namespace boxmail::store;

TEST(QueueIndex, DueEarliestFirstAndInFlight) {
  QueueIndex ix;
  ix.put({3, 300, 7});
  ix.put({1, 100, 7});
  ix.put({2, 200, 8});
  EXPECT_EQ(ix.size(), 3u);
  EXPECT_EQ(ix.next_due(), 100);
  EXPECT_TRUE(ix.take_due(99, 10).empty());

  const auto due = ix.take_due(200, 10);
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0], (QueueItem{1, 100, 7}));
  EXPECT_EQ(due[1], (QueueItem{2, 200, 8}));
  EXPECT_TRUE(ix.in_flight(1));
  EXPECT_EQ(ix.in_flight_count(), 2u);
  EXPECT_EQ(ix.next_due(), 300);
  EXPECT_TRUE(ix.take_due(250, 10).empty()) << "an in-flight message handed out again";

  ix.put({1, 1000, 7});   // tried, failed temporarily: back with its next time
  EXPECT_FALSE(ix.in_flight(1));
  EXPECT_TRUE(ix.erase(2));   // delivered
  EXPECT_FALSE(ix.erase(2));
  EXPECT_EQ(ix.size(), 2u);
  EXPECT_EQ(ix.in_flight_count(), 0u);

  const auto later = ix.take_due(5000, 1);   // `max` respected
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].id, 3u);
  EXPECT_EQ(ix.find(1), (QueueItem{1, 1000, 7}));
  EXPECT_FALSE(ix.find(2));
}

// The runner's round: a destination at its connection limit is not
// admitted; its messages stay scheduled (not in flight, not read) and come
// out once admitted, earliest first.
TEST(QueueIndex, TakeDueAdmitsByDestination) {
  QueueIndex ix;
  ix.put({1, 100, 7});
  ix.put({2, 110, 8});
  ix.put({3, 120, 7});
  ix.put({4, 130, 8});
  ix.put({5, 900, 8});   // not due yet
  std::vector<std::uint32_t> asked;
  const auto due = ix.take_due(500, 10, [&](std::uint32_t d) {
    asked.push_back(d);
    return d == 8;
  });
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0], (QueueItem{2, 110, 8}));
  EXPECT_EQ(due[1], (QueueItem{4, 130, 8}));
  EXPECT_EQ(asked, (std::vector<std::uint32_t>{7, 8, 7, 8})) << "asked once per due message, earliest first";
  EXPECT_FALSE(ix.in_flight(1));
  EXPECT_EQ(ix.in_flight_count(), 2u);
  EXPECT_EQ(ix.next_due(), 100) << "a refused message left the schedule";

  const auto one = ix.take_due(500, 1, [](std::uint32_t) { return true; });   // `max` respected
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].id, 1u);
  const auto rest = ix.take_due(1000, 10, [](std::uint32_t) { return true; });
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0].id, 3u);
  EXPECT_EQ(rest[1].id, 5u);
  EXPECT_TRUE(ix.take_due(1000, 10, [](std::uint32_t) { return true; }).empty());
}

TEST(QueueIndex, PutReplacesTheTime) {
  QueueIndex ix;
  ix.put({5, 500, 1});
  ix.put({5, 50, 2});
  EXPECT_EQ(ix.size(), 1u);
  EXPECT_EQ(ix.next_due(), 50);
  const auto due = ix.take_due(60, 10);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].destination, 2u);
  EXPECT_TRUE(ix.take_due(1000, 10).empty()) << "the old time was left in the schedule";
}

// The heap keeps old times until they reach the top: none of them may
// hand a message out twice or at an old time.
TEST(QueueIndex, OldTimesNeverHandOutAMessageTwice) {
  QueueIndex ix;
  ix.put({7, 100, 1});
  ix.put({7, 100, 1});   // the same time again
  ix.put({7, 300, 1});
  ix.put({7, 100, 1});   // back to a time it had
  ix.put({8, 200, 2});
  EXPECT_EQ(ix.size(), 2u);
  EXPECT_EQ(ix.next_due(), 100);
  auto due = ix.take_due(1000, 10);
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0], (QueueItem{7, 100, 1}));
  EXPECT_EQ(due[1], (QueueItem{8, 200, 2}));
  EXPECT_EQ(ix.in_flight_count(), 2u);
  EXPECT_FALSE(ix.next_due()) << "an old time of an in-flight message counts as due";

  ix.put({7, 400, 1});   // after the attempt
  EXPECT_TRUE(ix.erase(8));
  EXPECT_EQ(ix.in_flight_count(), 0u);
  EXPECT_EQ(ix.next_due(), 400);
  EXPECT_TRUE(ix.take_due(399, 10).empty()) << "the old time 300 was live";
  EXPECT_TRUE(ix.erase(7));
  EXPECT_FALSE(ix.next_due());
  EXPECT_TRUE(ix.take_due(10000, 10).empty());
  EXPECT_FALSE(ix.erase(7));
}

// A thousand "retry now" rounds over a queue leave old times behind; the
// heap is rebuilt before they outnumber the queue, so memory stays bounded.
TEST(QueueIndex, RescheduledTimesStayBounded) {
  const auto in_use = [] {
    const auto m = mallinfo2();
    return m.uordblks + m.hblkhd;
  };
  QueueIndex ix;
  for (std::uint64_t id = 1; id <= 1000; ++id) ix.put({id, 5000, 1});
  const auto before = in_use();
  for (std::int64_t round = 0; round < 1000; ++round)
    for (std::uint64_t id = 1; id <= 1000; ++id) ix.put({id, 4000 - round, 1});
  EXPECT_LT(in_use() - before, 64u * 1024) << "old times piled up";
  const auto due = ix.take_due(3001, 2000);
  ASSERT_EQ(due.size(), 1000u);
  for (const auto& d : due) EXPECT_EQ(d.next, 3001);
}

TEST(QueueIndex, DestinationKeys) {
  EXPECT_EQ(destination_key("Example.COM"), destination_key("example.com"));
  EXPECT_NE(destination_key("example.com"), destination_key("example.net"));
  EXPECT_NE(destination_key(""), kSeveralDestinations);
  EXPECT_EQ(domain_of("a@b@c.example"), "c.example");
  EXPECT_EQ(domain_of("postmaster"), "postmaster");

  QueueEnvelope e;
  e.recipients.resize(3);
  e.recipients[0].forward_path = "a@Example.com";
  e.recipients[1].forward_path = "b@example.COM";
  e.recipients[2].forward_path = "c@example.net";
  e.recipients[2].state = RecipientState::Delivered;
  EXPECT_EQ(destination_of(e), destination_key("example.com"));
  e.recipients[2].state = RecipientState::Pending;
  EXPECT_EQ(destination_of(e), kSeveralDestinations);
  for (auto& r : e.recipients) r.state = RecipientState::Failed;
  EXPECT_EQ(destination_of(e), kSeveralDestinations);
}

// The brief's budget: under 200 octets of heap per queued message with
// 10,000 queued (measured with glibc's allocator statistics: the heap's
// chunks in use and the mmapped blocks, where glibc puts arrays this big).
TEST(QueueIndex, UnderTwoHundredOctetsPerMessage) {
  constexpr std::size_t kMessages = 10000;
  const auto in_use = [] {
    const auto m = mallinfo2();
    return m.uordblks + m.hblkhd;
  };
  const auto before = in_use();
  {
    QueueIndex ix;
    for (std::size_t i = 0; i < kMessages; ++i) {
      const std::uint64_t id = *parse_queue_id(queue_id_from(0x9e3779b97f4a7c15ull * (i + 1) >> 4));
      ix.put({id, static_cast<std::int64_t>(1767225600 + (i * 7919) % 86400), destination_key("example.com")});
    }
    ASSERT_EQ(ix.size(), kMessages);
    const auto used = in_use() - before;
    const double per = static_cast<double>(used) / kMessages;
    std::printf("QueueIndex: %.1f octets per message with %zu queued\n", per, kMessages);
    EXPECT_LT(per, 200.0);
    EXPECT_GT(per, 16.0) << "the measure is broken";
  }
}

}  // namespace

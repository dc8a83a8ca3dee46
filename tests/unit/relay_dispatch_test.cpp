// relay_dispatch_test.cpp - grouping due recipients into connections and
// transactions within the connection limits.
#include "relay/dispatch.hpp"
#include "store/queue_index.hpp"

#include <gtest/gtest.h>

namespace {

using namespace boxmail::relay;

TEST(ConnectionSlots, BothLimits) {
  ConnectionSlots s(DispatchLimits{3, 2, 50, 100});
  EXPECT_TRUE(s.acquire("a.example"));
  EXPECT_TRUE(s.acquire("a.example"));
  EXPECT_FALSE(s.acquire("a.example")) << "per destination";
  EXPECT_TRUE(s.acquire("b.example"));
  EXPECT_FALSE(s.acquire("c.example")) << "in all";
  EXPECT_EQ(s.active(), 3u);
  EXPECT_EQ(s.active("a.example"), 2u);
  s.release("a.example");
  s.release("nowhere.example");   // never taken: ignored
  EXPECT_EQ(s.active(), 2u);
  EXPECT_TRUE(s.acquire("c.example"));
  s.release("b.example");
  s.release("c.example");
  s.release("a.example");
  EXPECT_EQ(s.active(), 0u);
  EXPECT_EQ(s.active("a.example"), 0u);
}

// The runner asks by the queue index's destination key how many
// connections a destination has open (to admit only what they can carry).
TEST(ConnectionSlots, ActiveWithKey) {
  ConnectionSlots s(DispatchLimits{10, 2, 50, 100});
  EXPECT_TRUE(s.acquire("a.example"));
  EXPECT_TRUE(s.acquire("a.example"));
  EXPECT_TRUE(s.acquire("b.example"));
  EXPECT_EQ(s.active_with_key(boxmail::store::destination_key("a.example")), 2u);
  EXPECT_EQ(s.active_with_key(boxmail::store::destination_key("A.Example")), 2u);
  EXPECT_EQ(s.active_with_key(boxmail::store::destination_key("b.example")), 1u);
  EXPECT_EQ(s.active_with_key(boxmail::store::destination_key("c.example")), 0u);
  s.release("a.example");
  EXPECT_EQ(s.active_with_key(boxmail::store::destination_key("a.example")), 1u);
}

TEST(Dispatch, GroupsByDestinationAndMessage) {
  ConnectionSlots slots(DispatchLimits{10, 2, 50, 100});
  const std::vector<DueRecipient> due = {
      {"Q1", 0, "a@Example.com"}, {"Q1", 1, "b@example.net"}, {"Q2", 0, "c@example.COM"},
      {"Q1", 2, "d@example.com"}, {"Q3", 4, "e@example.net"},
  };
  const DispatchPlan plan = plan_connections(due, slots);
  EXPECT_TRUE(plan.waiting.empty());
  ASSERT_EQ(plan.connections.size(), 2u);
  const PlannedConnection& com = plan.connections[0];
  EXPECT_EQ(com.destination, "example.com");
  ASSERT_EQ(com.transactions.size(), 2u);
  EXPECT_EQ(com.transactions[0].queue_id, "Q1");
  EXPECT_EQ(com.transactions[0].recipients, (std::vector<std::size_t>{0, 2}));
  EXPECT_EQ(com.transactions[1].queue_id, "Q2");
  const PlannedConnection& net = plan.connections[1];
  EXPECT_EQ(net.destination, "example.net");
  ASSERT_EQ(net.transactions.size(), 2u);
  EXPECT_EQ(net.transactions[1].recipients, (std::vector<std::size_t>{4}));
  EXPECT_EQ(slots.active(), 2u);
}

TEST(Dispatch, SplitsLargeTransactionsAndConnections) {
  ConnectionSlots slots(DispatchLimits{10, 2, 2, 3});
  std::vector<DueRecipient> due;
  for (std::size_t i = 0; i < 7; ++i) due.push_back({"Q1", i, "r" + std::to_string(i) + "@example.com"});
  due.push_back({"Q2", 0, "x@example.com"});
  const DispatchPlan plan = plan_connections(due, slots);
  // Q1: 3+3+1 recipients, Q2: 1 -> 4 transactions, 2 per connection.
  ASSERT_EQ(plan.connections.size(), 2u);
  ASSERT_EQ(plan.connections[0].transactions.size(), 2u);
  EXPECT_EQ(plan.connections[0].transactions[0].recipients, (std::vector<std::size_t>{0, 1, 2}));
  EXPECT_EQ(plan.connections[0].transactions[1].recipients, (std::vector<std::size_t>{3, 4, 5}));
  EXPECT_EQ(plan.connections[1].transactions[0].recipients, (std::vector<std::size_t>{6}));
  EXPECT_EQ(plan.connections[1].transactions[1].queue_id, "Q2");
  EXPECT_TRUE(plan.waiting.empty());
}

TEST(Dispatch, WhatFindsNoSlotWaitsInOrder) {
  ConnectionSlots slots(DispatchLimits{2, 1, 1, 100});
  ASSERT_TRUE(slots.acquire("busy.example"));   // a connection already open
  const std::vector<DueRecipient> due = {
      {"Q1", 0, "a@busy.example"}, {"Q2", 0, "b@free.example"}, {"Q3", 0, "c@free.example"},
      {"Q4", 0, "d@other.example"}, {"Q1", 1, "e@busy.example"},
  };
  const DispatchPlan plan = plan_connections(due, slots);
  ASSERT_EQ(plan.connections.size(), 1u);
  EXPECT_EQ(plan.connections[0].destination, "free.example");
  ASSERT_EQ(plan.connections[0].transactions.size(), 1u) << "one message per connection";
  ASSERT_EQ(plan.waiting.size(), 4u);
  EXPECT_EQ(plan.waiting[0].forward_path, "a@busy.example");
  EXPECT_EQ(plan.waiting[1].queue_id, "Q3");
  EXPECT_EQ(plan.waiting[2].queue_id, "Q4");
  EXPECT_EQ(plan.waiting[3].forward_path, "e@busy.example");
  EXPECT_EQ(slots.active(), 2u);
}

}  // namespace

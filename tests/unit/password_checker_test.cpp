// password_checker_test.cpp - the password-checking thread
// (config/password_checker.hpp): results, order, the bounded queue.
#include "config/password_checker.hpp"

#include "config/password.hpp"

#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <string>
#include <vector>

using namespace boxmail;

TEST(PasswordChecker, ResultsInOrderOffTheCallingThread) {
  const std::string hash = config::hash_password("right one");
  std::mutex mu;
  std::vector<int> results;
  std::promise<void> all;
  config::PasswordChecker checker(8);
  const auto caller = std::this_thread::get_id();
  bool other_thread = true;
  auto done = [&](int tag) {
    return [&, tag](bool ok) {
      std::lock_guard lock(mu);
      other_thread = other_thread && std::this_thread::get_id() != caller;
      results.push_back(ok ? tag : -tag);
      if (results.size() == 3) all.set_value();
    };
  };
  ASSERT_TRUE(checker.submit("right one", hash, done(1)));
  ASSERT_TRUE(checker.submit("wrong", hash, done(2)));
  ASSERT_TRUE(checker.submit(std::string(config::kMaxPasswordLength + 1, 'x'), hash, done(3)));
  all.get_future().wait();
  EXPECT_EQ(results, (std::vector<int>{1, -2, -3}));
  EXPECT_TRUE(other_thread);
}

TEST(PasswordChecker, QueueIsBounded) {
  const std::string hash = config::hash_password("pw");
  // Declared before the checker: its callbacks may run until it is destroyed.
  int ran = 0;
  std::mutex mu;
  std::promise<void> release, started;
  config::PasswordChecker checker(2);
  // Hold the thread in the first callback so the next requests wait.
  auto release_f = release.get_future().share();
  ASSERT_TRUE(checker.submit("pw", hash, [&, release_f](bool) {
    started.set_value();
    release_f.wait();
  }));
  started.get_future().wait();
  auto count = [&](bool) {
    std::lock_guard lock(mu);
    ++ran;
  };
  EXPECT_TRUE(checker.submit("a", hash, count));
  EXPECT_TRUE(checker.submit("b", hash, count));
  EXPECT_EQ(checker.waiting(), 2u);
  EXPECT_FALSE(checker.submit("c", hash, count)) << "past max_queue: refused, never queued";
  checker.set_max_queue(3);
  EXPECT_TRUE(checker.submit("d", hash, count));
  release.set_value();
  // The destructor drops what still waits and joins; nothing runs after it.
}

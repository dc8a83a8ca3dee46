// password_checker.hpp - password checks off the event loop: one thread
// that runs verify_password for the login glue (POP3 now; SMTP AUTH and
// IMAP later).
//
// A SHA512-CRYPT check costs about 5 ms of CPU (16 ms for a 490-octet
// password before kMaxPasswordLength); on the one io_context thread that
// serves SMTP too, a crowd of POP3 guessers would delay every SMTP greeting.
// Like store::Committer, the checker runs its own thread: submit() queues a
// request and returns at once; the thread checks requests one at a time, in
// order, and hands each result to its callback on the checker thread. The
// glue's callback posts the result to the session's executor and finds the
// session by a weak pointer there (a session that ended meanwhile is not
// touched; its result is dropped).
//
// Bounded: at most `max_queue` requests wait (the one being checked not
// counted); submit() refuses more by returning false, and the glue answers
// with a temporary error rather than let the queue grow. One thread on
// purpose: the box has one or two cores and the loop must keep one.
// Errors: none of its own; a malformed hash is a failed check.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace boxmail::config {

class PasswordChecker {
 public:
  /// Starts the thread. `max_queue` >= 1: requests that may wait.
  explicit PasswordChecker(std::size_t max_queue);
  ~PasswordChecker();   ///< drops the waiting requests (their callbacks never run), then joins
  PasswordChecker(const PasswordChecker&) = delete;
  PasswordChecker& operator=(const PasswordChecker&) = delete;

  /// Queues a check of `plain` against `stored` ("{SCHEME}hash", as for
  /// verify_password). `done(ok)` runs later on the checker thread. Returns
  /// false (and never calls `done`) when max_queue requests already wait.
  bool submit(std::string plain, std::string stored, std::function<void(bool)> done);

  /// Changes the bound for later submits (a reload).
  void set_max_queue(std::size_t max_queue);

  /// Requests waiting now (not counting the one being checked).
  std::size_t waiting() const;

 private:
  struct Request {
    std::string plain;
    std::string stored;
    std::function<void(bool)> done;
  };
  void run();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Request> queue_;
  std::size_t max_queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace boxmail::config

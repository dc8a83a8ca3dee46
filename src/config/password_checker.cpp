// password_checker.cpp - see password_checker.hpp.
#include "config/password_checker.hpp"

#include "config/password.hpp"

#include <utility>

namespace boxmail::config {

PasswordChecker::PasswordChecker(std::size_t max_queue) : max_queue_(max_queue) {
  thread_ = std::thread([this] { run(); });
}

PasswordChecker::~PasswordChecker() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    queue_.clear();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool PasswordChecker::submit(std::string plain, std::string stored, std::function<void(bool)> done) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() >= max_queue_) return false;
    queue_.push_back(Request{std::move(plain), std::move(stored), std::move(done)});
  }
  cv_.notify_one();
  return true;
}

void PasswordChecker::set_max_queue(std::size_t max_queue) {
  std::lock_guard lock(mu_);
  max_queue_ = max_queue;
}

std::size_t PasswordChecker::waiting() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void PasswordChecker::run() {
  for (;;) {
    Request r;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      r = std::move(queue_.front());
      queue_.pop_front();
    }
    const bool ok = verify_password(r.plain, r.stored);
    r.plain.assign(r.plain.size(), '\0');   // do not leave the password lying in freed memory
    r.done(ok);
  }
}

}  // namespace boxmail::config

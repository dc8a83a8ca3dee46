// spool_pool.cpp - see spool_pool.hpp.
#include "store/spool_pool.hpp"

#include "process/os_random.hpp"
#include "store/maildir_name.hpp"

#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <unistd.h>

namespace boxmail::store {

SpoolPool::SpoolPool(std::string dir, std::size_t depth) : dir_(std::move(dir)), depth_(depth) {
  thread_ = std::thread([this] { run(); });
}

SpoolPool::~SpoolPool() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (auto& e : ready_) {
    ::close(e.fd);
    ::unlink(e.path.c_str());
  }
}

SpoolPool::Entry SpoolPool::create(int& err) {
  Entry e;
  e.queue_id = queue_id_from(process::os_random_u64());
  e.path = dir_ + "/" + e.queue_id;
  e.fd = ::open(e.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  err = e.fd < 0 ? errno : 0;
  return e;
}

SpoolPool::Entry SpoolPool::take(int& err) {
  {
    std::lock_guard lk(mu_);
    if (!ready_.empty()) {
      Entry e = std::move(ready_.front());
      ready_.pop_front();
      ++hits_;
      err = 0;
      cv_.notify_one();
      return e;
    }
    ++misses_;
  }
  cv_.notify_one();
  return create(err);
}

std::size_t SpoolPool::hits() const {
  std::lock_guard lk(mu_);
  return hits_;
}

std::size_t SpoolPool::misses() const {
  std::lock_guard lk(mu_);
  return misses_;
}

void SpoolPool::run() {
  std::unique_lock lk(mu_);
  for (;;) {
    cv_.wait(lk, [this] { return stopping_ || ready_.size() < depth_; });
    if (stopping_) return;
    lk.unlock();
    int err = 0;
    Entry e = create(err);
    lk.lock();
    if (e.fd < 0) {
      // The spool is not writable now (full disk, removed directory): try
      // again later; take() reports the error to the session meanwhile.
      cv_.wait_for(lk, std::chrono::seconds(1), [this] { return stopping_; });
      continue;
    }
    ready_.push_back(std::move(e));
  }
}

}  // namespace boxmail::store

// spool_pool.hpp - spool files created ahead of time, off the event loop.
//
// Creating a file (openat with O_CREAT|O_EXCL) is the one file-system call
// the SMTP loop made per message, and under load it waits on the same
// directory and inode locks as the Committer's syncs and unlinks (measured:
// ~0.7 ms per create at 10 sessions, with the loop thread the bottleneck).
// A SpoolPool keeps a few empty spool files open, named by fresh queue ids,
// and refills itself on its own thread; take() hands one out at once, or
// creates one in place when the pool has run dry.
//
// Files are DIR/<queue id> (mode 0600), exactly as SpoolFile::create makes
// them; unused ones are unlinked when the pool is destroyed, and any left by
// a crash are removed by clean_spool() at start-up like every spool leftover.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

namespace boxmail::store {

class SpoolPool {
 public:
  /// An open, empty spool file and the queue id it is named by.
  struct Entry {
    std::string queue_id;
    std::string path;
    int fd = -1;
  };

  /// Keeps up to `depth` files ready in `dir`. Starts the refill thread.
  SpoolPool(std::string dir, std::size_t depth = 16);
  ~SpoolPool();
  SpoolPool(const SpoolPool&) = delete;
  SpoolPool& operator=(const SpoolPool&) = delete;

  /// A ready file, or one created now; on failure fd is -1 and `err` the
  /// errno (the queue id is still fresh, for the log and the reply).
  Entry take(int& err);

  /// Files handed out that came from the pool, and ones made in place.
  std::size_t hits() const;
  std::size_t misses() const;

 private:
  Entry create(int& err);
  void run();

  const std::string dir_;
  const std::size_t depth_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Entry> ready_;
  bool stopping_ = false;
  std::size_t hits_ = 0;
  std::size_t misses_ = 0;
  std::thread thread_;
};

}  // namespace boxmail::store

// committer.hpp - durable delivery into Maildirs with group commit.
//
// The Committer turns received spool files into Maildir deliveries, making
// them durable before the SMTP 250 is sent (DESIGN.md "Durability"). It runs
// on its own thread so the Asio loop never blocks in fsync, and it commits in
// batches: every request submitted while a batch is being synced joins the
// next batch, so N concurrent sessions share the cost of the syncs.
//
// Per batch:
//   0. a delivery with remote recipients (Delivery::queue) has its queue
//      envelope written as spool_dir/queue/QID.tmp (queue.hpp);
//   1. the data of every spool file (and those envelopes) is made durable
//      (one syncfs(2) of the spool file system, or fsync(2) per file in
//      SyncMode::Fsync);
//   2. each file is hard-linked into every recipient's Maildir/new under its
//      final name (one inode for all recipients; a copy via Maildir/tmp,
//      fsync'ed, then renamed, when link(2) fails with EXDEV), and a queued
//      one to spool_dir/queue/QID, its QID.tmp renamed to QID.env;
//   3. the new directory entries are made durable (syncfs of the mail file
//      system and, when it is another one, of the queue's; or fsync of each
//      touched new/ directory and of the queue directory);
//   4. each request's completion is posted to its executor (0 or errno);
//   5. the spool files are unlinked.
// Steps are pipelined: the sync of step 3 for batch N is the sync of step 1
// for batch N+1, so under load a batch costs one sync; an idle committer
// runs step 3 at once, so a lone message still waits for just two syncs.
// A crash before step 3 completes can leave a message in new/ whose 250 was
// never sent (an allowed duplicate), never a partial file: the link is made
// only after the data is on disk. If any link of a request fails, the links
// it made are removed and the request fails whole.
//
// Every operation under mail_dir is made relative to directory descriptors
// (safe_path.hpp): a symbolic link at a mailbox, its new/ or tmp/ is never
// followed, the delivery fails with ELOOP.
//
// A failure is answered with the errno and where it happened (the Maildir
// root, or the path that failed and why, or "spool data sync" / "mail store
// sync"), for the glue's error log line: this thread does not log. With a UsageTable set, each delivery is
// bracketed there (begin before its first link, end with its S= once
// durable, or with nothing when it failed).
#pragma once

#include "config/config.hpp"
#include "store/queue.hpp"
#include "store/usage_table.hpp"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <sys/types.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/post.hpp>

namespace boxmail::store {

/// One message to deliver.
struct Delivery {
  int fd = -1;                        ///< the spool file (ownership passes to the Committer)
  std::string spool_path;             ///< its path, unlinked after the batch
  std::string name;                   ///< final Maildir file name
  std::vector<std::string> maildirs;  ///< Maildir roots (mail_dir/<mailbox>)
  /// The remote recipients' envelope: the message also goes into the
  /// outgoing queue (Committer::set_queue), durable before the completion
  /// as the Maildir links are. Null: local recipients only. `maildirs`
  /// may be empty when it is set.
  std::shared_ptr<const QueueEnvelope> queue;
};

/// Counters, read by the status page and the bench.
struct CommitterStats {
  std::uint64_t batches = 0;
  std::uint64_t deliveries = 0;
  std::uint64_t syncs = 0;
};

class Committer {
 public:
  /// `mail_dir`: root of the Maildirs (kept open for syncfs). Starts the thread.
  Committer(std::string mail_dir, config::SyncMode mode);
  ~Committer();  ///< finishes the queued batches, then joins
  Committer(const Committer&) = delete;
  Committer& operator=(const Committer&) = delete;

  /// Queues `d`; `done(err, where)` runs on the committer thread when the
  /// batch is durable (err 0) or failed (errno; `where` names the Maildir
  /// root or the sync that failed). Use async_commit from Asio code.
  void submit(Delivery d, std::function<void(int, std::string)> done);

  /// Asio-style: completes with void(int err, std::string where) on the
  /// handler's executor.
  template <class CompletionToken>
  auto async_commit(Delivery d, CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken, void(int, std::string)>(
        [this](auto handler, Delivery dd) {
          auto ex = boost::asio::get_associated_executor(handler);
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          submit(std::move(dd), [h, ex](int err, std::string where) {
            boost::asio::post(ex, [h, err, w = std::move(where)]() mutable { (*h)(err, std::move(w)); });
          });
        },
        token, std::move(d));
  }

  void set_mode(config::SyncMode mode);
  /// The table that counts each delivery (null: none). Set before mail flows.
  void set_usage(std::shared_ptr<UsageTable> usage);
  /// The outgoing queue for deliveries with a Delivery::queue (null: none;
  /// such a delivery then fails with ENOTSUP). It must be on the spool's
  /// file system (the spool file is hard-linked in). Set before mail flows.
  void set_queue(std::shared_ptr<Queue> queue);
  CommitterStats stats() const;

 private:
  struct Request {
    Delivery delivery;
    std::function<void(int, std::string)> done;
    int error = 0;
    std::string where;                 // what failed, for the log
    std::vector<std::string> linked;   // paths created in new/
    std::vector<std::string> begun;    // Maildir roots bracketed in usage_
    bool staged = false;                // its QID.tmp is written
    bool queued = false;                // its queue entry is published
  };
  void run();
  void finish(std::vector<Request>& requests, int sync_error, const char* sync_what);
  int ensure_maildir(const std::string& maildir, std::set<std::string>& dirs_to_sync, std::string& where);
  /// Opens the directory PATH with no link followed below mail_dir (safe_path.hpp).
  int open_dir(const std::string& path, mode_t create_mode = 0, bool* created = nullptr,
               std::string* failed = nullptr) const;
  int place(Request& r, const std::string& maildir, std::set<std::string>& dirs_to_sync);
  /// Step 0 and the queue's part of step 2 for one request (0 or errno, r.where set).
  int stage(Request& r, Queue* queue, bool sync);
  int enqueue(Request& r, Queue* queue);

  std::string mail_dir_;
  int mail_dir_fd_ = -1;
  dev_t mail_dev_ = 0;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Request> queue_;
  bool stopping_ = false;
  config::SyncMode mode_;
  CommitterStats stats_;
  std::shared_ptr<UsageTable> usage_;   // guarded by mu_; copied per batch
  std::shared_ptr<Queue> outgoing_;     // guarded by mu_; copied per batch
  std::set<std::string> known_maildirs_;  // committer thread only
  std::thread thread_;
};

}  // namespace boxmail::store

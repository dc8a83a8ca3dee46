// queue.hpp - the outgoing queue on disk: spool_dir/queue (docs/queue.md).
//
// A queued message is two files in one directory on the spool's file system:
//   QID      the message as received (the spool file, hard-linked in: our
//            Received: header included, the Return-Path: line skipped when
//            sent, see QueueEnvelope::skip);
//   QID.env  its envelope (queue_envelope.hpp), replaced whole by writing
//            QID.tmp, syncing it and renaming it over QID.env.
// A message is queued when both exist. The Committer makes new entries
// durable in the same batch as the Maildir deliveries (committer.hpp:
// stage_envelope before the data sync, publish before the entry sync);
// the runner reads, updates and removes them with the calls below.
//
// Every call is blocking file I/O relative to the descriptor of the queue
// directory, opened once with O_NOFOLLOW (a queue directory that is a
// symbolic link is refused with ELOOP); files are opened with O_NOFOLLOW,
// and scan() touches only names made of a queue id (parse_queue_id) with
// no suffix, ".env" or ".tmp", and only regular files. Thread-safety: the
// calls for different queue ids may run on different threads (the
// Committer's and the runner's); one queue id is used by one thread at a
// time (the Committer until its completion, then the runner).
#pragma once

#include "store/queue_envelope.hpp"
#include "store/queue_index.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

namespace boxmail::store {

/// What scan() found and did, for the log (this code never logs).
struct QueueScan {
  std::size_t queued = 0;        ///< whole entries put in the index
  std::size_t removed = 0;       ///< half-made or finished entries removed
  std::size_t quarantined = 0;   ///< entries moved to queue/quarantine
  std::vector<std::string> errors;   ///< one line per quarantined entry or failed operation
  std::vector<std::string> notes;    ///< one line per removed entry and per foreign file left alone
};

class Queue {
 public:
  /// Makes SPOOL_DIR/queue (mode 0700) when missing and opens it with
  /// O_NOFOLLOW. Null with `err` (errno) when it cannot be made or opened,
  /// ELOOP or ENOTDIR when it is a symbolic link.
  static std::unique_ptr<Queue> open(const std::string& spool_dir, int& err);
  ~Queue();
  Queue(const Queue&) = delete;
  Queue& operator=(const Queue&) = delete;

  /// SPOOL_DIR/queue, for log lines.
  const std::string& dir() const { return dir_; }
  /// The file system the queue is on (st_dev), for the Committer's syncs.
  dev_t device() const { return dev_; }
  /// The queue directory's descriptor (for syncfs/fsync; not to be closed).
  int dir_fd() const { return fd_; }

  /// At start, before mail flows: reads the directory, puts every whole
  /// entry with a pending recipient in `index`, and tidies the rest:
  /// QID.tmp is removed (an update or an enqueue cut off: QID.env, if
  /// any, is the state before it); QID without QID.env is removed (its
  /// enqueue never completed, so it was never acknowledged); QID.env
  /// without QID, or an envelope that cannot be read or parsed, is moved
  /// to queue/quarantine with an error line (sender and recipients named);
  /// an entry without pending recipients (its removal was cut off) is
  /// removed. Anything else is left alone.
  QueueScan scan(QueueIndex& index);

  // ---- for the Committer: a new entry ----

  /// Writes QID.tmp with the envelope text (fsync'ed when `sync`: the
  /// Committer's SyncMode::Fsync; with syncfs the batch's data sync makes
  /// it durable). 0 or errno; `where` names the file.
  int stage_envelope(const QueueEnvelope& e, bool sync, std::string& where);

  /// Hard-links SPOOL_PATH (the message's spool file, already durable) to
  /// QID and renames QID.tmp to QID.env: the entry is whole (durable after
  /// the next sync of the queue's file system or fsync of dir_fd). On
  /// failure nothing is left (QID.tmp removed, a link made here removed);
  /// returns 0 or errno (EXDEV: the spool is on another file system, which
  /// the queue does not support) and `where`.
  int publish(const std::string& queue_id, const std::string& spool_path, std::string& where);

  /// Undoes stage_envelope (`published` false: removes QID.tmp) or
  /// publish (true: removes QID.env, then QID) of an enqueue that failed
  /// as a whole.
  void discard(const std::string& queue_id, bool published);

  // ---- for the runner ----

  /// Reads and parses QID.env. nullopt with `error` (the path and why).
  std::optional<QueueEnvelope> read(const std::string& queue_id, std::string& error) const;

  /// Replaces QID.env with `e` (QID.tmp written, fsync'ed, renamed over it)
  /// and, with `sync_dir`, fsyncs the directory so the rename survives a
  /// crash. A state change after a delivery may skip `sync_dir`: a lost
  /// rename brings back the state before it, i.e. a duplicate delivery.
  /// 0 or errno, `where` names the file.
  int update(const QueueEnvelope& e, bool sync_dir, std::string& where);

  /// Opens QID (the message data) for reading, O_NOFOLLOW. The descriptor
  /// or -1 with errno set.
  int open_data(const std::string& queue_id) const;

  /// Adds a message made here (a delivery status notification): writes
  /// QID with `data` and fsyncs it, then the envelope as update() does,
  /// then fsyncs the directory: durable when it returns 0. On failure
  /// both files are removed; errno and `where`.
  int add(const QueueEnvelope& e, std::string_view data, std::string& where);

  /// Removes a finished entry: QID.env, a directory fsync, then QID (so a
  /// crash never leaves an envelope without its data). 0 or errno.
  int remove(const std::string& queue_id);

  /// One failure of remove_all: the queue id and errno.
  struct RemoveFailure {
    std::string queue_id;
    int error = 0;
  };

  /// Removes finished entries together (the runner's batch: the messages
  /// of one connection): every QID.env, ONE directory fsync, then every QID
  /// whose envelope went. The same order as remove(), one sync instead of
  /// one per message. A crash before the sync may bring envelopes back
  /// (those messages are sent again: a duplicate, never a loss); after it,
  /// data left without envelope is removed by scan(). Returns the entries
  /// that could not be removed (all of them when the sync failed).
  std::vector<RemoveFailure> remove_all(const std::vector<std::string>& queue_ids);

  /// Every entry's envelope (read from disk, for the control socket's
  /// queue listing), oldest first; unreadable ones are skipped and named
  /// in `errors`.
  std::vector<QueueEnvelope> list(std::vector<std::string>& errors) const;

 private:
  Queue(std::string dir, int fd, dev_t dev) : dir_(std::move(dir)), fd_(fd), dev_(dev) {}
  int write_file(const std::string& name, std::string_view text, bool sync) const;
  int quarantine(const std::string& name);

  std::string dir_;
  int fd_ = -1;
  dev_t dev_ = 0;
};

}  // namespace boxmail::store

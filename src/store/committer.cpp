// committer.cpp - see committer.hpp.
#include "store/committer.hpp"

#include "store/safe_path.hpp"
#include "store/spool_file.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

namespace boxmail::store {
namespace {

/// Copies the spool file SRC_PATH into ROOT_FD/tmp/NAME, fsyncs it and
/// renames it to NEW_FD/NAME (ROOT_FD: the Maildir; NEW_FD: its new/). The
/// source is opened again for reading (the delivery's descriptor is the
/// writer's, O_WRONLY); tmp/ is opened without following a link, the file
/// made with O_EXCL|O_NOFOLLOW.
int copy_into(const std::string& src_path, int root_fd, int new_fd, const std::string& name) {
  const int src_fd = ::open(src_path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (src_fd < 0) return errno;
  const int tmp_fd = ::openat(root_fd, "tmp", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (tmp_fd < 0) {
    const int err = errno;
    ::close(src_fd);
    return err;
  }
  int out = ::openat(tmp_fd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0) {
    const int err = errno;
    ::close(tmp_fd);
    ::close(src_fd);
    return err;
  }
  struct stat st {};
  int rc = ::fstat(src_fd, &st) == 0 ? 0 : errno;
  off_t off = 0;
  while (rc == 0 && off < st.st_size) {
    ssize_t n = ::sendfile(out, src_fd, &off, static_cast<std::size_t>(st.st_size - off));
    if (n < 0 && errno != EINTR) rc = errno;
    if (n == 0) rc = EIO;
  }
  if (rc == 0 && ::fsync(out) != 0) rc = errno;
  ::close(out);
  if (rc == 0 && ::renameat(tmp_fd, name.c_str(), new_fd, name.c_str()) != 0) rc = errno;
  if (rc != 0) ::unlinkat(tmp_fd, name.c_str(), 0);
  ::close(tmp_fd);
  ::close(src_fd);
  return rc;
}

}  // namespace

Committer::Committer(std::string mail_dir, config::SyncMode mode) : mail_dir_(std::move(mail_dir)), mode_(mode) {
  make_dirs(mail_dir_, 0755);
  mail_dir_fd_ = ::open(mail_dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct stat st {};
  if (mail_dir_fd_ >= 0 && ::fstat(mail_dir_fd_, &st) == 0) mail_dev_ = st.st_dev;
  thread_ = std::thread([this] { run(); });
}

Committer::~Committer() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (mail_dir_fd_ >= 0) ::close(mail_dir_fd_);
}

void Committer::submit(Delivery d, std::function<void(int, std::string)> done) {
  {
    std::lock_guard lk(mu_);
    queue_.push_back(Request{std::move(d), std::move(done), 0, {}, {}, {}});
  }
  cv_.notify_one();
}

void Committer::set_mode(config::SyncMode mode) {
  std::lock_guard lk(mu_);
  mode_ = mode;
}

void Committer::set_usage(std::shared_ptr<UsageTable> usage) {
  std::lock_guard lk(mu_);
  usage_ = std::move(usage);
}

void Committer::set_queue(std::shared_ptr<Queue> queue) {
  std::lock_guard lk(mu_);
  outgoing_ = std::move(queue);
}

int Committer::stage(Request& r, Queue* queue, bool sync) {
  if (queue == nullptr) {
    r.where = "the outgoing queue (not set up)";
    return ENOTSUP;
  }
  const int err = queue->stage_envelope(*r.delivery.queue, sync, r.where);
  r.staged = err == 0;
  return err;
}

int Committer::enqueue(Request& r, Queue* queue) {
  const int err = queue->publish(r.delivery.queue->queue_id, r.delivery.spool_path, r.where);
  r.staged = false;   // published, or removed by publish
  r.queued = err == 0;
  return err;
}

CommitterStats Committer::stats() const {
  std::lock_guard lk(mu_);
  return stats_;
}

namespace {

/// A failed sync of the queue's file system fails the requests that have
/// a queue entry in `batch` (staged) and `linked` (published), only those.
template <class Request>
void fail_queued(std::vector<Request>& batch, std::vector<Request>& linked, int err) {
  if (err == 0) return;
  for (auto& r : batch) {
    if (r.staged && r.error == 0) {
      r.error = err;
      r.where = "queue sync";
    }
  }
  for (auto& r : linked) {
    if (r.queued && r.error == 0) {
      r.error = err;
      r.where = "queue sync";
    }
  }
}

}  // namespace

void Committer::run() {
  // Requests whose data is durable and whose links are made, waiting for the
  // sync that makes their directory entries durable. That sync is also the
  // data sync of the next batch: under load one sync per batch, not two.
  std::vector<Request> linked;
  std::set<std::string> dirs_to_sync;
  bool linked_queue = false;   // some request in `linked` is in the outgoing queue
  for (;;) {
    std::vector<Request> batch;
    config::SyncMode mode;
    std::shared_ptr<UsageTable> usage;
    std::shared_ptr<Queue> queue;
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return stopping_ || !queue_.empty() || !linked.empty(); });
      if (queue_.empty() && linked.empty() && stopping_) return;
      batch.reserve(queue_.size());
      while (!queue_.empty()) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      mode = mode_;
      usage = usage_;
      queue = outgoing_;
    }
    // Step 0: the queue envelopes, so the data sync makes them durable too.
    bool batch_queue = false;
    for (auto& r : batch) {
      if (!r.delivery.queue) continue;
      r.error = stage(r, queue.get(), mode == config::SyncMode::Fsync);
      batch_queue = batch_queue || r.error == 0;
    }
    std::uint64_t syncs = 0;
    int batch_err = 0;
    int linked_err = 0;
    if (mode == config::SyncMode::Syncfs) {
      // One syncfs per file system involved: the spool's for the batch data,
      // the mail store's (and the queue's) for the linked entries (the same
      // one, usually).
      struct stat st {};
      bool batch_synced = false;
      dev_t batch_dev = 0;
      if (!batch.empty()) {
        if (::syncfs(batch.front().delivery.fd) != 0) batch_err = errno;
        ++syncs;
        batch_synced = ::fstat(batch.front().delivery.fd, &st) == 0;
        batch_dev = st.st_dev;
      }
      const auto synced = [&](dev_t dev) { return batch_synced && dev == batch_dev; };
      if (batch_synced && batch_dev == mail_dev_) linked_err = batch_err;
      if (!linked.empty() && !synced(mail_dev_)) {
        if (::syncfs(mail_dir_fd_) != 0) linked_err = errno;
        ++syncs;
      }
      if (queue && (batch_queue || linked_queue)) {
        // The queue is on the spool's file system: normally synced above.
        int queue_err = 0;
        if (synced(queue->device())) {
          queue_err = batch_err;
        } else if (!linked.empty() && queue->device() == mail_dev_) {
          queue_err = linked_err;   // the mail store's sync above was the queue's
        } else {
          if (::syncfs(queue->dir_fd()) != 0) queue_err = errno;
          ++syncs;
        }
        fail_queued(batch, linked, queue_err);
      }
    } else {
      for (auto& r : batch) {
        if (::fsync(r.delivery.fd) != 0) {
          r.error = errno;
          r.where = "spool data sync";
        }
        ++syncs;
      }
      for (const auto& d : dirs_to_sync) {
        const int fd = open_dir(d);
        if (fd < 0 || ::fsync(fd) != 0) linked_err = errno;
        if (fd >= 0) ::close(fd);
        ++syncs;
      }
      if (linked_queue && queue) {
        std::vector<Request> none;   // the batch's envelopes were fsync'ed as they were written
        fail_queued(none, linked, ::fsync(queue->dir_fd()) == 0 ? 0 : errno);
        ++syncs;
      }
    }
    // The linked requests are durable now (or failed): answer them.
    finish(linked, linked_err, "mail store sync");
    linked.clear();
    dirs_to_sync.clear();
    linked_queue = false;
    // Link the batch whose data is durable; failures are answered at once.
    std::vector<Request> failed;
    for (auto& r : batch) {
      if (batch_err != 0 && r.error == 0) {
        r.error = batch_err;
        r.where = "spool data sync";
      }
      if (r.error == 0 && r.delivery.queue) {
        r.error = enqueue(r, queue.get());
        linked_queue = linked_queue || r.error == 0;
      }
      if (r.error == 0) {
        for (const auto& maildir : r.delivery.maildirs) {
          if (usage) {
            usage->begin(maildir);
            r.begun.push_back(maildir);
          }
          if (int err = place(r, maildir, dirs_to_sync); err != 0) {
            r.error = err;
            if (err != ELOOP || r.where.empty()) r.where = maildir;   // a link: the path that is one
            break;
          }
        }
      }
      (r.error == 0 ? linked : failed).push_back(std::move(r));
    }
    finish(failed, 0, "");
    std::lock_guard lk(mu_);
    if (!batch.empty()) ++stats_.batches;
    stats_.deliveries += batch.size();
    stats_.syncs += syncs;
  }
}

void Committer::finish(std::vector<Request>& requests, int sync_error, const char* sync_what) {
  std::shared_ptr<UsageTable> usage;
  {
    std::lock_guard lk(mu_);
    usage = usage_;
  }
  for (auto& r : requests) {
    const int err = r.error != 0 ? r.error : sync_error;
    if (err != 0) {
      for (const auto& p : r.linked) {
        const int fd = open_dir(parent_of(p));
        if (fd < 0) continue;
        ::unlinkat(fd, p.substr(p.find_last_of('/') + 1).c_str(), 0);
        ::close(fd);
      }
    }
    if (err != 0 && (r.staged || r.queued)) {
      std::shared_ptr<Queue> queue;
      {
        std::lock_guard lk(mu_);
        queue = outgoing_;
      }
      if (queue) queue->discard(r.delivery.queue->queue_id, r.queued);
    }
    if (usage) {
      MaildirUsage added;
      if (err == 0) add_message(added, stored_octets(r.delivery.name).value_or(0));
      for (const auto& root : r.begun) usage->end(root, added, {});
    }
    r.done(err, r.error != 0 ? r.where : std::string(sync_what));
  }
  for (auto& r : requests) {
    ::unlink(r.delivery.spool_path.c_str());
    ::close(r.delivery.fd);
  }
}

int Committer::open_dir(const std::string& path, mode_t create_mode, bool* created, std::string* failed) const {
  // Below mail_dir: from its descriptor, opened once. Another root (not
  // expected): from the Maildir's parent, opened by path.
  const std::string prefix = mail_dir_ + "/";
  if (mail_dir_fd_ >= 0 && (path == mail_dir_ || path.starts_with(prefix)))
    return open_dir_beneath(mail_dir_fd_, mail_dir_, path, create_mode, created, failed);
  return open_dir_beneath(-1, parent_of(path), path, create_mode, created, failed);
}

int Committer::ensure_maildir(const std::string& maildir, std::set<std::string>& dirs_to_sync, std::string& where) {
  if (known_maildirs_.count(maildir)) return 0;
  bool created = false;
  std::string failed;
  const int root_fd = open_dir(maildir, 0700, &created, &failed);
  if (root_fd < 0) {
    const int err = errno;
    where = path_note(failed, err);
    return err;
  }
  std::string new_failed;
  const int new_fd = open_dir_beneath(root_fd, maildir, maildir + "/new", 0, nullptr, &new_failed);
  int err = new_fd < 0 ? errno : 0;
  if (new_fd >= 0) ::close(new_fd);
  if (err == ENOENT) {
    err = 0;
    created = true;
    for (const char* sub : {"tmp", "new", "cur"}) {
      if (::mkdirat(root_fd, sub, 0700) != 0 && errno != EEXIST) {
        err = errno;
        where = path_note(maildir + "/" + sub, err);
        break;
      }
    }
  } else if (err != 0) {
    where = path_note(new_failed, err);
  }
  ::close(root_fd);
  if (err != 0) return err;
  if (created) {
    // The new directories must survive a crash too.
    dirs_to_sync.insert(parent_of(maildir));
    dirs_to_sync.insert(maildir);
  }
  known_maildirs_.insert(maildir);
  return 0;
}

int Committer::place(Request& r, const std::string& maildir, std::set<std::string>& dirs_to_sync) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (int err = ensure_maildir(maildir, dirs_to_sync, r.where); err != 0) return err;
    const std::string new_dir = maildir + "/new";
    const std::string target = new_dir + "/" + r.delivery.name;
    std::string failed;
    const int new_fd = open_dir(new_dir, 0, nullptr, &failed);
    int err = new_fd < 0 ? errno : 0;
    if (err == 0) {
      if (::linkat(AT_FDCWD, r.delivery.spool_path.c_str(), new_fd, r.delivery.name.c_str(), 0) == 0) {
        ::close(new_fd);
        r.linked.push_back(target);
        dirs_to_sync.insert(new_dir);
        return 0;
      }
      err = errno;
      failed = target;
    }
    if (err == EXDEV) {
      const int root_fd = open_dir(maildir, 0, nullptr, &failed);
      int cerr = root_fd < 0 ? errno : copy_into(r.delivery.spool_path, root_fd, new_fd, r.delivery.name);
      if (root_fd >= 0) ::close(root_fd);
      ::close(new_fd);
      if (cerr != 0) {
        r.where = path_note(root_fd < 0 ? failed : maildir + "/tmp", cerr);
        return cerr;
      }
      r.linked.push_back(target);
      dirs_to_sync.insert(new_dir);
      return 0;
    }
    if (new_fd >= 0) ::close(new_fd);
    if (err != ENOENT) {
      r.where = path_note(failed, err);
      return err;
    }
    known_maildirs_.erase(maildir);  // removed behind our back: make it again
  }
  return ENOENT;
}

}  // namespace boxmail::store

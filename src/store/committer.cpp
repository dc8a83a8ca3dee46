// committer.cpp - see committer.hpp.
#include "store/committer.hpp"

#include "store/spool_file.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

namespace boxmail::store {
namespace {

int fsync_path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  int rc = ::fsync(fd) == 0 ? 0 : errno;
  ::close(fd);
  return rc;
}

std::string parent_of(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

/// Copies `src_fd` into DIR/tmp/NAME, fsyncs it and renames it to DIR/new/NAME.
int copy_into(int src_fd, const std::string& maildir, const std::string& name) {
  const std::string tmp = maildir + "/tmp/" + name;
  int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (out < 0) return errno;
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
  if (rc == 0 && ::rename(tmp.c_str(), (maildir + "/new/" + name).c_str()) != 0) rc = errno;
  if (rc != 0) ::unlink(tmp.c_str());
  return rc;
}

}  // namespace

Committer::Committer(std::string mail_dir, config::SyncMode mode) : mail_dir_(std::move(mail_dir)), mode_(mode) {
  make_dirs(mail_dir_, 0755);
  mail_dir_fd_ = ::open(mail_dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
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

void Committer::submit(Delivery d, std::function<void(int)> done) {
  {
    std::lock_guard lk(mu_);
    queue_.push_back(Request{std::move(d), std::move(done), 0, {}});
  }
  cv_.notify_one();
}

void Committer::set_mode(config::SyncMode mode) {
  std::lock_guard lk(mu_);
  mode_ = mode;
}

CommitterStats Committer::stats() const {
  std::lock_guard lk(mu_);
  return stats_;
}

void Committer::run() {
  for (;;) {
    std::vector<Request> batch;
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) return;
      batch.reserve(queue_.size());
      while (!queue_.empty()) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    commit_batch(batch);
  }
}

int Committer::ensure_maildir(const std::string& maildir, std::set<std::string>& dirs_to_sync) {
  if (known_maildirs_.count(maildir)) return 0;
  struct stat st {};
  if (::stat((maildir + "/new").c_str(), &st) != 0) {
    for (const char* sub : {"", "/tmp", "/new", "/cur"}) {
      const std::string d = maildir + sub;
      if (::mkdir(d.c_str(), 0700) != 0 && errno != EEXIST) return errno;
    }
    // The new directories must survive a crash too.
    dirs_to_sync.insert(parent_of(maildir));
    dirs_to_sync.insert(maildir);
  }
  known_maildirs_.insert(maildir);
  return 0;
}

int Committer::place(Request& r, const std::string& maildir, std::set<std::string>& dirs_to_sync) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (int err = ensure_maildir(maildir, dirs_to_sync); err != 0) return err;
    const std::string target = maildir + "/new/" + r.delivery.name;
    if (::link(r.delivery.spool_path.c_str(), target.c_str()) == 0) {
      r.linked.push_back(target);
      dirs_to_sync.insert(maildir + "/new");
      return 0;
    }
    const int err = errno;
    if (err == EXDEV) {
      if (int cerr = copy_into(r.delivery.fd, maildir, r.delivery.name); cerr != 0) return cerr;
      r.linked.push_back(target);
      dirs_to_sync.insert(maildir + "/new");
      return 0;
    }
    if (err != ENOENT) return err;
    known_maildirs_.erase(maildir);  // removed behind our back: make it again
  }
  return ENOENT;
}

void Committer::commit_batch(std::vector<Request>& batch) {
  config::SyncMode mode;
  {
    std::lock_guard lk(mu_);
    mode = mode_;
  }
  std::uint64_t syncs = 0;
  // 1. data durable
  if (mode == config::SyncMode::Syncfs) {
    if (::syncfs(batch.front().delivery.fd) != 0) {
      const int err = errno;
      for (auto& r : batch) r.error = err;
    }
    ++syncs;
  } else {
    for (auto& r : batch) {
      if (::fsync(r.delivery.fd) != 0) r.error = errno;
      ++syncs;
    }
  }
  // 2. link into each Maildir/new
  std::set<std::string> dirs_to_sync;
  for (auto& r : batch) {
    if (r.error != 0) continue;
    for (const auto& maildir : r.delivery.maildirs) {
      if (int err = place(r, maildir, dirs_to_sync); err != 0) {
        r.error = err;
        break;
      }
    }
    if (r.error != 0) {
      for (const auto& p : r.linked) ::unlink(p.c_str());
      r.linked.clear();
    }
  }
  // 3. directory entries durable
  int dir_err = 0;
  if (!dirs_to_sync.empty()) {
    if (mode == config::SyncMode::Syncfs && mail_dir_fd_ >= 0) {
      if (::syncfs(mail_dir_fd_) != 0) dir_err = errno;
      ++syncs;
    } else {
      for (const auto& d : dirs_to_sync) {
        if (int err = fsync_path(d); err != 0) dir_err = err;
        ++syncs;
      }
    }
  }
  // 4. completions, 5. spool files away
  for (auto& r : batch) {
    int err = r.error != 0 ? r.error : dir_err;
    if (err != 0 && r.error == 0) {
      for (const auto& p : r.linked) ::unlink(p.c_str());
    }
    r.done(err);
  }
  for (auto& r : batch) {
    ::unlink(r.delivery.spool_path.c_str());
    ::close(r.delivery.fd);
  }
  std::lock_guard lk(mu_);
  ++stats_.batches;
  stats_.deliveries += batch.size();
  stats_.syncs += syncs;
}

}  // namespace boxmail::store

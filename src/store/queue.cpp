// queue.cpp - see queue.hpp.
#include "store/queue.hpp"

#include "store/maildir_name.hpp"
#include "store/safe_path.hpp"
#include "store/spool_file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <map>
#include <sys/stat.h>
#include <unistd.h>

namespace boxmail::store {
namespace {

constexpr std::size_t kMaxEnvelope = 4 << 20;   // octets: 10,000 recipients at ~400 octets each
constexpr const char* kQuarantine = "quarantine";

std::string env_name(const std::string& qid) { return qid + ".env"; }
std::string tmp_name(const std::string& qid) { return qid + ".tmp"; }

/// The name's queue id and suffix ("", ".env", ".tmp"); false for any
/// other name.
bool split_name(std::string_view name, std::string& qid, std::string& suffix) {
  const std::string_view base = name.substr(0, 13);
  if (!parse_queue_id(base)) return false;
  const std::string_view rest = name.substr(base.size());
  if (!rest.empty() && rest != ".env" && rest != ".tmp") return false;
  qid = base;
  suffix = rest;
  return true;
}

/// Reads the regular file DIR_FD/NAME (not a link) whole, up to `max` octets.
int read_file_at(int dir_fd, const std::string& name, std::size_t max, std::string& out) {
  const int fd = ::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return errno;
  struct stat st {};
  int err = ::fstat(fd, &st) != 0 ? errno : !S_ISREG(st.st_mode) ? EINVAL : 0;
  if (err == 0 && static_cast<std::uint64_t>(st.st_size) > max) err = EFBIG;
  out.clear();
  char buf[8192];
  while (err == 0) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) err = errno;
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > max) err = EFBIG;
  }
  ::close(fd);
  return err;
}

/// "sender <S> recipients A, B" of an envelope, for a log line.
std::string who(const QueueEnvelope& e) {
  std::string s = "sender <" + e.reverse_path + "> recipients";
  for (const QueueRecipient& r : e.recipients) s += " " + r.forward_path;
  return s;
}

}  // namespace

std::unique_ptr<Queue> Queue::open(const std::string& spool_dir, int& err) {
  const std::string dir = spool_dir + "/queue";
  const int parent = ::open(spool_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (parent < 0 && errno == ENOENT) {
    err = make_dirs(spool_dir, 0700);
    if (err != 0) return nullptr;
    return open(spool_dir, err);
  }
  if (parent < 0) {
    err = errno;
    return nullptr;
  }
  bool created = false;
  const int fd = open_dir_beneath(parent, spool_dir, dir, 0700, &created);
  err = fd < 0 ? errno : 0;
  ::close(parent);
  if (fd < 0) return nullptr;
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    err = errno;
    ::close(fd);
    return nullptr;
  }
  return std::unique_ptr<Queue>(new Queue(dir, fd, st.st_dev));
}

Queue::~Queue() {
  if (fd_ >= 0) ::close(fd_);
}

int Queue::write_file(const std::string& name, std::string_view text, bool sync) const {
  const int fd = ::openat(fd_, name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return errno;
  int err = 0;
  while (err == 0 && !text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) err = errno;
    if (n > 0) text.remove_prefix(static_cast<std::size_t>(n));
  }
  if (err == 0 && sync && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  return err;
}

int Queue::stage_envelope(const QueueEnvelope& e, bool sync, std::string& where) {
  const std::string name = tmp_name(e.queue_id);
  const int err = write_file(name, format_envelope(e), sync);
  if (err != 0) {
    ::unlinkat(fd_, name.c_str(), 0);
    where = dir_ + "/" + name;
  }
  return err;
}

int Queue::publish(const std::string& queue_id, const std::string& spool_path, std::string& where) {
  const std::string env = env_name(queue_id);
  const std::string tmp = tmp_name(queue_id);
  int err = 0;
  if (::linkat(AT_FDCWD, spool_path.c_str(), fd_, queue_id.c_str(), 0) != 0) {
    err = errno;
    where = dir_ + "/" + queue_id;
  } else if (::renameat(fd_, tmp.c_str(), fd_, env.c_str()) != 0) {
    err = errno;
    where = dir_ + "/" + env;
    ::unlinkat(fd_, queue_id.c_str(), 0);
  }
  if (err != 0) ::unlinkat(fd_, tmp.c_str(), 0);
  return err;
}

void Queue::discard(const std::string& queue_id, bool published) {
  if (published) {
    ::unlinkat(fd_, env_name(queue_id).c_str(), 0);
    ::unlinkat(fd_, queue_id.c_str(), 0);
  } else {
    ::unlinkat(fd_, tmp_name(queue_id).c_str(), 0);
  }
}

std::optional<QueueEnvelope> Queue::read(const std::string& queue_id, std::string& error) const {
  const std::string name = env_name(queue_id);
  std::string text;
  if (const int err = read_file_at(fd_, name, kMaxEnvelope, text); err != 0) {
    error = path_error(dir_ + "/" + name, err);
    return std::nullopt;
  }
  std::string why;
  auto e = parse_envelope(text, why);
  if (!e) {
    error = dir_ + "/" + name + ": " + why;
  } else if (e->queue_id != queue_id) {
    error = dir_ + "/" + name + ": holds queue id " + e->queue_id;
    e.reset();
  }
  return e;
}

int Queue::update(const QueueEnvelope& e, bool sync_dir, std::string& where) {
  const std::string tmp = tmp_name(e.queue_id);
  int err = write_file(tmp, format_envelope(e), true);
  if (err == 0 && ::renameat(fd_, tmp.c_str(), fd_, env_name(e.queue_id).c_str()) != 0) err = errno;
  if (err != 0) {
    ::unlinkat(fd_, tmp.c_str(), 0);
    where = dir_ + "/" + env_name(e.queue_id);
    return err;
  }
  if (sync_dir && ::fsync(fd_) != 0) {
    where = dir_;
    return errno;
  }
  return 0;
}

int Queue::open_data(const std::string& queue_id) const {
  return ::openat(fd_, queue_id.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
}

int Queue::add(const QueueEnvelope& e, std::string_view data, std::string& where) {
  // The data first: without its envelope it is a half-made entry that
  // scan() removes, so a crash anywhere here loses nothing acknowledged.
  int err = write_file(e.queue_id, data, true);
  if (err != 0) {
    where = dir_ + "/" + e.queue_id;
  } else {
    err = update(e, true, where);
  }
  if (err != 0) discard(e.queue_id, true);
  return err;
}

int Queue::remove(const std::string& queue_id) {
  if (::unlinkat(fd_, env_name(queue_id).c_str(), 0) != 0 && errno != ENOENT) return errno;
  // Without this sync the file system could keep the data's removal and
  // lose the envelope's: an envelope without data, quarantined at start.
  if (::fsync(fd_) != 0) return errno;
  if (::unlinkat(fd_, queue_id.c_str(), 0) != 0 && errno != ENOENT) return errno;
  return 0;
}

std::vector<Queue::RemoveFailure> Queue::remove_all(const std::vector<std::string>& queue_ids) {
  std::vector<RemoveFailure> failed;
  std::vector<const std::string*> gone;
  for (const std::string& id : queue_ids) {
    if (::unlinkat(fd_, env_name(id).c_str(), 0) != 0 && errno != ENOENT) {
      failed.push_back({id, errno});
    } else {
      gone.push_back(&id);
    }
  }
  if (gone.empty()) return failed;
  if (::fsync(fd_) != 0) {   // see remove(): no data removal before this sync
    const int err = errno;
    for (const std::string* id : gone) failed.push_back({*id, err});
    return failed;
  }
  for (const std::string* id : gone) {
    if (::unlinkat(fd_, id->c_str(), 0) != 0 && errno != ENOENT) failed.push_back({*id, errno});
  }
  return failed;
}

int Queue::quarantine(const std::string& name) {
  if (::mkdirat(fd_, kQuarantine, 0700) != 0 && errno != EEXIST) return errno;
  const int qfd = ::openat(fd_, kQuarantine, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (qfd < 0) return errno;
  const int err = ::renameat(fd_, name.c_str(), qfd, name.c_str()) == 0 ? 0 : errno;
  ::close(qfd);
  return err;
}

QueueScan Queue::scan(QueueIndex& index) {
  QueueScan out;
  struct Found {
    bool data = false, env = false, tmp = false;
  };
  std::map<std::string, Found> found;
  const int dup = ::openat(fd_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR* d = dup < 0 ? nullptr : ::fdopendir(dup);
  if (d == nullptr) {
    out.errors.push_back(path_error(dir_, errno));
    if (dup >= 0) ::close(dup);
    return out;
  }
  while (dirent* ent = ::readdir(d)) {
    const std::string_view name = ent->d_name;
    if (name == "." || name == ".." || name == kQuarantine) continue;
    std::string qid, suffix;
    struct stat st {};
    const bool ours = split_name(name, qid, suffix);
    if (!ours || ::fstatat(fd_, ent->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) {
      out.notes.push_back(dir_ + "/" + std::string(name) + ": not a queue file; left alone");
      continue;
    }
    Found& f = found[qid];
    (suffix.empty() ? f.data : suffix == ".env" ? f.env : f.tmp) = true;
  }
  ::closedir(d);

  for (const auto& [qid, f] : found) {
    if (f.tmp) ::unlinkat(fd_, tmp_name(qid).c_str(), 0);
    if (f.data && !f.env) {
      if (::unlinkat(fd_, qid.c_str(), 0) == 0) {
        ++out.removed;
        out.notes.push_back(qid + ": removed a queued message without envelope (its enqueue never completed)");
      }
      continue;
    }
    if (!f.env) continue;
    std::string text;
    const int read_err = read_file_at(fd_, env_name(qid), kMaxEnvelope, text);
    if (read_err != 0 && read_err != EFBIG) {
      // A passing fault (EMFILE, EIO): the entry is left as it is for the next start.
      out.errors.push_back(path_error(dir_ + "/" + env_name(qid), read_err) + "; left in place, not queued");
      continue;
    }
    std::string error;
    std::optional<QueueEnvelope> e = read_err == 0 ? parse_envelope(text, error) : std::nullopt;
    if (!e) {
      error = dir_ + "/" + env_name(qid) + ": " + (read_err == EFBIG ? "larger than an envelope can be" : error);
    } else if (e->queue_id != qid) {
      error = dir_ + "/" + env_name(qid) + ": holds queue id " + e->queue_id;
      e.reset();
    } else if (!f.data) {
      error = dir_ + "/" + qid + ": the message data is missing; " + who(*e);
    }
    if (!e || !f.data) {
      int err = quarantine(env_name(qid));
      if (err == 0 && f.data) err = quarantine(qid);
      if (err == 0) ++out.quarantined;
      out.errors.push_back(error + (err == 0 ? "; moved to " + dir_ + "/" + kQuarantine
                                              : "; cannot move it to quarantine: " + std::string(std::strerror(err))));
      continue;
    }
    if (!has_pending(*e)) {
      if (remove(qid) == 0) ++out.removed;
      out.notes.push_back(qid + ": removed a finished entry");
      continue;
    }
    index.put(QueueItem{*parse_queue_id(qid), earliest_attempt(*e).value_or(0), destination_of(*e)});
    ++out.queued;
  }
  return out;
}

std::vector<QueueEnvelope> Queue::list(std::vector<std::string>& errors) const {
  std::vector<QueueEnvelope> out;
  const int dup = ::openat(fd_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR* d = dup < 0 ? nullptr : ::fdopendir(dup);
  if (d == nullptr) {
    errors.push_back(path_error(dir_, errno));
    if (dup >= 0) ::close(dup);
    return out;
  }
  std::vector<std::string> ids;
  while (dirent* ent = ::readdir(d)) {
    std::string qid, suffix;
    if (split_name(ent->d_name, qid, suffix) && suffix == ".env") ids.push_back(qid);
  }
  ::closedir(d);
  for (const auto& qid : ids) {
    std::string error;
    if (auto e = read(qid, error)) {
      out.push_back(std::move(*e));
    } else {
      errors.push_back(error);
    }
  }
  std::sort(out.begin(), out.end(), [](const QueueEnvelope& a, const QueueEnvelope& b) {
    return a.arrival != b.arrival ? a.arrival < b.arrival : a.queue_id < b.queue_id;
  });
  return out;
}

}  // namespace boxmail::store

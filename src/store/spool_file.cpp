// spool_file.cpp - see spool_file.hpp.
#include "store/spool_file.hpp"

#include "store/maildir_name.hpp"

#include "config/reload_rule.hpp"

#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace boxmail::store {

std::unique_ptr<SpoolFile> SpoolFile::create(const std::string& dir, const std::string& queue_id, int& err) {
  std::string path = dir + "/" + queue_id;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    err = errno;
    return nullptr;
  }
  err = 0;
  return std::unique_ptr<SpoolFile>(new SpoolFile(fd, std::move(path)));
}

std::unique_ptr<SpoolFile> SpoolFile::adopt(int fd, std::string path) {
  return std::unique_ptr<SpoolFile>(new SpoolFile(fd, std::move(path)));
}

SpoolFile::~SpoolFile() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
}

void SpoolFile::write(std::string_view data) {
  if (error_ != 0 || fd_ < 0) return;
  while (!data.empty()) {
    ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      error_ = errno;
      return;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
    size_ += static_cast<std::uint64_t>(n);
  }
}

int SpoolFile::release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

int make_dirs(const std::string& path, unsigned mode, std::optional<DirOwner> owner) {
  if (path.empty()) return EINVAL;
  std::string cur;
  std::size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    cur = path.substr(0, pos);
    if (cur.empty()) continue;
    if (::mkdir(cur.c_str(), mode) == 0) {
      if (owner) {
        // Only a directory made just now is handed over, through a
        // descriptor of it (never a path a link could redirect).
        const int fd = ::open(cur.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) return errno;
        const int rc = ::fchown(fd, owner->uid, owner->gid);
        const int e = errno;
        ::close(fd);
        if (rc != 0) return e;
      }
    } else if (errno != EEXIST) {
      return errno;
    }
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return errno;
  return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
}

namespace {

/// True when NAME is in the spool's own naming scheme: a queue id as
/// queue_id_from writes it (parse_queue_id decodes it and writes it again,
/// so the two cannot drift apart).
bool is_spool_name(std::string_view name) { return parse_queue_id(name).has_value(); }

}  // namespace

int clean_spool(const std::string& spool_tmp_dir, int& err) {
  err = make_dirs(spool_tmp_dir, 0700);
  if (err != 0) return -1;
  // The directory itself is never a symbolic link, and everything below is
  // reached relative to its descriptor.
  const int dfd = ::open(spool_tmp_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0) {
    err = errno;
    return -1;
  }
  DIR* d = ::fdopendir(dfd);
  if (d == nullptr) {
    err = errno;
    ::close(dfd);
    return -1;
  }
  int removed = 0;
  while (dirent* e = ::readdir(d)) {
    // Only boxmail's own spool files: regular files named by a queue id.
    // Anything else (a user's file, a symbolic link, a directory) stays.
    if (!is_spool_name(e->d_name)) continue;
    struct stat st {};
    if (::fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
    if (::unlinkat(dfd, e->d_name, 0) == 0) ++removed;
  }
  ::closedir(d);
  return removed;
}

}  // namespace boxmail::store

namespace boxmail::store {

std::string write_file_atomic(const std::string& path, std::string_view text, unsigned mode) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) return "cannot create " + tmp + ": " + std::strerror(errno);
  // An old tmp file may have had another mode.
  std::string error;
  if (::fchmod(fd, mode) != 0) error = "cannot set the mode of " + tmp + ": " + std::strerror(errno);
  std::size_t done = 0;
  while (error.empty() && done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = "cannot write " + tmp + ": " + std::strerror(n < 0 ? errno : EIO);
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (error.empty() && ::fsync(fd) != 0) error = "cannot sync " + tmp + ": " + std::strerror(errno);
  if (::close(fd) != 0 && error.empty()) error = "cannot close " + tmp + ": " + std::strerror(errno);
  if (error.empty() && ::rename(tmp.c_str(), path.c_str()) != 0)
    error = "cannot replace " + path + ": " + std::strerror(errno);
  if (!error.empty()) {
    ::unlink(tmp.c_str());
    return error;
  }
  const int dfd = ::open(config::parent_directory(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const int e = dfd < 0 ? errno : (::fsync(dfd) == 0 ? 0 : errno);
  if (dfd >= 0) ::close(dfd);
  if (e != 0) return "cannot sync the directory of " + path + ": " + std::strerror(e);
  return {};
}

}  // namespace boxmail::store

// safe_path.cpp - see safe_path.hpp.
#include "store/safe_path.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace boxmail::store {
namespace {

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

/// Opens component NAME of directory DIR_FD as a directory, not following
/// it; a symbolic link is reported as ELOOP whatever openat said.
int open_component(int dir_fd, const std::string& name) {
  const int fd = ::openat(dir_fd, name.c_str(), kDirFlags);
  if (fd >= 0) return fd;
  const int err = errno;
  if (err == ENOTDIR || err == ELOOP) {
    struct stat st {};
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
      errno = ELOOP;
      return -1;
    }
  }
  errno = err;
  return -1;
}

}  // namespace

std::string parent_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

int open_dir_beneath(int base_fd, const std::string& base, const std::string& path, mode_t create_mode,
                     bool* created, std::string* failed) {
  auto fail = [&](const std::string& where, int err) {
    if (failed != nullptr) *failed = where;
    errno = err;
    return -1;
  };
  std::string rest;
  if (path == base) {
    rest.clear();
  } else if (path.size() > base.size() && path.compare(0, base.size(), base) == 0 &&
             (path[base.size()] == '/' || base.ends_with('/'))) {
    rest = path.substr(base.size());
  } else {
    return fail(path, EINVAL);
  }
  int fd = base_fd >= 0 ? ::openat(base_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                        : ::open(base.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail(base, errno);
  std::string walked = base;
  std::size_t pos = 0;
  while (pos <= rest.size()) {
    const std::size_t slash = rest.find('/', pos);
    const std::string name = rest.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
    pos = slash == std::string::npos ? rest.size() + 1 : slash + 1;
    if (name.empty() || name == ".") continue;
    walked += "/" + name;
    if (name == "..") {
      ::close(fd);
      return fail(walked, EINVAL);
    }
    int next = open_component(fd, name);
    if (next < 0 && errno == ENOENT && create_mode != 0) {
      if (::mkdirat(fd, name.c_str(), create_mode) == 0) {
        if (created != nullptr) *created = true;
      } else if (errno != EEXIST) {
        const int err = errno;
        ::close(fd);
        return fail(walked, err);
      }
      next = open_component(fd, name);
    }
    const int err = errno;
    ::close(fd);
    if (next < 0) return fail(walked, err);
    fd = next;
  }
  return fd;
}

int open_maildir_dir(const std::string& root, const std::string& path, std::string* failed) {
  return open_dir_beneath(-1, parent_of(root), path, 0, nullptr, failed);
}

std::string path_note(const std::string& path, int err) {
  return err == ELOOP ? path + " (a symbolic link: not followed)" : path;
}

std::string path_error(const std::string& path, int err) {
  return path_note(path + ": " + std::strerror(err), err);
}

}  // namespace boxmail::store

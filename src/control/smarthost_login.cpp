// smarthost_login.cpp - see smarthost_login.hpp.
#include "control/smarthost_login.hpp"

#include "net/log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace boxmail::control {
namespace {

std::string dir_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

/// fsync of `path`'s directory (the rename or unlink is durable); errno or 0.
int sync_dir(const std::string& path) {
  const int fd = ::open(dir_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  const int rc = ::fsync(fd) == 0 ? 0 : errno;
  ::close(fd);
  return rc;
}

/// Writes `text` to `path` as tmp + fsync + rename, mode 0600; "" or what failed.
std::string write_private(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return "cannot create " + tmp + ": " + std::strerror(errno);
  // An old tmp file may have had another mode.
  std::string error;
  if (::fchmod(fd, 0600) != 0) error = "cannot set the mode of " + tmp + ": " + std::strerror(errno);
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
  if (const int e = sync_dir(path); e != 0) return "cannot sync the directory of " + path + ": " + std::strerror(e);
  return {};
}

}  // namespace

LoginChangeReply store_smarthost_login(const std::string& path, const SmarthostLogin& login) {
  LoginChangeReply r;
  std::string text;
  text.reserve(login.user.size() + login.password.size() + 2);
  text.append(login.user).append(":").append(login.password).append("\n");
  const std::string error = write_private(path, text);
  // The password's copy is overwritten before the memory goes back.
  volatile char* p = text.data();
  for (std::size_t i = 0; i < text.size(); ++i) p[i] = 0;
  if (!error.empty()) {
    net::log_error("smarthost login for " + std::string(login.user) + " not stored: " + error);
    r.message = "the login could not be stored (" + error + "); nothing was changed";
    r.user = smarthost_login_user(path);
    return r;
  }
  net::log_info("smarthost login stored for " + std::string(login.user) + " in " + path);
  r.done = true;
  r.message = "stored";
  r.user = std::string(login.user);
  return r;
}

LoginChangeReply clear_smarthost_login(const std::string& path) {
  LoginChangeReply r;
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    const std::string error = "cannot remove " + path + ": " + std::strerror(errno);
    net::log_error("smarthost login not cleared: " + error);
    r.message = error;
    r.user = smarthost_login_user(path);
    return r;
  }
  (void)sync_dir(path);
  net::log_info("smarthost login cleared (" + path + ")");
  r.done = true;
  r.message = "cleared";
  return r;
}

std::optional<StoredLogin> read_smarthost_login(const std::string& path, std::string& error) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENOENT) error = path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  char buf[1024];
  const ssize_t n = ::read(fd, buf, sizeof buf);
  if (n < 0) error = path + ": " + std::strerror(errno);
  ::close(fd);
  std::optional<StoredLogin> login;
  if (n > 0) {
    std::string_view line(buf, static_cast<std::size_t>(n));
    line = line.substr(0, line.find_first_of("\r\n"));
    const auto colon = line.find(':');
    if (colon != std::string_view::npos && colon > 0) {
      login = StoredLogin{std::string(line.substr(0, colon)), std::string(line.substr(colon + 1))};
    } else if (!line.empty()) {
      error = path + ": expected one line user:password";
    }
  }
  volatile char* p = buf;   // the password does not stay on the stack
  for (std::size_t i = 0; i < sizeof buf; ++i) p[i] = 0;
  return login;
}

std::optional<std::string> smarthost_login_user(const std::string& path) {
  std::string error;
  std::optional<StoredLogin> login = read_smarthost_login(path, error);
  if (!login) return std::nullopt;
  return std::move(login->user);
}

}  // namespace boxmail::control

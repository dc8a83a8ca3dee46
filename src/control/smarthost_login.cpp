// smarthost_login.cpp - see smarthost_login.hpp.
#include "control/smarthost_login.hpp"

#include "net/log.hpp"
#include "store/spool_file.hpp"
#include "config/reload_rule.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace boxmail::control {
namespace {

/// fsync of `path`'s directory (the rename or unlink is durable); errno or 0.
int sync_dir(const std::string& path) {
  const int fd = ::open(config::parent_directory(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  const int rc = ::fsync(fd) == 0 ? 0 : errno;
  ::close(fd);
  return rc;
}

}  // namespace

LoginChangeReply store_smarthost_login(const std::string& path, const SmarthostLogin& login) {
  LoginChangeReply r;
  std::string text;
  text.reserve(login.user.size() + login.password.size() + 2);
  text.append(login.user).append(":").append(login.password).append("\n");
  const std::string error = store::write_file_atomic(path, text, 0600);
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

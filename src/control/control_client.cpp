// control_client.cpp - see control_client.hpp.
#include "control/control_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace boxmail::control {

namespace {
constexpr std::size_t kMaxReply = 256 * 1024;

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};
}  // namespace

ClientResult control_request(const std::string& path, std::string_view request, int timeout_ms,
                             std::string_view payload) {
  ClientResult r;
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) {
    r.error = "control socket path too long";
    return r;
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  Fd s;
  s.fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s.fd < 0 || ::connect(s.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    r.error = "cannot connect to " + path + ": " + std::strerror(errno);
    return r;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto wait = [&](short events) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{s.fd, events, 0};
    return ::poll(&p, 1, static_cast<int>(left.count())) == 1;
  };
  std::string out(request);
  out += '\n';
  out += payload;
  std::size_t sent = 0;
  while (sent < out.size()) {
    if (!wait(POLLOUT)) {
      r.error = "timeout writing to the control socket";
      return r;
    }
    const ssize_t n = ::send(s.fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      r.error = std::string("write to the control socket: ") + std::strerror(errno);
      return r;
    }
    sent += static_cast<std::size_t>(n);
  }
  std::string in;
  char buf[4096];
  for (;;) {
    if (!wait(POLLIN)) {
      r.error = "timeout waiting for boxmaild's reply";
      return r;
    }
    const ssize_t n = ::read(s.fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      r.error = std::string("read from the control socket: ") + std::strerror(errno);
      return r;
    }
    if (n == 0) break;
    in.append(buf, static_cast<std::size_t>(n));
    if (in.size() > kMaxReply) {
      r.error = "reply too large";
      return r;
    }
    if (in.ends_with("\n.\n") || in == ".\n") break;
  }
  ReplyParse p = parse_reply(in);
  if (!p.error.empty() || !p.complete) {
    r.error = p.error.empty() ? "truncated reply from boxmaild" : p.error;
    return r;
  }
  r.reached = true;
  r.reply = std::move(p.reply);
  return r;
}

}  // namespace boxmail::control

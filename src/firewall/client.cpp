// client.cpp - see client.hpp.
#include "firewall/client.hpp"

#include "net/log.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <boost/asio/post.hpp>

namespace boxmail::firewall {

namespace asio = boost::asio;

std::unique_ptr<Client> Client::spawn(asio::io_context& io, const std::string& program, std::string& error) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    error = std::string("socketpair: ") + std::strerror(errno);
    return nullptr;
  }
  // vfork: the child only moves descriptors and execs (no allocation,
  // nothing shared is written but errno), and boxmaild needs no fork
  // machinery of its own (its size on the board).
  const char* path = program.c_str();
  const char* argv[] = {"boxmail-fw", "serve", "3", nullptr};
  const int theirs = sv[1];
  const pid_t pid = ::vfork();
  if (pid < 0) {
    error = std::string("vfork: ") + std::strerror(errno);
    ::close(sv[0]);
    ::close(sv[1]);
    return nullptr;
  }
  if (pid == 0) {
    // The child: its end on descriptor 3, stdin /dev/null, stderr kept
    // (the helper's own messages), nothing else of boxmaild's.
    if (theirs == 3) {
      ::fcntl(3, F_SETFD, 0);
    } else if (::dup2(theirs, 3) != 3) {
      ::_exit(127);
    }
    const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) ::dup2(null, 0);
    ::close_range(4, ~0U, 0);
    ::execv(path, const_cast<char* const*>(argv));
    static constexpr char kFailed[] = "boxmail-fw: cannot run the firewall helper ([firewall] program)\n";
    [[maybe_unused]] const ssize_t ignored = ::write(2, kFailed, sizeof kFailed - 1);
    ::_exit(127);
  }
  ::close(sv[1]);
  return std::unique_ptr<Client>(new Client(io, sv[0], pid));
}

Client::Client(asio::io_context& io, int fd, int pid) : io_(io), socket_(io, fd), pid_(pid) {
  in_.resize(kMaxReply + 1);
  read_next();
}

Client::~Client() {
  *alive_ = false;
  boost::system::error_code ignored;
  socket_.close(ignored);
}

void Client::send(const Request& request, Done done) {
  Pending p{format_request(request), std::move(done)};
  if (!running_) {
    asio::post(io_, [d = std::move(p.done)] {
      if (d) d(Reply{false, "the firewall helper is not running", {}});
    });
    return;
  }
  unsent_.push_back(std::move(p));
  pump();
}

void Client::pump() {
  while (running_ && !wants_write_ && !unsent_.empty()) {
    const std::string& d = unsent_.front().datagram;
    if (::send(socket_.native_handle(), d.data(), d.size(), MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) {
      waiting_.push_back(std::move(unsent_.front()));
      unsent_.pop_front();
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      helper_gone(std::string("send: ") + std::strerror(errno));
      return;
    }
    wants_write_ = true;   // the socket's buffer is full: go on when it takes more
    std::weak_ptr<bool> alive = alive_;
    socket_.async_wait(asio::posix::descriptor_base::wait_write, [this, alive](const boost::system::error_code& ec) {
      if (alive.expired()) return;
      wants_write_ = false;
      if (ec) {
        helper_gone("wait: " + ec.message());
        return;
      }
      pump();
    });
    return;
  }
}

void Client::read_next() {
  std::weak_ptr<bool> alive = alive_;
  socket_.async_wait(asio::posix::descriptor_base::wait_read, [this, alive](const boost::system::error_code& ec) {
    if (alive.expired()) return;
    if (ec) {
      helper_gone("wait: " + ec.message());
      return;
    }
    on_readable();
  });
}

void Client::on_readable() {
  for (;;) {
    const ssize_t n = ::recv(socket_.native_handle(), in_.data(), in_.size(), MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n <= 0) {
      helper_gone(n == 0 ? std::string("it closed its socket") : std::string("receive: ") + std::strerror(errno));
      return;
    }
    if (waiting_.empty()) {
      net::log_warning("firewall: a reply from boxmail-fw that nothing asked for; ignored");
      continue;
    }
    Pending p = std::move(waiting_.front());
    waiting_.pop_front();
    ReplyParse r = parse_reply_head(std::string_view(in_.data(), static_cast<std::size_t>(n)));
    Reply reply = r.reply ? std::move(*r.reply) : Reply{false, "malformed reply from boxmail-fw: " + r.error, {}};
    if (!reply.ok) net::log_warning("firewall: '" + p.datagram + "' refused: " + reply.text);
    if (p.done) asio::post(io_, [d = std::move(p.done), reply = std::move(reply)] { d(reply); });
  }
  read_next();
}

void Client::helper_gone(const std::string& why) {
  if (!running_) return;
  running_ = false;
  net::log_error("firewall: the helper boxmail-fw (pid " + std::to_string(pid_) + ") is gone (" + why +
                 "); mail goes on without the firewall until boxmaild is restarted");
  boost::system::error_code ignored;
  socket_.close(ignored);
  std::deque<Pending> all;
  all.swap(waiting_);
  for (auto& p : unsent_) all.push_back(std::move(p));
  unsent_.clear();
  asio::post(io_, [all = std::move(all)]() mutable {
    for (auto& p : all) {
      if (p.done) p.done(Reply{false, "the firewall helper is not running", {}});
    }
  });
  reap();
}

void Client::reap() {
  if (pid_ <= 0) return;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != pid_) return;   // not yet: stop_now() asks again
  net::log_info("firewall: boxmail-fw " + (WIFEXITED(status) ? "exited with " + std::to_string(WEXITSTATUS(status))
                                                             : "was killed by signal " + std::to_string(WTERMSIG(status))));
  pid_ = -1;
}

std::string Client::stop_now(int timeout_ms) {
  if (!running_) {
    reap();
    return "the helper was not running";
  }
  const int fd = socket_.native_handle();
  Request r;
  r.verb = Verb::Stop;
  const std::string d = format_request(r);
  if (::send(fd, d.data(), d.size(), MSG_NOSIGNAL) < 0) return std::string("send: ") + std::strerror(errno);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string buf(kMaxReply + 1, '\0');
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return "no answer within " + std::to_string(timeout_ms) + " ms";
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) {
      running_ = false;
      reap();
      return "the helper closed its socket";
    }
    // Replies to what was still waiting come first; stop's says
    // "stopped". The helper exits after a stop either way, so a failed
    // stop ends in its EOF.
    const ReplyParse reply = parse_reply_head(std::string_view(buf.data(), static_cast<std::size_t>(n)));
    if (reply.reply && reply.reply->ok && reply.reply->text.starts_with("stopped")) {
      running_ = false;
      return reply.reply->text;
    }
  }
}

}  // namespace boxmail::firewall

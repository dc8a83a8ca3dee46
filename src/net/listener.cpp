// listener.cpp - see listener.hpp.
#include "net/listener.hpp"

#include "net/log.hpp"

#include <cerrno>
#include <chrono>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace boxmail::net {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
/// Connections refused with the reserved descriptor in one go, before the
/// accept loop yields to the sessions.
constexpr std::size_t kMaxRefusedAtOnce = 64;

int open_reserve() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }

bool out_of_descriptors(const boost::system::error_code& ec) {
  return ec == asio::error::no_descriptors || ec == boost::system::errc::too_many_files_open_in_system;
}
}  // namespace

std::function<void(std::exception_ptr)> log_failure(std::string what) {
  return [what = std::move(what)](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log_error(what + ": " + ex.what());
    }
  };
}

std::string client_address(const tcp::endpoint& remote) {
  const auto addr = remote.address();
  if (addr.is_v6() && addr.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6()).to_string();
  return addr.to_string();
}

Listener::Listener(asio::io_context& io, std::string service, Hooks hooks)
    : io_(io), service_(std::move(service)), hooks_(std::move(hooks)) {}

Listener::~Listener() {
  if (reserve_fd_ >= 0) ::close(reserve_fd_);
}

std::string Listener::listen(const std::vector<config::ListenAddress>& addresses, int tag, std::string what) {
  const std::size_t first_new = acceptors_.size();
  if (what.empty()) what = service_;
  for (const auto& la : addresses) {
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(la.host, ec);
    if (ec) return "bad listen address " + la.host + ": " + ec.message();
    tcp::endpoint ep(addr, la.port);
    auto acc = std::make_unique<tcp::acceptor>(io_);
    acc->open(ep.protocol(), ec);
    if (!ec) acc->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec && addr.is_v6()) acc->set_option(asio::ip::v6_only(true), ec);
    if (!ec) acc->bind(ep, ec);
    if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
    const std::string where = (addr.is_v6() ? "[" + la.host + "]" : la.host) + ":" + std::to_string(la.port);
    if (ec) return "cannot listen on " + where + " (" + what + "): " + ec.message();
    log_info("listening on " + where + " (" + what + ")");
    acceptors_.push_back(std::move(acc));
  }
  if (reserve_fd_ < 0) reserve_fd_ = open_reserve();
  if (reserve_fd_ < 0) return "cannot open /dev/null for the reserved descriptor (" + service_ + ")";
  for (std::size_t i = first_new; i < acceptors_.size(); ++i) {
    boost::system::error_code ec;
    acceptors_[i]->native_non_blocking(true, ec);   // refuse_with_reserve accepts without waiting
    asio::co_spawn(io_, accept_loop(*acceptors_[i], tag), log_failure(what + " accept loop"));
  }
  return {};
}

void Listener::close() {
  closed_ = true;
  for (auto& acc : acceptors_) {
    boost::system::error_code ec;
    acc->close(ec);
  }
}

asio::awaitable<void> Listener::accept_loop(tcp::acceptor& acceptor, int tag) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kAwait);
    if (ec) {
      if (ec == asio::error::operation_aborted || closed_) co_return;
      const auto refused = out_of_descriptors(ec) ? refuse_with_reserve(acceptor) : std::nullopt;
      // Linux takes the new descriptor before it looks at the queue, so while
      // the table is full every accept fails, pending connection or not: a
      // failure that found nothing pending is not worth a line or a count.
      if (!refused || *refused > 0) {
        log_accept_error(ec, refused);
      } else {
        accept_failing_ = true;
      }
      if (!refused || *refused == 0) {
        // No reserve, none pending, or another error (ENOBUFS...): back off
        // briefly instead of spinning (a new connection waits at most this long).
        asio::steady_timer t(io_, std::chrono::milliseconds(100));
        co_await t.async_wait(kAwait);
      }
      continue;
    }
    if (closed_) co_return;
    if (accept_failing_ && accept_log_.ready(std::chrono::steady_clock::now())) {
      // Said once the interval is over, so a limit that comes and goes
      // does not add lines either.
      accept_failing_ = false;
      const auto n = accept_log_.allow(std::chrono::steady_clock::now());
      log_info(service_ + " accept: accepting again" +
               (n && *n ? " (" + std::to_string(*n) + " more suppressed)" : std::string()));
    }
    if (reserve_fd_ < 0) reserve_fd_ = open_reserve();   // take the reserve back if it was lost
    if (hooks_.before_accept) hooks_.before_accept();
    boost::system::error_code rec;
    const auto remote = socket.remote_endpoint(rec);
    if (rec) continue;
    std::string address = client_address(remote);
    if (banned_ && banned_(address)) {   // the firewall's bans, also when its table is gone
      log_warning(service_ + ": client=" + address + " refused: banned");
      asio::co_spawn(io_, refuse(std::move(socket), banned_reply_()), asio::detached);
      continue;
    }
    const auto [max_total, max_per_address] = hooks_.limits();
    auto verdict = limits_.try_acquire(address, max_total, max_per_address);
    if (verdict == ConnectionLimits::Verdict::TooMany && limits_.from(address) >= max_per_address)
      verdict = ConnectionLimits::Verdict::TooManyFromAddress;   // per-address limits stay
    if (verdict == ConnectionLimits::Verdict::TooMany && hooks_.make_room) {
      // Every slot is taken: close the session idle the longest, if one is
      // idle long enough, and take this client over the total until it has gone.
      if (auto ev = hooks_.make_room()) {
        limits_.acquire(address);
        verdict = ConnectionLimits::Verdict::Ok;
        log_warning(service_ + ": all " + std::to_string(max_total) + " connection slots taken: closing client=" +
                    ev->address + " (no progress for " +
                    std::to_string(std::chrono::duration_cast<std::chrono::seconds>(ev->idle).count()) +
                    " s) to make room for client=" + address);
      }
    }
    if (verdict != ConnectionLimits::Verdict::Ok) {
      const bool total = verdict == ConnectionLimits::Verdict::TooMany;
      log_warning(service_ + ": client=" + address + " refused: too many connections" +
                  (total ? "" : " from this address"));
      asio::co_spawn(io_, refuse(std::move(socket), hooks_.refusal(verdict)), asio::detached);
      continue;
    }
    socket.set_option(tcp::no_delay(true), rec);
    hooks_.accepted(std::move(socket), std::move(address), remote.port(), tag);
  }
}

std::optional<std::size_t> Listener::refuse_with_reserve(tcp::acceptor& acceptor) {
  if (reserve_fd_ < 0) {
    reserve_fd_ = open_reserve();   // lost earlier: try to take it back for next time
    return std::nullopt;
  }
  ::close(reserve_fd_);
  reserve_fd_ = -1;
  const std::string reply = hooks_.no_descriptors ? hooks_.no_descriptors() : std::string();
  std::size_t refused = 0;
  while (refused < kMaxRefusedAtOnce) {
    const int fd = ::accept4(acceptor.native_handle(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno == EINTR) continue;
      break;   // EAGAIN: none pending; EMFILE: another thread took the descriptor
    }
    // A few dozen octets into an empty socket buffer: written at once or not at all.
    if (!reply.empty()) (void)::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
    ++refused;
  }
  reserve_fd_ = open_reserve();
  return refused;
}

void Listener::log_accept_error(const boost::system::error_code& ec, std::optional<std::size_t> refused) {
  accept_failing_ = true;
  const auto n = accept_log_.allow(std::chrono::steady_clock::now());
  if (!n) return;
  std::string line = service_ + " accept: " + ec.message();
  if (out_of_descriptors(ec)) {
    if (!refused) {
      line += "; no reserved descriptor";
    } else if (*refused > 0) {
      line += "; answered " + std::to_string(*refused) + " connection(s) with the reserved descriptor";
    }
  }
  if (*n) line += " (" + std::to_string(*n) + " more suppressed)";
  log_warning(line);
}

asio::awaitable<void> Listener::refuse(tcp::socket socket, std::string reply) {
  co_await asio::async_write(socket, asio::buffer(reply), kAwait);
  boost::system::error_code ec;
  socket.shutdown(tcp::socket::shutdown_both, ec);
}

}  // namespace boxmail::net

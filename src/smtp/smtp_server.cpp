// smtp_server.cpp - see smtp_server.hpp.
#include "smtp/smtp_server.hpp"

#include "net/log.hpp"
#include "smtp/session.hpp"
#include "store/maildir_name.hpp"
#include "store/spool_file.hpp"
#include "tls/random.hpp"

#include <chrono>
#include <optional>
#include <cstring>
#include <malloc.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace boxmail::smtp {

namespace asio = boost::asio;
using asio::ip::tcp;
using Steady = std::chrono::steady_clock;

namespace {
constexpr std::size_t kReadBuffer = 8192;
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

}  // namespace

SmtpServer::SmtpServer(asio::io_context& io, config::ConfigPtr config,
                       std::shared_ptr<const config::AccountTable> accounts, std::string hostname)
    : io_(io),
      config_(std::move(config)),
      accounts_(std::move(accounts)),
      hostname_(std::move(hostname)),
      listener_(io, "smtp",
                net::Listener::Hooks{
                    [this] { return std::pair{config_->smtp.max_connections, config_->smtp.max_connections_per_ip}; },
                    [this](net::ConnectionLimits::Verdict v) {
                      if (event_sink_) event_sink_(Event{EventKind::ConnectionRefused, 0});
                      return format_reply(v == net::ConnectionLimits::Verdict::TooMany
                                              ? ReplyId::TooManyConnections
                                              : ReplyId::TooManyConnectionsFromIp,
                                          {}, hostname_);
                    },
                    [this](tcp::socket s, std::string address, std::uint16_t port) {
                      accepted(std::move(s), std::move(address), port);
                    },
                    nullptr}) {
  committer_ = std::make_unique<store::Committer>(config_->store.mail_dir, config_->store.sync);
  spool_pool_dir_ = config_->store.spool_dir + "/tmp";
  spool_pool_ = std::make_unique<store::SpoolPool>(spool_pool_dir_);
}

SmtpServer::~SmtpServer() = default;

std::string SmtpServer::listen() { return listener_.listen(config_->smtp.listen); }

void SmtpServer::set_config(config::ConfigPtr config, std::string hostname) {
  if (config->smtp.listen != config_->smtp.listen)
    net::log_warning("smtp.listen changes take effect at the next restart");
  committer_->set_mode(config->store.sync);
  config_ = std::move(config);
  hostname_ = std::move(hostname);
}

void SmtpServer::set_accounts(std::shared_ptr<const config::AccountTable> accounts) {
  accounts_ = std::move(accounts);
}

std::string SmtpServer::new_queue_id() { return store::queue_id_from(tls::random_u64()); }

void SmtpServer::accepted(tcp::socket socket, std::string address, std::uint16_t port) {
  auto conn = std::make_shared<Connection>(std::move(socket));
  conn->address = std::move(address);
  conn->port = port;
  sessions_.add(conn);
  asio::co_spawn(io_, run_session(conn), net::log_failure("smtp session " + conn->address));
}

asio::awaitable<void> SmtpServer::run_session(std::shared_ptr<Connection> conn) {
  const config::ConfigPtr config = config_;   // this session's snapshot
  const auto& smtp = config->smtp;
  // The spool file for the next message comes with its queue id: taken from
  // the pool (made off the loop) when DATA starts, adopted at BeginData.
  const std::string spool_tmp = config->store.spool_dir + "/tmp";
  std::optional<store::SpoolPool::Entry> reserved;
  int reserve_err = 0;
  Session session(config, accounts_, ClientInfo{conn->address, conn->port}, hostname_, [&]() -> std::string {
    if (spool_tmp != spool_pool_dir_) return new_queue_id();
    reserved = spool_pool_->take(reserve_err);
    return reserved->queue_id;
  });
  const auto now = Steady::now();
  // Idle time, capped by the whole-session limit (RFC 5321 4.5.3.2).
  const auto session_deadline = now + std::chrono::seconds(smtp.session_timeout);
  auto idle_deadline = [&] {
    return std::min(Steady::now() + std::chrono::seconds(smtp.idle_timeout), session_deadline);
  };
  conn->deadline = idle_deadline();
  asio::co_spawn(io_, net::watchdog(conn), asio::detached);

  std::string out = session.greet().replies;
  std::string body;
  std::unique_ptr<store::SpoolFile> spool;
  std::vector<char> buf(kReadBuffer);
  bool close = false;

  auto flush = [&]() -> asio::awaitable<bool> {
    if (out.empty()) co_return true;
    auto [ec, n] = co_await asio::async_write(conn->socket, asio::buffer(out), kAwait);
    out.clear();
    co_return !ec;
  };
  auto take = [&](Output&& o) {
    out += o.replies;
    for (const auto& line : o.log) net::log_info(line);
    if (event_sink_) {
      for (const Event& e : o.events) event_sink_(e);
    }
    if (o.action == Action::Close) close = true;
  };

  if (!co_await flush()) close = true;
  while (!close) {
    if (conn->timed_out) {
      take(session.on_timeout());
      break;
    }
    if (conn->shutdown && session.idle()) {
      take(session.on_shutdown());
      break;
    }
    conn->reading = true;
    auto [ec, n] = co_await conn->socket.async_read_some(asio::buffer(buf), kAwait);
    conn->reading = false;
    if (ec) {
      if (conn->timed_out) {
        take(session.on_timeout());
      } else if (ec == asio::error::operation_aborted && conn->shutdown) {
        continue;  // re-check: idle sessions get 421, busy ones go on
      }
      break;
    }
    conn->deadline = idle_deadline();
    std::string_view in(buf.data(), n);
    while (!in.empty() && !close) {
      std::size_t used = 0;
      Output o = session.on_input(in, std::chrono::system_clock::now(), body, used);
      in.remove_prefix(used);
      if (used == 0 && o.action == Action::None) break;  // nothing more this session takes
      if (spool && !body.empty()) spool->write(body);
      body.clear();
      const Action action = o.action;
      take(std::move(o));
      if (action == Action::BeginData) {
        int err = 0;
        if (!reserved) {
          spool = store::SpoolFile::create(spool_tmp, session.envelope().queue_id, err);
        } else if (reserved->fd >= 0) {
          spool = store::SpoolFile::adopt(reserved->fd, std::move(reserved->path));
        } else {
          err = reserve_err;
        }
        reserved.reset();
        if (!spool) {
          net::log_error(session.envelope().queue_id + ": cannot create spool file: " + std::strerror(err));
          // Read the data anyway; the commit below reports the failure.
        } else {
          spool->write(session.envelope().prefix);
        }
      } else if (action == Action::AbortData) {
        spool.reset();
      } else if (action == Action::Commit) {
        int err = 0;
        const Envelope& env = session.envelope();
        if (!spool) {
          err = EIO;
        } else if (spool->error() != 0) {
          err = spool->error();
          spool.reset();
        } else if (env.mailboxes.empty()) {
          spool.reset();  // every recipient was "null": accepted and discarded
        } else {
          const DataSummary& s = session.data_summary();
          const std::uint64_t size = spool->size();
          const std::uint64_t vsize = size + env.prefix_lines + s.lines;
          timeval tv{};
          gettimeofday(&tv, nullptr);
          store::Delivery d;
          d.name = store::maildir_file_name(tv.tv_sec, tv.tv_usec, getpid(), ++delivery_seq_, hostname_, size, vsize);
          d.spool_path = spool->path();
          d.fd = spool->release();
          spool.reset();
          for (const auto& mb : env.mailboxes) d.maildirs.push_back(config->store.mail_dir + "/" + mb);
          if (!co_await flush()) close = true;
          err = co_await committer_->async_commit(std::move(d), asio::use_awaitable);
        }
        take(session.on_committed(err));
      }
    }
    if (!co_await flush()) break;
  }
  co_await flush();
  if (reserved && reserved->fd >= 0) {   // a spool file taken but never used
    ::close(reserved->fd);
    ::unlink(reserved->path.c_str());
  }
  conn->closed = true;
  boost::system::error_code ec;
  conn->timer.cancel();
  conn->socket.shutdown(tcp::socket::shutdown_both, ec);
  conn->socket.close(ec);
  session_ended(conn->id, conn->address);
}

void SmtpServer::session_ended(std::uint64_t id, const std::string& address) {
  listener_.release(address);
  sessions_.remove(id);
  // After a burst of sessions, hand freed heap back to the system so the
  // resident size returns to the idle figure.
  if (sessions_.empty()) ::malloc_trim(0);
}

void SmtpServer::shutdown(std::function<void()> on_empty) {
  listener_.close();
  sessions_.shutdown(std::move(on_empty));
}

}  // namespace boxmail::smtp

// smtp_server.cpp - see smtp_server.hpp.
#include "smtp/smtp_server.hpp"

#include "net/log.hpp"
#include "net/progress.hpp"
#include "smtp/session.hpp"
#include "store/maildir_name.hpp"
#include "store/spool_file.hpp"
#include "tls/random.hpp"

#include <chrono>
#include <optional>
#include <cstring>
#include <tuple>
#include <malloc.h>
#include <sys/statvfs.h>
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
constexpr auto kFreeSpaceCache = std::chrono::seconds(1);

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
                    nullptr,
                    [this] { return sessions_.evict_idlest(Steady::now(), std::chrono::seconds(config_->smtp.evict_idle)); },
                    [this] { return format_reply(ReplyId::NoDescriptors, {}, hostname_); }}) {}

void SmtpServer::start() {
  committer_ = std::make_unique<store::Committer>(config_->store.mail_dir, config_->store.sync);
  if (usage_) committer_->set_usage(usage_);
  spool_pool_dir_ = config_->store.spool_dir + "/tmp";
  spool_pool_ = std::make_unique<store::SpoolPool>(spool_pool_dir_);
}

store::CommitterStats SmtpServer::commit_stats() const {
  return committer_ ? committer_->stats() : store::CommitterStats{};
}

SmtpServer::~SmtpServer() = default;

std::string SmtpServer::listen() { return listener_.listen(config_->smtp.listen); }

void SmtpServer::set_config(config::ConfigPtr config, std::string hostname) {
  // smtp.listen is read at start only (config::restart_needed says so).
  if (committer_) committer_->set_mode(config->store.sync);
  config_ = std::move(config);
  hostname_ = std::move(hostname);
}

void SmtpServer::set_accounts(std::shared_ptr<const config::AccountTable> accounts) {
  accounts_ = std::move(accounts);
}

std::string SmtpServer::new_queue_id() { return store::queue_id_from(tls::random_u64()); }

void SmtpServer::set_usage(std::shared_ptr<store::UsageTable> usage) {
  usage_ = usage;
  if (committer_) committer_->set_usage(std::move(usage));
}

std::optional<std::uint64_t> SmtpServer::free_space(const std::string& mail_dir) {
  const auto now = Steady::now();
  if (free_checked_ != Steady::time_point{} && now - free_checked_ < kFreeSpaceCache) return free_cached_;
  free_checked_ = now;
  struct statvfs vfs {};
  if (::statvfs(mail_dir.c_str(), &vfs) != 0) {
    net::log_error("statvfs " + mail_dir + ": " + std::strerror(errno) + "; the free-space reserve is not checked");
    free_cached_.reset();
  } else if (vfs.f_blocks == 0) {
    free_cached_.reset();   // ramfs/rootfs: no size to tell
  } else {
    free_cached_ = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  }
  return free_cached_;
}

std::optional<std::uint64_t> SmtpServer::mailbox_usage(const std::string& root) {
  if (!usage_) return std::nullopt;
  const auto u = usage_->get(root);
  for (const auto& e : usage_->take_errors()) net::log_error("cannot count mailbox usage of " + e);
  if (!u) return std::nullopt;
  return u->octets;
}

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
  int spool_err = 0;   // why this message's spool file could not be made (errno), for the reply
  Session session(config, accounts_, ClientInfo{conn->address, conn->port}, hostname_, [&]() -> std::string {
    if (spool_tmp != spool_pool_dir_) return new_queue_id();
    reserved = spool_pool_->take(reserve_err);
    return reserved->queue_id;
  });
  session.set_store_query(StoreQuery{
      [this, config] { return free_space(config->store.mail_dir); },
      [this, config](std::string_view mailbox) {
        return mailbox_usage(config->store.mail_dir + "/" + std::string(mailbox));
      }});
  const auto now = Steady::now();
  // Idle time since the last progress (a complete command, or DATA at
  // smtp.min_data_rate: net/progress.hpp), capped by the whole-session
  // limit (RFC 5321 4.5.3.2).
  const auto session_deadline = now + std::chrono::seconds(smtp.session_timeout);
  net::ProgressClock progress(now);
  auto idle_deadline = [&] {
    return std::min(progress.last() + std::chrono::seconds(smtp.idle_timeout), session_deadline);
  };
  auto note_progress = [&](const Output& o) {
    if (!o.progress && o.data_octets == 0) return;
    const auto t = Steady::now();
    if (o.progress) progress.command(t);
    progress.data(o.data_octets, smtp.min_data_rate, t);
    conn->last_progress = progress.last();
    conn->deadline = idle_deadline();
  };
  conn->last_progress = now;
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
      take(conn->evicted ? session.on_evicted() : session.on_timeout());
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
        take(conn->evicted ? session.on_evicted() : session.on_timeout());
      } else if (ec == asio::error::operation_aborted && conn->shutdown) {
        continue;  // re-check: idle sessions get 421, busy ones go on
      }
      break;
    }
    std::string_view in(buf.data(), n);
    while (!in.empty() && !close) {
      std::size_t used = 0;
      Output o = session.on_input(in, std::chrono::system_clock::now(), body, used);
      in.remove_prefix(used);
      if (used == 0 && o.action == Action::None) break;  // nothing more this session takes
      if (spool && !body.empty()) spool->write(body);
      body.clear();
      const Action action = o.action;
      note_progress(o);
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
        spool_err = spool ? 0 : (err != 0 ? err : EIO);
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
          err = spool_err != 0 ? spool_err : EIO;   // ENOSPC (out of inodes too) -> 452 4.3.1
        } else if (spool->error() != 0) {
          err = spool->error();
          net::log_error(env.queue_id + ": cannot write spool file " + spool->path() + ": " + std::strerror(err));
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
          std::string where;
          std::tie(err, where) = co_await committer_->async_commit(std::move(d), kAwait);
          if (err != 0) {
            std::string boxes;
            for (const auto& mb : env.mailboxes) boxes += (boxes.empty() ? "" : ",") + mb;
            net::log_error(env.queue_id + ": cannot store the message for mailbox(es) " + boxes + ": " + where +
                           ": " + std::strerror(err) + " (errno " + std::to_string(err) + ")");
          }
        }
        Output c = session.on_committed(err);
        note_progress(c);
        take(std::move(c));
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

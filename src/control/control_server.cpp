// control_server.cpp - see control_server.hpp.
#include "control/control_server.hpp"

#include "net/log.hpp"
#include "store/spool_file.hpp"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace boxmail::control {

namespace asio = boost::asio;
using asio::local::stream_protocol;

namespace {
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
constexpr auto kRequestTimeout = std::chrono::seconds(5);
constexpr auto kPayloadTimeout = std::chrono::seconds(10);

std::string parent_dir(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

std::int64_t local_day(std::int64_t t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  ::localtime_r(&tt, &tm);
  return (t + tm.tm_gmtoff) / 86400;
}

void fill_mail_store(StatusReply& out, const std::string& mail_dir, const config::AccountTable& accounts,
                     store::UsageTable& usage, std::uint64_t reserve) {
  out.mailboxes.clear();
  StoreStatus st;
  st.dir = mail_dir;
  st.reserve = reserve;
  for (const config::Account& a : accounts.accounts) {
    MailboxStatus m;
    m.name = a.name;
    m.quota = config::quota_of(a);
    if (const auto u = usage.get(mail_dir + "/" + a.name)) {
      st.used += u->octets;
      m.usage = MailboxUsage{u->messages, u->octets};
    }
    out.mailboxes.push_back(std::move(m));
  }
  struct statvfs vfs {};
  if (::statvfs(mail_dir.c_str(), &vfs) == 0 && vfs.f_blocks != 0) {
    st.fs = FileSystemSize{static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize,
                           static_cast<std::uint64_t>(vfs.f_blocks) * vfs.f_frsize};
  }
  out.store = std::move(st);
}

ControlServer::ControlServer(asio::io_context& io, std::string path, Handlers handlers)
    : io_(io), path_(std::move(path)), handlers_(std::move(handlers)) {
  net::log_set_tap(&ControlServer::tap, this);
}

ControlServer::~ControlServer() {
  net::log_set_tap(nullptr, nullptr);
  close();
}

void ControlServer::tap(void* user, net::LogLevel, std::string_view text) {
  static_cast<ControlServer*>(user)->ring_.add(text);
}

void ControlServer::count(net::MessageEvent event) {
  const std::int64_t now = std::time(nullptr);
  stats_.record(event, now, local_day(now));
}

std::string ControlServer::listen() {
  const std::string dir = parent_dir(path_);
  if (const int err = store::make_dirs(dir, 0750); err != 0)
    return "cannot create " + dir + " for the control socket: " + std::strerror(err);
  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return "control socket " + path_ + " exists and is not a socket";
    ::unlink(path_.c_str());
  }
  boost::system::error_code ec;
  auto acc = std::make_unique<stream_protocol::acceptor>(io_);
  acc->open(stream_protocol(), ec);
  const mode_t old = ::umask(0117);   // the socket file is born 0660
  if (!ec) acc->bind(stream_protocol::endpoint(path_), ec);
  ::umask(old);
  if (!ec) acc->listen(16, ec);
  if (ec) return "cannot listen on control socket " + path_ + ": " + ec.message();
  ::chmod(path_.c_str(), 0660);
  struct stat dst {};
  if (::stat(dir.c_str(), &dst) == 0 && ::chown(path_.c_str(), static_cast<uid_t>(-1), dst.st_gid) != 0) {
    net::log_warning("control socket " + path_ + ": cannot set its group: " + std::strerror(errno));
  }
  acceptor_ = std::move(acc);
  net::log_info("control socket " + path_);
  asio::co_spawn(io_, accept_loop(), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      net::log_error(std::string("control accept loop: ") + ex.what());
    }
  });
  return {};
}

void ControlServer::close() {
  if (!acceptor_) return;
  boost::system::error_code ec;
  acceptor_->close(ec);
  acceptor_.reset();
  ::unlink(path_.c_str());
}

asio::awaitable<void> ControlServer::accept_loop() {
  for (;;) {
    if (!acceptor_) co_return;
    auto [ec, socket] = co_await acceptor_->async_accept(kAwait);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_) co_return;
      net::log_warning("control accept: " + ec.message());
      asio::steady_timer t(io_, std::chrono::milliseconds(100));
      co_await t.async_wait(kAwait);
      continue;
    }
    asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> ControlServer::serve(stream_protocol::socket socket) {
  asio::steady_timer timer(io_, kRequestTimeout);
  auto arm = [&socket, &timer](std::chrono::seconds limit) {
    timer.expires_after(limit);
    timer.async_wait([&socket](const boost::system::error_code& e) {
      if (!e) {
        boost::system::error_code ignored;
        socket.cancel(ignored);
      }
    });
  };
  arm(kRequestTimeout);
  std::string in;
  auto line_buffer = asio::dynamic_buffer(in, kMaxRequestLine + 2);
  auto [ec, n] = co_await asio::async_read_until(socket, line_buffer, '\n', kAwait);
  std::string out;
  if (ec) {
    timer.cancel();
    if (ec == asio::error::not_found) out = format_reply(Reply{false, "request line too long", {}});
  } else {
    const std::string line = in.substr(0, n);
    std::string payload = in.substr(n);   // what came with the line
    const Request req = parse_request(line);
    if (req.error.empty() && req.payload() > 0 && payload.size() < req.payload()) {
      // The announced octets (at most kMaxTlsUpload), read whole.
      timer.cancel();
      arm(kPayloadTimeout);
      const std::size_t have = payload.size();
      payload.resize(req.payload());
      auto rest = asio::buffer(payload.data() + have, payload.size() - have);
      auto [rec, got] = co_await asio::async_read(socket, rest, kAwait);
      if (rec) payload.resize(have + got);
    }
    timer.cancel();
    if (req.error.empty() && req.verb == Verb::RelayTest && handlers_.relay_test && payload.empty()) {
      // Named locals, no temporaries around the co_await: g++ 12 destroys those twice.
      std::string address = req.address;
      std::string sender = req.sender;
      asio::awaitable<RelayTestReply> test = handlers_.relay_test(address, sender);
      const RelayTestReply reply = co_await std::move(test);
      out = format_reply(encode(reply));
    } else if (req.error.empty() && req.verb == Verb::Stats && handlers_.firewall_drops) {
      asio::awaitable<std::optional<std::uint64_t>> ask = handlers_.firewall_drops();
      const std::optional<std::uint64_t> drops = co_await std::move(ask);
      out = format_reply(answer(line, payload, drops));
    } else {
      out = format_reply(answer(line, payload));
    }
  }
  if (!out.empty()) {
    auto reply = asio::buffer(out);
    co_await asio::async_write(socket, reply, kAwait);
  }
  boost::system::error_code ignored;
  socket.shutdown(stream_protocol::socket::shutdown_both, ignored);
  socket.close(ignored);
}

Reply ControlServer::answer(std::string_view line, std::string_view payload, std::optional<std::uint64_t> drops) {
  const Request req = parse_request(line);
  if (!req.error.empty()) return Reply{false, req.error, {}};
  if (req.payload() == 0 && !payload.empty()) return Reply{false, "data after the request line", {}};
  switch (req.verb) {
    case Verb::Status:
      return handlers_.status ? encode(handlers_.status()) : Reply{false, "status not available", {}};
    case Verb::Reload:
      return handlers_.reload ? encode(handlers_.reload()) : Reply{false, "reload not available", {}};
    case Verb::Log:
      return encode(LogReply{ring_.last(req.count)});
    case Verb::Stats: {
      const std::int64_t now = std::time(nullptr);
      const std::int64_t day = local_day(now);
      StatsReply s;
      s.accepted_today = stats_.accepted_today(day);
      s.refused_today = stats_.refused_today(day);
      s.blocked_dnsbl_today = stats_.blocked_dnsbl_today(day);
      s.blocked_reverse_dns_today = stats_.blocked_reverse_dns_today(day);
      s.bans_today = stats_.bans_today(day);
      s.firewall_drops = drops;
      for (const auto& h : stats_.hours(now)) {
        s.hours.push_back(HourCount{static_cast<std::uint64_t>(h.start), h.accepted, h.refused});
      }
      return encode(s);
    }
    case Verb::Tls:
      return handlers_.tls ? encode(handlers_.tls()) : Reply{false, "tls not available", {}};
    case Verb::TlsInstall: {
      const auto upload = split_tls_upload(req, payload);
      if (!upload) {
        return Reply{false,
                     "tls-install: " + std::to_string(req.payload()) + " octets announced, " +
                         std::to_string(payload.size()) + " sent",
                     {}};
      }
      return handlers_.tls_install ? encode(handlers_.tls_install(*upload)) : Reply{false, "tls-install not available", {}};
    }
    case Verb::TlsRegenerate:
      return handlers_.tls_regenerate ? encode(handlers_.tls_regenerate())
                                      : Reply{false, "tls-regenerate not available", {}};
    case Verb::Queue:
      return handlers_.queue ? handlers_.queue(req) : Reply{false, "queue not available", {}};
    case Verb::Ban: {
      if (!handlers_.firewall) return Reply{false, "the firewall is not available", {}};
      Reply r = handlers_.firewall(req);
      if (r.ok) count(net::MessageEvent::Banned);
      return r;
    }
    case Verb::Unban:
    case Verb::Bans:
    case Verb::LoginFailed:
      return handlers_.firewall ? handlers_.firewall(req) : Reply{false, "the firewall is not available", {}};
    case Verb::SmarthostLogin: {
      const SmarthostLoginSplit split = split_smarthost_login(req, payload);
      if (!split.login) return encode(LoginChangeReply{false, split.error, std::nullopt});
      return handlers_.smarthost_login ? encode(handlers_.smarthost_login(*split.login))
                                       : Reply{false, "smarthost-login not available", {}};
    }
    case Verb::RelayTest:
      return encode(RelayTestReply{RelayTestReply::Result::Refused, "relay-test not available", {}, {}});
    case Verb::SmarthostLoginClear:
      return handlers_.smarthost_login_clear ? encode(handlers_.smarthost_login_clear())
                                             : Reply{false, "smarthost-login-clear not available", {}};
  }
  return Reply{false, "internal error", {}};
}

}  // namespace boxmail::control

// pop3_server.cpp - see pop3_server.hpp.
#include "pop3/pop3_server.hpp"

#include "config/password.hpp"
#include "net/log.hpp"
#include "pop3/dot_stuffer.hpp"
#include "pop3/session.hpp"
#include "store/maildir.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace boxmail::pop3 {

namespace asio = boost::asio;
using asio::ip::tcp;
using Steady = std::chrono::steady_clock;

namespace {
constexpr std::size_t kReadBuffer = 4096;          // commands are short
constexpr std::size_t kFileChunk = 16 * 1024;      // pread size for RETR/TOP
constexpr std::size_t kFlushAt = 32 * 1024;        // write out once this much is encoded
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

void log_login_failures(const std::string& address, std::uint32_t count) {
  net::log_info("pop3: client=" + address + " " + std::to_string(count) + " failed login(s) from this address");
}

}  // namespace

Pop3Server::Pop3Server(asio::io_context& io, config::ConfigPtr config,
                       std::shared_ptr<const config::AccountTable> accounts, std::string hostname)
    : io_(io),
      config_(std::move(config)),
      accounts_(std::move(accounts)),
      hostname_(std::move(hostname)),
      dummy_hash_(config::hash_password("boxmail-no-such-mailbox")),
      listener_(io, "pop3",
                net::Listener::Hooks{
                    [this] { return std::pair{config_->pop3.max_connections, config_->pop3.max_connections_per_ip}; },
                    [](net::ConnectionLimits::Verdict v) {
                      return format_reply(v == net::ConnectionLimits::Verdict::TooMany
                                              ? ReplyId::TooManyConnections
                                              : ReplyId::TooManyConnectionsFromIp);
                    },
                    [this](tcp::socket s, std::string address, std::uint16_t port) {
                      accepted(std::move(s), std::move(address), port);
                    },
                    nullptr}),
      checker_(std::make_unique<config::PasswordChecker>(config_->server.login_check_queue)) {}

Pop3Server::~Pop3Server() = default;

std::string Pop3Server::listen() { return listener_.listen(config_->pop3.listen); }

void Pop3Server::set_config(config::ConfigPtr config, std::string hostname) {
  if (config->pop3.listen != config_->pop3.listen || config->pop3.enabled != config_->pop3.enabled)
    net::log_warning("pop3.listen and pop3.enabled changes take effect at the next restart");
  config_ = std::move(config);
  hostname_ = std::move(hostname);
  checker_->set_max_queue(config_->server.login_check_queue);
}

void Pop3Server::set_accounts(std::shared_ptr<const config::AccountTable> accounts) {
  accounts_ = std::move(accounts);
}

net::LoginLimits Pop3Server::login_limits() const {
  return net::LoginLimits{config_->server.login_failures_per_address,
                          std::chrono::seconds(config_->server.login_failure_window)};
}

std::uint32_t Pop3Server::recent_login_failures(const std::string& address) const {
  return throttle_.failures(address, Steady::now(), login_limits());
}

void Pop3Server::count_login_failure(const std::string& address) {
  log_login_failures(address, throttle_.fail(address, Steady::now(), login_limits()));
}

void Pop3Server::accepted(tcp::socket socket, std::string address, std::uint16_t port) {
  auto conn = std::make_shared<Connection>(std::move(socket));
  conn->address = std::move(address);
  conn->port = port;
  sessions_.add(conn);
  asio::co_spawn(io_, run_session(conn), net::log_failure("pop3 session " + conn->address));
}

asio::awaitable<void> Pop3Server::run_session(std::shared_ptr<Connection> conn) {
  const config::ConfigPtr config = config_;   // this session's snapshot
  const config::Pop3Config& pop3 = config->pop3;
  Session session(pop3, ClientInfo{conn->address, conn->port}, hostname_, Steady::now());
  conn->deadline = session.deadline();
  asio::co_spawn(io_, net::watchdog(conn), asio::detached);

  std::string out;
  out.reserve(kFlushAt + 2 * kFileChunk + 64);
  std::vector<char> buf(kReadBuffer);
  std::vector<char> chunk;
  std::string root;                         // the logged-in Maildir
  std::string locked;                       // the mailbox this session holds
  std::vector<store::MaildirMessage> listing;
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
    if (o.action == Action::Close) close = true;
  };

  // Streams message retrieval().index after its +OK line; false when the
  // connection must end (write failed, or the file failed mid-way).
  auto stream = [&](int fd) -> asio::awaitable<bool> {
    const Retrieval& r = session.retrieval();
    DotStuffer ds(r.top_lines);
    if (chunk.empty()) chunk.resize(kFileChunk);
    off_t offset = 0;
    bool ok = true;
    while (!ds.done()) {
      const ssize_t n = ::pread(fd, chunk.data(), chunk.size(), offset);
      if (n < 0) {
        if (errno == EINTR) continue;
        net::log_error("pop3: client=" + conn->address + " user=" + session.mailbox() + " read " +
                       listing[r.index].name + ": " + std::strerror(errno));
        ok = false;
        break;
      }
      if (n == 0) break;
      offset += n;
      ds.encode(std::string_view(chunk.data(), static_cast<std::size_t>(n)), out);
      if (out.size() >= kFlushAt) {
        if (!co_await flush()) {
          ok = false;
          break;
        }
        session.touch(Steady::now());
        conn->deadline = session.deadline();
      }
    }
    ::close(fd);
    if (ok) ds.finish(out);
    co_return ok;
  };

  // Checks the credentials: refused unchecked when the address is blocked
  // or the checker is full; otherwise hashed on the checker thread while
  // this session waits (reading nothing).
  auto authenticate = [&](const Credentials& c) -> asio::awaitable<AuthResult> {
    if (!throttle_.allow(conn->address, Steady::now(), login_limits())) co_return AuthResult::Blocked;
    const auto accounts = accounts_;
    const config::Account* a = config::mailbox_name_error(c.mailbox) ? nullptr : accounts->find(c.mailbox);
    // An unknown mailbox costs the same hash check as a known one. The
    // result comes back through a weak pointer: if this session is gone by
    // then, nothing is touched.
    struct Pending {
      explicit Pending(const asio::any_io_executor& ex) : wake(ex, Steady::time_point::max()) {}
      asio::steady_timer wake;
      std::optional<bool> ok;
    };
    const auto ex = conn->socket.get_executor();
    auto pending = std::make_shared<Pending>(ex);
    std::weak_ptr<Pending> weak = pending;
    const bool queued = checker_->submit(c.password, a ? a->password : dummy_hash_, [weak, ex](bool ok) {
      asio::post(ex, [weak, ok] {
        if (auto p = weak.lock()) {
          p->ok = ok;
          p->wake.cancel();
        }
      });
    });
    if (!queued) co_return AuthResult::Busy;
    throttle_.begin(conn->address, Steady::now());
    while (!pending->ok) co_await pending->wake.async_wait(kAwait);
    const bool password_ok = *pending->ok;
    const bool failed = a == nullptr || !password_ok || !config::login_allowed(*a);
    const auto count = throttle_.finish(conn->address, failed, Steady::now(), login_limits());
    if (failed) {
      log_login_failures(conn->address, count);
      co_return AuthResult::Failed;
    }
    if (!config::pop3_allowed(*a)) co_return AuthResult::Pop3Disabled;
    if (locked_.contains(a->name)) co_return AuthResult::InUse;
    locked_.insert(a->name);
    locked = a->name;
    co_return AuthResult::Ok;
  };

  take(session.greet());
  if (!co_await flush()) close = true;
  while (!close) {
    if (conn->timed_out) {
      take(session.on_tick(Steady::now()));
      break;
    }
    if (conn->shutdown) {
      take(session.on_shutdown());
      break;
    }
    conn->reading = true;
    auto [ec, n] = co_await conn->socket.async_read_some(asio::buffer(buf), kAwait);
    conn->reading = false;
    if (ec) {
      if (conn->timed_out) {
        take(session.on_tick(Steady::now()));
      } else if (ec == asio::error::operation_aborted && conn->shutdown) {
        continue;   // the loop head answers -ERR [SYS/TEMP]
      }
      break;
    }
    std::string_view in(buf.data(), n);
    while (!in.empty() && !close) {
      std::size_t used = 0;
      Output o = session.on_input(in, Steady::now(), used);
      in.remove_prefix(used);
      if (used == 0 && o.action == Action::None) break;
      const Action action = o.action;
      const bool delay = o.delay;
      const bool failed = o.login_failed;
      take(std::move(o));
      if (action == Action::Authenticate) {
        Output r = session.on_auth_result(co_await authenticate(session.credentials()));
        if (r.delay && pop3.login_delay > 0) {
          if (!co_await flush()) close = true;
          asio::steady_timer t(conn->socket.get_executor(), std::chrono::seconds(pop3.login_delay));
          co_await t.async_wait(kAwait);
        }
        const Action next = r.action;
        take(std::move(r));
        if (next == Action::ListMailbox) {
          root = config->store.mail_dir + "/" + session.mailbox();
          store::MaildirListing l = store::list_maildir(root);
          if (l.files_read > 0) {
            net::log_info("pop3: user=" + session.mailbox() + " read " + std::to_string(l.files_read) +
                          " message file(s) without W= in their name to size them");
          }
          std::optional<std::vector<MessageInfo>> infos;
          if (l.error == 0) {
            infos.emplace();
            infos->reserve(l.messages.size());
            for (const auto& m : l.messages) infos->push_back(MessageInfo{m.size, m.uid});
            listing = std::move(l.messages);
          } else {
            net::log_error("pop3: cannot list " + root + ": " + std::strerror(l.error));
          }
          take(session.on_mailbox(std::move(infos)));
        }
      } else if (delay || failed) {
        // A failed login decided by the session alone (malformed SASL PLAIN,
        // a password over config::kMaxPasswordLength octets).
        // An address already blocked is not counted again (the block is
        // not extended; see net/login_throttle.hpp).
        if (failed && throttle_.allow(conn->address, Steady::now(), login_limits()))
          count_login_failure(conn->address);
        if (pop3.login_delay > 0) {
          std::string pending;
          pending.swap(out);
          asio::steady_timer t(conn->socket.get_executor(), std::chrono::seconds(pop3.login_delay));
          co_await t.async_wait(kAwait);
          out.swap(pending);
        }
      } else if (action == Action::Retrieve) {
        const store::MaildirMessage& m = listing[session.retrieval().index];
        const int fd = store::open_message(root, m);
        if (fd < 0) net::log_warning("pop3: cannot open " + root + "/" + m.sub + "/" + m.name + ": " + std::strerror(errno));
        take(session.on_retrieve(fd >= 0));
        if (fd >= 0 && !co_await stream(fd)) close = true;
      } else if (action == Action::Commit) {
        const Changes& ch = session.changes();
        store::MaildirChanges mc;
        std::vector<bool> handled(listing.size(), false);
        for (std::size_t i : ch.deleted) {
          mc.deleted.push_back(&listing[i]);
          handled[i] = true;
        }
        for (std::size_t i : ch.retrieved) {
          mc.seen.push_back(&listing[i]);
          handled[i] = true;
        }
        for (std::size_t i = 0; i < listing.size(); ++i) {
          if (!handled[i]) mc.unseen.push_back(&listing[i]);
        }
        std::vector<std::string> errors;
        const std::size_t failures = store::apply_changes(root, mc, errors);
        for (const auto& e : errors) net::log_error("pop3: user=" + session.mailbox() + ": " + e);
        take(session.on_committed(failures));
      }
    }
    conn->deadline = session.deadline();
    if (!co_await flush()) break;
  }
  co_await flush();
  conn->closed = true;
  boost::system::error_code ec;
  conn->timer.cancel();
  conn->socket.shutdown(tcp::socket::shutdown_both, ec);
  conn->socket.close(ec);
  if (!locked.empty()) locked_.erase(locked);
  session_ended(conn->id, conn->address);
}

void Pop3Server::session_ended(std::uint64_t id, const std::string& address) {
  listener_.release(address);
  sessions_.remove(id);
}

void Pop3Server::shutdown(std::function<void()> on_empty) {
  listener_.close();
  sessions_.shutdown(std::move(on_empty));
}

}  // namespace boxmail::pop3

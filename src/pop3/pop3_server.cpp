// pop3_server.cpp - see pop3_server.hpp.
#include "pop3/pop3_server.hpp"

#include "config/password.hpp"
#include "net/log.hpp"
#include "pop3/dot_stuffer.hpp"
#include "pop3/session.hpp"
#include "store/maildir.hpp"
#include "store/safe_path.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
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
                    nullptr,
                    [this] { return sessions_.evict_idlest(Steady::now(), std::chrono::seconds(config_->pop3.evict_idle)); },
                    [] { return format_reply(ReplyId::NoDescriptors); }}) {}

Pop3Server::~Pop3Server() = default;

std::string Pop3Server::listen() { return listener_.listen(config_->pop3.listen); }

void Pop3Server::start() {
  checker_ = std::make_unique<config::PasswordChecker>(config_->server.login_check_queue);
}

void Pop3Server::set_config(config::ConfigPtr config, std::string hostname) {
  // pop3.listen and pop3.enabled are read at start only (config::restart_needed says so).
  config_ = std::move(config);
  hostname_ = std::move(hostname);
  if (checker_) checker_->set_max_queue(config_->server.login_check_queue);
}

void Pop3Server::set_usage(std::shared_ptr<store::UsageTable> usage) { usage_ = std::move(usage); }

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
  // The idle deadline and the eviction choice follow the session's last
  // progress: a complete command, or RETR/TOP output written (touch).
  auto note_progress = [&] {
    conn->deadline = session.deadline();
    conn->last_progress = session.last_progress();
  };
  note_progress();
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

  // Streams message retrieval().index after its +OK line: exactly the
  // `octets` its name promises (a file grown since is read no further).
  // False when the connection must end (write failed, or the file failed,
  // shrank or changed mid-way): then the terminating "." is NOT sent, so
  // the client sees a broken connection instead of a short message.
  auto stream = [&](int fd, std::uint64_t octets) -> asio::awaitable<bool> {
    const Retrieval& r = session.retrieval();
    const store::MaildirMessage& m = listing[r.index];
    DotStuffer ds(r.top_lines);
    if (chunk.empty()) chunk.resize(kFileChunk);
    std::uint64_t offset = 0;
    std::uint64_t wire = 0;   // octets with CRLF line ends, to check against the size announced
    bool ok = true;
    auto broken = [&](const std::string& why) {
      net::log_error("pop3: client=" + conn->address + " user=" + session.mailbox() + " message " + root + "/" +
                     m.sub + "/" + m.name + ": " + why + "; connection closed without the final \".\"");
      ok = false;
    };
    while (!ds.done() && offset < octets) {
      const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), octets - offset));
      const ssize_t n = ::pread(fd, chunk.data(), want, static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        broken(std::string("read: ") + std::strerror(errno));
        break;
      }
      if (n == 0) {
        broken("the file ended at octet " + std::to_string(offset) + " while it was sent (" +
               std::to_string(octets) + " expected)");
        break;
      }
      offset += static_cast<std::uint64_t>(n);
      wire += static_cast<std::uint64_t>(n) + static_cast<std::uint64_t>(std::count(chunk.data(), chunk.data() + n, '\n'));
      ds.encode(std::string_view(chunk.data(), static_cast<std::size_t>(n)), out);
      if (out.size() >= kFlushAt) {
        if (!co_await flush()) {
          ok = false;
          break;
        }
        session.touch(Steady::now());
        note_progress();
      }
    }
    ::close(fd);
    if (ok && !r.top_lines && wire != session.messages()[r.index].size) {
      broken("its content has " + std::to_string(wire) + " octets with CRLF line ends, its name says W=" +
             std::to_string(session.messages()[r.index].size));
    }
    if (ok) ds.finish(out);   // else: what is encoded goes out, the "." never does
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
      take(conn->evicted ? session.on_evicted() : session.on_tick(Steady::now()));
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
        take(conn->evicted ? session.on_evicted() : session.on_tick(Steady::now()));
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
          const store::UsageTable::Mark mark = usage_ ? usage_->mark(root) : store::UsageTable::Mark{};
          store::MaildirListing l = store::list_maildir(root);
          if (usage_ && l.error == 0) {   // the listing counts the usage for free: correct the table
            store::MaildirUsage counted;
            for (const auto& msg : l.messages) store::add_message(counted, msg.octets);
            usage_->resync(root, counted, mark);
          }
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
            net::log_error("pop3: cannot list " + root + ": " +
                           (l.error_text.empty() ? std::string(std::strerror(l.error)) : l.error_text));
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
        // The size comes from the open file: one that no longer has the
        // octets its name (S=) promised is reported, never sent short.
        const store::MaildirMessage& m = listing[session.retrieval().index];
        int fd = store::open_message(root, m);
        RetrieveResult result = RetrieveResult::Ok;
        struct stat st {};
        if (fd < 0) {
          net::log_warning("pop3: cannot open " + store::path_error(root + "/" + m.sub + "/" + m.name, errno));
          result = RetrieveResult::Gone;
        } else if (::fstat(fd, &st) != 0) {
          net::log_error("pop3: user=" + session.mailbox() + " fstat " + root + "/" + m.sub + "/" + m.name + ": " +
                         std::strerror(errno));
          result = RetrieveResult::Gone;
        } else if (static_cast<std::uint64_t>(st.st_size) != m.octets) {
          net::log_error("pop3: user=" + session.mailbox() + " message file " + root + "/" + m.sub + "/" + m.name +
                         " has " + std::to_string(st.st_size) + " octets on disk, its name says " +
                         std::to_string(m.octets) + "; not sent");
          result = RetrieveResult::Damaged;
        }
        if (result != RetrieveResult::Ok && fd >= 0) {
          ::close(fd);
          fd = -1;
        }
        take(session.on_retrieve(result));
        if (fd >= 0 && !co_await stream(fd, m.octets)) close = true;
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
        store::MaildirUsage removed;
        if (usage_) usage_->begin(root);
        const std::size_t failures = store::apply_changes(root, mc, errors, &removed);
        if (usage_) usage_->end(root, {}, removed);
        for (const auto& e : errors) net::log_error("pop3: user=" + session.mailbox() + ": " + e);
        take(session.on_committed(failures));
      }
    }
    note_progress();
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

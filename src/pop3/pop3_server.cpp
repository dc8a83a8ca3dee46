// pop3_server.cpp - see pop3_server.hpp.
#include "pop3/pop3_server.hpp"

#include "config/password.hpp"
#include "net/ip_network.hpp"
#include "net/log.hpp"
#include "proto/dot_stuffer.hpp"
#include "pop3/session.hpp"
#include "proto/driver.hpp"
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
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace boxmail::pop3 {

namespace asio = boost::asio;
using asio::ip::tcp;
using Steady = std::chrono::steady_clock;
using proto::DotStuffer;

namespace {
constexpr std::size_t kReadBuffer = 4096;          // commands are short
constexpr std::size_t kFileChunk = 16 * 1024;      // pread size for RETR/TOP
constexpr std::size_t kFlushAt = 32 * 1024;        // write out once this much is encoded
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

constexpr int kPlainPort = 0;       // pop3.listen: STLS offered
constexpr int kImplicitTls = 1;    // pop3.pop3s_listen
}  // namespace

Pop3Server::Pop3Server(asio::io_context& io, config::ConfigPtr config,
                       std::shared_ptr<const config::AccountTable> accounts, std::string hostname,
                       proto::LoginService& logins,
                       std::function<std::shared_ptr<const tls::ServerContext>()> tls_context)
    : io_(io),
      config_(std::move(config)),
      accounts_(std::move(accounts)),
      hostname_(std::move(hostname)),
      listener_(io, "pop3",
                net::Listener::Hooks{
                    [this] { return std::pair{config_->pop3.max_connections, config_->pop3.max_connections_per_ip}; },
                    [](net::ConnectionLimits::Verdict v) {
                      return format_reply(v == net::ConnectionLimits::Verdict::TooMany
                                              ? ReplyId::TooManyConnections
                                              : ReplyId::TooManyConnectionsFromIp);
                    },
                    [this](tcp::socket s, std::string address, std::uint16_t port, int tag) {
                      accepted(std::move(s), std::move(address), port, tag);
                    },
                    nullptr,
                    [this] { return sessions_.evict_idlest(Steady::now(), std::chrono::seconds(config_->pop3.evict_idle)); },
                    [] { return format_reply(ReplyId::NoDescriptors); }}),
      logins_(logins),
      tls_(std::move(tls_context)) {}

Pop3Server::~Pop3Server() = default;

std::string Pop3Server::listen() {
  if (auto e = listener_.listen(config_->pop3.listen, kPlainPort, "pop3"); !e.empty()) return e;
  return listener_.listen(config_->pop3.pop3s_listen, kImplicitTls, "pop3s");
}

void Pop3Server::set_config(config::ConfigPtr config, std::string hostname) {
  // pop3.listen and pop3.enabled are read at start only (config::restart_needed says so).
  config_ = std::move(config);
  hostname_ = std::move(hostname);
}

void Pop3Server::set_usage(std::shared_ptr<store::UsageTable> usage) { usage_ = std::move(usage); }

void Pop3Server::set_accounts(std::shared_ptr<const config::AccountTable> accounts) {
  accounts_ = std::move(accounts);
}

void Pop3Server::accepted(tcp::socket socket, std::string address, std::uint16_t port, int tag) {
  auto conn = std::make_shared<Connection>(std::move(socket));
  conn->address = std::move(address);
  conn->port = port;
  sessions_.add(conn);
  asio::co_spawn(io_, run_session(conn, tag == kImplicitTls), net::log_failure("pop3 session " + conn->address));
}

// One connection's POP3 glue for proto::Driver: the session (which owns its
// idle deadline: a complete command, or RETR/TOP output written, touch), the
// login checks, the mailbox lock and listing, streaming RETR/TOP and the
// changes at QUIT.
class Pop3Server::Glue final : public proto::Handler {
 public:
  Glue(Pop3Server& server, const std::shared_ptr<Connection>& conn, Security security)
      : server_(server),
        config_(server.config_),
        pop3_(config_->pop3),
        conn_(*conn),
        session_(pop3_, ClientInfo{conn->address, conn->port}, server.hostname_, Steady::now(), security) {}

  ~Glue() override {
    if (!locked_.empty()) server_.locked_.erase(locked_);
  }

  void greet(proto::Driver& d) override { take(d, session_.greet()); }

  proto::Deadline deadline() const override { return {session_.deadline(), session_.last_progress()}; }

  void on_timeout(proto::Driver& d, bool evicted) override {
    take(d, evicted ? session_.on_evicted() : session_.on_tick(Steady::now()));
  }

  bool on_shutdown(proto::Driver& d) override {
    take(d, session_.on_shutdown());
    return true;
  }

  asio::awaitable<proto::Step> input(std::string_view in, proto::Driver& d) override {
    std::size_t used = 0;
    Output o = session_.on_input(in, Steady::now(), used);
    if (used == 0 && o.action == Action::None) co_return proto::Step{0, true};
    const Action action = o.action;
    const bool delay = o.delay;
    const bool failed = o.login_failed;
    take(d, std::move(o));
    if (action == Action::Authenticate) {
      co_await login(d);
    } else if (delay || failed) {
      // A failed login decided by the session alone (malformed SASL PLAIN,
      // a password over config::kMaxPasswordLength octets).
      // An address already blocked is not counted again (the block is
      // not extended; see net/login_throttle.hpp).
      if (failed) server_.logins_.count_failure("pop3", conn_.address);
      if (pop3_.login_delay > 0) {
        std::string pending;
        pending.swap(d.out());
        asio::steady_timer t(d.executor(), std::chrono::seconds(pop3_.login_delay));
        co_await t.async_wait(kAwait);
        d.out().swap(pending);
      }
    } else if (action == Action::Retrieve) {
      co_await retrieve(d);
    } else if (action == Action::Commit) {
      commit(d);
    }
    co_return proto::Step{used, false};
  }

  // After STLS (the driver has dropped what the client pipelined after it),
  // or before the greeting on the POP3S port.
  void tls_started(proto::Driver& d, bool ok) override { take(d, session_.on_tls_started(ok)); }

 private:
  void take(proto::Driver& d, Output&& o) {
    const proto::Action a = o.action == Action::Close      ? proto::Action::Close
                            : o.action == Action::StartTls ? proto::Action::StartTls
                                                           : proto::Action::None;
    d.take(proto::Output{std::move(o.replies), std::move(o.log), a});
    if (server_.offence_sink_) {
      for (const net::Offence x : o.offences) server_.offence_sink_(conn_.address, x);
    }
  }

  // Action::Authenticate: the check, the login delay of a failure, then the
  // listing of the mailbox.
  asio::awaitable<void> login(proto::Driver& d) {
    Output r = session_.on_auth_result(co_await authenticate(d, session_.credentials()));
    if (r.delay && pop3_.login_delay > 0) {
      if (!co_await d.flush()) d.close();
      asio::steady_timer t(d.executor(), std::chrono::seconds(pop3_.login_delay));
      co_await t.async_wait(kAwait);
    }
    const Action next = r.action;
    take(d, std::move(r));
    if (next != Action::ListMailbox) co_return;
    root_ = config_->store.mail_dir + "/" + session_.mailbox();
    const auto& usage = server_.usage_;
    const store::UsageTable::Mark mark = usage ? usage->mark(root_) : store::UsageTable::Mark{};
    store::MaildirListing l = store::list_maildir(root_);
    if (usage && l.error == 0) {   // the listing counts the usage for free: correct the table
      store::MaildirUsage counted;
      for (const auto& msg : l.messages) store::add_message(counted, msg.octets);
      usage->resync(root_, counted, mark);
    }
    if (l.files_read > 0) {
      net::log_info("pop3: user=" + session_.mailbox() + " read " + std::to_string(l.files_read) +
                    " message file(s) without W= in their name to size them");
    }
    std::optional<std::vector<MessageInfo>> infos;
    if (l.error == 0) {
      infos.emplace();
      infos->reserve(l.messages.size());
      for (const auto& m : l.messages) infos->push_back(MessageInfo{m.size, m.uid});
      listing_ = std::move(l.messages);
    } else {
      net::log_error("pop3: cannot list " + root_ + ": " +
                     (l.error_text.empty() ? std::string(std::strerror(l.error)) : l.error_text));
    }
    take(d, session_.on_mailbox(std::move(infos)));
  }

  // Checks the credentials: refused unchecked when the address is blocked
  // or the checker is full; otherwise hashed on the checker thread while
  // this session waits (reading nothing).
  asio::awaitable<AuthResult> authenticate(proto::Driver& d, const Credentials& c) {
    proto::LoginRequest request{d.executor(), "pop3", conn_.address, c.mailbox, c.password, server_.accounts_};
    const proto::LoginResult r = co_await server_.logins_.check(request);
    switch (r.outcome) {
      case proto::LoginOutcome::Blocked: co_return AuthResult::Blocked;
      case proto::LoginOutcome::Busy: co_return AuthResult::Busy;
      case proto::LoginOutcome::Failed: co_return AuthResult::Failed;
      case proto::LoginOutcome::Ok: break;
    }
    const config::Account* a = r.account.get();
    if (!config::pop3_allowed(*a)) co_return AuthResult::Pop3Disabled;
    if (server_.locked_.contains(a->name)) co_return AuthResult::InUse;
    server_.locked_.insert(a->name);
    locked_ = a->name;
    co_return AuthResult::Ok;
  }

  // Action::Retrieve. The size comes from the open file: one that no
  // longer has the octets its name (S=) promised is reported, never sent short.
  asio::awaitable<void> retrieve(proto::Driver& d) {
    const store::MaildirMessage& m = listing_[session_.retrieval().index];
    int fd = store::open_message(root_, m);
    RetrieveResult result = RetrieveResult::Ok;
    struct stat st {};
    if (fd < 0) {
      net::log_warning("pop3: cannot open " + store::path_error(root_ + "/" + m.sub + "/" + m.name, errno));
      result = RetrieveResult::Gone;
    } else if (::fstat(fd, &st) != 0) {
      net::log_error("pop3: user=" + session_.mailbox() + " fstat " + root_ + "/" + m.sub + "/" + m.name + ": " +
                     std::strerror(errno));
      result = RetrieveResult::Gone;
    } else if (static_cast<std::uint64_t>(st.st_size) != m.octets) {
      net::log_error("pop3: user=" + session_.mailbox() + " message file " + root_ + "/" + m.sub + "/" + m.name +
                     " has " + std::to_string(st.st_size) + " octets on disk, its name says " +
                     std::to_string(m.octets) + "; not sent");
      result = RetrieveResult::Damaged;
    }
    if (result != RetrieveResult::Ok && fd >= 0) {
      ::close(fd);
      fd = -1;
    }
    take(d, session_.on_retrieve(result));
    if (fd >= 0 && !co_await stream(d, fd, m.octets)) d.close();
  }

  // Streams message retrieval().index after its +OK line: exactly the
  // `octets` its name promises (a file grown since is read no further).
  // False when the connection must end (write failed, or the file failed,
  // shrank or changed mid-way): then the terminating "." is NOT sent, so
  // the client sees a broken connection instead of a short message.
  asio::awaitable<bool> stream(proto::Driver& d, int fd, std::uint64_t octets) {
    const Retrieval& r = session_.retrieval();
    const store::MaildirMessage& m = listing_[r.index];
    DotStuffer ds(r.top_lines);
    // The output room for streaming is taken at the first RETR/TOP, not at
    // the greeting: reserved for every idle session it became resident
    // once the heap had been written (tls_bench --churn: idle POP3S
    // sessions grew from 47 to 80 KiB).
    d.out().reserve(kFlushAt + 2 * kFileChunk + 64);
    if (chunk_.empty()) chunk_.resize(kFileChunk);
    std::uint64_t offset = 0;
    std::uint64_t wire = 0;   // octets with CRLF line ends, to check against the size announced
    bool ok = true;
    auto broken = [&](const std::string& why) {
      net::log_error("pop3: client=" + conn_.address + " user=" + session_.mailbox() + " message " + root_ + "/" +
                     m.sub + "/" + m.name + ": " + why + "; connection closed without the final \".\"");
      ok = false;
    };
    while (!ds.done() && offset < octets) {
      const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_.size(), octets - offset));
      const ssize_t n = ::pread(fd, chunk_.data(), want, static_cast<off_t>(offset));
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
      wire += static_cast<std::uint64_t>(n) +
              static_cast<std::uint64_t>(std::count(chunk_.data(), chunk_.data() + n, '\n'));
      ds.encode(std::string_view(chunk_.data(), static_cast<std::size_t>(n)), d.out());
      if (d.out().size() >= kFlushAt) {
        if (!co_await d.flush()) {
          ok = false;
          break;
        }
        session_.touch(Steady::now());
        d.deadline_moved();
      }
    }
    ::close(fd);
    if (ok && !r.top_lines && wire != session_.messages()[r.index].size) {
      broken("its content has " + std::to_string(wire) + " octets with CRLF line ends, its name says W=" +
             std::to_string(session_.messages()[r.index].size));
    }
    if (ok) ds.finish(d.out());   // else: what is encoded goes out, the "." never does
    co_return ok;
  }

  // Action::Commit: the changes of the session, at QUIT.
  void commit(proto::Driver& d) {
    const Changes& ch = session_.changes();
    store::MaildirChanges mc;
    std::vector<bool> handled(listing_.size(), false);
    for (std::size_t i : ch.deleted) {
      mc.deleted.push_back(&listing_[i]);
      handled[i] = true;
    }
    for (std::size_t i : ch.retrieved) {
      mc.seen.push_back(&listing_[i]);
      handled[i] = true;
    }
    for (std::size_t i = 0; i < listing_.size(); ++i) {
      if (!handled[i]) mc.unseen.push_back(&listing_[i]);
    }
    std::vector<std::string> errors;
    store::MaildirUsage removed;
    const auto& usage = server_.usage_;
    if (usage) usage->begin(root_);
    const std::size_t failures = store::apply_changes(root_, mc, errors, &removed);
    if (usage) usage->end(root_, {}, removed);
    for (const auto& e : errors) net::log_error("pop3: user=" + session_.mailbox() + ": " + e);
    take(d, session_.on_committed(failures));
  }

  Pop3Server& server_;
  const config::ConfigPtr config_;   // this session's snapshot
  const config::Pop3Config& pop3_;
  Connection& conn_;
  Session session_;
  std::vector<char> chunk_;
  std::string root_;                         // the logged-in Maildir
  std::string locked_;                       // the mailbox this session holds
  std::vector<store::MaildirMessage> listing_;
};

asio::awaitable<void> Pop3Server::run_session(std::shared_ptr<Connection> conn, bool implicit_tls) {
  {
    // Named, not a temporary in the co_await's arguments: g++ 12 destroys
    // such temporaries twice.
    const std::shared_ptr<const tls::ServerContext> context = tls_ ? tls_() : nullptr;
    Security security;
    security.tls_available = context != nullptr;   // STLS offered; on POP3S the driver starts TLS itself
    security.plaintext_login = net::in_networks(config_->server.plaintext_login_networks, conn->address);
    Glue glue(*this, conn, security);
    co_await proto::run_connection(conn, glue, kReadBuffer, context, implicit_tls);
  }   // the mailbox lock is released here, before the slot
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

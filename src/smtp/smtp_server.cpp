// smtp_server.cpp - see smtp_server.hpp.
#include "smtp/smtp_server.hpp"

#include "dns/resolver.hpp"
#include "net/log.hpp"
#include "process/os_random.hpp"
#include "proto/driver.hpp"
#include "smtp/client_check_runner.hpp"
#include "smtp/session.hpp"
#include "store/maildir_name.hpp"
#include "text/ascii.hpp"
#include "store/spool_file.hpp"

#include <algorithm>
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
#include <boost/asio/post.hpp>
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

// Listener tags: which listen key a connection came in on.
constexpr int kFeed = 0;          // smtp.listen
constexpr int kSubmission = 1;    // smtp.submission_listen
constexpr int kSubmissions = 2;   // smtp.submissions_listen (implicit TLS)

}  // namespace

SmtpServer::SmtpServer(asio::io_context& io, config::ConfigPtr config,
                       std::shared_ptr<const config::AccountTable> accounts, std::string hostname,
                       proto::LoginService& logins,
                       std::function<std::shared_ptr<const tls::ServerContext>()> tls_context)
    : io_(io),
      config_(std::move(config)),
      accounts_(std::move(accounts)),
      hostname_(std::move(hostname)),
      logins_(logins),
      tls_(std::move(tls_context)),
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
                    [this](tcp::socket s, std::string address, std::uint16_t port, int tag) {
                      accepted(std::move(s), std::move(address), port, tag);
                    },
                    nullptr,
                    [this] { return sessions_.evict_idlest(Steady::now(), std::chrono::seconds(config_->smtp.evict_idle)); },
                    [this] { return format_reply(ReplyId::NoDescriptors, {}, hostname_); }}),
      feed_timer_(io) {}

void SmtpServer::start() {
  committer_ = std::make_unique<store::Committer>(config_->store.mail_dir, config_->store.sync);
  if (usage_) committer_->set_usage(usage_);
  if (relay_.queue) committer_->set_queue(relay_.queue);
  spool_pool_dir_ = config_->store.spool_dir + "/tmp";
  spool_pool_ = std::make_unique<store::SpoolPool>(spool_pool_dir_);
  configure_feed();
}

void SmtpServer::set_ban_check(std::function<bool(const std::string&)> banned) {
  listener_.set_ban_check(std::move(banned), [this] {
    if (event_sink_) event_sink_(Event{EventKind::ConnectionRefused, 0});
    return format_reply(ReplyId::ClientBanned, {}, hostname_);
  });
}

void SmtpServer::configure_feed() {
  feed_.configure(config_->smtp.feed_servers, config_->firewall.allow);
  std::size_t waiting = 0;
  for (const FeedList::Name& n : feed_.names()) waiting += n.resolved ? 0 : 1;
  if (waiting > 0) {
    net::log_info("feed_servers: resolving " + std::to_string(waiting) +
                  " host name(s); until they answer, the feed port takes only the addresses listed and [firewall] allow");
  }
  notify_feed();
  resolve_feed();
}

void SmtpServer::notify_feed() {
  if (!feed_sink_) return;
  std::vector<std::uint16_t> ports;
  if (feed_.active()) ports = feed_ports_;
  feed_sink_(std::move(ports), feed_.networks());
}

void SmtpServer::resolve_feed() {
  const std::uint64_t round = ++feed_round_;
  feed_timer_.cancel();
  feed_left_ = feed_.names().size();
  if (feed_left_ == 0) return;
  const std::shared_ptr<dns::Resolver> resolver = check_resolver();
  if (!resolver) {   // logged by check_resolver; the names keep their addresses
    feed_left_ = 1;
    feed_name_done({}, {}, {});
    return;
  }
  struct Pending {
    std::vector<net::IpNetwork> found;
    std::string failures;
    int left = 2;   // A and AAAA
  };
  for (const FeedList::Name& n : feed_.names()) {
    auto pending = std::make_shared<Pending>();
    for (const bool v6 : {false, true}) {
      std::string name = n.name;
      resolver->async_address(name, v6, [this, round, pending, name, v6](dns::AddressAnswer a) {
        if (round != feed_round_) return;
        if (a.status == dns::LookupStatus::Ok) {
          for (const auto& addr : a.addresses) {
            if (const auto host = net::parse_address(addr.to_string())) pending->found.push_back(*host);
          }
        } else {
          pending->failures += std::string(v6 ? " AAAA " : " A ") + std::string(dns::to_string(a.status));
        }
        if (--pending->left == 0) feed_name_done(name, std::move(pending->found), pending->failures);
      });
    }
  }
}

void SmtpServer::feed_name_done(const std::string& name, std::vector<net::IpNetwork> found,
                                const std::string& failures) {
  if (!name.empty()) {
    const auto it = std::find_if(feed_.names().begin(), feed_.names().end(),
                                 [&](const FeedList::Name& n) { return n.name == name; });
    const bool had = it != feed_.names().end() && it->resolved;
    if (found.empty()) {
      net::log_warning("feed_servers: " + name + " did not resolve (" + failures.substr(1) + "); " +
                       (had ? "its last addresses stay admitted" : "not admitted until it does"));
    } else if (feed_.resolved(name, found)) {
      std::string list;
      for (const net::IpNetwork& n : found) list += " " + n.to_string();
      net::log_info("feed_servers: " + name + " is" + list);
      notify_feed();
    }
  }
  if (--feed_left_ > 0) return;
  const std::uint64_t round = feed_round_;
  feed_timer_.expires_after(std::chrono::seconds(config_->smtp.feed_refresh));
  feed_timer_.async_wait([this, round](const boost::system::error_code& ec) {
    if (!ec && round == feed_round_) resolve_feed();
  });
}

store::CommitterStats SmtpServer::commit_stats() const {
  return committer_ ? committer_->stats() : store::CommitterStats{};
}

SmtpServer::~SmtpServer() = default;

std::string SmtpServer::listen() {
  for (const auto& a : config_->smtp.listen) feed_ports_.push_back(a.port);
  if (auto e = listener_.listen(config_->smtp.listen, kFeed, "smtp"); !e.empty()) return e;
  if (auto e = listener_.listen(config_->smtp.submission_listen, kSubmission, "submission"); !e.empty()) return e;
  return listener_.listen(config_->smtp.submissions_listen, kSubmissions, "submissions");
}

void SmtpServer::set_config(config::ConfigPtr config, std::string hostname) {
  // smtp.listen is read at start only (config::restart_needed says so).
  if (committer_) committer_->set_mode(config->store.sync);
  const bool feed_changed = config->smtp.feed_servers != config_->smtp.feed_servers ||
                            config->firewall.allow != config_->firewall.allow ||
                            dns::resolver_options(config->dns) != dns::resolver_options(config_->dns) ||
                            config->smtp.feed_refresh != config_->smtp.feed_refresh;
  config_ = std::move(config);
  hostname_ = std::move(hostname);
  if (feed_changed && committer_) configure_feed();   // started: the names again, at once
}

void SmtpServer::set_accounts(std::shared_ptr<const config::AccountTable> accounts) {
  accounts_ = std::move(accounts);
}

std::string SmtpServer::new_queue_id() { return store::queue_id_from(process::os_random_u64()); }

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

std::shared_ptr<dns::Resolver> SmtpServer::check_resolver() {
  const dns::ResolverOptions o = dns::resolver_options(config_->dns);
  if (resolver_ && resolver_config_ && dns::resolver_options(resolver_config_->dns) == o) return resolver_;
  // Lookups still running keep the old one alive (they hold it).
  try {
    resolver_ = std::make_shared<dns::Resolver>(io_.get_executor(), o);
    resolver_config_ = config_;
  } catch (const std::exception& e) {
    net::log_error(std::string("cannot make the resolver for the client checks: ") + e.what() +
                   "; clients are not checked");
    resolver_.reset();
    resolver_config_.reset();
  }
  return resolver_;
}

void SmtpServer::accepted(tcp::socket socket, std::string address, std::uint16_t port, int tag) {
  auto conn = std::make_shared<Connection>(std::move(socket));
  conn->address = std::move(address);
  conn->port = port;
  sessions_.add(conn);
  asio::co_spawn(io_, run_session(conn, tag), net::log_failure("smtp session " + conn->address));
}

// One connection's SMTP glue for proto::Driver: the session (which owns its
// deadline: idle since the last progress, a complete command or DATA at
// smtp.min_data_rate, capped by the whole-session limit), the spool file of
// the message in DATA and its commit.
class SmtpServer::Glue final : public proto::Handler {
 public:
  /// `checked`: run the connection checks (client_checked said so).
  Glue(SmtpServer& server, const std::shared_ptr<Connection>& conn, Security security, bool checked)
      : server_(server),
        conn_(*conn),
        config_(server.config_),
        spool_tmp_(config_->store.spool_dir + "/tmp"),
        session_(config_, server.accounts_, ClientInfo{conn->address, conn->port}, server.hostname_,
                 [this]() -> std::string {
                   // The spool file for the next message comes with its queue id:
                   // taken from the pool (made off the loop) when DATA starts,
                   // adopted at BeginData.
                   if (spool_tmp_ != server_.spool_pool_dir_) return server_.new_queue_id();
                   reserved_ = server_.spool_pool_->take(reserve_err_);
                   return reserved_->queue_id;
                 },
                 Steady::now(), security) {
    const config::ConfigPtr config = config_;
    session_.set_store_query(StoreQuery{
        [&server, config] { return server.free_space(config->store.mail_dir); },
        [&server, config](std::string_view mailbox) {
          return server.mailbox_usage(config->store.mail_dir + "/" + std::string(mailbox));
        }});
    if (checked) start_checks(conn->socket.get_executor());
  }

  ~Glue() override {
    if (check_ && check_->cancel) check_->cancel();   // the session is over: its lookups' answers go unread
    if (reserved_ && reserved_->fd >= 0) {   // a spool file taken but never used
      ::close(reserved_->fd);
      ::unlink(reserved_->path.c_str());
    }
  }

  void greet(proto::Driver& d) override { d.out() += session_.greet().replies; }

  proto::Deadline deadline() const override { return {session_.deadline(), session_.last_progress()}; }

  void on_timeout(proto::Driver& d, bool evicted) override {
    take(d, evicted ? session_.on_evicted() : session_.on_timeout());
  }

  bool on_shutdown(proto::Driver& d) override {
    if (!session_.idle()) return false;   // a message in progress finishes first
    take(d, session_.on_shutdown());
    return true;
  }

  asio::awaitable<proto::Step> input(std::string_view in, proto::Driver& d) override {
    std::size_t used = 0;
    Output o = session_.on_input(in, std::chrono::system_clock::now(), body_, used);
    if (used == 0 && o.action == Action::None) co_return proto::Step{0, true};  // nothing more this session takes
    if (spool_ && !body_.empty()) spool_->write(body_);
    body_.clear();
    const Action action = o.action;
    const bool login_failed = o.login_failed;
    note_progress(d, o);
    take(d, std::move(o));
    if (login_failed) server_.logins_.count_failure("smtp", conn_.address);
    if (action == Action::Authenticate) {
      const auto& c = session_.credentials();
      proto::LoginRequest request{d.executor(), "smtp", conn_.address, c.authcid, c.password, server_.accounts_};
      const proto::LoginResult r = co_await server_.logins_.check(request);
      AuthOutcome outcome = AuthOutcome::Failed;
      switch (r.outcome) {
        case proto::LoginOutcome::Ok: outcome = AuthOutcome::Ok; break;
        case proto::LoginOutcome::Failed: outcome = AuthOutcome::Failed; break;
        case proto::LoginOutcome::Blocked: outcome = AuthOutcome::Blocked; break;
        case proto::LoginOutcome::Busy: outcome = AuthOutcome::Busy; break;
      }
      Output a = session_.on_auth_result(outcome, r.account ? text::ascii_lower(r.account->name) : std::string());
      note_progress(d, a);
      take(d, std::move(a));
    } else if (action == Action::BeginData) {
      begin_data();
    } else if (action == Action::AbortData) {
      spool_.reset();
    } else if (action == Action::ClientCheck) {
      if (check_ && !check_->verdict) {
        // Woken by the checks' end (the timer is cancelled then; it never expires).
        auto [ec] = co_await check_->wake.async_wait(kAwait);
        (void)ec;
      }
      ClientVerdict verdict = check_ && check_->verdict ? std::move(*check_->verdict) : ClientVerdict{};
      Output c = session_.on_client_check(std::move(verdict), std::chrono::system_clock::now());
      note_progress(d, c);
      take(d, std::move(c));
    } else if (action == Action::Commit) {
      const int err = co_await commit(d);
      Output c = session_.on_committed(err);
      note_progress(d, c);
      take(d, std::move(c));
    }
    co_return proto::Step{used, false};
  }

  void tls_started(proto::Driver& d, bool ok) override {
    take(d, session_.on_tls_started(ok, d.transport().description()));
  }

 private:
  /// The checks' verdict, and the wake-up of a RCPT that waits for it.
  struct CheckState {
    explicit CheckState(asio::any_io_executor ex) : wake(ex) { wake.expires_at(Steady::time_point::max()); }
    std::optional<ClientVerdict> verdict;
    asio::steady_timer wake;        // cancelled when the verdict is in (never expires)
    std::function<void()> cancel;   // stops the lookups (start_client_checks)
  };

  void start_checks(asio::any_io_executor ex) {
    auto state = std::make_shared<CheckState>(ex);
    ClientCheckRequest request;
    request.client = conn_.address;
    request.zones = config_->smtp.dnsbl_zones;
    request.reverse = config_->smtp.reverse_dns != config::ReverseDnsPolicy::Off;
    request.timeout = std::chrono::seconds(config_->smtp.client_check_timeout);
    const config::ReverseDnsPolicy policy = config_->smtp.reverse_dns;
    // Started once the greeting is on its way: posted, it runs after the
    // driver has written the 220 (a socket write is tried at once). The
    // state by weak pointer: nothing here keeps a finished session's alive.
    std::weak_ptr<CheckState> weak = state;
    asio::post(ex, [&server = server_, weak, request = std::move(request), policy, ex]() mutable {
      auto st = weak.lock();
      if (!st) return;   // the session is over already
      std::shared_ptr<dns::Resolver> resolver = server.check_resolver();
      if (!resolver) {   // logged; the client is let through
        st->verdict = ClientVerdict{};
        st->wake.cancel();
        return;
      }
      st->cancel = start_client_checks(std::move(resolver), ex, std::move(request), [weak, policy](ClientLookups lookups) {
        auto done = weak.lock();
        if (!done) return;
        ClientVerdict v = client_verdict(lookups, policy);
        for (const std::string& line : v.log) net::log_info(line);
        done->verdict = std::move(v);
        done->wake.cancel();
      });
    });
    check_ = std::move(state);
    session_.expect_client_check();
  }

  void take(proto::Driver& d, Output&& o) {
    const proto::Action a = o.action == Action::Close      ? proto::Action::Close
                            : o.action == Action::StartTls ? proto::Action::StartTls
                                                           : proto::Action::None;
    d.take(proto::Output{std::move(o.replies), std::move(o.log), a});
    if (server_.event_sink_) {
      for (const Event& e : o.events) server_.event_sink_(e);
    }
    if (server_.offence_sink_) {
      for (const net::Offence x : o.offences) server_.offence_sink_(conn_.address, x);
    }
  }

  void note_progress(proto::Driver& d, const Output& o) {
    if (session_.note_progress(o, Steady::now())) d.deadline_moved();
  }

  void begin_data() {
    int err = 0;
    if (!reserved_) {
      spool_ = store::SpoolFile::create(spool_tmp_, session_.envelope().queue_id, err);
    } else if (reserved_->fd >= 0) {
      spool_ = store::SpoolFile::adopt(reserved_->fd, std::move(reserved_->path));
    } else {
      err = reserve_err_;
    }
    reserved_.reset();
    spool_err_ = spool_ ? 0 : (err != 0 ? err : EIO);
    if (!spool_) {
      net::log_error(session_.envelope().queue_id + ": cannot create spool file: " + std::strerror(err));
      // Read the data anyway; the commit reports the failure.
    } else {
      spool_->write(session_.envelope().prefix);
    }
  }

  // Makes the message durable in every recipient's Maildir; returns 0 or an errno value.
  asio::awaitable<int> commit(proto::Driver& d) {
    int err = 0;
    const Envelope& env = session_.envelope();
    if (!spool_) {
      co_return spool_err_ != 0 ? spool_err_ : EIO;   // ENOSPC (out of inodes too) -> 452 4.3.1
    }
    if (spool_->error() != 0) {
      err = spool_->error();
      net::log_error(env.queue_id + ": cannot write spool file " + spool_->path() + ": " + std::strerror(err));
      spool_.reset();
      co_return err;
    }
    std::shared_ptr<store::QueueEnvelope> queued;
    if (server_.relay_.remote) {
      std::vector<store::QueueRecipient> remote = server_.relay_.remote(env);
      if (!remote.empty()) {
        queued = std::make_shared<store::QueueEnvelope>();
        queued->queue_id = env.queue_id;
        queued->arrival = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch()).count();
        queued->reverse_path = env.reverse_path;
        queued->skip = store::return_path_length(env.prefix);
        queued->client = "[" + conn_.address + "]";
        queued->recipients = std::move(remote);
      }
    }
    if (env.mailboxes.empty() && !queued) {
      spool_.reset();  // every recipient was "null": accepted and discarded
      co_return 0;
    }
    const DataSummary& s = session_.data_summary();
    const std::uint64_t size = spool_->size();
    const std::uint64_t vsize = size + env.prefix_lines + s.lines;
    timeval tv{};
    gettimeofday(&tv, nullptr);
    store::Delivery delivery;
    delivery.name = store::maildir_file_name(tv.tv_sec, tv.tv_usec, getpid(), ++server_.delivery_seq_,
                                             server_.hostname_, size, vsize);
    delivery.spool_path = spool_->path();
    delivery.fd = spool_->release();
    spool_.reset();
    for (const auto& mb : env.mailboxes) delivery.maildirs.push_back(config_->store.mail_dir + "/" + mb);
    delivery.queue = queued;
    if (!co_await d.flush()) d.close();
    std::string where;
    std::tie(err, where) = co_await server_.committer_->async_commit(std::move(delivery), kAwait);
    if (err != 0) {
      std::string boxes;
      for (const auto& mb : env.mailboxes) boxes += (boxes.empty() ? "" : ",") + mb;
      if (queued) boxes += (boxes.empty() ? "" : " and ") + std::string("the outgoing queue");
      net::log_error(env.queue_id + ": cannot store the message for mailbox(es) " + boxes + ": " + where + ": " +
                     std::strerror(err) + " (errno " + std::to_string(err) + ")");
    } else if (queued && server_.relay_.queued) {
      server_.relay_.queued(*queued);
    }
    co_return err;
  }

  SmtpServer& server_;
  Connection& conn_;
  const config::ConfigPtr config_;   // this session's snapshot
  const std::string spool_tmp_;
  std::optional<store::SpoolPool::Entry> reserved_;
  int reserve_err_ = 0;
  int spool_err_ = 0;   // why this message's spool file could not be made (errno), for the reply
  Session session_;
  std::string body_;
  std::unique_ptr<store::SpoolFile> spool_;
  std::shared_ptr<CheckState> check_;   // while the connection checks run or their verdict waits
};

asio::awaitable<void> SmtpServer::run_session(std::shared_ptr<Connection> conn, int tag) {
  {
    // Named, not a temporary in the co_await's arguments: g++ 12 destroys
    // such temporaries twice.
    const std::shared_ptr<const tls::ServerContext> context = tls_ ? tls_() : nullptr;
    Security security;
    security.tls_available = context != nullptr;
    security.submission = tag != kFeed;
    security.plaintext_auth = net::in_networks(config_->server.plaintext_login_networks, conn->address);
    security.refused = tag == kFeed && !feed_.admits(conn->address);
    if (security.refused) {
      net::log_warning("smtp: client=" + conn->address + " refused: not a feed server ([smtp] feed_servers); 554 5.7.1");
      if (event_sink_) event_sink_(Event{EventKind::ConnectionRefused, 0});
    }
    const bool checked = client_checked(*config_, conn->address, tag == kFeed);
    Glue glue(*this, conn, security, checked);   // an unused spool file is removed when it goes
    co_await proto::run_connection(conn, glue, kReadBuffer, context, tag == kSubmissions);
  }
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

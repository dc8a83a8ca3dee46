// smtp_server.hpp - the SMTP feed listener: Asio glue around smtp::Session.
//
// Owns the listening sockets, the connection limits, the spool files and
// the hand-off to the Committer. Each connection runs on proto::Driver (the
// read/write loop, the watchdog, graceful shutdown: proto/driver.hpp) with
// SmtpServer::Glue as its proto::Handler: it hands the Session's deadline
// (Session::deadline: idle since the last progress, capped by
// smtp.session_timeout) to the driver and carries out the Session's Actions
// (BeginData, Commit, AbortData).
// Everything protocol-related is decided by Session. Runs on one
// io_context thread.
//
// Backpressure: a connection reads at most one buffer (8 KiB) at a time and
// does not read again until the replies for it are written and its body
// bytes are in the spool file. Replies to pipelined commands are flushed
// once the input at hand is used up (RFC 2920).
//
// Room for mail (store/quota.hpp): each session gets a StoreQuery answered
// from the UsageTable (quota at RCPT) and from a statvfs(2) of mail_dir
// cached for one second (free-space reserve at MAIL; f_blocks == 0, as on
// ramfs, means "cannot tell" and is never refused). A failed commit is
// logged as an error with the errno text and the Maildir or sync that
// failed, besides the session's "result=deferred" line.
// TLS and AUTH (session.hpp for the protocol): each connection gets the
// certificate current when it is accepted (a reload does not touch running
// sessions); Action::StartTls goes to the driver (which drops pipelined
// input and runs the handshake), Action::Authenticate to the daemon's
// proto::LoginService, shared with POP3 (one failed-login budget per
// address). A failed login the session decides alone (malformed SASL) is
// counted there too.
// Checks at connection time (smtp/client_check.hpp, docs/abuse.md): for a
// client of the feed port that client_checked() selects, the DNSBL and
// reverse DNS lookups start at accept (start_client_checks, posted so that
// they begin right after the greeting is written: it never waits), their log
// lines are written when they end, and a RCPT that comes first waits for
// them (Action::ClientCheck). The lookups run on a dns::Resolver of the
// server's own, made from [dns] at the first checked client and made again
// when [dns] changes; a session that ends cancels its lookups.
// Feed servers (smtp/feed_list.hpp, docs/firewall.md): with [smtp]
// feed_servers set, a feed-port client it does not admit gets a 554 5.7.1
// greeting and 503 to everything but QUIT (RFC 5321 3.1; Security::refused),
// logged. Its host names are resolved (A and AAAA, on the same resolver as
// the checks) at start(), at each set_config that changes feed_servers,
// [firewall] allow or [dns], and every [smtp] feed_refresh seconds after a
// round ends; a failed lookup keeps the name's last addresses (logged), a
// change goes to the feed sink (the firewall's feed sets).
// Bans (set_ban_check): a banned client is refused at accept with
// 421 4.7.0 on every SMTP port (net::Listener::set_ban_check).
// Counters: the sessions' typed events (smtp::Event, e.g. MessageAccepted,
// RecipientRefused) and the connections refused by the limits
// (ConnectionRefused) go to the sink of set_event_sink as they happen.
#pragma once

#include "config/account.hpp"
#include "config/config.hpp"
#include "net/abuse_score.hpp"
#include "net/connection.hpp"
#include "net/listener.hpp"
#include "net/session_table.hpp"
#include "proto/login.hpp"
#include "smtp/feed_list.hpp"
#include "smtp/session.hpp"
#include "store/committer.hpp"
#include "store/spool_pool.hpp"
#include "store/usage_table.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

namespace boxmail::tls {
class ServerContext;
}
namespace boxmail::dns {
class Resolver;
}

namespace boxmail::smtp {

class SmtpServer {
 public:
  /// `hostname`: resolved name for greeting and Received: (config or
  /// gethostname()). `logins`: the daemon's password checks for AUTH
  /// (outlives the server). `tls_context`: the certificate for new
  /// connections, or null (no STARTTLS; the implicit-TLS port closes).
  SmtpServer(boost::asio::io_context& io, config::ConfigPtr config,
             std::shared_ptr<const config::AccountTable> accounts, std::string hostname,
             proto::LoginService& logins,
             std::function<std::shared_ptr<const tls::ServerContext>()> tls_context);
  ~SmtpServer();

  /// Binds every smtp.listen (the feed, STARTTLS offered),
  /// smtp.submission_listen (STARTTLS, AUTH required) and
  /// smtp.submissions_listen (implicit TLS, AUTH required) address (as
  /// root, before the privilege drop; accepting starts when the io_context
  /// runs). All share max_connections. Returns "" or an error message.
  std::string listen();

  /// Opens the mail store and starts its threads: the Committer (with
  /// mail_dir) and the spool file pool. Called once, after the privilege
  /// drop and before the io_context runs, so nothing in the store is made
  /// by root and no thread keeps root's capability bounding set.
  void start();

  /// Takes a new configuration snapshot for new sessions (running ones keep theirs).
  void set_config(config::ConfigPtr config, std::string hostname);
  /// Takes a new account table for new sessions.
  void set_accounts(std::shared_ptr<const config::AccountTable> accounts);
  /// Called at each new connection (to re-read the passwd-file if it changed).
  void set_before_accept(std::function<void()> f) { listener_.set_before_accept(std::move(f)); }
  /// Where counted events go (the control server's counters); nullptr: nowhere.
  void set_event_sink(std::function<void(const Event&)> f) { event_sink_ = std::move(f); }
  /// Where the sessions' offences go with the client's address (the
  /// daemon's net::AbuseScore); nullptr: nowhere.
  void set_offence_sink(std::function<void(const std::string& address, net::Offence)> f) {
    offence_sink_ = std::move(f);
  }

  /// Refuses the clients `banned` says are banned, at accept, with
  /// 421 4.7.0 (counted as a refused connection). Null: no check.
  void set_ban_check(std::function<bool(const std::string&)> banned);
  /// Where the feed restriction goes at start() and whenever it changes:
  /// the feed ports (smtp.listen as bound; empty when feed_servers is
  /// not set) and FeedList::networks(). Set before start().
  void set_feed_sink(std::function<void(std::vector<std::uint16_t>, std::vector<net::IpNetwork>)> f) {
    feed_sink_ = std::move(f);
  }
  /// The feed restriction as it stands (tests, the status page).
  const FeedList& feed() const { return feed_; }

  /// Stops accepting; idle sessions get 421 4.3.2, busy ones finish their
  /// message first. `on_empty` runs once no session is left.
  void shutdown(std::function<void()> on_empty);

  std::size_t sessions() const { return sessions_.size(); }

  /// The store's group-commit counters (deliveries, batches, syncs).
  store::CommitterStats commit_stats() const;
  /// The Committer made by start() (null before), for other local deliveries
  /// (the queue runner's notices) that share its group commit.
  store::Committer* committer() { return committer_.get(); }

  /// The mailbox usage table for the quota check at RCPT; the Committer
  /// counts each delivery in it. Set once, before start().
  void set_usage(std::shared_ptr<store::UsageTable> usage);

  /// Outgoing mail (issue 10; docs/queue.md). `remote(env)` lists the
  /// remote recipients of an accepted message (empty: local only, the
  /// Maildir path as before); the message then also goes into `queue` in
  /// the same Committer batch, and its 250 waits for that too.
  /// `queued(envelope)` runs on the loop once the entry is durable (the
  /// runner puts it in its QueueIndex). Set once, before start().
  struct Relay {
    std::shared_ptr<store::Queue> queue;
    std::function<std::vector<store::QueueRecipient>(const Envelope&)> remote;
    std::function<void(const store::QueueEnvelope&)> queued;
  };
  void set_relay(Relay relay) { relay_ = std::move(relay); }

 private:
  using Connection = net::Connection;
  class Glue;   // one connection's proto::Handler (smtp_server.cpp)
  void accepted(boost::asio::ip::tcp::socket socket, std::string address, std::uint16_t port, int tag);
  boost::asio::awaitable<void> run_session(std::shared_ptr<Connection> conn, int tag);
  void session_ended(std::uint64_t id, const std::string& address);
  std::string new_queue_id();
  std::optional<std::uint64_t> free_space(const std::string& mail_dir);
  std::optional<std::uint64_t> mailbox_usage(const std::string& root);
  std::shared_ptr<dns::Resolver> check_resolver();
  void configure_feed();
  void resolve_feed();
  void feed_name_done(const std::string& name, std::vector<net::IpNetwork> found, const std::string& failures);
  void notify_feed();

  boost::asio::io_context& io_;
  config::ConfigPtr config_;
  std::shared_ptr<const config::AccountTable> accounts_;
  std::string hostname_;
  std::function<void(const Event&)> event_sink_;
  std::function<void(const std::string&, net::Offence)> offence_sink_;
  proto::LoginService& logins_;
  std::function<std::shared_ptr<const tls::ServerContext>()> tls_;
  net::Listener listener_;
  std::unique_ptr<store::Committer> committer_;
  std::unique_ptr<store::SpoolPool> spool_pool_;   // spool files made off the loop
  std::string spool_pool_dir_;
  net::SessionTable<Connection> sessions_;
  std::uint64_t delivery_seq_ = 0;
  std::shared_ptr<store::UsageTable> usage_;
  Relay relay_;
  std::shared_ptr<dns::Resolver> resolver_;   // for the connection checks; made when first needed
  config::ConfigPtr resolver_config_;          // the snapshot resolver_ was made from
  FeedList feed_;                              // who may use the feed port
  std::function<void(std::vector<std::uint16_t>, std::vector<net::IpNetwork>)> feed_sink_;
  std::vector<std::uint16_t> feed_ports_;      // smtp.listen's ports, as bound
  boost::asio::steady_timer feed_timer_;       // the next round of feed lookups
  std::uint64_t feed_round_ = 0;               // answers of an older round are ignored
  std::size_t feed_left_ = 0;                  // names of this round not answered yet
  // statvfs of mail_dir, cached for kFreeSpaceCache (checked at every MAIL).
  std::optional<std::uint64_t> free_cached_;
  std::chrono::steady_clock::time_point free_checked_{};
};

}  // namespace boxmail::smtp

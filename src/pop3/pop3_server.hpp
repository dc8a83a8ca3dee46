// pop3_server.hpp - the POP3 listener: Asio glue around pop3::Session.
//
// Owns the listening sockets, the connection limits, the failed-login delay
// and per-address failure counts, the mailbox locks, and the Maildir work:
// listing at login, streaming RETR and TOP, and the changes at QUIT. Each
// connection runs on proto::Driver (the read/write loop, the watchdog with
// the deadline from Session::deadline(), graceful shutdown:
// proto/driver.hpp) with Pop3Server::Glue as its proto::Handler. Everything protocol-related is
// decided by Session. Runs on the one io_context thread.
//
// Locking (RFC 1939 8): a mailbox is held by at most one session in the
// TRANSACTION state; a second login gets -ERR [IN-USE] (RFC 2449). The lock
// is in this process only (boxmaild is the only POP3 reader of its Maildirs).
//
// Streaming: RETR/TOP read the file in 16 KiB chunks with pread(2), encode
// them with a DotStuffer and write each batch before reading the next
// (backpressure: at most about 48 KiB buffered per connection, whatever the
// message size). Small messages go out with their +OK line in one write.
//
// Sizes on disk: the opened file is fstat'ed; when its size is not the
// octets its name promises (S=, or the size seen at login for a name
// without S=) the message is not sent: -ERR [SYS/TEMP] and an error log
// line naming the file. Streaming reads exactly those octets; a file that
// shrinks under it, or whose content no longer adds up to W=, ends the
// connection without the final "." (a client must treat that as a failed
// retrieval, never as a short message) and is logged as an error.
//
// Logins (docs/pop3.md "Login") go through the daemon's one
// proto::LoginService, shared with SMTP AUTH: a blocked address gets
// -ERR [SYS/TEMP] whatever the password, a full checker queue too; the
// hash runs off the loop and the session reads no input meanwhile.
//
// TLS: pop3.listen offers STLS (RFC 2595), pop3s_listen is TLS from the
// first octet (RFC 8314); both use the certificate the tls_context
// function returns at accept time (null: none loaded, STLS not offered).
// The session gets a pop3::Security: TLS available, and whether the
// client's address is in [server] plaintext_login_networks (else no login
// before TLS: session.hpp, "Plaintext rule"). The driver carries out
// STLS (dropping what was pipelined after it) and tells the session
// through Handler::tls_started, also before the greeting on POP3S.
//
// Costs still on the loop thread (known, documented in docs/pop3.md):
// reading the Maildir directories at login, and the renames/unlinks plus
// two directory fsyncs at QUIT.
#pragma once

#include "config/account.hpp"
#include "config/config.hpp"
#include "net/abuse_score.hpp"
#include "net/connection.hpp"
#include "proto/login.hpp"
#include "net/listener.hpp"
#include "net/session_table.hpp"
#include "pop3/reply.hpp"
#include "store/usage_table.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace boxmail::tls {
class ServerContext;
}

namespace boxmail::pop3 {

class Pop3Server {
 public:
  /// `hostname`: the name in the greeting (config or gethostname()).
  /// `logins`: the daemon's password checks (outlives the server).
  /// `tls_context`: the certificate for new connections, or null.
  Pop3Server(boost::asio::io_context& io, config::ConfigPtr config,
             std::shared_ptr<const config::AccountTable> accounts, std::string hostname,
             proto::LoginService& logins,
             std::function<std::shared_ptr<const tls::ServerContext>()> tls_context);
  ~Pop3Server();

  /// Binds every pop3.listen and pop3.pop3s_listen address. Returns "" or
  /// an error message.
  std::string listen();

  /// Takes a new configuration snapshot for new sessions (running ones keep theirs).
  void set_config(config::ConfigPtr config, std::string hostname);
  /// The mailbox usage table: deletions at QUIT are taken out of it, and a
  /// login's listing re-syncs it (store/usage_table.hpp). Set before listen().
  void set_usage(std::shared_ptr<store::UsageTable> usage);
  /// Where the sessions' offences go with the client's address (the
  /// daemon's net::AbuseScore; failed logins go there through the
  /// LoginService's hook); nullptr: nowhere.
  void set_offence_sink(std::function<void(const std::string& address, net::Offence)> f) {
    offence_sink_ = std::move(f);
  }
  /// Takes a new account table for new logins.
  void set_accounts(std::shared_ptr<const config::AccountTable> accounts);
  /// Called at each new connection (to re-read the passwd-file if it changed).
  void set_before_accept(std::function<void()> f) { listener_.set_before_accept(std::move(f)); }
  /// Refuses the clients `banned` says are banned, at accept, with
  /// -ERR [SYS/PERM] and a close (net::Listener::set_ban_check). Null: no check.
  void set_ban_check(std::function<bool(const std::string&)> banned) {
    listener_.set_ban_check(std::move(banned), [] { return format_reply(ReplyId::Banned); });
  }

  /// Stops accepting; sessions waiting for a command get -ERR [SYS/TEMP] and
  /// are closed without saving (RFC 1939: no UPDATE), a RETR in progress
  /// finishes first. `on_empty` runs once no session is left.
  void shutdown(std::function<void()> on_empty);

  std::size_t sessions() const { return sessions_.size(); }

 private:
  using Connection = net::Connection;
  class Glue;   // one connection's proto::Handler (pop3_server.cpp)

  void accepted(boost::asio::ip::tcp::socket socket, std::string address, std::uint16_t port, int tag);
  boost::asio::awaitable<void> run_session(std::shared_ptr<Connection> conn, bool implicit_tls);
  void session_ended(std::uint64_t id, const std::string& address);

  boost::asio::io_context& io_;
  config::ConfigPtr config_;
  std::shared_ptr<const config::AccountTable> accounts_;
  std::string hostname_;
  net::Listener listener_;
  net::SessionTable<Connection> sessions_;
  std::unordered_set<std::string> locked_;   // mailboxes in the TRANSACTION state
  std::shared_ptr<store::UsageTable> usage_;
  proto::LoginService& logins_;                          // password checks, failed logins per address (shared)
  std::function<std::shared_ptr<const tls::ServerContext>()> tls_;   // the current certificate, or null
  std::function<void(const std::string&, net::Offence)> offence_sink_;
};

}  // namespace boxmail::pop3

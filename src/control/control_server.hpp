// control_server.hpp - boxmaild's control socket: Asio glue around
// control_protocol.hpp.
//
// Listens on a UNIX stream socket at `path` (a stale socket file there is
// replaced; the directory is created 0750 when missing). The socket gets
// mode 0660 and the group of its directory, so the web server's user (a
// member of that group) may connect and nobody else may. Each connection
// sends one request line (at most kMaxRequestLine octets, within 5 s),
// gets one reply and is closed. A tls-install line announces its payload
// (the PEM chain and key, at most kMaxTlsUpload octets together), a
// smarthost-login line its own (user name and password, at most
// kMaxSmarthostUser + kMaxSmarthostPassword), which must follow within
// 10 s; nothing is read past it.
//
// The server installs the net::log tap: every logged line goes into a ring
// buffer (`log N`). The message counters (`stats`) are fed typed events by
// count() (the wiring hands it the SMTP sessions' events), never log text.
// `status` and `reload` are answered by the daemon's handlers (wiring in
// app/boxmaild.cpp), which return typed replies (control_replies.hpp);
// they run to completion on the loop, but for `relay-test`, whose handler
// is a coroutine this connection's serve() awaits (the SMTP dialogue takes
// seconds; other connections and mail go on meanwhile). This
// server encodes every reply through the same encode() the clients decode
// with. Runs on the daemon's one io_context thread.
#pragma once

#include "config/account.hpp"
#include "control/control_protocol.hpp"
#include "control/control_replies.hpp"
#include "net/log.hpp"
#include "net/stats.hpp"
#include "store/usage_table.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

namespace boxmail::control {

class ControlServer {
 public:
  struct Handlers {
    std::function<StatusReply()> status;   ///< `status` (the mail store part: fill_mail_store)
    std::function<ReloadReply()> reload;   ///< taken, or refused with the configuration errors
    std::function<TlsReply()> tls;         ///< the certificate in use (control/tls_commands.hpp)
    /// Validates and installs an uploaded chain and key, or refuses them.
    std::function<TlsChangeReply(const TlsUpload&)> tls_install;
    std::function<TlsChangeReply()> tls_regenerate;   ///< a new self-signed certificate
    /// `queue ...`: the outgoing queue (relay/queue_runner.hpp); the reply as is.
    std::function<Reply(const Request&)> queue;
    /// `ban`, `unban`, `bans`: the firewall's ban list (firewall/ban_list.hpp); the reply as is.
    std::function<Reply(const Request&)> firewall;
    /// Stores a checked smarthost login (control/smarthost_login.hpp).
    std::function<LoginChangeReply(const SmarthostLogin&)> smarthost_login;
    std::function<LoginChangeReply()> smarthost_login_clear;   ///< removes the stored login
    /// `relay-test ADDRESS [SENDER]` (the address as given, the sender
    /// without <>, "" for the null sender; their syntax checked): the one
    /// asynchronous handler. serve() awaits it while the loop runs on; it
    /// must answer within kRelayTestSeconds and a little.
    std::function<boost::asio::awaitable<RelayTestReply>(std::string, std::string)> relay_test;
    /// The firewall's dropped packets (the nft counter banned_drops), asked
    /// of the helper for each `stats` (serve() awaits it, the loop runs
    /// on; it must answer within a few seconds); nullopt: firewall off or
    /// no answer. Unset: `stats` has no firewall_drops.
    std::function<boost::asio::awaitable<std::optional<std::uint64_t>>()> firewall_drops;
  };

  ControlServer(boost::asio::io_context& io, std::string path, Handlers handlers);
  ~ControlServer();   ///< removes the log tap and the socket file

  /// Binds and starts accepting. Returns "" or an error message.
  std::string listen();
  /// Stops accepting and removes the socket file.
  void close();

  const std::string& path() const { return path_; }
  /// Counts one message event now (Unix time, local day) for `stats`.
  void count(net::MessageEvent event);
  /// The answer to one request line and, for tls-install and
  /// smarthost-login, the payload that followed it (also used by tests).
  /// relay-test is not answered here (serve() awaits its handler); a
  /// `stats` reply has `drops` as its firewall_drops (serve() asks the
  /// firewall_drops handler first). A `ban` boxmaild takes counts as one
  /// of today's bans.
  Reply answer(std::string_view line, std::string_view payload = {},
               std::optional<std::uint64_t> drops = std::nullopt);

 private:
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> serve(boost::asio::local::stream_protocol::socket socket);
  static void tap(void* user, net::LogLevel level, std::string_view text);

  boost::asio::io_context& io_;
  std::string path_;
  Handlers handlers_;
  std::unique_ptr<boost::asio::local::stream_protocol::acceptor> acceptor_;
  net::LogRing ring_;
  net::MessageStats stats_;
};

/// The mail store's part of `status`: one MailboxStatus per account
/// (usage from `usage`, the S= sizes of its Maildir names, no directory is
/// read here; no usage while the first count is not done; quota 0 for
/// none), and the StoreStatus (used: the sum of the counted mailboxes;
/// free and total from statvfs, none when the file system tells no size,
/// e.g. ramfs; `reserve` is store.min_free_space). Replaces what `out`
/// held of both.
void fill_mail_store(StatusReply& out, const std::string& mail_dir, const config::AccountTable& accounts,
                     store::UsageTable& usage, std::uint64_t reserve);

/// The local calendar day number of Unix time `t` (days since 1970 in
/// local time), for the "today" counters.
std::int64_t local_day(std::int64_t t);

}  // namespace boxmail::control

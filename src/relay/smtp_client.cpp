// smtp_client.cpp - see smtp_client.hpp.
#include "relay/smtp_client.hpp"

#include "net/connection.hpp"
#include "proto/dot_stuffer.hpp"
#include "proto/transport.hpp"
#include "tls/client_context.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace boxmail::relay {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;
using Steady = std::chrono::steady_clock;

namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

std::string endpoint_text(const Target& t) {
  const std::string a = t.address.to_string();
  return (t.address.is_v6() ? "[" + a + "]" : a) + ":" + std::to_string(t.port);
}

/// The RFC 5321 4.5.3.2 limit for the reply the session waits for.
std::chrono::milliseconds timeout_for(const Timeouts& t, std::optional<Stage> stage) {
  if (!stage) return t.command;
  switch (*stage) {
    case Stage::Greeting: return t.greeting;
    case Stage::Mail: return t.mail;
    case Stage::Rcpt: return t.rcpt;
    case Stage::Data: return t.data_init;
    case Stage::Body: return t.data_end;
    default: return t.command;
  }
}

/// Moves the watchdog's deadline to `d` from now (it re-reads it at once).
void arm(net::Connection& conn, std::chrono::milliseconds d) {
  conn.deadline = Steady::now() + d;
  conn.timer.cancel();
}

/// The outcome of one connection.
struct Attempt {
  bool connected = false;
  std::string error;   // why the connect failed
  bool tls = false;
  std::string cipher;
};

/// Streams message `m`'s body: pread blocks, dot-stuffed, CRLF.CRLF at the
/// end. Returns the error text (empty when all was written).
asio::awaitable<std::string> send_body(proto::Transport& transport, net::Connection& conn, const OutgoingMessage& m,
                                       const ClientRequest& req) {
  proto::DotStuffer stuffer(proto::LineEnds::Crlf);
  std::vector<char> block(req.block_size > 0 ? req.block_size : 64 * 1024);
  std::string wire;
  off_t offset = static_cast<off_t>(m.offset);
  for (;;) {
    const ssize_t n = ::pread(m.fd, block.data(), block.size(), offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      co_return std::string("cannot read the message file: ") + std::strerror(errno);
    }
    wire.clear();
    if (n == 0) {
      stuffer.finish(wire);
    } else {
      offset += n;
      stuffer.encode(std::string_view(block.data(), static_cast<std::size_t>(n)), wire);
    }
    arm(conn, req.timeouts.data_block);
    const asio::const_buffer buf = asio::buffer(wire);
    const error_code ec = co_await transport.write(buf);
    if (ec) co_return conn.timed_out ? std::string("timed out") : ec.message();
    if (n == 0) co_return std::string();
  }
}

/// One connection to `target` run with `session` to its end.
asio::awaitable<Attempt> attempt(const Target& target, ClientSession& session, const ClientRequest& req,
                                 std::shared_ptr<const tls::ClientContext> ctx) {
  Attempt a;
  const auto executor = co_await asio::this_coro::executor;
  auto conn = std::make_shared<net::Connection>(tcp::socket(executor));
  conn->address = target.address.to_string();
  conn->port = target.port;
  conn->deadline = Steady::now() + req.timeouts.connect;
  asio::co_spawn(executor, net::watchdog(conn), asio::detached);
  const tcp::endpoint ep(target.address, target.port);
  auto [connect_ec] = co_await conn->socket.async_connect(ep, kAwait);
  if (connect_ec) {
    a.error = conn->timed_out ? std::string("connection timed out") : connect_ec.message();
    conn->closed = true;
    conn->timer.cancel();
    error_code ignored;
    conn->socket.close(ignored);
    co_return a;
  }
  a.connected = true;
  // Commands and the message go out in several writes while the server's
  // replies are awaited: without TCP_NODELAY a write behind an unacknowledged
  // one waits for the peer's delayed ACK (40 ms on Linux), per message.
  error_code nodelay_ec;
  conn->socket.set_option(tcp::no_delay(true), nodelay_ec);
  session.note("connected to " + target.host_name + " " + endpoint_text(target));
  proto::TlsTransport transport(conn->socket, ctx, target.host_name);

  ClientOutput out;
  if (req.implicit_tls) {
    arm(*conn, req.timeouts.command);
    const error_code ec = co_await transport.start_tls();
    if (ec) {
      const std::string why = transport.tls_error().empty() ? ec.message() : transport.tls_error();
      session.note("TLS handshake failed: " + why);
      out = session.tls_started(false, why);
    } else {
      // The session was made with tls_on_connect: it waits for the greeting.
      session.note("TLS: " + transport.description());
    }
  }
  std::vector<char> buf(4096);
  std::string unread;
  for (;;) {
    if (req.stopping && *req.stopping) session.stop();
    if (!out.send.empty()) {
      arm(*conn, req.timeouts.command);
      const asio::const_buffer b = asio::buffer(out.send);
      const error_code ec = co_await transport.write(b);
      out.send.clear();
      if (ec) {
        const LossCause cause = conn->timed_out ? LossCause::Timeout : LossCause::Error;
        out = session.connection_lost(ec.message(), cause);
        continue;
      }
    }
    if (out.action == ClientAction::Close) break;
    if (out.action == ClientAction::StartTls) {
      // The client side of the STARTTLS rule: nothing read in the clear
      // after the 220 is taken as a reply from inside TLS.
      if (!unread.empty()) session.note("dropped " + std::to_string(unread.size()) + " octets sent in the clear after 220");
      unread.clear();
      arm(*conn, req.timeouts.command);
      const error_code ec = co_await transport.start_tls();
      std::string why;
      if (ec) {
        why = transport.tls_error().empty() ? ec.message() : transport.tls_error();
        session.note("TLS handshake failed: " + why);
      } else {
        session.note("TLS: " + transport.description());
      }
      out = session.tls_started(!ec, why);
      continue;
    }
    if (out.action == ClientAction::SendBody) {
      const OutgoingMessage& m = req.messages.at(session.current_message());
      const std::string why = co_await send_body(transport, *conn, m, req);
      if (why.empty()) {
        out = session.body_sent();
      } else {
        const LossCause cause = conn->timed_out ? LossCause::Timeout : LossCause::Error;
        out = session.connection_lost(why, cause);
      }
      continue;
    }
    if (!unread.empty()) {
      out = session.receive(unread);
      unread.erase(0, out.used);
      continue;
    }
    arm(*conn, timeout_for(req.timeouts, session.waiting_for()));
    const asio::mutable_buffer into = asio::buffer(buf);
    auto [ec, n] = co_await transport.read_some(into);
    if (ec) {
      const LossCause cause = conn->timed_out ? LossCause::Timeout
                              : ec == asio::error::eof ? LossCause::Closed : LossCause::Error;
      const std::string why = ec == asio::error::eof ? std::string("the server closed the connection")
                              : !transport.tls_error().empty() ? transport.tls_error() : ec.message();
      out = session.connection_lost(cause == LossCause::Timeout ? std::string() : why, cause);
      continue;
    }
    unread.assign(buf.data(), n);
  }
  a.tls = transport.secure();
  a.cipher = transport.description();
  conn->closed = true;
  conn->timer.cancel();
  co_await transport.shutdown();
  co_return a;
}

std::vector<OutgoingEnvelope> envelopes(const ClientRequest& req) {
  std::vector<OutgoingEnvelope> e;
  for (const auto& m : req.messages) e.push_back(m.envelope);
  return e;
}

void append(std::vector<std::string>& to, const std::vector<std::string>& from) {
  to.insert(to.end(), from.begin(), from.end());
}

}  // namespace

asio::awaitable<DeliveryReport> deliver(ClientRequest request) {
  if (request.targets.empty()) throw std::invalid_argument("relay::deliver: no target");
  if (request.implicit_tls) request.session.tls_on_connect = true;
  std::shared_ptr<const tls::ClientContext> ctx = request.tls;
  if (!ctx) ctx = tls::ClientContext::create(tls::ClientTlsOptions{});
  const std::vector<OutgoingEnvelope> env = envelopes(request);

  DeliveryReport report;
  std::string last_error;
  std::optional<std::vector<MessageResult>> host_failure;   // a host that answered and failed, kept for the end
  for (std::size_t i = 0; i < request.targets.size(); ++i) {
    const Target& target = request.targets[i];
    report.host_name = target.host_name;
    report.address = endpoint_text(target);
    ClientOptions options = request.session;
    for (int round = 0; round < 2; ++round) {
      ClientSession session(options, env);
      Attempt a = co_await attempt(target, session, request, ctx);
      if (!a.connected) {
        last_error = "connection to " + target.host_name + " " + endpoint_text(target) + " failed: " + a.error;
        report.transcript.push_back("-- " + last_error);
        break;
      }
      report.connected = true;
      report.tls = a.tls;
      report.cipher = a.cipher;
      append(report.transcript, session.transcript());
      const bool retry_plain = session.tls_failed() && options.tls == TlsPolicy::Opportunistic && !request.implicit_tls;
      if (retry_plain && round == 0) {
        report.transcript.push_back("-- STARTTLS failed with opportunistic TLS: trying again without TLS");
        options.tls = TlsPolicy::None;
        continue;
      }
      const bool last = i + 1 == request.targets.size() || (request.stopping && *request.stopping);
      if (session.host_failed() && !last) {
        report.transcript.push_back("-- this host failed before any mail was sent: trying the next address");
        host_failure = session.results();
        break;
      }
      report.messages = session.results();
      co_return report;
    }
  }
  // The last targets took no connection: what the last host that answered
  // said, else the connect error.
  if (host_failure) {
    report.messages = std::move(*host_failure);
    co_return report;
  }
  ClientSession session(request.session, env);
  session.connect_failed(last_error.empty() ? std::string("no connection") : last_error);
  report.messages = session.results();
  co_return report;
}

}  // namespace boxmail::relay

// driver.cpp - see driver.hpp.
#include "proto/driver.hpp"

#include "net/log.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/error.hpp>

namespace boxmail::proto {

namespace asio = boost::asio;

void Handler::tls_started(Driver& d, bool ok) {
  if (!ok) d.close();
}

Driver::Driver(std::shared_ptr<net::Connection> conn, Transport& transport, std::size_t read_buffer)
    : conn_(std::move(conn)), transport_(transport), buf_(read_buffer) {}

void Driver::take(Output&& o) {
  out_ += o.replies;
  for (const auto& line : o.log) net::log_info(line);
  if (o.action == Action::Close) close_ = true;
  if (o.action == Action::StartTls) start_tls_ = true;
}

asio::awaitable<bool> Driver::flush() {
  if (out_.empty()) co_return true;
  const boost::system::error_code ec = co_await transport_.write(asio::buffer(out_));
  out_.clear();
  co_return !ec;
}

void Driver::deadline_moved() {
  const Deadline d = handler_->deadline();
  conn_->deadline = d.at;
  conn_->last_progress = d.last_progress;
}

asio::awaitable<void> Driver::start_tls(std::string_view& unread) {
  start_tls_ = false;
  // The rule: what the client sent after the STARTTLS/STLS line, in the
  // clear, is never read as a command (CVE-2011-0411, CVE-2021-33515).
  discarded_ += unread.size();
  unread = {};
  if (!co_await flush()) {
    close_ = true;
    co_return;
  }
  // (Not co_await inside the call's argument list: g++ 12 miscompiles that.)
  const bool ok = co_await handshake();
  handler_->tls_started(*this, ok);
}

asio::awaitable<bool> Driver::handshake() {
  const boost::system::error_code ec = co_await transport_.start_tls();
  if (!ec) {
    net::log_info("client=" + conn_->address + " TLS established: " + transport_.description());
    co_return true;
  }
  const std::string why = transport_.tls_error();
  net::log_info("client=" + conn_->address + " TLS handshake failed: " + (why.empty() ? ec.message() : why));
  co_return false;
}

asio::awaitable<void> Driver::run(Handler& handler, bool implicit_tls) {
  handler_ = &handler;
  deadline_moved();
  asio::co_spawn(executor(), net::watchdog(conn_), asio::detached);

  if (implicit_tls) {
    const bool ok = co_await handshake();
    handler.tls_started(*this, ok);
    if (!ok) close_ = true;
  }
  if (!close_) handler.greet(*this);
  if (!co_await flush()) close_ = true;
  while (!close_) {
    if (conn_->timed_out) {
      handler.on_timeout(*this, conn_->evicted);
      break;
    }
    if (conn_->shutdown && handler.on_shutdown(*this)) break;
    conn_->reading = true;
    auto [ec, n] = co_await transport_.read_some(asio::buffer(buf_));
    conn_->reading = false;
    if (ec) {
      if (conn_->timed_out) {
        handler.on_timeout(*this, conn_->evicted);
      } else if (ec == asio::error::operation_aborted && conn_->shutdown) {
        continue;   // the loop head asks the handler whether it may stop
      }
      break;
    }
    std::string_view in(buf_.data(), n);
    while (!in.empty() && !close_) {
      const Step step = co_await handler.input(in, *this);
      in.remove_prefix(step.used);
      if (start_tls_) {
        co_await start_tls(in);
        continue;
      }
      if (step.stalled) break;
    }
    deadline_moved();
    if (!co_await flush()) break;
  }
  co_await flush();
  conn_->closed = true;
  conn_->timer.cancel();
  co_await transport_.shutdown();
  handler_ = nullptr;
}

asio::awaitable<void> run_connection(std::shared_ptr<net::Connection> conn, Handler& handler, std::size_t read_buffer,
                                     std::shared_ptr<const tls::ServerContext> context, bool implicit_tls) {
  TlsTransport transport(conn->socket, std::move(context));
  Driver driver(conn, transport, read_buffer);
  co_await driver.run(handler, implicit_tls);
}

}  // namespace boxmail::proto

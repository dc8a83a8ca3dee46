// tls_transport.cpp - proto::TlsTransport (see transport.hpp).
#include "proto/transport.hpp"

#include "tls/tls_stream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace boxmail::proto {

namespace asio = boost::asio;
using boost::system::error_code;
using Status = tls::IoResult::Status;

namespace {
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

/// The error for a TLS failure (the text is kept in TlsTransport::tls_error).
error_code tls_failure() { return make_error_code(boost::system::errc::protocol_error); }
}  // namespace

TlsTransport::TlsTransport(asio::ip::tcp::socket& socket, std::shared_ptr<const tls::ServerContext> context)
    : socket_(socket), context_(std::move(context)) {}

TlsTransport::TlsTransport(asio::ip::tcp::socket& socket, std::shared_ptr<const tls::ClientContext> context,
                           std::string host_name)
    : socket_(socket), client_(std::move(context)), host_name_(std::move(host_name)) {}

TlsTransport::~TlsTransport() = default;

asio::awaitable<error_code> TlsTransport::wait_for(const tls::IoResult& r) {
  auto [ec] = co_await socket_.async_wait(
      r.status == Status::WantWrite ? asio::socket_base::wait_write : asio::socket_base::wait_read, kAwait);
  co_return ec;
}

asio::awaitable<std::pair<error_code, std::size_t>> TlsTransport::read_some(asio::mutable_buffer buf) {
  if (!stream_) {
    auto [ec, n] = co_await socket_.async_read_some(buf, kAwait);
    co_return std::pair{ec, n};
  }
  for (;;) {
    // Plaintext mbedTLS already holds comes first: no readiness event
    // would announce it (tls_stream.hpp).
    const tls::IoResult r = stream_->read(buf.data(), buf.size());
    if (r.done()) co_return std::pair{error_code{}, r.bytes};
    if (r.status == Status::Closed) co_return std::pair{error_code(asio::error::eof), std::size_t{0}};
    if (r.status == Status::Error) {
      tls_error_ = r.error;
      co_return std::pair{tls_failure(), std::size_t{0}};
    }
    if (const error_code ec = co_await wait_for(r)) co_return std::pair{ec, std::size_t{0}};
  }
}

asio::awaitable<error_code> TlsTransport::write(asio::const_buffer buf) {
  if (!stream_) {
    auto [ec, n] = co_await asio::async_write(socket_, buf, kAwait);
    (void)n;
    co_return ec;
  }
  const auto* data = static_cast<const char*>(buf.data());
  std::size_t left = buf.size();
  while (left > 0) {
    const tls::IoResult r = stream_->write(data, left);   // again with the same data after a wait
    if (r.done()) {
      data += r.bytes;
      left -= r.bytes;
      continue;
    }
    if (r.status == Status::Closed) co_return error_code(asio::error::eof);
    if (r.status == Status::Error) {
      tls_error_ = r.error;
      co_return tls_failure();
    }
    if (const error_code ec = co_await wait_for(r)) co_return ec;
  }
  co_return error_code{};
}

asio::awaitable<error_code> TlsTransport::start_tls() {
  if ((!context_ && !client_) || stream_) co_return error_code(asio::error::operation_not_supported);
  error_code ec;
  socket_.non_blocking(true, ec);
  if (ec) co_return ec;
  try {
    stream_ = client_ ? std::make_unique<tls::TlsStream>(client_, socket_.native_handle(), host_name_)
                      : std::make_unique<tls::TlsStream>(context_, socket_.native_handle());
  } catch (const std::exception& e) {
    tls_error_ = e.what();
    co_return tls_failure();
  }
  for (;;) {
    const tls::IoResult r = stream_->handshake_step();
    if (r.done()) co_return error_code{};
    if (r.status == Status::Closed) {
      tls_error_ = client_ ? "the server closed the connection during the handshake"
                           : "the client closed the connection during the handshake";
      co_return error_code(asio::error::eof);
    }
    if (r.status == Status::Error) {
      tls_error_ = r.error;
      co_return tls_failure();
    }
    if (const error_code wait_ec = co_await wait_for(r)) {
      tls_error_ = "handshake not finished: " + wait_ec.message();
      co_return wait_ec;
    }
  }
}

bool TlsTransport::secure() const { return stream_ && stream_->established(); }

std::string TlsTransport::description() const {
  if (!secure()) return {};
  return stream_->version() + " " + stream_->ciphersuite();
}

asio::awaitable<void> TlsTransport::shutdown() {
  // close_notify (RFC 5246 7.2.1) once, without waiting: the peer may be gone.
  if (secure()) (void)stream_->close_notify();
  error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  co_return;
}

}  // namespace boxmail::proto

// plain_transport.cpp - proto::PlainTransport (see transport.hpp).
#include "proto/transport.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace boxmail::proto {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
}

asio::awaitable<std::pair<error_code, std::size_t>> PlainTransport::read_some(asio::mutable_buffer buf) {
  auto [ec, n] = co_await socket_.async_read_some(buf, kAwait);
  co_return std::pair{ec, n};
}

asio::awaitable<error_code> PlainTransport::write(asio::const_buffer buf) {
  auto [ec, n] = co_await asio::async_write(socket_, buf, kAwait);
  (void)n;
  co_return ec;
}

asio::awaitable<error_code> PlainTransport::start_tls() {
  co_return error_code(asio::error::operation_not_supported);
}

asio::awaitable<void> PlainTransport::shutdown() {
  error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  co_return;
}

}  // namespace boxmail::proto

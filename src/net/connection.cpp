// connection.cpp - see connection.hpp.
#include "net/connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace boxmail::net {

boost::asio::awaitable<void> watchdog(std::shared_ptr<Connection> conn) {
  while (!conn->closed) {
    if (conn->evicted || std::chrono::steady_clock::now() >= conn->deadline) {
      conn->timed_out = true;
      boost::system::error_code ec;
      conn->socket.cancel(ec);
      co_return;
    }
    conn->timer.expires_at(conn->deadline);
    co_await conn->timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }
}

}  // namespace boxmail::net

// session_table.hpp - the live sessions of one server and its graceful
// shutdown (Asio glue shared by the SMTP and POP3 servers).
//
// Sessions are held by weak_ptr under a numeric id (callbacks find a session
// by id and drop results for one that is gone: STYLE.md, "nothing outlives
// its owner"). shutdown() marks every session and interrupts only those
// waiting for input (`reading`), never a reply being written; each session
// then finishes its current message and leaves; `on_empty` runs once the
// last one has gone. Conn needs: id, shutdown, reading, socket.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <utility>

#include <boost/system/error_code.hpp>

namespace boxmail::net {

template <class Conn>
class SessionTable {
 public:
  /// Registers `conn` under a fresh id (set in conn->id).
  void add(const std::shared_ptr<Conn>& conn) {
    conn->id = next_id_++;
    sessions_[conn->id] = conn;
  }

  /// A session ended; runs the shutdown's `on_empty` after the last one.
  void remove(std::uint64_t id) {
    sessions_.erase(id);
    if (stopping_) maybe_empty();
  }

  /// Stops the server's sessions gracefully (see above).
  void shutdown(std::function<void()> on_empty) {
    stopping_ = true;
    on_empty_ = std::move(on_empty);
    for (auto& [id, weak] : sessions_) {
      if (auto conn = weak.lock()) {
        conn->shutdown = true;
        if (conn->reading) {
          boost::system::error_code ec;
          conn->socket.cancel(ec);
        }
      }
    }
    maybe_empty();
  }

  std::size_t size() const { return sessions_.size(); }
  bool empty() const { return sessions_.empty(); }
  bool stopping() const { return stopping_; }

 private:
  void maybe_empty() {
    if (sessions_.empty() && on_empty_) {
      auto f = std::move(on_empty_);
      on_empty_ = nullptr;
      f();
    }
  }

  std::unordered_map<std::uint64_t, std::weak_ptr<Conn>> sessions_;
  std::uint64_t next_id_ = 1;
  bool stopping_ = false;
  std::function<void()> on_empty_;
};

}  // namespace boxmail::net

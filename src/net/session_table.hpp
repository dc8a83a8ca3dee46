// session_table.hpp - the live sessions of one server and its graceful
// shutdown (Asio glue shared by the SMTP and POP3 servers).
//
// Sessions are held by weak_ptr under a numeric id (callbacks find a session
// by id and drop results for one that is gone: STYLE.md, "nothing outlives
// its owner"). shutdown() marks every session and interrupts only those
// waiting for input (`reading`), never a reply being written; each session
// then finishes its current message and leaves; `on_empty` runs once the
// last one has gone. Conn needs: id, shutdown, reading, socket.
//
// evict_idlest() makes room when every connection slot is taken: it closes
// the session idle the longest (without progress, net/progress.hpp) if that
// is over a threshold. Conn needs for it: address, last_progress, closed,
// timed_out, evicted, deadline, timer (net::Connection has them all).
#pragma once

#include "net/progress.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

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

  /// Closes the session idle the longest, if idle at least `min_idle` at
  /// `now`: marks it evicted and moves its deadline to now, so its watchdog
  /// ends it at once and the session answers with its eviction reply (the
  /// slot is released when the session has gone). Returns who was chosen,
  /// or nullopt when no session is idle long enough.
  std::optional<Evicted> evict_idlest(SteadyTime now, std::chrono::steady_clock::duration min_idle) {
    std::vector<std::shared_ptr<Conn>> conns;
    std::vector<IdleCandidate> candidates;
    conns.reserve(sessions_.size());
    candidates.reserve(sessions_.size());
    for (auto& [id, weak] : sessions_) {
      if (auto conn = weak.lock()) {
        candidates.push_back(IdleCandidate{conn->last_progress, conn->closed || conn->timed_out || conn->evicted});
        conns.push_back(std::move(conn));
      }
    }
    const auto i = pick_idlest(candidates, now, min_idle);
    if (!i) return std::nullopt;
    Conn& victim = *conns[*i];
    victim.evicted = true;
    victim.deadline = now;
    victim.timer.cancel();
    return Evicted{victim.address, now - victim.last_progress};
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

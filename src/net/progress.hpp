// progress.hpp - when a session last made progress, and which idle session
// to close when every connection slot is taken (pure: times are passed in).
//
// A session makes progress when it completes a command (SMTP and POP3), when
// message data arrives fast enough (SMTP DATA) and when a retrieval is being
// written out (POP3 RETR/TOP). The servers move a session's idle deadline
// only on progress, so a client trickling a byte every few seconds is ended
// by the idle timeout, not by the whole-session limit; and when a service's
// max_connections is reached the Listener closes the session that has been
// idle (without progress) the longest, if that is over the service's
// eviction threshold, instead of refusing the new client
// (docs/reliability.md, "Slow clients and connection slots").
//
// Who calls: smtp/session.cpp (ProgressClock, for Session::deadline);
// net::SessionTable (pick_idlest).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace boxmail::net {

using SteadyTime = std::chrono::steady_clock::time_point;

/// The time of a session's last progress. Complete commands move it to
/// `now`; message data moves it forward by the time the data would take at
/// `min_rate` octets/s, never past `now`. A client sending at least
/// min_rate keeps it at `now`; a slower one falls behind by (1 - rate /
/// min_rate) of the elapsed time; one byte every few seconds hardly moves it.
class ProgressClock {
 public:
  explicit ProgressClock(SteadyTime start) : last_(start) {}

  /// A complete command was taken at `now`.
  void command(SteadyTime now) {
    if (now > last_) last_ = now;
  }

  /// `octets` of message data arrived at `now`. min_rate 0: any data is
  /// progress (as a command).
  void data(std::uint64_t octets, std::uint32_t min_rate, SteadyTime now);

  /// The time of the last progress.
  SteadyTime last() const { return last_; }

 private:
  SteadyTime last_;
};

/// One session as the eviction choice sees it.
struct IdleCandidate {
  SteadyTime last_progress;   ///< ProgressClock::last() or the POP3 session's equivalent
  bool closing = false;       ///< already evicted, timed out or closed: not a candidate
};

/// The session SessionTable::evict_idlest chose to close.
struct Evicted {
  std::string address;                          ///< its client address
  std::chrono::steady_clock::duration idle{};   ///< time since its last progress
};

/// The index of the candidate idle the longest (oldest last_progress) among
/// those idle at least `min_idle` at `now` and not `closing`; nullopt when
/// none is. Ties go to the first.
std::optional<std::size_t> pick_idlest(std::span<const IdleCandidate> candidates, SteadyTime now,
                                       std::chrono::steady_clock::duration min_idle);

}  // namespace boxmail::net

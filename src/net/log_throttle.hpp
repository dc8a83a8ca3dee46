// log_throttle.hpp - at most one log line per interval for a repeating
// error, with a count of the lines left out (pure: times are passed in).
//
// The Listener logs accept errors (EMFILE, ENFILE, ENOBUFS...) through one:
// a server out of descriptors sees the error on every connection attempt and
// must not fill the log (docs/reliability.md, "Running out of descriptors").
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace boxmail::net {

class LogThrottle {
 public:
  using Time = std::chrono::steady_clock::time_point;
  using Duration = std::chrono::steady_clock::duration;

  /// At most one line per `interval`.
  explicit LogThrottle(Duration interval) : interval_(interval) {}

  /// An event at `now`. When a line may be logged, returns how many events
  /// were suppressed since the last logged line (to write as "(N more
  /// suppressed)"), and starts a new interval; otherwise counts the event as
  /// suppressed and returns nullopt.
  std::optional<std::uint64_t> allow(Time now);

  /// True when a line may be logged at `now` (allow() would not suppress).
  bool ready(Time now) const { return !last_ || now - *last_ >= interval_; }

  /// Events suppressed since the last logged line, and resets the count
  /// (for a closing "recovered" line).
  std::uint64_t take_suppressed();

 private:
  Duration interval_;
  std::optional<Time> last_;
  std::uint64_t suppressed_ = 0;
};

}  // namespace boxmail::net

// progress.cpp - see progress.hpp.
#include "net/progress.hpp"

namespace boxmail::net {

void ProgressClock::data(std::uint64_t octets, std::uint32_t min_rate, SteadyTime now) {
  if (octets == 0) return;
  if (min_rate == 0) {
    command(now);
    return;
  }
  // Credit octets / min_rate seconds (whole seconds capped at an hour, then
  // the remainder in nanoseconds: no product can overflow).
  const std::uint64_t secs = octets / min_rate;
  const std::uint64_t ns = secs >= 3600 ? 3600ULL * 1000000000ULL
                                        : secs * 1000000000ULL + (octets % min_rate) * 1000000000ULL / min_rate;
  const auto moved = last_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                 std::chrono::nanoseconds(ns));
  const SteadyTime capped = moved < now ? moved : now;
  if (capped > last_) last_ = capped;
}

std::optional<std::size_t> pick_idlest(std::span<const IdleCandidate> candidates, SteadyTime now,
                                       std::chrono::steady_clock::duration min_idle) {
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const IdleCandidate& c = candidates[i];
    if (c.closing || now - c.last_progress < min_idle) continue;
    if (!best || c.last_progress < candidates[*best].last_progress) best = i;
  }
  return best;
}

}  // namespace boxmail::net

// abuse_score.cpp - see abuse_score.hpp.
#include "net/abuse_score.hpp"

#include <algorithm>

namespace boxmail::net {

const char* offence_name(Offence o) {
  switch (o) {
    case Offence::LoginFailure: return "login";
    case Offence::ProtocolError: return "protocol";
    case Offence::RelayAttempt: return "relay";
    case Offence::UnknownRecipient: return "harvest";
  }
  return "login";
}

double AbuseScore::score_of(const Record& r, const AbuseLimits& limits) {
  double s = 0;
  for (std::size_t k = 0; k < kOffenceKinds; ++k) {
    if (limits.limit[k] > 0) s += static_cast<double>(r.count[k]) / limits.limit[k];
  }
  return s;
}

AbuseScore::Record& AbuseScore::record(std::string_view address) {
  const std::string key(address);
  if (auto it = table_.find(key); it != table_.end()) return it->second;
  if (table_.size() >= max_addresses_ && !table_.empty()) {
    // Full: the record with the oldest activity goes. An attacker spread
    // over many addresses pushes out old records, not the newest ones.
    auto activity = [](const Record& r) { return std::max(r.last, r.ban_end); };
    auto oldest = std::min_element(table_.begin(), table_.end(), [&](const auto& a, const auto& b) {
      return activity(a.second) < activity(b.second);
    });
    table_.erase(oldest);
  }
  return table_[key];
}

std::optional<BanDecision> AbuseScore::report(std::string_view address, Offence o, TimePoint now,
                                              const AbuseLimits& limits) {
  const auto k = static_cast<std::size_t>(o);
  if (limits.limit[k] == 0) return std::nullopt;
  Record& r = record(address);
  if (now - r.last >= limits.window) r.count.fill(0);   // a long pause: start again
  if (r.bans > 0 && now - r.ban_end >= limits.ban_time_max) r.bans = 0;   // forgiven
  ++r.count[k];
  r.last = now;
  if (score_of(r, limits) < 1.0) return std::nullopt;

  BanDecision d;
  // The reason: the kind nearest its own limit (ties: the one reported now).
  double worst = static_cast<double>(r.count[k]) / limits.limit[k];
  d.reason = o;
  for (std::size_t j = 0; j < kOffenceKinds; ++j) {
    if (limits.limit[j] == 0) continue;
    const double share = static_cast<double>(r.count[j]) / limits.limit[j];
    if (share > worst) {
      worst = share;
      d.reason = static_cast<Offence>(j);
    }
  }
  d.repeat = r.bans;
  std::chrono::seconds length = limits.ban_time;
  for (std::uint32_t i = 0; i < r.bans && length < limits.ban_time_max; ++i) length *= 2;
  d.length = std::min(length, std::max(limits.ban_time_max, limits.ban_time));
  r.count.fill(0);
  ++r.bans;
  r.ban_end = now + d.length;
  return d;
}

double AbuseScore::score(std::string_view address, TimePoint now, const AbuseLimits& limits) const {
  const auto it = table_.find(std::string(address));
  if (it == table_.end() || now - it->second.last >= limits.window) return 0;
  return score_of(it->second, limits);
}

}  // namespace boxmail::net

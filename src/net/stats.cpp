// stats.cpp - see stats.hpp.
#include "net/stats.hpp"

namespace boxmail::net {

void LogRing::add(std::string_view line) {
  if (capacity_ == 0) return;
  if (lines_.size() == capacity_) lines_.pop_front();
  lines_.emplace_back(line.substr(0, max_line_));
}

std::vector<std::string> LogRing::last(std::size_t n) const {
  const std::size_t k = n < lines_.size() ? n : lines_.size();
  return std::vector<std::string>(lines_.end() - static_cast<std::ptrdiff_t>(k), lines_.end());
}

void MessageStats::record(MessageEvent event, std::int64_t now, std::int64_t day) {
  if (day != day_) {
    day_ = day;
    accepted_today_ = refused_today_ = blocked_dnsbl_today_ = blocked_reverse_dns_today_ = bans_today_ = 0;
  }
  if (event == MessageEvent::Banned) {
    ++bans_today_;
    return;
  }
  if (event == MessageEvent::BlockedDnsbl || event == MessageEvent::BlockedReverseDns) {
    ++(event == MessageEvent::BlockedDnsbl ? blocked_dnsbl_today_ : blocked_reverse_dns_today_);
    return;
  }
  const std::int64_t start = now - (now % 3600);
  Hour& h = ring_[static_cast<std::size_t>((start / 3600) % static_cast<std::int64_t>(kHours))];
  if (h.start != start) h = Hour{start, 0, 0};
  if (event == MessageEvent::Accepted) {
    ++h.accepted;
    ++accepted_today_;
  } else {
    ++h.refused;
    ++refused_today_;
  }
}

std::array<MessageStats::Hour, MessageStats::kHours> MessageStats::hours(std::int64_t now) const {
  std::array<Hour, kHours> out{};
  const std::int64_t last = now - (now % 3600);
  for (std::size_t i = 0; i < kHours; ++i) {
    const std::int64_t start = last - static_cast<std::int64_t>(kHours - 1 - i) * 3600;
    const Hour& h = ring_[static_cast<std::size_t>((start / 3600) % static_cast<std::int64_t>(kHours))];
    out[i] = h.start == start ? h : Hour{start, 0, 0};
  }
  return out;
}

}  // namespace boxmail::net

// queue_index.cpp - see queue_index.hpp.
#include "store/queue_index.hpp"

#include "text/ascii.hpp"

namespace boxmail::store {

std::uint32_t destination_key(std::string_view domain) {
  std::uint32_t h = 2166136261u;
  for (char c : domain) {
    h ^= static_cast<unsigned char>(text::ascii_lower(c));
    h *= 16777619u;
  }
  return h == kSeveralDestinations ? 1 : h;
}

std::string_view domain_of(std::string_view forward_path) {
  const auto at = forward_path.rfind('@');
  return at == std::string_view::npos ? forward_path : forward_path.substr(at + 1);
}

std::uint32_t destination_of(const QueueEnvelope& e) {
  std::optional<std::string_view> domain;
  for (const QueueRecipient& r : e.recipients) {
    if (r.state != RecipientState::Pending) continue;
    const std::string_view d = domain_of(r.forward_path);
    if (domain && !text::iequals(*domain, d)) return kSeveralDestinations;
    domain = d;
  }
  return domain ? destination_key(*domain) : kSeveralDestinations;
}

void QueueIndex::put(const QueueItem& item) {
  auto [it, inserted] = items_.try_emplace(item.id);
  Slot& s = it->second;
  if (!inserted && !s.in_flight) schedule_.erase({s.next, item.id});
  s.next = item.next;
  s.destination = item.destination;
  s.in_flight = false;
  schedule_.emplace(item.next, item.id);
}

bool QueueIndex::erase(std::uint64_t id) {
  const auto it = items_.find(id);
  if (it == items_.end()) return false;
  if (!it->second.in_flight) schedule_.erase({it->second.next, id});
  items_.erase(it);
  return true;
}

std::optional<QueueItem> QueueIndex::find(std::uint64_t id) const {
  const auto it = items_.find(id);
  if (it == items_.end()) return std::nullopt;
  return QueueItem{id, it->second.next, it->second.destination};
}

bool QueueIndex::in_flight(std::uint64_t id) const {
  const auto it = items_.find(id);
  return it != items_.end() && it->second.in_flight;
}

std::optional<std::int64_t> QueueIndex::next_due() const {
  if (schedule_.empty()) return std::nullopt;
  return schedule_.begin()->first;
}

std::vector<QueueItem> QueueIndex::take_due(std::int64_t now, std::size_t max) {
  std::vector<QueueItem> out;
  while (out.size() < max && !schedule_.empty() && schedule_.begin()->first <= now) {
    const auto [next, id] = *schedule_.begin();
    schedule_.erase(schedule_.begin());
    Slot& s = items_.at(id);
    s.in_flight = true;
    out.push_back(QueueItem{id, next, s.destination});
  }
  return out;
}

std::vector<QueueItem> QueueIndex::take_due(std::int64_t now, std::size_t max,
                                            const std::function<bool(std::uint32_t)>& admit) {
  std::vector<QueueItem> out;
  for (auto it = schedule_.begin(); out.size() < max && it != schedule_.end() && it->first <= now;) {
    const auto [next, id] = *it;
    Slot& s = items_.at(id);
    if (!admit(s.destination)) {
      ++it;
      continue;
    }
    it = schedule_.erase(it);
    s.in_flight = true;
    out.push_back(QueueItem{id, next, s.destination});
  }
  return out;
}

std::vector<std::uint64_t> QueueIndex::ids() const {
  std::vector<std::uint64_t> out;
  out.reserve(items_.size());
  for (const auto& [id, slot] : items_) out.push_back(id);
  return out;
}

}  // namespace boxmail::store

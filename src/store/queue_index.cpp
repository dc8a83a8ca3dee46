// queue_index.cpp - see queue_index.hpp.
#include "store/queue_index.hpp"

#include "text/ascii.hpp"

#include <algorithm>
#include <functional>

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

// The heap is a min-heap: std::push_heap with std::greater keeps the
// earliest (next, id) at the front.
bool QueueIndex::live(const Due& d) const {
  const auto it = items_.find(d.second);
  return it != items_.end() && !it->second.in_flight && it->second.next == d.first;
}

void QueueIndex::push(const Due& d) {
  schedule_.push_back(d);
  std::push_heap(schedule_.begin(), schedule_.end(), std::greater<>{});
}

QueueIndex::Due QueueIndex::pop() {
  std::pop_heap(schedule_.begin(), schedule_.end(), std::greater<>{});
  const Due d = schedule_.back();
  schedule_.pop_back();
  return d;
}

void QueueIndex::prune() {
  while (!schedule_.empty() && !live(schedule_.front())) pop();
  const std::size_t waiting = items_.size() - in_flight_;
  if (schedule_.size() > 2 * waiting + 64) {
    schedule_.clear();
    for (const auto& [id, s] : items_)
      if (!s.in_flight) schedule_.emplace_back(s.next, id);
    std::make_heap(schedule_.begin(), schedule_.end(), std::greater<>{});
  }
  if (schedule_.empty()) std::vector<Due>().swap(schedule_);   // give the array back
}

void QueueIndex::put(const QueueItem& item) {
  auto [it, inserted] = items_.try_emplace(item.id);
  Slot& s = it->second;
  // An unchanged time of a waiting message is already in the heap.
  const bool scheduled = !inserted && !s.in_flight && s.next == item.next;
  if (!inserted && s.in_flight) --in_flight_;
  s.next = item.next;
  s.destination = item.destination;
  s.in_flight = false;
  if (!scheduled) push({item.next, item.id});
  prune();
}

bool QueueIndex::erase(std::uint64_t id) {
  const auto it = items_.find(id);
  if (it == items_.end()) return false;
  if (it->second.in_flight) --in_flight_;
  items_.erase(it);
  if (items_.empty()) decltype(items_)().swap(items_);
  prune();
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
  if (schedule_.empty()) return std::nullopt;   // prune() keeps the front live
  return schedule_.front().first;
}

std::vector<QueueItem> QueueIndex::take_due(std::int64_t now, std::size_t max) {
  return take_due(now, max, [](std::uint32_t) { return true; });
}

std::vector<QueueItem> QueueIndex::take_due(std::int64_t now, std::size_t max,
                                            const std::function<bool(std::uint32_t)>& admit) {
  std::vector<QueueItem> out;
  std::vector<Due> refused;
  while (out.size() < max && !schedule_.empty() && schedule_.front().first <= now) {
    const Due d = pop();
    if (!live(d)) continue;   // stale: an old time, erased, or a duplicate already taken
    Slot& s = items_.find(d.second)->second;
    if (!admit(s.destination)) {
      refused.push_back(d);
      continue;
    }
    s.in_flight = true;
    ++in_flight_;
    out.push_back(QueueItem{d.second, d.first, s.destination});
  }
  for (const Due& d : refused) push(d);
  prune();
  return out;
}

std::vector<std::uint64_t> QueueIndex::ids() const {
  std::vector<std::uint64_t> out;
  out.reserve(items_.size());
  for (const auto& [id, slot] : items_) out.push_back(id);
  return out;
}

}  // namespace boxmail::store

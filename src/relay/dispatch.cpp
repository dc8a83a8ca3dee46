// dispatch.cpp - see dispatch.hpp.
#include "relay/dispatch.hpp"

#include "store/queue_index.hpp"
#include "text/ascii.hpp"

#include <algorithm>

namespace boxmail::relay {

bool ConnectionSlots::acquire(const std::string& destination) {
  const auto it = per_destination_.find(destination);
  const std::size_t used = it == per_destination_.end() ? 0 : it->second;
  if (total_ >= limits_.max_total || used >= limits_.per_destination) return false;
  ++total_;
  ++per_destination_[destination];
  return true;
}

void ConnectionSlots::release(const std::string& destination) {
  const auto it = per_destination_.find(destination);
  if (it == per_destination_.end()) return;
  --total_;
  if (--it->second == 0) per_destination_.erase(it);
}

std::size_t ConnectionSlots::active(const std::string& destination) const {
  const auto it = per_destination_.find(destination);
  return it == per_destination_.end() ? 0 : it->second;
}

std::size_t ConnectionSlots::active_with_key(std::uint32_t key) const {
  std::size_t n = 0;
  for (const auto& [destination, count] : per_destination_) {
    if (store::destination_key(destination) == key) n += count;
  }
  return n;
}

std::string destination_of(std::string_view forward_path) {
  return text::ascii_lower(store::domain_of(forward_path));
}

DispatchPlan plan_connections(const std::vector<DueRecipient>& due, ConnectionSlots& slots) {
  const DispatchLimits& limits = slots.limits();
  const std::size_t per_tx = std::max<std::size_t>(limits.recipients_per_transaction, 1);
  const std::size_t per_conn = std::max<std::size_t>(limits.messages_per_connection, 1);

  // Destinations in the order they first appear; per destination, its
  // transactions in the order their messages first appear.
  struct Group {
    std::string destination;
    std::vector<Transaction> transactions;
    std::vector<std::vector<const DueRecipient*>> members;   // per transaction, for `waiting`
  };
  std::vector<Group> groups;
  for (const DueRecipient& r : due) {
    std::string dest = destination_of(r.forward_path);
    auto g = std::find_if(groups.begin(), groups.end(), [&](const Group& x) { return x.destination == dest; });
    if (g == groups.end()) {
      groups.push_back(Group{std::move(dest), {}, {}});
      g = groups.end() - 1;
    }
    // The message's last transaction with room, or a new one.
    std::size_t t = g->transactions.size();
    for (std::size_t i = g->transactions.size(); i-- > 0;) {
      if (g->transactions[i].queue_id == r.queue_id) {
        if (g->transactions[i].recipients.size() < per_tx) t = i;
        break;
      }
    }
    if (t == g->transactions.size()) {
      g->transactions.push_back(Transaction{r.queue_id, {}});
      g->members.emplace_back();
    }
    g->transactions[t].recipients.push_back(r.index);
    g->members[t].push_back(&r);
  }

  DispatchPlan plan;
  std::vector<const DueRecipient*> waiting;   // into `due`: address order is due's order
  for (Group& g : groups) {
    for (std::size_t first = 0; first < g.transactions.size(); first += per_conn) {
      const std::size_t last = std::min(first + per_conn, g.transactions.size());
      if (!slots.acquire(g.destination)) {
        for (std::size_t t = first; t < g.transactions.size(); ++t) {
          waiting.insert(waiting.end(), g.members[t].begin(), g.members[t].end());
        }
        break;
      }
      PlannedConnection c{g.destination, {}};
      for (std::size_t t = first; t < last; ++t) c.transactions.push_back(std::move(g.transactions[t]));
      plan.connections.push_back(std::move(c));
    }
  }
  std::sort(waiting.begin(), waiting.end(), std::less<const DueRecipient*>());
  for (const DueRecipient* r : waiting) plan.waiting.push_back(*r);
  return plan;
}

}  // namespace boxmail::relay

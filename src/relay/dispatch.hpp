// dispatch.hpp - which due recipients go over which connection, within the
// connection limits (pure).
//
// The queue runner reads the envelopes of the messages the index says are
// due (store::QueueIndex::take_due), lists their due recipients, and asks
// plan_connections() how to send them:
//   - recipients are grouped by destination (the domain of the
//     forward-path, in ASCII lower case: one MX lookup, one connection);
//   - a destination's recipients of one message form one transaction
//     (MAIL, RCPT..., DATA), at most recipients_per_transaction of them
//     (RFC 5321 4.5.3.1.8: a server must take 100; more are split);
//   - a destination's transactions go over as few connections as
//     messages_per_connection allows (RSET/MAIL again on the same one);
//   - each connection needs a slot (ConnectionSlots): at most max_total at
//     once, at most per_destination to one destination. What finds no slot
//     is returned as waiting: the runner puts those messages back in the
//     index for a short while (or until a slot frees).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace boxmail::relay {

/// The limits (the lead maps them to configuration keys).
struct DispatchLimits {
  std::size_t max_total = 10;                    ///< connections open at once, all destinations
  std::size_t per_destination = 2;               ///< connections open at once to one destination
  std::size_t messages_per_connection = 50;      ///< transactions over one connection
  std::size_t recipients_per_transaction = 100;  ///< RCPTs in one transaction
};

/// The connections in use, per destination. The runner acquires a slot for
/// each connection it opens (plan_connections does) and releases it when
/// the connection ends.
class ConnectionSlots {
 public:
  explicit ConnectionSlots(const DispatchLimits& limits) : limits_(limits) {}

  /// Takes a slot for `destination` (lower case domain) when both limits
  /// allow; false (nothing taken) otherwise.
  bool acquire(const std::string& destination);
  /// Gives back a slot taken by acquire. Releasing one never taken is ignored.
  void release(const std::string& destination);

  std::size_t active() const { return total_; }
  std::size_t active(const std::string& destination) const;
  /// Connections open to the destinations whose store::destination_key is
  /// `key` (the queue index's key; domains may share one).
  std::size_t active_with_key(std::uint32_t key) const;
  /// New limits for the connections opened from now on (open ones stay).
  void set_limits(const DispatchLimits& limits) { limits_ = limits; }
  const DispatchLimits& limits() const { return limits_; }

 private:
  DispatchLimits limits_;
  std::size_t total_ = 0;
  std::map<std::string, std::size_t, std::less<>> per_destination_;
};

/// One recipient of a queued message that is due.
struct DueRecipient {
  std::string queue_id;       ///< the message
  std::size_t index = 0;      ///< the recipient's place in its envelope's recipients
  std::string forward_path;   ///< where it goes
};

/// One transaction: a message and the recipients it is sent to.
struct Transaction {
  std::string queue_id;
  std::vector<std::size_t> recipients;   ///< indexes into the envelope's recipients
};

/// One connection to open: a destination and what goes over it, in order.
struct PlannedConnection {
  std::string destination;   ///< lower-case domain (what the MX lookup is for)
  std::vector<Transaction> transactions;
};

/// What plan_connections decided.
struct DispatchPlan {
  std::vector<PlannedConnection> connections;   ///< a slot is acquired for each
  std::vector<DueRecipient> waiting;            ///< no slot now, in their order
};

/// The destination of a forward-path: its domain after the last '@', in
/// ASCII lower case.
std::string destination_of(std::string_view forward_path);

/// Groups `due` (in the order given: the earliest first) as the file
/// comment says, acquiring a slot in `slots` for each connection planned.
DispatchPlan plan_connections(const std::vector<DueRecipient>& due, ConnectionSlots& slots);

}  // namespace boxmail::relay

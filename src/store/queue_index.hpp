// queue_index.hpp - what the queue runner keeps in memory per queued
// message (pure).
//
// The envelope files stay on disk (queue.hpp); the index holds, per
// message, only what picking due work needs: the queue id as its 64-bit
// number (maildir_name.hpp parse_queue_id), the time of its earliest
// pending attempt and a destination key. The runner reads a message's
// envelope when the message is due. Two flat arrays, no node per message:
// an open-addressing hash table (boost::unordered_flat_map, 24 octets a
// slot) from id to its time and destination, and a binary min-heap of
// (time, id) pairs (16 octets each). About 50-100 octets per message on
// 64-bit glibc depending on where the tables are in their doubling; the
// unit test measures it with 10,000 messages (heap and mmapped blocks) and
// holds it under 200. Arrays that large are mmapped by glibc, so they do
// not fragment the heap the session buffers live in, and they are given
// back whole when the queue empties.
//
// The heap is lazy: put() of a scheduled message pushes its new time and
// leaves the old pair in place; a pair is live only while its message is
// queued, not in flight, and has that time. Stale pairs are dropped when
// they reach the top, and the heap is rebuilt from the table when stale
// pairs outnumber the live ones (so it never holds more than about twice
// the queue).
//
// A message taken by take_due() is "in flight": it is not handed out again
// until put() gives it its next time (after the attempt) or erase()
// removes it (all recipients done). Not thread-safe: one thread (the
// event loop) owns it.
#pragma once

#include "store/queue_envelope.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

namespace boxmail::store {

/// The destination key of a message whose pending recipients are in more
/// than one domain (the runner groups them after reading the envelope).
inline constexpr std::uint32_t kSeveralDestinations = 0;

/// A 32-bit key of a destination domain: FNV-1a of the domain in ASCII
/// lower case, never kSeveralDestinations. Equal for equal domains (case
/// aside); different domains may share a key (it only groups, the runner
/// compares the domains it reads).
std::uint32_t destination_key(std::string_view domain);

/// The domain of a forward-path: after the last '@' (the whole path when
/// it has none, e.g. "postmaster").
std::string_view domain_of(std::string_view forward_path);

/// The destination key of an envelope: destination_key of the domain its
/// pending recipients share, kSeveralDestinations when they are in
/// several domains or none is pending.
std::uint32_t destination_of(const QueueEnvelope& e);

/// One message as the index holds it.
struct QueueItem {
  std::uint64_t id = 0;           ///< the queue id's number (parse_queue_id)
  std::int64_t next = 0;          ///< unix seconds of its earliest pending attempt
  std::uint32_t destination = 0;  ///< destination_of its envelope
  bool operator==(const QueueItem&) const = default;
};

class QueueIndex {
 public:
  /// Adds the message or replaces what is known of it; an in-flight
  /// message becomes scheduled again at `item.next`.
  void put(const QueueItem& item);

  /// Forgets the message (all its recipients are done). False when unknown.
  bool erase(std::uint64_t id);

  /// What is known of the message, nullopt when it is not queued.
  std::optional<QueueItem> find(std::uint64_t id) const;

  /// True while the message is taken by take_due and not put back.
  bool in_flight(std::uint64_t id) const;

  /// The earliest `next` of the messages not in flight (when the runner
  /// should look again), nullopt when there is none.
  std::optional<std::int64_t> next_due() const;

  /// Up to `max` messages due at `now` (next <= now), earliest first, each
  /// marked in flight.
  std::vector<QueueItem> take_due(std::int64_t now, std::size_t max);

  /// Like take_due, but a due message is taken only when `admit(its
  /// destination key)` says yes (asked once per due message, earliest
  /// first, until `max` are taken); the others stay scheduled, not in
  /// flight. The runner admits only as many messages per destination as
  /// its free connections carry, so a destination at its connection limit
  /// costs no envelope read. Due messages refused are walked each call
  /// (popped and pushed back: O(k log n) for k due messages).
  std::vector<QueueItem> take_due(std::int64_t now, std::size_t max,
                                  const std::function<bool(std::uint32_t destination)>& admit);

  /// Messages queued (in flight included) and in flight.
  std::size_t size() const { return items_.size(); }
  std::size_t in_flight_count() const { return in_flight_; }

  /// Every queued message's id, in no particular order (for a listing).
  std::vector<std::uint64_t> ids() const;

 private:
  struct Slot {
    std::int64_t next = 0;
    std::uint32_t destination = 0;
    bool in_flight = false;
  };
  using Due = std::pair<std::int64_t, std::uint64_t>;   // (next, id)

  /// True when `d` is the current time of a queued message not in flight.
  bool live(const Due& d) const;
  void push(const Due& d);
  Due pop();
  /// Drops stale pairs from the top (so next_due() reads a live one) and
  /// rebuilds the heap when stale pairs outnumber the live ones.
  void prune();

  boost::unordered_flat_map<std::uint64_t, Slot> items_;
  std::vector<Due> schedule_;   // min-heap on (next, id); may hold stale pairs
  std::size_t in_flight_ = 0;
};

}  // namespace boxmail::store

// schedule.hpp - when a queued recipient is tried again, when it is given
// up, and which notice that causes (pure).
//
// Per recipient, after each failed attempt (docs/queue.md "Retries"):
//   - a permanent failure (5xx) fails the recipient at once, with a
//     failure notice;
//   - a temporary failure (4xx, no answer, no address) is retried after
//     retry_min, then after twice as long each time, at most retry_max
//     apart; the last retry is at the end of max_lifetime, and a temporary
//     failure then fails the recipient, with a failure notice;
//   - once a message has waited delay_notice_after (0: never) and still
//     has a recipient pending after a temporary failure, one delay notice
//     is sent (QueueEnvelope::delay_notice_sent), for all its recipients
//     pending at that time.
// Who gets a notice (notice_route): the reverse-path of relayed mail;
// nobody for a null reverse-path (RFC 5321 6.1, RFC 3464: never a notice
// about a notice); a failure notice or delay notice we made that fails
// goes to postmaster as a double bounce, and a double bounce that fails is
// dropped (logged by the runner): no loop. A notice is never delayed with
// a delay notice.
//
// Times are unix seconds; durations seconds.
#pragma once

#include "store/queue_envelope.hpp"

#include <cstdint>

namespace boxmail::relay {

/// The retry parameters (the lead maps them to [relay] configuration keys).
struct RetryPolicy {
  std::int64_t retry_min = 300;                 ///< seconds before the first retry
  std::int64_t retry_max = 4 * 3600;            ///< the longest wait between two attempts
  std::int64_t max_lifetime = 5 * 24 * 3600;    ///< seconds after arrival a recipient is given up
  std::int64_t delay_notice_after = 4 * 3600;   ///< seconds after arrival for the delay notice; 0 = none
};

/// How one delivery attempt to a recipient ended.
enum class Outcome {
  Delivered,   ///< 2xx after DATA (RFC 5321 4.2.1)
  Temporary,   ///< 4xx, or no connection / no address / a local error: try again
  Permanent,   ///< 5xx: give up now
};

/// What becomes of a recipient after an attempt.
struct Verdict {
  store::RecipientState state = store::RecipientState::Pending;
  std::int64_t next_attempt = 0;   ///< when state is Pending: the next try
  bool expired = false;            ///< failed because max_lifetime has passed (a temporary failure)
};

/// The wait before the attempt after `attempts` attempts (>= 1) failed
/// temporarily: retry_min * 2^(attempts-1), at most retry_max (at least 1
/// second; no overflow for any count).
std::int64_t backoff(const RetryPolicy& p, std::uint32_t attempts);

/// The recipient's state after an attempt at `now` that ended with
/// `outcome`; `attempts` counts that attempt too. A message that arrived
/// at `arrival` is given up at arrival + max_lifetime: a temporary failure
/// at or after it fails the recipient (expired), and no retry is
/// scheduled after it (the last one is at that instant).
Verdict after_attempt(const RetryPolicy& p, std::int64_t arrival, std::int64_t now, std::uint32_t attempts,
                      Outcome outcome);

/// Who a notice about a recipient of `e` goes to.
enum class NoticeRoute {
  None,         ///< nobody (null reverse-path of relayed mail, or a double bounce)
  Sender,       ///< e.reverse_path, as a Failure or Delay notice
  Postmaster,   ///< postmaster, as a DoubleBounce
};

/// Where a failure notice about `e` goes (see the file comment).
NoticeRoute failure_notice_route(const store::QueueEnvelope& e);

/// True when `e` should get its delay notice now: relayed mail with a
/// reverse-path, delay notices on, not sent yet, waiting at least
/// delay_notice_after, and still a recipient pending. The runner asks
/// after each temporary failure.
bool delay_notice_due(const RetryPolicy& p, const store::QueueEnvelope& e, std::int64_t now);

/// The time the runner tells in a delay notice's Will-Retry-Until
/// (RFC 3464 2.3.9): arrival + max_lifetime.
std::int64_t retry_until(const RetryPolicy& p, const store::QueueEnvelope& e);

}  // namespace boxmail::relay

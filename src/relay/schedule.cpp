// schedule.cpp - see schedule.hpp.
#include "relay/schedule.hpp"

#include <algorithm>

namespace boxmail::relay {

std::int64_t backoff(const RetryPolicy& p, std::uint32_t attempts) {
  const std::int64_t cap = std::max<std::int64_t>(p.retry_max, 1);
  std::int64_t wait = std::clamp<std::int64_t>(p.retry_min, 1, cap);
  for (std::uint32_t i = 1; i < attempts && wait < cap; ++i) wait = std::min(wait * 2, cap);
  return wait;
}

Verdict after_attempt(const RetryPolicy& p, std::int64_t arrival, std::int64_t now, std::uint32_t attempts,
                      Outcome outcome) {
  Verdict v;
  switch (outcome) {
    case Outcome::Delivered:
      v.state = store::RecipientState::Delivered;
      return v;
    case Outcome::Permanent:
      v.state = store::RecipientState::Failed;
      return v;
    case Outcome::Temporary:
      break;
  }
  const std::int64_t give_up = arrival + p.max_lifetime;
  if (now >= give_up) {
    v.state = store::RecipientState::Failed;
    v.expired = true;
    return v;
  }
  v.next_attempt = std::min(now + backoff(p, std::max<std::uint32_t>(attempts, 1)), give_up);
  return v;
}

NoticeRoute failure_notice_route(const store::QueueEnvelope& e) {
  switch (e.kind) {
    case store::NoticeKind::Normal:
      return e.reverse_path.empty() ? NoticeRoute::None : NoticeRoute::Sender;
    case store::NoticeKind::Failure:
    case store::NoticeKind::Delay:
      return NoticeRoute::Postmaster;
    case store::NoticeKind::DoubleBounce:
      return NoticeRoute::None;
  }
  return NoticeRoute::None;
}

bool delay_notice_due(const RetryPolicy& p, const store::QueueEnvelope& e, std::int64_t now) {
  return p.delay_notice_after > 0 && e.kind == store::NoticeKind::Normal && !e.reverse_path.empty() &&
         !e.delay_notice_sent && now - e.arrival >= p.delay_notice_after && has_pending(e);
}

std::int64_t retry_until(const RetryPolicy& p, const store::QueueEnvelope& e) { return e.arrival + p.max_lifetime; }

}  // namespace boxmail::relay

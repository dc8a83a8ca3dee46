// queue_envelope.cpp - see queue_envelope.hpp.
#include "store/queue_envelope.hpp"

#include "control/control_replies.hpp"
#include "text/lines.hpp"
#include "text/number.hpp"

#include <algorithm>
#include <array>

namespace boxmail::store {
namespace {

using control::decode_word;
using control::encode_word;

constexpr std::string_view kVersionLine = "boxmail-queue 1";

constexpr std::array<std::pair<NoticeKind, std::string_view>, 4> kKinds{{
    {NoticeKind::Normal, "normal"},
    {NoticeKind::Failure, "failure"},
    {NoticeKind::Delay, "delay"},
    {NoticeKind::DoubleBounce, "double-bounce"},
}};

constexpr std::array<std::pair<RecipientState, std::string_view>, 3> kStates{{
    {RecipientState::Pending, "pending"},
    {RecipientState::Delivered, "delivered"},
    {RecipientState::Failed, "failed"},
}};

/// The words of a line, split at single blanks (the writer never writes two).
std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (pos <= line.size()) {
    std::size_t sp = line.find(' ', pos);
    if (sp == std::string_view::npos) sp = line.size();
    out.push_back(line.substr(pos, sp - pos));
    pos = sp + 1;
  }
  return out;
}

std::optional<std::int64_t> parse_time(std::string_view s) {
  const auto n = text::parse_unsigned<std::uint64_t>(s, static_cast<std::uint64_t>(INT64_MAX));
  if (!n) return std::nullopt;
  return static_cast<std::int64_t>(n.value);
}

std::string time_word(std::int64_t t) { return std::to_string(t < 0 ? 0 : t); }

}  // namespace

std::string_view notice_kind_name(NoticeKind k) {
  for (const auto& [kind, name] : kKinds) {
    if (kind == k) return name;
  }
  return "normal";
}

std::string_view recipient_state_name(RecipientState s) {
  for (const auto& [state, name] : kStates) {
    if (state == s) return name;
  }
  return "pending";
}

std::string format_envelope(const QueueEnvelope& e) {
  std::string out;
  out.reserve(256 + 128 * e.recipients.size());
  out += kVersionLine;
  out += "\nid " + encode_word(e.queue_id);
  out += "\narrival " + time_word(e.arrival);
  out += "\nsender " + encode_word(e.reverse_path);
  out += "\nkind ";
  out += notice_kind_name(e.kind);
  out += "\nskip " + std::to_string(e.skip);
  out += "\nclient " + encode_word(e.client);
  out += e.delay_notice_sent ? "\ndelay-notice 1" : "\ndelay-notice 0";
  for (const QueueRecipient& r : e.recipients) {
    out += "\nrcpt ";
    out += recipient_state_name(r.state);
    out += ' ' + std::to_string(r.attempts) + ' ' + time_word(r.next_attempt) + ' ' + time_word(r.last_attempt);
    out += ' ' + encode_word(r.forward_path) + ' ' + encode_word(r.original) + ' ' + encode_word(r.remote_mta) +
           ' ' + encode_word(r.last_reply);
  }
  out += "\nend\n";
  return out;
}

std::optional<QueueEnvelope> parse_envelope(std::string_view text, std::string& error) {
  QueueEnvelope e;
  std::size_t pos = 0;
  int number = 0;
  // The single-valued lines, in the order they are written; each must appear once.
  constexpr std::array<std::string_view, 7> kHeads{"id", "arrival", "sender", "kind", "skip", "client",
                                                   "delay-notice"};
  std::size_t next_head = 0;
  bool ended = false;
  auto fail = [&](std::string what) {
    error = "line " + std::to_string(number) + ": " + what;
    return std::nullopt;
  };
  while (pos < text.size()) {
    const std::string_view line = text::next_line(text, pos);
    ++number;
    if (ended) return fail("text after the end line");
    if (number == 1) {
      if (line != kVersionLine) return fail("not a boxmail queue envelope of version 1");
      continue;
    }
    const std::vector<std::string_view> w = words(line);
    const std::string_view key = w.front();
    if (key == "end" && w.size() == 1) {
      if (next_head != kHeads.size()) return fail("the end line before the '" + std::string(kHeads[next_head]) + "' line");
      ended = true;
      continue;
    }
    if (key == "rcpt") {
      if (next_head != kHeads.size()) return fail("a rcpt line before the '" + std::string(kHeads[next_head]) + "' line");
      if (w.size() != 9) return fail("a rcpt line needs 8 values");
      QueueRecipient r;
      const auto state = std::find_if(kStates.begin(), kStates.end(), [&](const auto& p) { return p.second == w[1]; });
      if (state == kStates.end()) return fail("unknown recipient state");
      r.state = state->first;
      const auto attempts = text::parse_unsigned<std::uint32_t>(w[2]);
      const auto next = parse_time(w[3]);
      const auto last = parse_time(w[4]);
      if (!attempts || !next || !last) return fail("a bad number in a rcpt line");
      r.attempts = attempts.value;
      r.next_attempt = *next;
      r.last_attempt = *last;
      std::optional<std::string> values[4];
      for (int i = 0; i < 4; ++i) {
        values[i] = decode_word(w[5 + static_cast<std::size_t>(i)]);
        if (!values[i]) return fail("a malformed value in a rcpt line");
      }
      r.forward_path = std::move(*values[0]);
      r.original = std::move(*values[1]);
      r.remote_mta = std::move(*values[2]);
      r.last_reply = std::move(*values[3]);
      if (r.forward_path.empty()) return fail("a rcpt line without a forward-path");
      e.recipients.push_back(std::move(r));
      continue;
    }
    if (next_head >= kHeads.size() || key != kHeads[next_head] || w.size() != 2) {
      return fail("unexpected line '" + std::string(key.substr(0, 20)) + "'");
    }
    ++next_head;
    const std::string_view v = w[1];
    if (key == "arrival" || key == "skip") {
      const auto n = parse_time(v);
      if (!n) return fail("a bad number");
      if (key == "arrival") {
        e.arrival = *n;
      } else {
        e.skip = static_cast<std::uint64_t>(*n);
      }
    } else if (key == "kind") {
      const auto kind = std::find_if(kKinds.begin(), kKinds.end(), [&](const auto& p) { return p.second == v; });
      if (kind == kKinds.end()) return fail("unknown kind");
      e.kind = kind->first;
    } else if (key == "delay-notice") {
      if (v != "0" && v != "1") return fail("delay-notice is 0 or 1");
      e.delay_notice_sent = v == "1";
    } else {
      auto value = decode_word(v);
      if (!value) return fail("a malformed value");
      (key == "id" ? e.queue_id : key == "sender" ? e.reverse_path : e.client) = std::move(*value);
    }
  }
  if (!ended) {
    error = text.empty() ? "an empty file" : "no end line (a cut-off file)";
    return std::nullopt;
  }
  if (e.queue_id.empty()) return fail("no queue id");
  return e;
}

bool has_pending(const QueueEnvelope& e) {
  return std::any_of(e.recipients.begin(), e.recipients.end(),
                     [](const QueueRecipient& r) { return r.state == RecipientState::Pending; });
}

std::optional<std::int64_t> earliest_attempt(const QueueEnvelope& e) {
  std::optional<std::int64_t> t;
  for (const QueueRecipient& r : e.recipients) {
    if (r.state == RecipientState::Pending && (!t || r.next_attempt < *t)) t = r.next_attempt;
  }
  return t;
}

std::uint64_t return_path_length(std::string_view prefix) {
  if (!prefix.starts_with("Return-Path:")) return 0;
  const auto nl = prefix.find('\n');
  return nl == std::string_view::npos ? 0 : nl + 1;
}

std::string describe_queued(const QueueEnvelope& e, std::int64_t now) {
  std::string rcpts;
  std::string error;
  for (const QueueRecipient& r : e.recipients) {
    if (r.state != RecipientState::Pending) continue;
    // ',' separates the recipients: one inside an address (a quoted
    // local-part) is written %2C.
    std::string word = encode_word(r.forward_path);
    for (std::size_t i = 0; (i = word.find(',', i)) != std::string::npos;) word.replace(i, 1, "%2C");
    rcpts += (rcpts.empty() ? "" : ",") + word;
    if (error.empty() && !r.last_reply.empty()) error = r.last_reply;
  }
  const std::int64_t next = earliest_attempt(e).value_or(now);
  return encode_word(e.queue_id) + " age=" + std::to_string(now > e.arrival ? now - e.arrival : 0) +
         " sender=" + encode_word(e.reverse_path) + " next=" + std::to_string(next > now ? next - now : 0) +
         " rcpt=" + (rcpts.empty() ? "-" : rcpts) + " error=" + encode_word(error);
}

}  // namespace boxmail::store

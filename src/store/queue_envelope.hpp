// queue_envelope.hpp - the envelope file of a queued outgoing message (pure).
//
// Each message in the outgoing queue is two files in spool_dir/queue
// (docs/queue.md): QID (the message as received, our Received: header
// included) and QID.env, a small text file this header writes and reads:
//
//   boxmail-queue 1
//   id 0ABCDEFGHJKMN
//   arrival 1767225600
//   sender alice@example.org            (the reverse-path; "-" for <>)
//   kind normal                          (normal | failure | delay | double-bounce)
//   skip 31                              (octets at the start of QID not sent: our Return-Path: line)
//   client mail.example.net%20[192.0.2.1] (Received-From-MTA for notices; "-" when unknown)
//   delay-notice 0                       (1: the delay notice was sent)
//   rcpt pending 2 1767226200 1767225900 bob@example.com - mx.example.com 451%204.3.0%20try%20later
//   end
//
// A rcpt line is: state (pending | delivered | failed), attempts made, next
// attempt (unix seconds; 0 = now), last attempt (0 = never), forward-path,
// original recipient ("-" when it is the forward-path), the remote MTA of
// the last reply ("-": none), the last reply. Every value is escaped
// (escape_field): bytes 0x00-0x20, 0x7F-0xFF and '%' become %XX, the empty
// value is "-" and the value "-" is "%2D", so no value can hold a blank, a
// line end or a field of its own. The final "end" line tells a whole file
// from a cut-off one. Lines end with LF.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boxmail::store {

/// What a queued message is: mail we relay, or a notice we made (sent with
/// the null reverse-path). Decides which notices a failure may cause
/// (relay/schedule.hpp): never one about a notice to its sender.
enum class NoticeKind {
  Normal,        ///< relayed mail
  Failure,       ///< a failure notice (bounce, RFC 3464) we made
  Delay,         ///< a delay notice we made
  DoubleBounce,  ///< a notice to postmaster about a notice that failed: never causes another
};

/// A recipient's state in the queue.
enum class RecipientState { Pending, Delivered, Failed };

/// One recipient of a queued message.
struct QueueRecipient {
  std::string forward_path;        ///< where it goes (no angle brackets)
  std::string original;            ///< the address the client gave, when an alias led here; "" = forward_path
  RecipientState state = RecipientState::Pending;
  std::uint32_t attempts = 0;      ///< delivery attempts made
  std::int64_t next_attempt = 0;   ///< unix seconds; 0 = as soon as possible
  std::int64_t last_attempt = 0;   ///< unix seconds of the last attempt; 0 = never
  std::string remote_mta;          ///< host that gave last_reply ("" = none, or a local error)
  std::string last_reply;          ///< the last reply or error text, one line ("" = none yet)
  bool operator==(const QueueRecipient&) const = default;
};

/// The envelope of one queued message: what QID.env holds.
struct QueueEnvelope {
  std::string queue_id;            ///< 13 characters (maildir_name.hpp queue_id_from)
  std::int64_t arrival = 0;        ///< unix seconds the message was accepted
  std::string reverse_path;        ///< "" for the null reverse-path <>
  NoticeKind kind = NoticeKind::Normal;
  std::uint64_t skip = 0;          ///< octets at the start of the data file not to send (Return-Path:)
  std::string client;              ///< who sent it to us, for Received-From-MTA ("" = unknown / local)
  bool delay_notice_sent = false;
  std::vector<QueueRecipient> recipients;
  bool operator==(const QueueEnvelope&) const = default;
};

/// The whole envelope file text (version 1, LF line ends, "end" last).
std::string format_envelope(const QueueEnvelope& e);

/// Parses an envelope file. nullopt with `error` set (the line number and
/// what is wrong) for an unknown version, a missing or unknown line, a
/// malformed value or a missing "end" (a cut-off file).
std::optional<QueueEnvelope> parse_envelope(std::string_view text, std::string& error);

/// "normal", "failure", "delay", "double-bounce".
std::string_view notice_kind_name(NoticeKind k);

/// "pending", "delivered", "failed".
std::string_view recipient_state_name(RecipientState s);

/// True when some recipient is still pending (the message stays queued).
bool has_pending(const QueueEnvelope& e);

/// The earliest next_attempt of the pending recipients, nullopt when none is pending.
std::optional<std::int64_t> earliest_attempt(const QueueEnvelope& e);

/// The Return-Path: line at the start of a spool prefix (its length with
/// the LF), which a relay must not send (RFC 5321 4.4: added at final
/// delivery only); 0 when the prefix does not start with one.
std::uint64_t return_path_length(std::string_view prefix);

/// One line describing a queued message for the control socket, words
/// escaped as control::encode_word writes them:
///   QID age=SECONDS sender=ADDR next=SECONDS rcpt=ADDR,ADDR error=TEXT
/// (age: since arrival; next: until the earliest pending attempt, 0 when
/// due; rcpt: the pending recipients; error: the last reply of a pending
/// recipient that has one, "-" when none).
std::string describe_queued(const QueueEnvelope& e, std::int64_t now);

}  // namespace boxmail::store

// dsn.hpp - delivery status notifications: the failure and delay notices
// the queue sends (pure).
//
// build_dsn() writes a whole message (CRLF line ends) in the format of
// RFC 3464 inside a multipart/report (RFC 6522, which replaced RFC 3462)
// with report-type=delivery-status:
//   1. text/plain: what happened, for a human;
//   2. message/delivery-status: the per-message fields (Reporting-MTA,
//      Received-From-MTA, Arrival-Date; RFC 3464 2.2) and one group per
//      recipient (Original-Recipient, Final-Recipient, Action, Status,
//      Remote-MTA, Diagnostic-Code, Last-Attempt-Date, Will-Retry-Until;
//      RFC 3464 2.3);
//   3. text/rfc822-headers: the original message's header section
//      (header_section(), bounded).
// Its header: From: MAILER-DAEMON@<reporting MTA>, Auto-Submitted:
// auto-replied (RFC 3834 5), a fresh Message-ID, Date. It is sent with the
// null reverse-path (RFC 5321 4.5.5); its queue entry has the kind Failure
// or Delay (store::NoticeKind, or DoubleBounce to postmaster) so that a
// notice that fails never causes a notice to its (null) sender.
//
// Text that came from outside (addresses, remote replies, host names) is
// made one line of printable ASCII (controls and line ends become blanks,
// 8-bit octets '?') before it goes into a field, and long fields are
// folded (RFC 5322 2.2.3), so nothing can add a field or a MIME part.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boxmail::relay {

/// RFC 3464 2.3.3 Action of one recipient (the two the queue reports).
enum class DsnAction { Failed, Delayed };

/// One recipient's group of fields.
struct DsnRecipient {
  std::string final_recipient;      ///< forward-path tried (Final-Recipient: rfc822; ...)
  std::string original_recipient;   ///< the address the client gave, "" = not known (no Original-Recipient)
  DsnAction action = DsnAction::Failed;
  std::string status;               ///< RFC 3463 code "5.1.1" (dsn_status gives one)
  std::string remote_mta;           ///< host that answered ("" = none: no Remote-MTA)
  std::string diagnostic;           ///< the reply ("550 5.1.1 ..." -> smtp; other text -> X-Boxmail); "" = none
  std::int64_t last_attempt = 0;    ///< unix seconds (0 = none: no Last-Attempt-Date)
  std::int64_t will_retry_until = 0;   ///< unix seconds, Delayed only (0 = no Will-Retry-Until)
};

/// Everything one notice says.
struct DsnInput {
  std::string reporting_mta;        ///< our host name (Reporting-MTA: dns; ..., From: MAILER-DAEMON@...)
  std::string to;                   ///< who the notice goes to (the sender, or postmaster)
  std::string queue_id;             ///< the original message's queue id (for the text and X-Boxmail-Queue-ID)
  std::string notice_id;            ///< the notice's own queue id (Message-ID, MIME boundary)
  std::int64_t arrival = 0;         ///< unix seconds the original arrived (Arrival-Date)
  std::int64_t now = 0;             ///< unix seconds: Date
  std::string received_from_mta;    ///< who sent us the original, "" = unknown (no Received-From-MTA)
  std::vector<DsnRecipient> recipients;   ///< at least one
  std::string original_headers;     ///< header_section() of the original (LF or CRLF line ends)
};

/// The whole notice (see the file comment), CRLF line ends. A notice whose
/// recipients are all Delayed is a delay notice; any Failed makes it a
/// failure notice (the subject and the text say which).
std::string build_dsn(const DsnInput& in);

/// The header section at the start of `message` (the message file after
/// the skipped Return-Path:), up to its empty line, at most `limit`
/// octets: when it is longer, it is cut after the last whole line within
/// the limit (a header field may be cut between its folded lines; RFC 3462
/// allows the part to hold some of the headers). The empty line is not
/// included.
std::string header_section(std::string_view message, std::size_t limit = 16384);

/// The RFC 3463 status of a recipient: the enhanced code of `reply`
/// ("550 5.1.1 ...", RFC 2034) when it has one of the right class,
/// otherwise from its basic code (5yz -> 5.0.0, 4yz -> 4.0.0), otherwise
/// 5.0.0 / 4.4.1 (no answer). `expired`: the recipient failed because its
/// time ran out: 5.4.7 (delivery time expired).
std::string dsn_status(std::string_view reply, DsnAction action, bool expired = false);

/// The unix time `t` as an RFC 5322 date-time in UTC ("Thu, 01 Jan 2026 00:00:00 +0000").
std::string dsn_date(std::int64_t t);

}  // namespace boxmail::relay

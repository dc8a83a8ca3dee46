// test_message.hpp - the "send a test message" of the Outgoing mail page
// and `boxmailctl relay-test` (pure): which recipient may get one, and
// the message itself.
//
// The test message goes out at once through the configured [relay] route
// (QueueRunner::send_test), never through the queue, so the administrator
// sees the remote server's replies while waiting. Its recipient must be
// one the LAN's own mail would relay: checked by address::resolve_recipient
// as a relay client's RCPT (RFC 5321 3.6, 4.1.1.3):
//   - syntax of a Forward-path (address/mailbox.hpp), with or without the
//     angle brackets, and a domain (<Postmaster> alone is local);
//   - route-like local-parts ('%', '!', '@', also quoted) and address
//     literals are refused, as for every relayed recipient;
//   - a recipient at one of the box's own domains (or any domain in feed
//     mode without [relay] local_domains) is refused: it would be
//     delivered here, and the test is about the way out;
//   - with [relay] route = none: "no outgoing mail route is configured".
//
// The message (RFC 5322 3.6: Date, From, To, Message-ID, Subject;
// Auto-Submitted: auto-generated, RFC 3834) is short US-ASCII with CRLF
// line ends, as the SMTP client sends it; its From: is postmaster@HOST.
// Its reverse-path is the null sender <> (RFC 5321 4.5.5) unless the
// administrator names one: the result is shown at once, so a later bounce
// would help nobody, and <> is what the box's own notices use on the same
// route. A smarthost that checks the sender against the login (RFC 6409
// 6.1; Postfix's reject_sender_login_mismatch, boxmail itself) refuses <>
// from a logged-in client: then the test names the login's own address as
// the sender.
#pragma once

#include "config/account.hpp"
#include "config/config.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace boxmail::relay {

/// The test message's Subject:.
inline constexpr std::string_view kTestSubject = "boxmail test message";

/// The recipient check's result: `address` ("local@domain", RFC 5321 form)
/// when it may be sent to, else `error` (for people, e.g. "no outgoing mail
/// route is configured").
struct TestRecipient {
  std::string address;
  std::string error;
};

/// Checks `text` (an address, "<...>" allowed) as the file comment says.
TestRecipient check_test_recipient(std::string_view text, const config::Config& config,
                                   const config::AccountTable& accounts);

/// What the message says.
struct TestMessageInput {
  std::string hostname;     ///< our host name: From: postmaster@HOST, the Message-ID's right side
  std::string to;           ///< the checked recipient ("local@domain")
  std::string id;           ///< unique left side of the Message-ID (a queue id)
  std::int64_t now = 0;     ///< Unix seconds, for Date:
};

/// The whole message, header and body, CRLF line ends.
std::string compose_test_message(const TestMessageInput& in);

}  // namespace boxmail::relay

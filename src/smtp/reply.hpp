// reply.hpp - every SMTP reply the server sends, from one table.
//
// Each reply has a basic code (RFC 5321 4.2), an enhanced status code
// (RFC 3463, announced by ENHANCEDSTATUSCODES, RFC 2034) and fixed text; some
// take one argument appended to the text. The greeting, the EHLO/HELO replies
// and 354 carry no enhanced code (RFC 2034 section 3). A reply also names
// what the session does after sending it (`Next`), so no code depends on
// magic numbers.
#pragma once

#include <string>
#include <string_view>

namespace boxmail::smtp {

/// What the connection does once the reply is sent.
enum class Next { Keep, Close };

/// Reply identifiers; the table in reply.cpp gives code, enhanced code, text.
enum class ReplyId {
  Ok,                 // 250 2.0.0 Ok
  SenderOk,           // 250 2.1.0 Sender ok
  RecipientOk,        // 250 2.1.5 Recipient ok
  Queued,             // 250 2.0.0 Ok: queued as <arg>
  StartData,          // 354 End data with <CR><LF>.<CR><LF>
  Bye,                // 221 2.0.0 Bye
  Help,               // 214 2.0.0 <commands>
  CannotVrfy,         // 252 2.5.0 Cannot VRFY user, but will accept message
  VrfyOk,             // 250 2.1.5 <arg>
  VrfyUnknown,        // 550 5.1.1 User unknown
  Unrecognized,       // 500 5.5.2 Error: command not recognized
  LineTooLong,        // 500 5.5.2 Error: line too long
  NotImplemented,     // 502 5.5.1 Error: command not implemented
  SyntaxParams,       // 501 5.5.4 Syntax: <arg>
  BadSender,          // 501 5.1.7 Bad sender address syntax: <arg>
  BadRecipient,       // 501 5.1.3 Bad recipient address syntax: <arg>
  UnknownParam,       // 555 5.5.4 Unsupported parameter: <arg>
  NeedHelo,           // 503 5.5.1 Error: send HELO/EHLO first
  NestedMail,         // 503 5.5.1 Error: nested MAIL command
  NeedMail,           // 503 5.5.1 Error: need MAIL command
  NeedRcpt,           // 503 5.5.1 Error: need RCPT command
  NoValidRcpt,        // 554 5.5.1 Error: no valid recipients
  TooBig,             // 552 5.3.4 Message size exceeds fixed limit
  TooManyRcpt,        // 452 4.5.3 Error: too many recipients
  TooManyHops,        // 554 5.4.6 Too many hops (mail loop?)
  UserUnknown,        // 550 5.1.1 <arg>: Recipient address rejected: User unknown
  RelayDenied,        // 550 5.7.1 <arg>: Relay access denied
  RelayTrick,         // 550 5.7.1 <arg>: Route-like address refused
  AliasLoop,          // 550 5.4.6 <arg>: Alias expansion too deep
  BareLfRefused,      // 550 5.5.2 Message refused: bare LF (line feed without carriage return)
  BareCrRefused,      // 550 5.5.2 Message refused: bare CR (carriage return without line feed)
  DataLineTooLong,    // 554 5.6.0 Message refused: line too long; the limit in octets is <arg>
  LocalError,         // 451 4.3.0 Error: local error in processing
  NoStorage,          // 452 4.3.1 Error: insufficient system storage
  TooManyConnections, // 421 4.7.0 <host> Error: too many connections
  TooManyConnectionsFromIp, // 421 4.7.0 <host> Error: too many connections from your address
  TooManyErrors,      // 421 4.7.0 <host> Error: too many errors
  Timeout,            // 421 4.4.2 <host> Error: timeout exceeded
  ShuttingDown,       // 421 4.3.2 <host> Service shutting down
  HttpRefused,        // 554 5.7.0 This is an SMTP server, not HTTP; closing
  MailboxFull,        // 452 4.2.2 Recipient address rejected: Mailbox full: <arg>
  OverQuota,          // 552 5.2.2 Recipient address rejected: Message larger than the mailbox's quota: <arg>
  IdleEvicted,        // 421 4.4.2 <host> Error: no progress for too long; closing to make room
  NoDescriptors,      // 421 4.3.2 <host> Error: out of resources, try again later
  TlsReady,           // 220 2.0.0 Ready to start TLS (RFC 3207 4)
  TlsNotAvailable,    // 454 4.7.0 TLS not available due to temporary reason (RFC 3207 4)
  TlsActive,          // 503 5.5.1 Error: TLS already active
  AuthChallenge,      // 334 <arg> (RFC 4954 4; base64 challenge, no enhanced code)
  AuthOk,             // 235 2.7.0 Authentication successful (RFC 4954 6)
  AuthFailed,         // 535 5.7.8 Error: authentication failed (RFC 4954 6; one reply for every cause)
  AuthCancelled,      // 501 5.7.0 Authentication cancelled (RFC 4954 4: the client sent "*")
  AuthBadResponse,    // 501 5.5.2 Error: cannot decode the authentication response (RFC 4954 4)
  AuthLineTooLong,    // 500 5.5.6 Authentication Exchange line is too long (RFC 4954 4)
  AuthMechanism,      // 504 5.5.4 Unrecognized authentication type: <arg> (RFC 4954 4)
  AuthAlready,        // 503 5.5.1 Error: already authenticated (RFC 4954 4)
  AuthInTransaction,  // 503 5.5.1 Error: AUTH not allowed during a mail transaction (RFC 4954 4)
  AuthNeedsTls,       // 538 5.7.11 Encryption required for requested authentication mechanism (RFC 4954 6): send STARTTLS first
  AuthTemporary,      // 454 4.7.0 Temporary authentication failure, try again later (RFC 4954 6)
  AuthRequired,       // 530 5.7.0 Authentication required (RFC 4954 6): submission needs AUTH before MAIL
  SenderNotOwned,     // 553 5.7.1 Sender address rejected: not owned by the logged-in user: <arg>
  NoOutgoingRoute,    // 550 5.7.1 Relay access denied: no outgoing mail route is configured: <arg>
  DnsblListed,        // 554 5.7.1 Service unavailable; Client host <arg: [ADDR] blocked using ZONE; TXT> (smtp/client_check.hpp)
  ClientHostUnknown,  // 550 5.7.25 Client host rejected: cannot find your hostname, <arg: [ADDR]> (RFC 7372 3.3)
  ClientHostMismatch, // 550 5.7.25 Client host rejected: your hostname does not resolve to your address: <arg>
  ClientHostTempFail, // 450 4.7.25 Client host rejected: cannot find your hostname (DNS failed; try again later), <arg>
  ClientBanned,       // 421 4.7.0 <host> Error: your address is banned here for a time (firewall/ban_list.hpp)
  NotFeedServer,      // 554 5.7.1 No SMTP service here for client host <arg: [ADDR]>: not one of this port's feed servers (greeting, RFC 5321 3.1)
  NoServiceHere,      // 503 5.5.1 Error: no SMTP service here; send QUIT (after the 554 greeting, RFC 5321 3.1)
};

/// The fixed parts of a reply.
struct ReplyInfo {
  int code;                    ///< 2xx..5xx
  std::string_view enhanced;   ///< "2.0.0"; empty when none is sent
  std::string_view text;       ///< fixed text
  Next next;                   ///< Keep, or Close after sending
};

/// The table row of a reply.
const ReplyInfo& reply_info(ReplyId id);

/// Formats "CODE ENH TEXT[ARG]\r\n". For the 421 replies `host` is put
/// before the text. Lines are single-line replies.
std::string format_reply(ReplyId id, std::string_view arg = {}, std::string_view host = {});

}  // namespace boxmail::smtp

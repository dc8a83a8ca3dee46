// reply.hpp - every POP3 status line the server sends, from one table.
//
// A POP3 reply is "+OK text" or "-ERR [RESP-CODE] text" (RFC 1939 3; response
// codes in brackets from RFC 2449 8 and RFC 3206: IN-USE, LOGIN-DELAY,
// SYS/TEMP, SYS/PERM, AUTH). Some replies take one argument appended to the
// text. Each row also names what the connection does after the reply
// (`Next`), so no code depends on reply text.
//
// Used by session.cpp only; format_reply is public for the tests.
#pragma once

#include <string>
#include <string_view>

namespace boxmail::pop3 {

/// What the connection does once the reply is sent.
enum class Next { Keep, Close };

/// Reply identifiers; the table in reply.cpp gives sign, code and text.
enum class ReplyId {
  Greeting,           // +OK <arg> POP3 boxmail ready
  Ok,                 // +OK
  UserOk,             // +OK Send PASS (never says whether the mailbox exists)
  LoggedIn,           // +OK Logged in: <arg>
  Capabilities,       // +OK Capability list follows
  Mechanisms,         // +OK SASL mechanisms follow
  ListFollows,        // +OK <arg>  (scan listing follows)
  Stat,               // +OK <arg>
  Scan,               // +OK <arg>
  MessageFollows,     // +OK <arg> octets
  Deleted,            // +OK Message <arg> deleted
  Reset,              // +OK <arg>
  Bye,                // +OK Logging out<arg>
  SaslContinue,       // "+ " (SASL continuation, RFC 5034 4)
  Unknown,            // -ERR Unknown command
  WrongState,         // -ERR Command not valid in this state
  Syntax,             // -ERR Syntax: <arg>
  NoSuchMessage,      // -ERR No such message
  AlreadyDeleted,     // -ERR Message <arg> already deleted
  LineTooLong,        // -ERR Line too long
  NeedUser,           // -ERR Send USER first
  AuthFailed,         // -ERR [AUTH] Authentication failed
  AuthFailedClose,    // -ERR [AUTH] Authentication failed; too many failures, closing
  Pop3Disabled,       // -ERR [AUTH] POP3 access is disabled for this mailbox
  InUse,              // -ERR [IN-USE] Mailbox is in use by another POP3 session
  LoginsBlocked,      // -ERR [SYS/TEMP] Too many failed logins from your address; try again later
  LoginBusy,          // -ERR [SYS/TEMP] Too many logins being checked; try again later
  AuthCancelled,      // -ERR Authentication cancelled
  BadMechanism,       // -ERR Unsupported authentication mechanism
  BadBase64,          // -ERR Invalid base64 data
  NoStls,             // -ERR STLS is not available: no TLS certificate is loaded
  StlsReady,          // +OK Begin TLS negotiation (RFC 2595 4)
  StlsActive,         // -ERR TLS is already active
  PlaintextRefused,   // -ERR [AUTH] Plaintext logins are not allowed without TLS: use STLS (or the POP3S port)
  PlaintextNoTls,     // -ERR [SYS/PERM] Plaintext logins are not allowed without TLS, and no TLS certificate is loaded
  MailboxError,       // -ERR [SYS/TEMP] Cannot open the mailbox
  MessageGone,        // -ERR [SYS/TEMP] Message <arg> is no longer available
  CommitError,        // -ERR [SYS/TEMP] Some changes were not saved; <arg>
  TooManyErrors,      // -ERR Too many errors, closing
  Timeout,            // -ERR Disconnected for inactivity
  ShuttingDown,       // -ERR [SYS/TEMP] Server shutting down
  TooManyConnections, // -ERR [SYS/TEMP] Too many connections
  TooManyConnectionsFromIp,  // -ERR [SYS/TEMP] Too many connections from your address
  HttpRefused,        // -ERR This is a POP3 server, not HTTP; closing
  MessageDamaged,     // -ERR [SYS/TEMP] Message <arg> cannot be sent: its file does not match its size
  IdleEvicted,        // -ERR Disconnected for inactivity to make room for another client
  NoDescriptors,      // -ERR [SYS/TEMP] Server out of resources, try again later
  Banned,             // -ERR [SYS/PERM] Your address is banned here for a time (firewall/ban_list.hpp)
};

/// The fixed parts of a reply.
struct ReplyInfo {
  bool ok;                     ///< "+OK" or "-ERR" ("+ " for SaslContinue)
  std::string_view code;       ///< RFC 2449 response code without brackets; empty when none
  std::string_view text;       ///< fixed text (the argument goes where "<arg>" is, else at the end)
  Next next;
};

/// The table row of a reply.
const ReplyInfo& reply_info(ReplyId id);

/// Formats the status line, CRLF-ended. CR, LF and NUL in `arg` become
/// blanks, so an argument can never end the line early.
std::string format_reply(ReplyId id, std::string_view arg = {});

}  // namespace boxmail::pop3

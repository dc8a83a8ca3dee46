// control_protocol.hpp - the control socket's line protocol (pure).
//
// boxmaild listens on a UNIX stream socket ([server] control_socket, mode
// 0660, group of its directory); the web panel (cgi/) and tools send one
// request line and read one reply, then the connection closes.
//
// Requests (one line, LF or CRLF, at most kMaxRequestLine octets, verbs
// case-insensitive):
//   status     services and their ports, sessions, uptime, mailboxes and
//              their sizes, the mail store's disk use
//   reload     the same as SIGHUP: re-read the configuration; "ok" when it
//              was taken, "error" with one line per configuration error
//   log N      the last N (1..kMaxLogLines) log lines, oldest first
//   stats      messages accepted/refused today and per hour, last 24 hours
//
// Reply: a head line "ok[ TEXT]" or "error TEXT", then body lines, then a
// line holding a single "."; a body line that begins with "." gets one more
// "." in front (dot-stuffing as in SMTP DATA, RFC 5321 4.5.2). Body lines
// never hold CR or LF (they are replaced by blanks). What the body lines
// of each verb hold, and their typed values, is control_replies.hpp.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace boxmail::control {

constexpr std::size_t kMaxRequestLine = 64;
constexpr unsigned kMaxLogLines = 200;

enum class Verb { Status, Reload, Log, Stats };

/// A parsed request; `error` is non-empty when the line is not one.
struct Request {
  Verb verb = Verb::Status;
  unsigned count = 0;   ///< for Log: lines asked for
  std::string error;
};

/// Parses one request line (its line end may be included).
Request parse_request(std::string_view line);

/// A reply: head text after "ok"/"error", and body lines.
struct Reply {
  bool ok = true;
  std::string head;
  std::vector<std::string> lines;
};

/// The reply's wire text (see above).
std::string format_reply(const Reply& reply);

/// Parses a whole reply as read from the socket. `complete` is false when
/// the final "." line has not arrived (truncated); `error` names a
/// malformed head.
struct ReplyParse {
  bool complete = false;
  Reply reply;
  std::string error;
};
ReplyParse parse_reply(std::string_view text);

}  // namespace boxmail::control

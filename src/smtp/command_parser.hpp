// command_parser.hpp - SMTP command line parsing (pure).
//
// parse_command splits a command line (without CRLF) into a verb and its
// argument; parse_mail_from / parse_rcpt_to parse the paths and ESMTP
// parameters of MAIL and RCPT. Nothing here throws or does I/O; errors are
// returned as a ReplyId plus an argument for the reply text.
//
// Source: RFC 5321 4.1.1 (commands), 4.1.2 (paths, Mail-parameters,
// esmtp-keyword/value), RFC 1870 (SIZE=), RFC 6152 (BODY=8BITMIME).
#pragma once

#include "address/mailbox.hpp"
#include "smtp/reply.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace boxmail::smtp {

/// Command verbs the server knows. Http covers GET, POST, HEAD, PUT and
/// CONNECT: a cross-protocol attempt, answered by closing at once.
enum class Verb {
  Unknown, Helo, Ehlo, Mail, Rcpt, Data, Rset, Noop, Quit, Help, Vrfy, Expn,
  Http, StartTls, Auth,
};

/// A split command line. `argument` is the text after the verb and one
/// space (empty when none).
struct Command {
  Verb verb = Verb::Unknown;
  std::string_view verb_text;
  std::string_view argument;
};

/// Splits `line` at the first space; the verb is matched case-insensitively.
Command parse_command(std::string_view line);

/// RFC 6152 BODY= values.
enum class Body { Unspecified, SevenBit, EightBitMime };

/// Parsed MAIL FROM: argument.
struct MailFrom {
  address::PathResult path;
  std::optional<std::uint64_t> size;   ///< SIZE= (octets), when given
  Body body = Body::Unspecified;
  std::optional<ReplyId> error;        ///< set on any error
  std::string error_arg;               ///< text for the reply
};

/// Parses the argument of MAIL: "FROM:<reverse-path> [SP params]".
/// A space after "FROM:" is tolerated. Errors: BadSender (path syntax),
/// SyntaxParams (missing "FROM:", bad SIZE/BODY value), UnknownParam.
MailFrom parse_mail_from(std::string_view argument);

/// Parsed RCPT TO: argument.
struct RcptTo {
  address::PathResult path;
  std::optional<ReplyId> error;
  std::string error_arg;
};

/// Parses the argument of RCPT: "TO:<forward-path> [SP params]". No RCPT
/// parameters are supported (DSN is not offered): any is UnknownParam.
RcptTo parse_rcpt_to(std::string_view argument);

}  // namespace boxmail::smtp

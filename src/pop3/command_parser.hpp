// command_parser.hpp - POP3 command line parsing (pure).
//
// parse_command splits a command line (without CRLF) into a keyword and its
// arguments; the helpers parse message numbers, TOP's line count, the AUTH
// arguments and a SASL PLAIN response. Nothing here throws or does I/O; bad
// input gives a value with an error text for the -ERR reply.
//
// Source: RFC 1939 3 (keywords of 3-4 characters, case-insensitive,
// arguments separated by a single space, each up to 40 characters; PASS may
// hold spaces), RFC 2449 (CAPA), RFC 5034 (AUTH, "=" for an empty initial
// response, "*" cancels), RFC 4616 (PLAIN: [authzid] NUL authcid NUL passwd),
// RFC 4648 4 (base64).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boxmail::pop3 {

/// Keywords the server knows. Http covers GET, POST, HEAD, PUT and CONNECT
/// (a cross-protocol attempt, answered by closing at once).
enum class Verb {
  Unknown, User, Pass, Quit, Stat, List, Retr, Dele, Noop, Rset, Top, Uidl, Capa, Auth, Stls, Apop,
  Http,
};

/// A split command line. `argument` is everything after the keyword and one
/// space (empty when none).
struct Command {
  Verb verb = Verb::Unknown;
  std::string_view verb_text;
  std::string_view argument;
};

/// Splits `line` at the first space; the keyword is matched case-insensitively.
Command parse_command(std::string_view line);

/// Numeric arguments of STAT/LIST/UIDL/RETR/DELE/TOP/NOOP/RSET/QUIT.
struct Numbers {
  std::vector<std::uint64_t> values;   ///< the numbers given, in order
  std::string error;                   ///< non-empty: text for "-ERR Syntax: ..."
};

/// Parses 'argument' as between `min` and `max` decimal numbers separated by
/// single spaces (RFC 1939: no other syntax). `usage` is the text of the
/// error ("RETR msg"). A number over 2^32 is an error too.
Numbers parse_numbers(std::string_view argument, std::size_t min, std::size_t max, std::string_view usage);

/// Arguments of AUTH: "mechanism [initial-response]".
struct AuthArgs {
  std::string mechanism;                       ///< upper case; empty when none was given
  std::optional<std::string_view> initial;     ///< the initial response as sent ("=" means empty)
  std::string error;
};
AuthArgs parse_auth(std::string_view argument);

/// Decodes base64 (RFC 4648 4, with padding; no blanks; zero bits under the
/// padding): proto::sasl::decode_base64 without its length limit. nullopt
/// when malformed.
std::optional<std::string> base64_decode(std::string_view in);

/// Encodes base64 (for tests and clients): proto::sasl::encode_base64.
std::string base64_encode(std::string_view in);

/// A decoded SASL PLAIN message.
struct PlainCredentials {
  std::string authzid;    ///< authorization identity (may be empty)
  std::string authcid;    ///< authentication identity (the login name)
  std::string password;
  bool ok = false;        ///< false when the message is not authzid NUL authcid NUL passwd
};
/// Splits a decoded PLAIN message (RFC 4616 2).
PlainCredentials parse_plain(std::string_view decoded);

/// The mailbox name for a login name: "alice", "Alice" or
/// "alice@any.domain" -> "alice" (the domain is dropped as the SMTP feed
/// does; lower-cased). Empty when nothing is left.
std::string login_mailbox(std::string_view login);

}  // namespace boxmail::pop3

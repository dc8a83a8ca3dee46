// sasl.hpp - the server side of SASL PLAIN and LOGIN as SMTP AUTH and
// POP3 AUTH carry them (pure: no I/O, no clock, no throw on bad input).
//
// What it does: strict base64 (RFC 4648 4) with a length limit; RFC 4616 2
// PLAIN messages (authzid NUL authcid NUL passwd); the LOGIN mechanism's
// two prompts ("Username:", "Password:"; draft-murchison-sasl-login) as a
// small state machine; the "*" cancel of RFC 4954 4 (SMTP) and RFC 5034 4
// (POP3); a constant-time equality for secrets.
//
// Who calls it: the SMTP and POP3 sessions (through the protocol driver).
// An Exchange takes the mechanism and the optional initial response of the
// AUTH command, then each client line; each Step says: send this challenge
// (base64 text, the caller adds "334 " for SMTP or "+ " for POP3), or the
// exchange is over with credentials to check, or it failed and why (so the
// caller picks the reply: RFC 4954 6 "501 5.5.2" for bad base64, "501 5.7.0"
// for a cancel, "500 5.5.6" for a line too long, "535 5.7.8" for a refused
// identity; RFC 5034 for POP3's -ERR equivalents).
//
// What it promises: credentials come out only when the authentication
// identity and the password are both non-empty, NUL-free and within
// kMaxIdentityLength / config::kMaxPasswordLength octets, and the
// authorization identity is empty or equal to the authentication identity
// (no proxy logins on this box). Nothing here checks the password.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace boxmail::proto::sasl {

/// The longest authentication (or authorization) identity taken, in octets.
constexpr std::size_t kMaxIdentityLength = 255;

/// The longest password taken, in octets (the same as
/// config::kMaxPasswordLength; sasl_test checks they agree).
constexpr std::size_t kMaxPasswordLength = 256;

/// The longest decoded PLAIN message: authzid NUL authcid NUL passwd at
/// their limits.
constexpr std::size_t kMaxPlainLength = kMaxIdentityLength + 1 + kMaxIdentityLength + 1 + kMaxPasswordLength;

/// The longest base64 client response line accepted (octets, without CRLF):
/// the encoding of kMaxPlainLength octets. A longer line is TooLong (SMTP
/// "500 5.5.6 Authentication Exchange line is too long", RFC 4954 4).
constexpr std::size_t kMaxResponseLength = (kMaxPlainLength + 2) / 3 * 4;

/// Why a decode or an exchange failed. None means it did not.
enum class Failure {
  None,
  Cancelled,      ///< the client sent "*" (RFC 4954 4, RFC 5034 4)
  TooLong,        ///< the response is longer than its limit
  BadBase64,      ///< not strict RFC 4648 4 base64 (bad octet, padding or length)
  Malformed,      ///< not authzid NUL authcid NUL passwd; empty or NUL-bearing field
  FieldTooLong,   ///< an identity over kMaxIdentityLength or a password over kMaxPasswordLength
  OtherIdentity,  ///< the authorization identity differs from the authentication identity
  Sequence,       ///< respond() after the exchange ended
};

/// A short English text for `f` ("malformed base64", ...), for logs.
std::string_view failure_text(Failure f);

/// The result of decode_base64: `data` when `failure` is None.
struct Decoded {
  std::string data;
  Failure failure = Failure::None;
};

/// Decodes strict base64 (RFC 4648 4): the alphabet A-Z a-z 0-9 + /, the
/// length a multiple of 4, "=" padding only at the end (one or two), and the
/// unused bits of the last symbol zero (so each octet string has exactly one
/// encoding). No blanks, no line breaks, no URL alphabet. The empty string
/// decodes to the empty string. TooLong when `in` has more than
/// `max_encoded` octets (checked before any decoding); BadBase64 otherwise
/// when malformed.
Decoded decode_base64(std::string_view in, std::size_t max_encoded = kMaxResponseLength);

/// Encodes `in` as base64 (RFC 4648 4, with padding).
std::string encode_base64(std::string_view in);

/// Credentials taken from an exchange: the authentication identity (the
/// login name as sent) and the password.
struct Credentials {
  std::string authcid;
  std::string password;
};

/// The result of parse_plain: `credentials` when `failure` is None.
struct PlainResult {
  Credentials credentials;
  Failure failure = Failure::None;
};

/// Splits a decoded PLAIN message (RFC 4616 2: [authzid] NUL authcid NUL
/// passwd, exactly two NULs). Malformed: not two NULs, or an empty authcid
/// or passwd. FieldTooLong: authzid or authcid over kMaxIdentityLength, or
/// passwd over kMaxPasswordLength octets. OtherIdentity: a non-empty authzid
/// that is not octet for octet the authcid.
PlainResult parse_plain(std::string_view message);

/// The mechanisms offered.
enum class Mechanism { Plain, Login };

/// The mechanism for an AUTH argument, ASCII case-insensitive ("PLAIN",
/// "login"); nullopt for any other.
std::optional<Mechanism> parse_mechanism(std::string_view name);

/// The name of `m` as advertised ("PLAIN", "LOGIN").
std::string_view mechanism_name(Mechanism m);

/// One step of an exchange.
struct Step {
  enum class Kind {
    Challenge,   ///< send `challenge` (base64; may be empty) and feed the next line to respond()
    Done,        ///< `credentials` are ready to check
    Failed,      ///< `failure` says why; the exchange is over
  };
  Kind kind = Kind::Failed;
  std::string challenge;
  Credentials credentials;
  Failure failure = Failure::None;
};

/// One SASL exchange, server side, for one AUTH command.
///
/// PLAIN: with an initial response, one step to Done or Failed; without,
/// an empty challenge, then the client's response. LOGIN: the challenge
/// "VXNlcm5hbWU6" ("Username:"), the user name, the challenge
/// "UGFzc3dvcmQ6" ("Password:"), the password; an initial response, when
/// given, is the user name. An initial response "=" stands for an empty one
/// (RFC 4954 4). A client line "*" cancels at any step.
class Exchange {
 public:
  explicit Exchange(Mechanism mechanism) : mechanism_(mechanism) {}

  /// The first step, given the AUTH command's initial response as sent
  /// (nullopt when the command had none). Call once.
  Step start(std::optional<std::string_view> initial_response);

  /// The next step for a client line (without CRLF) after a Challenge.
  /// After Done or Failed it returns Failed/Sequence.
  Step respond(std::string_view line);

  /// True once a step returned Done or Failed.
  bool finished() const { return state_ == State::Finished; }

 private:
  enum class State { Start, PlainResponse, LoginUser, LoginPassword, Finished };
  Step fail(Failure f);
  Step plain(std::string_view base64);

  Mechanism mechanism_;
  State state_ = State::Start;
  std::string user_;
};

/// Equality of two secrets in time that depends on their lengths only, not
/// on where they differ (no early exit).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace boxmail::proto::sasl

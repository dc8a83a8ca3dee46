// dot_stuffer.hpp - the dot-stuffing encoder for a message sent as a
// multi-line body: POP3 RETR and TOP (RFC 1939 3) and SMTP DATA, client
// side (RFC 5321 4.5.2) (pure).
//
// Turns a stored message into the octets sent on the wire, chunk by chunk,
// with state carried across chunks so the caller never holds the whole
// message:
//   - a line that begins with "." gets one more "." in front (RFC 1939 3,
//     RFC 5321 4.5.2);
//   - every line is sent with a CRLF end;
//   - finish() ends an unterminated last line with CRLF and appends the
//     terminator ".\r\n" (so the body ends in CRLF "." CRLF).
// What a line end is depends on the input (LineEnds):
//   - Lf (POP3: Maildir files, LF line ends): each LF is a line end and
//     becomes CRLF; every other octet is sent as stored (a bare CR stays a
//     bare CR, so the octets sent are the file size plus one per LF: the W=
//     of the Maildir file name);
//   - Crlf (SMTP client: a message as received, CRLF line ends): CRLF, a
//     bare LF and a bare CR are each one line end and each becomes CRLF.
//     RFC 5321 2.3.8: "CR and LF MUST only occur in this sequence" - a bare
//     CR or LF on the wire is what SMTP smuggling is made of (a receiver
//     that takes "\r.\r\n" or "\n.\n" as the end of data), so none is sent.
//     A message that is CRLF throughout goes out unchanged but for the dots.
// For TOP msg n (RFC 1939 7; Lf only) it passes the header section, the
// empty line that ends it, and then at most n lines of the body; done()
// tells when no more input is wanted. A line holding only a CR counts as
// empty there.
//
// Feeding the input in any split (down to one octet at a time) gives the same
// output as feeding it whole (unit tests check both).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace boxmail::proto {

/// How the input marks line ends (see the file comment).
enum class LineEnds {
  Lf,     ///< LF ends a line; CR is data (Maildir files, POP3)
  Crlf,   ///< CRLF, bare LF and bare CR each end a line (SMTP client)
};

class DotStuffer {
 public:
  /// LF input (POP3). `top_lines`: nullopt for RETR (the whole message); n for TOP.
  explicit DotStuffer(std::optional<std::uint64_t> top_lines = std::nullopt);
  /// Input with `ends` line ends, the whole message (no TOP limit).
  explicit DotStuffer(LineEnds ends);

  /// Appends the encoding of `in` to `out`. Returns the octets of `in` used:
  /// all of it, unless done() became true on the way (TOP's limit).
  std::size_t encode(std::string_view in, std::string& out);

  /// Appends CRLF when the last line had no line end, then ".\r\n".
  void finish(std::string& out);

  /// True when TOP has sent all it should (always false for RETR and SMTP).
  bool done() const { return done_; }

 private:
  void content(std::string_view seg, std::string& out);
  std::size_t encode_crlf(std::string_view in, std::string& out);

  LineEnds ends_ = LineEnds::Lf;
  std::optional<std::uint64_t> body_lines_left_;   // TOP only; counted once in the body
  bool top_ = false;
  std::uint64_t line_octets_ = 0;  // octets of the current line so far (line end excluded)
  bool first_is_cr_ = false;       // the current line's first octet is CR
  bool in_header_ = true;
  bool done_ = false;
  bool skip_lf_ = false;           // Crlf: the last octet seen was a CR line end; an LF next belongs to it
};

/// Octets a stored message takes on the wire (before byte-stuffing): its
/// size plus one CR per LF. Same arithmetic as W= in Maildir names.
constexpr std::uint64_t crlf_size(std::uint64_t stored_size, std::uint64_t lf_count) {
  return stored_size + lf_count;
}

}  // namespace boxmail::proto

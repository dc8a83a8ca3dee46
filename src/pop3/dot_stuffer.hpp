// dot_stuffer.hpp - the POP3 multi-line encoder for RETR and TOP (pure).
//
// Turns a stored message (Maildir: LF line ends) into the body of a POP3
// multi-line response, chunk by chunk, with state carried across chunks so
// the caller never holds the whole message:
//   - LF becomes CRLF; every other octet is sent as stored (a bare CR stays a
//     bare CR, so the octets sent are the file size plus one per LF: the W=
//     of the Maildir file name);
//   - a line that begins with "." gets one more "." in front (RFC 1939 3,
//     byte-stuffing);
//   - finish() ends an unterminated last line with CRLF and appends the
//     terminator ".\r\n".
// For TOP msg n (RFC 1939 7) it passes the header section, the empty line
// that ends it, and then at most n lines of the body; done() tells when no
// more input is wanted. A line holding only a CR counts as empty there.
//
// Feeding the input in any split (down to one octet at a time) gives the same
// output as feeding it whole (unit tests check both).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace boxmail::pop3 {

class DotStuffer {
 public:
  /// `top_lines`: nullopt for RETR (the whole message); n for TOP.
  explicit DotStuffer(std::optional<std::uint64_t> top_lines = std::nullopt);

  /// Appends the encoding of `in` to `out`. Returns the octets of `in` used:
  /// all of it, unless done() became true on the way (TOP's limit).
  std::size_t encode(std::string_view in, std::string& out);

  /// Appends CRLF when the last line had no line end, then ".\r\n".
  void finish(std::string& out);

  /// True when TOP has sent all it should (always false for RETR).
  bool done() const { return done_; }

 private:
  std::optional<std::uint64_t> body_lines_left_;   // TOP only; counted once in the body
  bool top_ = false;
  std::uint64_t line_octets_ = 0;  // octets of the current line so far (line end excluded)
  bool first_is_cr_ = false;       // the current line's first octet is CR
  bool in_header_ = true;
  bool done_ = false;
};

/// Octets a stored message takes on the wire (before byte-stuffing): its
/// size plus one CR per LF. Same arithmetic as W= in Maildir names.
constexpr std::uint64_t crlf_size(std::uint64_t stored_size, std::uint64_t lf_count) {
  return stored_size + lf_count;
}

}  // namespace boxmail::pop3

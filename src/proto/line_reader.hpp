// line_reader.hpp - command line framing with a length limit (pure; shared by
// the SMTP and POP3 sessions).
//
// Splits a byte stream into command lines. A line ends with LF; a CR right
// before the LF is removed (a bare LF is accepted as a command line end, as
// Postfix does; DATA content never goes through here). A line longer than
// `max_line` octets (counting its CRLF) is reported as TooLong as soon as the
// limit is passed, before the line is complete, and the rest of it up to the
// next LF is discarded (RFC 5321 4.5.3.1.4; OpenSMTPD/chasquid behaviour).
// Memory is bounded by max_line.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace boxmail::proto {

class LineReader {
 public:
  /// `max_line`: octets per line including CRLF (>= 3).
  explicit LineReader(std::size_t max_line) : max_line_(max_line) {}

  enum class Kind { Line, TooLong, NeedMore };
  struct Event {
    Kind kind = Kind::NeedMore;
    std::string_view line;   ///< for Line: without CRLF; valid until the next call
    std::size_t consumed = 0;  ///< octets of the input used
  };

  /// Takes the next event from `in` (consuming `consumed` octets of it).
  Event next(std::string_view in);

  /// Octets of an incomplete line held (0 when at a line boundary).
  std::size_t pending() const { return clear_next_ ? 0 : partial_.size(); }

  void set_max_line(std::size_t max_line) { max_line_ = max_line; }

 private:
  std::size_t max_line_;
  std::string partial_;
  bool discarding_ = false;
  bool clear_next_ = false;
};

}  // namespace boxmail::proto

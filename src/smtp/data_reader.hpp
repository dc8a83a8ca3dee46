// data_reader.hpp - the SMTP DATA reader: end-of-data detection, dot-unstuffing
// and line-end normalisation over a byte stream (pure).
//
// Feed it the bytes that follow the 354 reply, in chunks of any size; it
// appends the message content to an output string with LF line ends (the
// Maildir convention) and stops right after the end-of-data sequence.
//
// Rules (RFC 5321 4.1.1.4, 4.5.2; SMTP smuggling, CVE-2023-51764 class):
//  - Only CRLF "." CRLF ends the data, where the first CRLF may be the one
//    that ended the DATA command (an empty message). Nothing else does: after
//    a bare LF, a bare CR, or with a NUL in it, a lone "." is data. So no
//    end-of-data look-alike (\n.\n, \n.\r\n, \r.\r\n, \r\n.\r, .\0) can end the
//    message early and start a second one.
//  - CRLF is stored as LF. A bare LF is a line end (stored as LF, counted in
//    bare_lf). A bare CR is a data byte (stored as is, counted in bare_cr).
//  - Dot-unstuffing: a line that starts with "." and has other characters has
//    that first "." removed. A lone "." that does not end the data is kept.
//  - Limits: the size (counted as transmitted, with CRLF line ends, excluding
//    the terminator) and the longest line (octets, excluding its line end).
//    Once the message is certain to be refused (too big, line too long, or a
//    bare LF/CR when the options refuse them) no more output is produced, but
//    input is still read to the real end.
//  - Header tracking: counts "Received:" header fields (RFC 5321 6.3 loop
//    detection) in the header section (up to the first empty line).
//
// Trickling the input one byte at a time gives exactly the same output and
// summary as feeding it whole (unit tests check every case both ways).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace boxmail::smtp {

/// Limits and policy for one message.
struct DataLimits {
  std::uint64_t max_size = 0;        ///< octets as transmitted (CRLF line ends); 0 = no limit
  std::uint32_t max_line = 0;        ///< octets per line excluding its line end; 0 = no limit
  bool refuse_bare_lf = false;       ///< stop output at the first bare LF
  bool refuse_bare_cr = false;       ///< stop output at the first bare CR
};

/// What the reader saw, valid at any time, final once done().
struct DataSummary {
  std::uint64_t size = 0;            ///< octets as transmitted (each line end counted as CRLF)
  std::uint64_t stored = 0;          ///< octets appended to the output (LF line ends)
  std::uint64_t lines = 0;           ///< line ends appended to the output
  std::uint64_t longest_line = 0;    ///< octets, excluding the line end
  std::uint32_t received_headers = 0;  ///< "Received:" fields in the header section
  std::uint64_t bare_lf = 0;         ///< LFs not preceded by CR
  std::uint64_t bare_cr = 0;         ///< CRs not followed by LF
  bool too_big = false;              ///< size > max_size
  bool line_too_long = false;        ///< longest_line > max_line
};

class DataReader {
 public:
  explicit DataReader(DataLimits limits = {});

  /// Consumes bytes from `in` until the end-of-data sequence or the end of
  /// `in`; appends message content to `out`. Returns the number of octets of
  /// `in` consumed (all of them unless the end of data was reached inside).
  std::size_t feed(std::string_view in, std::string& out);

  /// True once CRLF.CRLF has been consumed.
  bool done() const { return state_ == State::Done; }

  /// True when the message can no longer be accepted (output has stopped).
  bool doomed() const;

  const DataSummary& summary() const { return summary_; }

 private:
  enum class State {
    LineStart,     // at the start of a line that followed CRLF (or the DATA command)
    SoftStart,     // at the start of a line that followed a bare LF
    Mid,           // inside a line
    Cr,            // saw CR inside a line (or at a line start)
    Dot,           // saw "." at a LineStart
    DotCr,         // saw ".\r" at a LineStart
    SoftDot,       // saw "." at a SoftStart
    SoftDotCr,     // saw ".\r" at a SoftStart
    Done,
  };

  void emit(char c, std::string& out);
  void emit_line_end(bool bare, std::string& out);
  void emit_bare_cr(std::string& out);
  void start_line();

  DataLimits limits_;
  DataSummary summary_;
  State state_ = State::LineStart;
  std::uint64_t line_len_ = 0;
  bool in_header_ = true;
  int header_match_ = 0;   // chars of "received:" matched at this line's start; -1 = no match
};

}  // namespace boxmail::smtp

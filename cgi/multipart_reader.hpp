// multipart_reader.hpp - multipart/form-data read as it streams in (pure):
// RFC 7578 over RFC 2046 5.1.1. The one multipart parser of the panel:
// parse_multipart (form.hpp) is this reader with a sink that keeps the
// fields; the firmware upload gives it a sink that writes the file part to
// disk, so a body of tens of megabytes never sits in memory.
//
// The body: an optional preamble, then "--boundary"; each part is CRLF,
// a header block ending in CRLF CRLF (a Content-Disposition: form-data
// header naming the field and, for a file, its filename), the content,
// then CRLF "--boundary"; "--" after a delimiter closes the body (the
// epilogue is ignored); blanks before the CRLF after a delimiter are
// transport padding. Limits (Limits in form.hpp): preamble and header
// block at most max_headers octets, field names max_name, non-file values
// max_value, at most max_fields parts. The first violation ends the read
// with an error and nothing more reaches the sink.
#pragma once

#include "cgi/form.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boxmail::cgi {

/// Receives the parts of a multipart body in order. Each call returns ""
/// to go on, or an error that stops the reader (feed() returns it).
class MultipartSink {
 public:
  virtual ~MultipartSink() = default;
  /// A part begins: its field name (1..max_name octets) and, for a file
  /// part, its file name as sent.
  virtual std::string begin_part(const std::string& name, const std::optional<std::string>& filename) = 0;
  /// The next octets of the part's content, in any chunking (a non-file
  /// value is at most max_value octets in all).
  virtual std::string part_data(std::string_view octets) = 0;
  /// The part's content is complete.
  virtual std::string end_part() = 0;
};

/// The sink that keeps every part as a Field, in order (what
/// parse_multipart returns).
class FieldCollector final : public MultipartSink {
 public:
  std::vector<Field> fields;
  std::string begin_part(const std::string& name, const std::optional<std::string>& filename) override;
  std::string part_data(std::string_view octets) override;
  std::string end_part() override;
};

/// Reads one multipart/form-data body fed in any chunking.
class MultipartReader {
 public:
  /// `boundary` as multipart_boundary() returned it (1..70 characters);
  /// `sink` must outlive the reader.
  MultipartReader(std::string_view boundary, const Limits& limits, MultipartSink& sink);

  /// Feeds the next octets. "" while all is well; else the first error
  /// (malformed body, a limit, or the sink's), returned again by every
  /// later call. Octets after the closing delimiter are ignored.
  std::string feed(std::string_view octets);

  /// At the end of the body: "" when it was closed ("--boundary--");
  /// else the error.
  std::string finish();

  /// True once the closing delimiter has been read.
  bool closed() const { return state_ == State::Done; }

 private:
  enum class State { Preamble, AfterDelimiter, Headers, Content, Done };
  std::string dash_;     // "--" boundary
  std::string delim_;    // CRLF "--" boundary
  Limits limits_;
  MultipartSink& sink_;
  State state_ = State::Preamble;
  std::string buf_;      // octets not yet taken
  std::string error_;
  std::size_t parts_ = 0;
  std::size_t value_size_ = 0;   // octets of the current part's content so far
  bool file_ = false;            // the current part is a file part
  std::string field_;            // the current part's field name (for errors)

  bool step();   // one state transition on buf_; false when it needs more octets (or failed)
  bool fail(std::string message);
  bool start_part(std::string_view headers);
};

}  // namespace boxmail::cgi

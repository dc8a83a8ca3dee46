// multipart_reader.cpp - see multipart_reader.hpp.
#include "cgi/multipart_reader.hpp"

#include "text/ascii.hpp"

namespace boxmail::cgi {

std::string FieldCollector::begin_part(const std::string& name, const std::optional<std::string>& filename) {
  fields.push_back(Field{name, {}, filename});
  return {};
}

std::string FieldCollector::part_data(std::string_view octets) {
  fields.back().value.append(octets);
  return {};
}

std::string FieldCollector::end_part() { return {}; }

MultipartReader::MultipartReader(std::string_view boundary, const Limits& limits, MultipartSink& sink)
    : dash_("--" + std::string(boundary)), delim_("\r\n" + dash_), limits_(limits), sink_(sink) {
  if (boundary.empty()) error_ = "multipart boundary missing";
}

bool MultipartReader::fail(std::string message) {
  if (error_.empty()) error_ = std::move(message);
  buf_.clear();
  return false;
}

std::string MultipartReader::feed(std::string_view octets) {
  if (!error_.empty() || state_ == State::Done) return error_;
  buf_.append(octets);
  while (error_.empty() && state_ != State::Done && step()) {
  }
  if (state_ == State::Done) buf_.clear();   // the epilogue
  return error_;
}

std::string MultipartReader::finish() {
  if (!error_.empty() || state_ == State::Done) return error_;
  switch (state_) {
    case State::Preamble: return fail("multipart body without a boundary"), error_;
    case State::AfterDelimiter: return fail("malformed multipart delimiter"), error_;
    case State::Headers: return fail("malformed or too long part header"), error_;
    default: return fail("multipart body not closed"), error_;
  }
}

bool MultipartReader::start_part(std::string_view headers) {
  std::optional<std::string> name, filename;
  bool disposition = false;
  std::size_t h = 0;
  while (h <= headers.size()) {
    const auto eol = headers.find("\r\n", h);
    const std::string_view line = headers.substr(h, eol == std::string_view::npos ? eol : eol - h);
    h = eol == std::string_view::npos ? headers.size() + 1 : eol + 2;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return fail("malformed part header");
    if (!text::iequals(trim_blanks(line.substr(0, colon)), "content-disposition")) continue;
    const std::string_view v = trim_blanks(line.substr(colon + 1));
    if (!text::iequals(trim_blanks(v.substr(0, v.find(';'))), "form-data")) return fail("part is not form-data");
    disposition = true;
    name = header_parameter(v, "name");
    filename = header_parameter(v, "filename");
  }
  if (!disposition || !name || name->empty()) return fail("part without a field name");
  if (name->size() > limits_.max_name) return fail("form field name too long");
  if (parts_ == limits_.max_fields) return fail("too many form fields");
  ++parts_;
  file_ = filename.has_value();
  field_ = *name;
  value_size_ = 0;
  if (std::string e = sink_.begin_part(*name, filename); !e.empty()) return fail(std::move(e));
  return true;
}

bool MultipartReader::step() {
  switch (state_) {
    case State::Preamble: {
      // The body starts with the first delimiter (a preamble is allowed).
      std::size_t after;
      if (buf_.starts_with(dash_)) {
        after = dash_.size();
      } else if (const auto first = buf_.find(delim_); first != std::string::npos) {
        if (first > limits_.max_headers) return fail("multipart body without a boundary");   // as if unseen
        after = first + delim_.size();
      } else {
        if (buf_.size() > limits_.max_headers + delim_.size()) return fail("multipart body without a boundary");
        return false;
      }
      buf_.erase(0, after);
      state_ = State::AfterDelimiter;
      return true;
    }
    case State::AfterDelimiter: {
      // "--" closes; else transport padding, then CRLF opens a part.
      if (buf_.size() < 2) return false;
      if (buf_.starts_with("--")) {
        state_ = State::Done;
        return false;
      }
      std::size_t i = 0;
      while (i < buf_.size() && (buf_[i] == ' ' || buf_[i] == '\t')) ++i;
      if (i > limits_.max_headers) return fail("malformed multipart delimiter");
      if (buf_.size() < i + 2) return false;
      if (buf_.compare(i, 2, "\r\n") != 0) return fail("malformed multipart delimiter");
      buf_.erase(0, i + 2);
      state_ = State::Headers;
      return true;
    }
    case State::Headers: {
      const auto end = buf_.find("\r\n\r\n");
      if (end == std::string::npos) {
        // Not yet: fail once the block can no longer fit its limit.
        if (buf_.size() > limits_.max_headers + 3) return fail("malformed or too long part header");
        return false;
      }
      if (end > limits_.max_headers) return fail("malformed or too long part header");
      const std::string headers = buf_.substr(0, end);
      buf_.erase(0, end + 4);
      if (!start_part(headers)) return false;
      state_ = State::Content;
      return true;
    }
    case State::Content: {
      const auto at = buf_.find(delim_);
      // Without the delimiter, all but its possible beginning is content.
      const std::size_t take = at != std::string::npos ? at
                               : buf_.size() >= delim_.size() ? buf_.size() - (delim_.size() - 1)
                                                              : 0;
      if (take > 0) {
        value_size_ += take;
        if (!file_ && value_size_ > limits_.max_value) return fail("form field '" + field_ + "' too long");
        if (std::string e = sink_.part_data(std::string_view(buf_).substr(0, take)); !e.empty()) {
          return fail(std::move(e));
        }
      }
      if (at == std::string::npos) {
        buf_.erase(0, take);
        return false;
      }
      buf_.erase(0, at + delim_.size());
      if (std::string e = sink_.end_part(); !e.empty()) return fail(std::move(e));
      state_ = State::AfterDelimiter;
      return true;
    }
    case State::Done: return false;
  }
  return false;
}

}  // namespace boxmail::cgi

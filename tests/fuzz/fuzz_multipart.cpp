// fuzz_multipart.cpp - the panel's multipart/form-data parser (cgi/form.hpp;
// the restore upload), which runs before the session's CSRF check: the
// input's first line is the Content-Type, the rest the body (parse_body, as
// the CGI calls it). Never a crash; a refused body has no fields; a taken
// one keeps the limits (fields, name length, non-file value length, header
// block), no value holds the delimiter, and the fields written back as a
// multipart body with the same boundary read again as the same fields
// (names, values, file names; RFC 7578, RFC 2046 5.1.1). The streaming
// MultipartReader fed the body in varied chunks ends the same way.
#include "cgi/form.hpp"
#include "cgi/multipart_reader.hpp"
#include "fuzz.hpp"

#include <optional>
#include <string>
#include <vector>

namespace {

using boxmail::cgi::Form;
using boxmail::cgi::Limits;

/// A quoted-string for a Content-Disposition parameter. CR and LF are
/// escaped too: a name may hold "\r\n" written as CR '\\' LF.
std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\' || c == '\r' || c == '\n') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto nl = in.find('\n');
  const std::string_view type = in.substr(0, nl);
  const std::string_view body = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  Limits limits;
  limits.max_fields = 4;
  limits.max_name = 16;
  limits.max_value = 64;
  limits.max_headers = 128;
  const Form f = boxmail::cgi::parse_body(type, body, limits);
  // The streaming reader, fed in varied chunks, reads what the whole body
  // gives: the same error, or the same fields.
  if (const auto b = boxmail::cgi::multipart_boundary(type); b && body.size() <= limits.max_upload) {
    boxmail::cgi::FieldCollector keep;
    boxmail::cgi::MultipartReader reader(*b, limits, keep);
    std::string error;
    std::size_t step = 1 + body.size() % 13;
    for (std::size_t i = 0; i < body.size() && error.empty(); i += step, step = 1 + (step * 7 + 3) % 29) {
      error = reader.feed(body.substr(i, step));
    }
    if (error.empty()) error = reader.finish();
    FUZZ_CHECK(error == f.error);
    if (error.empty()) {
      FUZZ_CHECK(keep.fields.size() == f.fields.size());
      for (std::size_t i = 0; i < f.fields.size(); ++i) {
        FUZZ_CHECK(keep.fields[i].name == f.fields[i].name && keep.fields[i].value == f.fields[i].value &&
                   keep.fields[i].filename == f.fields[i].filename);
      }
    }
  }
  if (!f.error.empty()) {
    FUZZ_CHECK(f.fields.empty());
    return 0;
  }
  const auto boundary = boxmail::cgi::multipart_boundary(type);
  if (!boundary) return 0;   // the urlencoded side has its own target
  FUZZ_CHECK(!boundary->empty() && boundary->size() <= 70);
  FUZZ_CHECK(body.size() <= limits.max_upload);
  FUZZ_CHECK(f.fields.size() <= limits.max_fields);
  const std::string delim = "\r\n--" + *boundary;
  std::string again = "--" + *boundary;
  for (const auto& field : f.fields) {
    FUZZ_CHECK(!field.name.empty() && field.name.size() <= limits.max_name);
    FUZZ_CHECK(field.filename || field.value.size() <= limits.max_value);
    FUZZ_CHECK(field.value.find(delim) == std::string::npos);
    again += "\r\nContent-Disposition: form-data; name=" + quoted(field.name);
    if (field.filename) again += "; filename=" + quoted(*field.filename);
    again += "\r\n\r\n" + field.value + delim;
  }
  again += "--\r\n";
  Limits wide;
  wide.max_upload = again.size();
  wide.max_headers = again.size();
  wide.max_fields = limits.max_fields;
  const Form back = boxmail::cgi::parse_multipart(again, *boundary, wide);
  FUZZ_CHECK(back.error.empty());
  FUZZ_CHECK(back.fields.size() == f.fields.size());
  for (std::size_t i = 0; i < f.fields.size(); ++i) {
    FUZZ_CHECK(back.fields[i].name == f.fields[i].name);
    FUZZ_CHECK(back.fields[i].value == f.fields[i].value);
    FUZZ_CHECK(back.fields[i].filename == f.fields[i].filename);
  }
  return 0;
}

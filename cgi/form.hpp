// form.hpp - HTTP request bodies and cookies for the panel's CGI (pure).
//
// parse_urlencoded: application/x-www-form-urlencoded (WHATWG URL
//   "application/x-www-form-urlencoded parsing": '&'-separated name=value,
//   '+' is a blank, %XX octets). Strict: a '%' not followed by two hex
//   digits is an error (the whole body is refused), as is a NUL octet.
// parse_multipart: multipart/form-data (RFC 7578 over RFC 2046 5.1.1):
//   parts separated by CRLF--boundary, each with a Content-Disposition
//   form-data header naming the field and, for a file, its filename.
// parse_cookies: the Cookie request header (RFC 6265 5.4): "a=b; c=d".
//
// Every parser has limits (Limits) and reports the first violation in
// `error` with no fields; no parser throws on bad input. Field names and
// values are octets as sent (the panel only accepts ASCII where it
// matters; the validators refuse the rest).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boxmail::cgi {

struct Limits {
  std::size_t max_body = 64 * 1024;        ///< octets of a urlencoded body
  std::size_t max_upload = 1024 * 1024;    ///< octets of a multipart body (restore archive)
  std::size_t max_fields = 64;             ///< fields (and files) in one body
  std::size_t max_name = 64;               ///< octets of a field name
  std::size_t max_value = 16 * 1024;       ///< octets of a non-file field value
  std::size_t max_headers = 2048;          ///< octets of one part's header block
};

struct Field {
  std::string name;
  std::string value;
  std::optional<std::string> filename;   ///< set for a multipart file part
};

/// A parsed body (or query string).
struct Form {
  std::vector<Field> fields;
  std::string error;   ///< non-empty: the body was refused, `fields` is empty

  /// The first value of `name`, or nullptr.
  const std::string* get(std::string_view name) const;
  /// The first value of `name`, or "".
  std::string value(std::string_view name) const;
  bool has(std::string_view name) const { return get(name) != nullptr; }
  /// The first field of `name` that is a file part, or nullptr.
  const Field* file(std::string_view name) const;
};

/// %XX and (when `plus_is_blank`) '+' decoding; nullopt on a bad escape.
std::optional<std::string> percent_decode(std::string_view s, bool plus_is_blank);

/// %XX encoding of every octet outside [A-Za-z0-9._~-] (for URLs the panel
/// builds, e.g. ?name=...).
std::string percent_encode(std::string_view s);

Form parse_urlencoded(std::string_view body, const Limits& limits = {});

/// The boundary parameter of a multipart/form-data Content-Type (quoted or
/// not, 1..70 characters, RFC 2046 5.1.1); nullopt when absent or bad.
std::optional<std::string> multipart_boundary(std::string_view content_type);

/// A whole multipart/form-data body (MultipartReader with every part kept
/// as a Field); refused over limits.max_upload.
Form parse_multipart(std::string_view body, std::string_view boundary, const Limits& limits = {});

/// `s` without leading and trailing blanks (SP, HTAB).
std::string_view trim_blanks(std::string_view s);

/// A parameter of a header value: `; name=value` or `; name="value"`
/// (quoted-string with backslash escapes; RFC 7578 4.2, RFC 2045 5.1),
/// the parameter name matched without regard to case. nullopt when absent
/// or malformed.
std::optional<std::string> header_parameter(std::string_view value, std::string_view name);

/// Parses a Content-Type and body as the request gave them: urlencoded or
/// multipart/form-data; anything else is an error.
Form parse_body(std::string_view content_type, std::string_view body, const Limits& limits = {});

/// name -> value pairs of a Cookie header, in order; malformed pairs
/// (no '=', empty name) are skipped. At most 32 pairs, 4096 octets.
std::vector<std::pair<std::string, std::string>> parse_cookies(std::string_view header);

/// The value of cookie `name`, or nullopt.
std::optional<std::string> cookie(std::string_view header, std::string_view name);

}  // namespace boxmail::cgi

// fuzz_form.cpp - the panel's urlencoded body parser (cgi/form.hpp), which
// runs before login: any octets never crash it, a refused body has no
// fields, a taken one keeps every limit (fields, name and value lengths,
// no NUL), and the fields it read, written back with percent_encode, read
// again as the same fields. The first octet picks small limits, so the
// limits themselves are fuzzed; whatever small limits take, the defaults
// take too, with the same fields.
#include "cgi/form.hpp"
#include "fuzz.hpp"

#include <string>

namespace {

using boxmail::cgi::Form;
using boxmail::cgi::Limits;

void check_limits(std::string_view body, const Form& f, const Limits& l) {
  if (!f.error.empty()) {
    FUZZ_CHECK(f.fields.empty());
    return;
  }
  FUZZ_CHECK(body.size() <= l.max_body);
  FUZZ_CHECK(f.fields.size() <= l.max_fields);
  for (const auto& field : f.fields) {
    FUZZ_CHECK(!field.name.empty() && field.name.size() <= l.max_name);
    FUZZ_CHECK(field.value.size() <= l.max_value);
    FUZZ_CHECK(field.name.find('\0') == std::string::npos && field.value.find('\0') == std::string::npos);
    FUZZ_CHECK(!field.filename);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  Limits small;
  if (!in.empty()) {
    const auto b = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    small.max_fields = 1 + (b & 7);
    small.max_name = 1 + ((b >> 3) & 15);
    small.max_value = (b >> 7) ? 8 : 64;
    small.max_body = 256;
  }
  const Form f = boxmail::cgi::parse_urlencoded(in, small);
  check_limits(in, f, small);
  const Form whole = boxmail::cgi::parse_urlencoded(in);
  check_limits(in, whole, Limits{});
  if (!f.error.empty()) return 0;

  FUZZ_CHECK(whole.error.empty());
  FUZZ_CHECK(whole.fields.size() == f.fields.size());
  std::string again;
  for (std::size_t i = 0; i < f.fields.size(); ++i) {
    FUZZ_CHECK(whole.fields[i].name == f.fields[i].name && whole.fields[i].value == f.fields[i].value);
    if (i) again += '&';
    again += boxmail::cgi::percent_encode(f.fields[i].name) + "=" + boxmail::cgi::percent_encode(f.fields[i].value);
  }
  const Form back = boxmail::cgi::parse_urlencoded(again, Limits{.max_body = again.size()});
  FUZZ_CHECK(back.error.empty());
  FUZZ_CHECK(back.fields.size() == f.fields.size());
  for (std::size_t i = 0; i < f.fields.size(); ++i) {
    FUZZ_CHECK(back.fields[i].name == f.fields[i].name && back.fields[i].value == f.fields[i].value);
  }
  return 0;
}

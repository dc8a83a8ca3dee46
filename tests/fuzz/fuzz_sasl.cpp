// fuzz_sasl.cpp - SASL decoding (proto/sasl.hpp) never crashes; base64 that
// decodes re-encodes to the same text (one encoding per octet string);
// credentials that come out honour the promised limits; an exchange fed
// line by line always ends within its steps.
#include "proto/sasl.hpp"
#include "fuzz.hpp"

#include <string>

using namespace boxmail::proto::sasl;

namespace {
void check_credentials(const Credentials& c) {
  FUZZ_CHECK(!c.authcid.empty() && c.authcid.size() <= kMaxIdentityLength);
  FUZZ_CHECK(!c.password.empty() && c.password.size() <= kMaxPasswordLength);
  FUZZ_CHECK(c.authcid.find('\0') == std::string::npos && c.password.find('\0') == std::string::npos);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  const Decoded d = decode_base64(in);
  if (d.failure == Failure::None) FUZZ_CHECK(encode_base64(d.data) == in);
  const PlainResult p = parse_plain(in);
  if (p.failure == Failure::None) check_credentials(p.credentials);
  FUZZ_CHECK(constant_time_equal(in, in));

  // The input as CRLF-separated client lines; the first byte picks the
  // mechanism and whether the first line is an initial response.
  for (Mechanism m : {Mechanism::Plain, Mechanism::Login}) {
    std::string_view rest = in;
    const bool initial = !rest.empty() && (static_cast<unsigned char>(rest.front()) & 1);
    auto next_line = [&rest]() {
      const auto end = rest.find("\r\n");
      const std::string_view line = rest.substr(0, end);
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 2);
      return line;
    };
    Exchange x(m);
    Step s = initial ? x.start(next_line()) : x.start(std::nullopt);
    int steps = 1;
    while (s.kind == Step::Kind::Challenge && !rest.empty()) {
      s = x.respond(next_line());
      FUZZ_CHECK(++steps <= 3);
    }
    if (s.kind == Step::Kind::Done) check_credentials(s.credentials);
    if (s.kind != Step::Kind::Challenge) FUZZ_CHECK(x.finished());
  }
  return 0;
}

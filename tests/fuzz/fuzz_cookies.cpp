// fuzz_cookies.cpp - the Cookie header parser (cgi/form.hpp; RFC 6265 5.4),
// read on every request before the session is known: never a crash, at most
// 32 pairs from at most 4096 octets, names non-empty without ';', '=' or
// surrounding blanks, values without ';'; cookie(header, name) is the first
// pair of that name; and the pairs written back ("name=\"value\"; ...")
// read again as the same pairs.
#include "cgi/form.hpp"
#include "fuzz.hpp"

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view header(reinterpret_cast<const char*>(data), size);
  const auto pairs = boxmail::cgi::parse_cookies(header);
  FUZZ_CHECK(pairs.size() <= 32);
  std::size_t octets = 0;
  std::string again;
  for (const auto& [name, value] : pairs) {
    FUZZ_CHECK(!name.empty());
    FUZZ_CHECK(name.find_first_of(";=") == std::string::npos);
    FUZZ_CHECK(name.front() != ' ' && name.front() != '\t' && name.back() != ' ' && name.back() != '\t');
    FUZZ_CHECK(value.find(';') == std::string::npos);
    octets += name.size() + 1 + value.size();
    // The first pair of a name is the one cookie() returns.
    const auto got = boxmail::cgi::cookie(header, name);
    FUZZ_CHECK(got.has_value());
    for (const auto& [n, v] : pairs) {
      if (n == name) {
        FUZZ_CHECK(*got == v);
        break;
      }
    }
    if (!again.empty()) again += "; ";
    again += name + "=\"" + value + "\"";
  }
  FUZZ_CHECK(octets <= 4096);
  if (again.size() > 4096) return 0;
  const auto back = boxmail::cgi::parse_cookies(again);
  FUZZ_CHECK(back == pairs);
  return 0;
}

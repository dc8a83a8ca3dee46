// fuzz_data_reader.cpp - the DATA reader fed whole and in chunks must agree
// on everything: output, octets consumed, end of data and summary.
#include "fuzz.hpp"
#include "smtp/data_reader.hpp"

#include <string>

using boxmail::smtp::DataLimits;
using boxmail::smtp::DataReader;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::size_t step = fuzz_step(in);
  DataLimits lim;
  lim.max_size = 4096;
  lim.max_line = 1000;
  DataReader whole(lim), parts(lim);
  std::string a, b;
  const std::size_t used_a = whole.feed(in, a);
  std::size_t used_b = 0;
  while (used_b < in.size() && !parts.done()) used_b += parts.feed(in.substr(used_b, step), b);
  FUZZ_CHECK(a == b);
  FUZZ_CHECK(used_a == used_b);
  FUZZ_CHECK(whole.done() == parts.done());
  const auto& s = whole.summary();
  const auto& t = parts.summary();
  FUZZ_CHECK(s.size == t.size && s.stored == t.stored && s.lines == t.lines);
  FUZZ_CHECK(s.bare_lf == t.bare_lf && s.bare_cr == t.bare_cr && s.received_headers == t.received_headers);
  FUZZ_CHECK(s.longest_line == t.longest_line && s.too_big == t.too_big && s.line_too_long == t.line_too_long);
  FUZZ_CHECK(s.stored == a.size());
  FUZZ_CHECK(a.size() <= used_a + 1);   // output never grows beyond its input
  // The end of data is only ever a real CRLF "." CRLF.
  if (whole.done()) {
    const std::string_view consumed = in.substr(0, used_a);
    FUZZ_CHECK(consumed.size() >= 3 && consumed.substr(consumed.size() - 3) == ".\r\n");
    FUZZ_CHECK(consumed.size() == 3 || consumed.substr(consumed.size() - 5, 2) == "\r\n");
  }
  return 0;
}

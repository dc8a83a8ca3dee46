// fuzz_address.cpp - RFC 5321 path parsing never crashes, `end` is inside the
// input, and a parsed mailbox printed and parsed again is the same mailbox.
#include "address/mailbox.hpp"
#include "fuzz.hpp"

using namespace boxmail::address;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  for (bool reverse : {true, false}) {
    const PathResult r = reverse ? parse_reverse_path(in) : parse_forward_path(in);
    if (!r.error.empty()) continue;
    FUZZ_CHECK(r.end <= in.size() && r.end > 0 && in[r.end - 1] == '>');
    if (r.null_path) continue;
    const std::string printed = "<" + r.mailbox.to_string() + ">";
    const PathResult again = parse_forward_path(printed);
    FUZZ_CHECK(again.error.empty());
    FUZZ_CHECK(again.mailbox.local_part == r.mailbox.local_part);
    FUZZ_CHECK(again.mailbox.domain == r.mailbox.domain);
  }
  return 0;
}

// fuzz_control_replies.cpp - the control socket's replies as the web panel
// reads them (control/control_protocol.hpp parse_reply, then
// control/control_replies.hpp decode_status, decode_stats, decode_log,
// decode_reload): never a crash; a decoded value encodes to exactly one
// body line per item (a hostile name cannot add lines), and what it encodes
// to decodes again and encodes to the same wire text (a fixed point).
#include "control/control_replies.hpp"
#include "fuzz.hpp"

#include <string>

namespace {

using namespace boxmail::control;

/// wire -> decode -> encode -> wire -> decode -> encode: the same text twice.
template <class T, class Decode>
void fixed_point(const T& value, Decode decode) {
  const std::string once = format_reply(encode(value));
  const ReplyParse p = parse_reply(once);
  FUZZ_CHECK(p.complete && p.error.empty());
  const auto again = decode(p.reply);
  FUZZ_CHECK(again.value.has_value());
  FUZZ_CHECK(format_reply(encode(*again.value)) == once);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view wire(reinterpret_cast<const char*>(data), size);
  const ReplyParse p = parse_reply(wire);
  if (!p.complete || !p.error.empty()) return 0;
  if (const auto s = decode_status(p.reply)) {
    FUZZ_CHECK(s.error.empty());
    FUZZ_CHECK(encode(*s).lines.size() == 2 + s->services.size() + s->mailboxes.size() + (s->store ? 1 : 0));
    fixed_point(*s, decode_status);
  } else {
    FUZZ_CHECK(!s.error.empty());
  }
  if (const auto s = decode_stats(p.reply)) {
    FUZZ_CHECK(encode(*s).lines.size() == 1 + s->hours.size());
    fixed_point(*s, decode_stats);
  }
  if (const auto s = decode_log(p.reply)) {
    FUZZ_CHECK(encode(*s).lines.size() == s->lines.size());
  }
  const ReloadReply r = decode_reload(p.reply);
  FUZZ_CHECK(r.taken == p.reply.ok);
  return 0;
}

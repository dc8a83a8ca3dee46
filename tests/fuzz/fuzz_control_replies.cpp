// fuzz_control_replies.cpp - the control socket's replies as the web panel
// reads them (control/control_protocol.hpp parse_reply, then
// control/control_replies.hpp decode_status, decode_stats, decode_log,
// decode_reload, decode_tls, decode_tls_change, decode_relay_test, decode_bans): never a crash; a decoded
// value encodes to exactly one body line per item (a hostile name cannot
// add lines), and what it encodes to decodes again and encodes to the same
// wire text (a fixed point). And the requests boxmaild reads: the input's
// first line through parse_request, the rest as a tls-install payload
// (sizes within their limits, split exactly as announced).
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

/// The first line as a request, the rest as its payload.
void request(std::string_view in) {
  const auto nl = in.find('\n');
  const std::string_view line = in.substr(0, nl == std::string_view::npos ? in.size() : nl + 1);
  const std::string_view rest = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  const Request r = parse_request(line);
  if (!r.error.empty()) {
    FUZZ_CHECK(!split_tls_upload(r, rest));
    return;
  }
  if (r.verb == Verb::RelayTest) {   // what reaches the handler: one line, no control character
    for (const std::string* s : {&r.address, &r.sender}) {
      for (char c : *s) FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
    }
    FUZZ_CHECK(!r.address.empty());
  }
  if (r.verb != Verb::TlsInstall) {
    FUZZ_CHECK(r.payload() == 0);
    return;
  }
  FUZZ_CHECK(r.chain_octets >= 1 && r.key_octets >= 1 && r.payload() <= kMaxTlsUpload);
  FUZZ_CHECK(parse_request(tls_install_line(r.chain_octets, r.key_octets)).payload() == r.payload());
  const auto u = split_tls_upload(r, rest);
  FUZZ_CHECK(u.has_value() == (rest.size() == r.payload()));
  if (u) FUZZ_CHECK(u->chain.size() == r.chain_octets && u->key.size() == r.key_octets);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view wire(reinterpret_cast<const char*>(data), size);
  request(wire);
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
    FUZZ_CHECK(encode(*s).lines.size() == 2 + s->hours.size());   // today, blocked, the hours
    fixed_point(*s, decode_stats);
  }
  if (const auto s = decode_log(p.reply)) {
    FUZZ_CHECK(encode(*s).lines.size() == s->lines.size());
  }
  const ReloadReply r = decode_reload(p.reply);
  FUZZ_CHECK(r.taken == p.reply.ok);
  if (const auto t = decode_tls(p.reply)) {
    const std::size_t names = t->certificate ? t->certificate->dns_names.size() : 0;
    FUZZ_CHECK(encode(*t).lines.size() == 1 + (t->certificate ? 4 + names : 0) + (t->refused.empty() ? 0 : 1));
    FUZZ_CHECK(t->certificate.has_value() == (t->chain_length > 0));
    fixed_point(*t, decode_tls);
  } else {
    FUZZ_CHECK(!t.error.empty());
  }
  if (const auto c = decode_tls_change(p.reply)) {
    FUZZ_CHECK(c->done == p.reply.ok);
    FUZZ_CHECK(c->part.empty() || c->part == "chain" || c->part == "key");
    if (!c->done) FUZZ_CHECK(encode(*c).lines.size() <= 1);   // a refusal: one problem line at most
    fixed_point(*c, decode_tls_change);
  }
  if (const auto b = decode_bans(p.reply)) {   // one line per ban, each three words, an address first
    const Reply e = encode(*b);
    FUZZ_CHECK(e.lines.size() == b->bans.size());
    for (const BanEntry& x : b->bans) FUZZ_CHECK(!x.address.empty() && !x.reason.empty());
    fixed_point(*b, decode_bans);
  } else {
    FUZZ_CHECK(!b.error.empty());
  }
  if (const auto t = decode_relay_test(p.reply)) {
    FUZZ_CHECK((t->result == RelayTestReply::Result::Sent) == p.reply.ok);
    FUZZ_CHECK(encode(*t).lines.size() == 1 + (t->relay.empty() ? 0 : 1) + t->transcript.size());
    fixed_point(*t, decode_relay_test);
  }
  return 0;
}

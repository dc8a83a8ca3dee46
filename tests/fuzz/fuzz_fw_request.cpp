// fuzz_fw_request.cpp - the firewall helper's request and reply parsers
// (firewall/request.hpp) never crash; an accepted request is in its one
// canonical form (formatting it gives the datagram back) and honours the
// promised limits, and the nft script written from it holds no line that
// leaves the table `inet boxmail`; a reply that parses formats back to one
// that parses the same (its ban lines cut at kMaxListed); nft listing text never crashes the reader.
#include "firewall/request.hpp"
#include "firewall/ruleset.hpp"
#include "fuzz.hpp"

#include <algorithm>
#include <string>

using namespace boxmail::firewall;

namespace {

/// Every line of an nft script names the table `inet boxmail` right after its command words.
void check_script(const std::string& s) {
  std::size_t pos = 0;
  while (pos < s.size()) {
    const auto nl = s.find('\n', pos);
    FUZZ_CHECK(nl != std::string::npos);
    const std::string line = s.substr(pos, nl - pos);
    FUZZ_CHECK(line.find(" inet boxmail") != std::string::npos);
    FUZZ_CHECK(line.find(';') == std::string::npos || line.find(" set inet boxmail ") != std::string::npos ||
               line.find(" chain inet boxmail input {") != std::string::npos);
    pos = nl + 1;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const RequestParse p = parse_request(in);
  FUZZ_CHECK(p.request.has_value() != !p.error.empty());
  if (p.request) {
    const Request& r = *p.request;
    FUZZ_CHECK(format_request(r) == in);
    FUZZ_CHECK(in.size() <= kMaxRequest);
    switch (r.verb) {
      case Verb::Ban:
        FUZZ_CHECK(r.seconds >= kMinBanSeconds && r.seconds <= kMaxBanSeconds);
        FUZZ_CHECK(reason_error(r.reason).empty());
        check_script(ban_script(r));
        break;
      case Verb::Unban:
        check_script(unban_script(r));
        break;
      case Verb::Apply:
        FUZZ_CHECK(!r.ports.empty() && r.ports.size() <= kMaxPorts && r.allow.size() <= kMaxAllow);
        for (const auto& n : r.allow) FUZZ_CHECK(n.prefix > 0);
        FUZZ_CHECK(r.feed_ports.size() <= kMaxPorts && r.feed.size() <= kMaxFeed);
        FUZZ_CHECK(!r.feed_ports.empty() || r.feed.empty());
        for (const auto& n : r.feed) FUZZ_CHECK(n.prefix > 0);
        check_script(apply_script(r));
        break;
      case Verb::List:
      case Verb::Stop:
        break;
    }
  } else {
    for (char c : p.error) FUZZ_CHECK(c >= 0x20 && c < 0x7f);
  }
  const ReplyParse rp = parse_reply(in);
  if (rp.reply) {
    const ReplyParse again = parse_reply(format_reply(*rp.reply));
    FUZZ_CHECK(again.reply && again.reply->ok == rp.reply->ok);
    const auto& b = again.reply->bans;   // a long list is cut at kMaxListed
    FUZZ_CHECK(b.size() <= kMaxListed && std::equal(b.begin(), b.end(), rp.reply->bans.begin()));
  }
  for (const ListedBan& b : parse_listing(in)) FUZZ_CHECK(parse_canonical_address(b.address).has_value());
  (void)parse_nft_duration(in);
  return 0;
}

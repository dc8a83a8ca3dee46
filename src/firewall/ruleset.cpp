// ruleset.cpp - see ruleset.hpp.
#include "firewall/ruleset.hpp"

#include "text/number.hpp"

namespace boxmail::firewall {
namespace {

/// "banned4" or "banned6" for a host.
std::string banned_set(const net::IpNetwork& host) { return host.v6 ? "banned6" : "banned4"; }

/// "{ 25, 110, 995 }"
std::string port_set(const std::vector<std::uint16_t>& ports) {
  std::string out = "{ ";
  for (std::size_t i = 0; i < ports.size(); ++i) out += (i ? ", " : "") + std::to_string(ports[i]);
  return out + " }";
}

/// "add element TABLE SET { N, N }\n" for the networks of one family; "" for none.
std::string elements(const std::string& table, const char* set, const std::vector<net::IpNetwork>& networks, bool v6) {
  std::string list;
  for (const net::IpNetwork& n : networks) {
    if (n.v6 == v6) list += (list.empty() ? "" : ", ") + n.to_string();
  }
  return list.empty() ? list : "add element " + table + set + " { " + list + " }\n";
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

/// One element of a banned set's listing: "ADDR timeout T expires E comment \"R\"".
std::optional<ListedBan> parse_element(std::string_view e) {
  e = trim(e);
  const auto sp = e.find(' ');
  const auto address = parse_canonical_address(e.substr(0, sp));
  if (!address) return std::nullopt;
  ListedBan b{address->to_string(), 0, "-"};
  const auto exp = e.find(" expires ");
  if (exp == std::string_view::npos) return std::nullopt;   // every ban has a timeout
  std::string_view after = e.substr(exp + 9);
  const auto left = parse_nft_duration(after.substr(0, after.find(' ')));
  if (!left) return std::nullopt;
  b.seconds_left = *left;
  const auto c = e.find(" comment \"");
  if (c != std::string_view::npos) {
    std::string_view reason = e.substr(c + 10);
    reason = reason.substr(0, reason.find('"'));
    if (reason_error(reason).empty()) b.reason = std::string(reason);
  }
  return b;
}

}  // namespace

std::string apply_script(const Request& a) {
  const std::string t(kTable);
  std::string s;
  s += "add table " + t + "\n";
  s += "add set " + t + " banned4 { type ipv4_addr; flags timeout; }\n";
  s += "add set " + t + " banned6 { type ipv6_addr; flags timeout; }\n";
  s += "add set " + t + " allow4 { type ipv4_addr; flags interval; auto-merge; }\n";
  s += "add set " + t + " allow6 { type ipv6_addr; flags interval; auto-merge; }\n";
  s += "add set " + t + " feed4 { type ipv4_addr; flags interval; auto-merge; }\n";
  s += "add set " + t + " feed6 { type ipv6_addr; flags interval; auto-merge; }\n";
  s += "add counter " + t + " banned_drops\n";
  s += "add counter " + t + " feed_drops\n";
  s += "add chain " + t + " input { type filter hook input priority -10; policy accept; }\n";
  s += "flush chain " + t + " input\n";
  s += "flush set " + t + " allow4\n";
  s += "flush set " + t + " allow6\n";
  s += "flush set " + t + " feed4\n";
  s += "flush set " + t + " feed6\n";
  for (const bool v6 : {false, true}) {
    s += elements(t, v6 ? " allow6" : " allow4", a.allow, v6);
    s += elements(t, v6 ? " feed6" : " feed4", a.feed, v6);
  }
  if (!a.feed_ports.empty()) {
    // Before the allow rules: [relay] relay_networks (in allow4) is not a
    // feed server; the daemon puts [firewall] allow into the feed list.
    const std::string feed = port_set(a.feed_ports);
    s += "add rule " + t + " input tcp dport " + feed + " ip saddr != @feed4 counter name feed_drops drop\n";
    s += "add rule " + t + " input tcp dport " + feed + " ip6 saddr != @feed6 counter name feed_drops drop\n";
  }
  s += "add rule " + t + " input ip saddr @allow4 accept\n";
  s += "add rule " + t + " input ip6 saddr @allow6 accept\n";
  const std::string ports = port_set(a.ports);
  s += "add rule " + t + " input tcp dport " + ports + " ip saddr @banned4 counter name banned_drops drop\n";
  s += "add rule " + t + " input tcp dport " + ports + " ip6 saddr @banned6 counter name banned_drops drop\n";
  return s;
}

std::string ban_script(const Request& b) {
  // add + delete first: the delete never fails, and a ban already there
  // gets the new timeout (an add of an existing element keeps the old one).
  const std::string head = "element " + std::string(kTable) + " " + banned_set(b.address) + " { " + b.address.to_string();
  return "add " + head + " }\ndelete " + head + " }\nadd " + head + " timeout " + std::to_string(b.seconds) +
         "s comment \"" + b.reason + "\" }\n";
}

std::string unban_script(const Request& u) {
  const std::string head = "element " + std::string(kTable) + " " + banned_set(u.address) + " { " + u.address.to_string();
  return "add " + head + " }\ndelete " + head + " }\n";
}

std::string delete_script() { return "delete table " + std::string(kTable) + "\n"; }

std::string list_script() {
  // One list command: nft 1.0.6 fails a buffer with two `list set`
  // commands ("No such file or directory" for the first set).
  return "list table " + std::string(kTable) + "\n";
}

std::vector<ListedBan> parse_listing(std::string_view out) {
  std::vector<ListedBan> bans;
  for (const std::string_view set : {"set banned4 {", "set banned6 {"}) {
    const auto head = out.find(set);
    if (head == std::string_view::npos) continue;
    // The set's block: up to the next set, chain or counter, or the end.
    std::string_view block = out.substr(head + set.size());
    for (const std::string_view next : {"set ", "chain ", "counter "}) {
      const auto at = block.find(next);
      if (at != std::string_view::npos) block = block.substr(0, at);
    }
    const auto start = block.find("elements = {");
    if (start == std::string_view::npos) continue;
    const auto end = block.find('}', start);
    if (end == std::string_view::npos) continue;
    std::string_view list = block.substr(start + 12, end - start - 12);
    for (;;) {
      const auto comma = list.find(',');
      if (auto b = parse_element(list.substr(0, comma))) bans.push_back(std::move(*b));
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  }
  return bans;
}

std::optional<std::uint64_t> parse_drop_counter(std::string_view out) {
  constexpr std::string_view kHead = "counter banned_drops {";
  const auto head = out.find(kHead);
  if (head == std::string_view::npos) return std::nullopt;
  std::string_view block = out.substr(head + kHead.size());
  block = block.substr(0, block.find('}'));
  constexpr std::string_view kPackets = "packets ";
  const auto at = block.find(kPackets);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view digits = block.substr(at + kPackets.size());
  digits = digits.substr(0, digits.find_first_not_of("0123456789"));
  const auto n = text::parse_unsigned<std::uint64_t>(digits);
  if (!n) return std::nullopt;
  return n.value;
}

std::optional<std::uint64_t> parse_nft_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::uint64_t ms = 0;
  std::size_t i = 0;
  char last = 0;   // the units must come in order d, h, m, s, ms
  constexpr std::string_view kOrder = "dhmsx";   // 'x' stands for ms
  while (i < text.size()) {
    std::size_t j = i;
    while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
    const auto n = text::parse_unsigned<std::uint64_t>(text.substr(i, j - i), 1'000'000'000);
    if (!n || j == text.size()) return std::nullopt;
    char unit = text[j];
    std::uint64_t scale = 0;
    if (unit == 'm' && j + 1 < text.size() && text[j + 1] == 's') {
      unit = 'x';
      scale = 1;
      ++j;
    } else if (unit == 'd') {
      scale = 86'400'000;
    } else if (unit == 'h') {
      scale = 3'600'000;
    } else if (unit == 'm') {
      scale = 60'000;
    } else if (unit == 's') {
      scale = 1000;
    } else {
      return std::nullopt;
    }
    if (last != 0 && kOrder.find(unit) <= kOrder.find(last)) return std::nullopt;
    last = unit;
    ms += n.value * scale;
    i = j + 1;
  }
  return (ms + 999) / 1000;
}

bool is_allowed(const std::vector<net::IpNetwork>& allow, const net::IpNetwork& address) {
  return net::in_networks(allow, address.to_string());
}

}  // namespace boxmail::firewall

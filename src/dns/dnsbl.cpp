// dnsbl.cpp - see dnsbl.hpp.
#include "dns/dnsbl.hpp"

#include "dns/domain_name.hpp"
#include "net/ip_network.hpp"

#include <arpa/inet.h>

#include <algorithm>

namespace boxmail::dns {

std::optional<std::string> dnsbl_query_name(std::string_view address, std::string_view zone) {
  const auto a = net::parse_address(address);
  if (!a || zone.size() > kMaxDnsblZone || check_name(zone, NameKind::Host) != NameError::None) return std::nullopt;
  if (zone.back() == '.') return std::nullopt;   // one spelling: without the trailing dot
  std::string name;
  if (!a->v6) {
    for (int i = 3; i >= 0; --i) name += std::to_string(a->address[static_cast<std::size_t>(i)]) + '.';
  } else {
    static constexpr char kHex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; --i) {
      const std::uint8_t octet = a->address[static_cast<std::size_t>(i)];
      name += kHex[octet & 0x0f];
      name += '.';
      name += kHex[octet >> 4];
      name += '.';
    }
  }
  name += zone;
  return name;
}

DnsblAnswer classify_dnsbl_answer(const std::vector<std::string>& addresses) {
  bool refused = false;
  bool odd = false;
  for (const std::string& text : addresses) {
    in_addr a{};
    if (::inet_pton(AF_INET, text.c_str(), &a) != 1) {
      odd = true;
      continue;
    }
    const std::uint32_t v = ntohl(a.s_addr);
    if ((v >> 24) != 127 || v == 0x7f000001u) {
      odd = true;
    } else if (v >= 0x7ffffffcu) {
      refused = true;
    } else {
      return DnsblAnswer::Listed;
    }
  }
  if (refused) return DnsblAnswer::Refused;
  if (odd) return DnsblAnswer::Unexpected;
  return DnsblAnswer::NotListed;
}

std::string_view to_string(DnsblAnswer a) {
  switch (a) {
    case DnsblAnswer::Listed: return "listed";
    case DnsblAnswer::Refused: return "refused";
    case DnsblAnswer::Unexpected: return "unexpected";
    case DnsblAnswer::NotListed: return "not listed";
  }
  return "not listed";
}

std::string sanitize_dns_text(std::string_view text, std::size_t max) {
  std::string out;
  out.reserve(std::min(text.size(), max));
  bool blank = false;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u == ' ' || u == '\t' || u == '\r' || u == '\n' || u == '\v' || u == '\f') {
      blank = !out.empty();
      continue;
    }
    if (blank) {
      out += ' ';
      blank = false;
    }
    out += (u > 0x20 && u < 0x7f) ? (c == '"' ? '\'' : c) : '?';
    if (out.size() > max) break;
  }
  if (out.size() > max) {
    out.resize(max >= 3 ? max - 3 : 0);
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += max >= 3 ? "..." : "";
  }
  return out;
}

}  // namespace boxmail::dns

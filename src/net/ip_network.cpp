// ip_network.cpp - see ip_network.hpp.
#include "net/ip_network.hpp"

#include "text/number.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace boxmail::net {

std::optional<IpNetwork> parse_address(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string s(text);
  IpNetwork a;
  if (::inet_pton(AF_INET, s.c_str(), a.address.data()) == 1) {
    a.prefix = 32;
    return a;
  }
  if (::inet_pton(AF_INET6, s.c_str(), a.address.data()) != 1) return std::nullopt;
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(a.address.data(), kMapped, sizeof kMapped) == 0) {
    std::memmove(a.address.data(), a.address.data() + 12, 4);
    std::memset(a.address.data() + 4, 0, 12);
    a.prefix = 32;
    return a;
  }
  a.v6 = true;
  a.prefix = 128;
  return a;
}

namespace {

/// True when the first `bits` bits of a and b are equal.
bool same_prefix(const std::uint8_t* a, const std::uint8_t* b, unsigned bits) {
  const unsigned whole = bits / 8;
  if (std::memcmp(a, b, whole) != 0) return false;
  const unsigned rest = bits % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

/// NetCruiser-style IPv4 wildcard: one to three leading octets, then '*'
/// for every remaining one ("192.168.*", "192.168.1.*", "10.*.*.*").
/// Returns nullopt when `text` has no '*'; sets `error` for a bad pattern.
std::optional<IpNetwork> parse_wildcard(std::string_view text, std::string& error) {
  if (text.find('*') == std::string_view::npos) return std::nullopt;
  const std::string quoted = "'" + std::string(text) + "'";
  IpNetwork n;
  unsigned octets = 0;      // fixed octets before the first '*'
  unsigned fields = 0;
  bool star = false;
  std::size_t start = 0;
  while (true) {
    const auto dot = text.find('.', start);
    const std::string_view field = text.substr(start, dot == std::string_view::npos ? dot : dot - start);
    ++fields;
    if (fields > 4) break;
    if (field == "*") {
      star = true;
    } else {
      const auto v = text::parse_unsigned<unsigned>(field, 255);
      if (star || !v) {
        error = quoted + " is not a network pattern (a wildcard replaces whole trailing octets: "
                "192.168.*, 192.168.1.*)";
        return std::nullopt;
      }
      n.address[octets++] = static_cast<std::uint8_t>(v.value);
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (fields > 4) {
    error = quoted + " has more than four octets";
    return std::nullopt;
  }
  if (octets == 0) {
    error = quoted + " matches every IPv4 address: write 0.0.0.0/0 if that is really meant";
    return std::nullopt;
  }
  n.prefix = static_cast<std::uint8_t>(octets * 8);
  return n;
}

}  // namespace

std::string IpNetwork::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(v6 ? AF_INET6 : AF_INET, address.data(), buf, sizeof buf);
  std::string out = buf;
  if (prefix != (v6 ? 128 : 32)) out += "/" + std::to_string(prefix);
  return out;
}

std::optional<IpNetwork> parse_network(std::string_view text, std::string& error) {
  if (text.find('*') != std::string_view::npos) {
    if (text.find_first_of(":/") != std::string_view::npos ||
        text.find_first_not_of("0123456789.*") != std::string_view::npos) {
      error = "'" + std::string(text) + "': only IPv4 octets may be wildcards (192.168.*); host names and "
              "IPv6 patterns are not supported (write the network, e.g. 192.168.1.0/24 or fd00::/8)";
      return std::nullopt;
    }
    return parse_wildcard(text, error);
  }
  const auto slash = text.find('/');
  const std::string_view addr = text.substr(0, slash);
  // A mapped IPv6 text would silently become IPv4: ask for the IPv4 form.
  if (addr.find(':') != std::string_view::npos && addr.find('.') != std::string_view::npos) {
    error = "'" + std::string(text) + "': write IPv4 networks in IPv4 form (e.g. 192.0.2.0/24)";
    return std::nullopt;
  }
  auto n = parse_address(addr);
  if (!n) {
    error = "'" + std::string(text) + "' is not a network (expected e.g. 192.168.1.0/24, fd00::/8 or 127.0.0.1)";
    return std::nullopt;
  }
  if (slash != std::string_view::npos) {
    const unsigned max = n->v6 ? 128 : 32;
    const auto bits = text::parse_unsigned<unsigned>(text.substr(slash + 1), max);
    if (!bits) {
      error = "'" + std::string(text) + "': the prefix length must be 0.." + std::to_string(max);
      return std::nullopt;
    }
    n->prefix = static_cast<std::uint8_t>(bits.value);
    IpNetwork masked = *n;
    masked.address.fill(0);
    for (unsigned i = 0; i < n->prefix; ++i) {
      if (n->address[i / 8] & (0x80 >> (i % 8))) masked.address[i / 8] |= static_cast<std::uint8_t>(0x80 >> (i % 8));
    }
    if (masked.address != n->address) {
      error = "'" + std::string(text) + "' has host bits set (did you mean " + masked.to_string() + "?)";
      return std::nullopt;
    }
  }
  return n;
}

bool network_contains(const IpNetwork& network, std::string_view address) {
  const auto a = parse_address(address);
  if (!a || a->v6 != network.v6) return false;
  return same_prefix(a->address.data(), network.address.data(), network.prefix);
}

bool network_contains(const IpNetwork& network, const IpNetwork& inner) {
  return inner.v6 == network.v6 && inner.prefix >= network.prefix &&
         same_prefix(inner.address.data(), network.address.data(), network.prefix);
}

bool in_networks(const std::vector<IpNetwork>& networks, std::string_view address) {
  for (const IpNetwork& n : networks) {
    if (network_contains(n, address)) return true;
  }
  return false;
}

}  // namespace boxmail::net

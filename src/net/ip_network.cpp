// ip_network.cpp - see ip_network.hpp.
#include "net/ip_network.hpp"

#include "text/number.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace boxmail::net {
namespace {

/// The address octets of a numeric address; IPv4-mapped IPv6 becomes IPv4.
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

/// True when the first `bits` bits of a and b are equal.
bool same_prefix(const std::uint8_t* a, const std::uint8_t* b, unsigned bits) {
  const unsigned whole = bits / 8;
  if (std::memcmp(a, b, whole) != 0) return false;
  const unsigned rest = bits % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
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

bool in_networks(const std::vector<IpNetwork>& networks, std::string_view address) {
  for (const IpNetwork& n : networks) {
    if (network_contains(n, address)) return true;
  }
  return false;
}

}  // namespace boxmail::net

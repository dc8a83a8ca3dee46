// ip_network_test.cpp - CIDR networks and membership (net/ip_network.hpp).
#include "net/ip_network.hpp"

#include <gtest/gtest.h>

namespace {

using boxmail::net::IpNetwork;
using boxmail::net::in_networks;
using boxmail::net::network_contains;
using boxmail::net::parse_network;

IpNetwork net(const char* text) {
  std::string error;
  auto n = parse_network(text, error);
  EXPECT_TRUE(n) << text << ": " << error;
  return n.value_or(IpNetwork{});
}

TEST(IpNetwork, ContainsByPrefix) {
  const IpNetwork lan = net("192.168.1.0/24");
  EXPECT_TRUE(network_contains(lan, "192.168.1.0"));
  EXPECT_TRUE(network_contains(lan, "192.168.1.255"));
  EXPECT_FALSE(network_contains(lan, "192.168.2.1"));
  EXPECT_FALSE(network_contains(lan, "192.168.10.1"));
  const IpNetwork odd = net("10.0.0.0/9");
  EXPECT_TRUE(network_contains(odd, "10.127.255.255"));
  EXPECT_FALSE(network_contains(odd, "10.128.0.0"));
  EXPECT_TRUE(network_contains(net("0.0.0.0/0"), "203.0.113.9"));
  EXPECT_FALSE(network_contains(net("0.0.0.0/0"), "::1"));   // IPv4 networks hold no IPv6 client
}

TEST(IpNetwork, SingleHostsAndIpv6) {
  EXPECT_TRUE(network_contains(net("127.0.0.1"), "127.0.0.1"));
  EXPECT_FALSE(network_contains(net("127.0.0.1"), "127.0.0.2"));
  EXPECT_TRUE(network_contains(net("::1"), "::1"));
  EXPECT_FALSE(network_contains(net("::1"), "::2"));
  EXPECT_TRUE(network_contains(net("fd00::/8"), "fd12:3456::1"));
  EXPECT_FALSE(network_contains(net("fd00::/8"), "fe80::1"));
  EXPECT_EQ(net("fd00::/8").to_string(), "fd00::/8");
  EXPECT_EQ(net("127.0.0.1").to_string(), "127.0.0.1");
}

TEST(IpNetwork, MappedClientMatchesIpv4Networks) {
  // A dual-stack socket reports an IPv4 client as ::ffff:a.b.c.d.
  EXPECT_TRUE(network_contains(net("127.0.0.0/8"), "::ffff:127.0.0.5"));
  EXPECT_FALSE(network_contains(net("::/0"), "::ffff:127.0.0.5"));
}

TEST(IpNetwork, NetCruiserWildcardsBecomeCidr) {
  // The relay settings of the old appliances: "192.168.*" and friends.
  EXPECT_EQ(net("192.168.*").to_string(), "192.168.0.0/16");
  EXPECT_EQ(net("192.168.*.*").to_string(), "192.168.0.0/16");
  EXPECT_EQ(net("192.168.1.*").to_string(), "192.168.1.0/24");
  EXPECT_EQ(net("10.*.*.*").to_string(), "10.0.0.0/8");
  EXPECT_EQ(net("10.*"), net("10.0.0.0/8"));
  EXPECT_TRUE(network_contains(net("192.168.*"), "192.168.200.7"));
  EXPECT_FALSE(network_contains(net("192.168.*"), "192.169.0.1"));
  EXPECT_FALSE(network_contains(net("192.168.1.*"), "192.168.2.1"));
}

TEST(IpNetwork, NotAnAddressIsInNoNetwork) {
  EXPECT_FALSE(network_contains(net("0.0.0.0/0"), ""));
  EXPECT_FALSE(network_contains(net("0.0.0.0/0"), "localhost"));
  EXPECT_FALSE(network_contains(net("0.0.0.0/0"), "1.2.3.4 "));
  EXPECT_FALSE(in_networks({}, "127.0.0.1"));
  EXPECT_TRUE(in_networks({net("10.0.0.0/8"), net("127.0.0.0/8")}, "127.0.0.1"));
}

TEST(IpNetwork, BadNetworksAreRefusedWithAReason) {
  struct Case {
    const char* text;
    const char* error;
  } cases[] = {
      {"192.168.1.1/24", "host bits set (did you mean 192.168.1.0/24?)"},
      {"10.0.0.0/33", "prefix length must be 0..32"},
      {"fd00::/129", "prefix length must be 0..128"},
      {"10.0.0.0/-1", "prefix length"},
      {"10.0.0.0/8x", "prefix length"},
      {"*", "matches every IPv4 address"},
      {"*.*.*.*", "matches every IPv4 address"},
      {"192.*.1.*", "wildcard replaces whole trailing octets"},
      {"192.168.1*", "wildcard replaces whole trailing octets"},
      {"300.*", "wildcard replaces whole trailing octets"},
      {"1.2.3.4.*", "more than four octets"},
      {"*.example.com", "host names and IPv6 patterns are not supported"},
      {"fd00:*", "host names and IPv6 patterns are not supported"},
      {"192.168.*/16", "host names and IPv6 patterns are not supported"},
      {"", "is not a network"},
      {"/8", "is not a network"},
      {"::ffff:1.2.3.4", "IPv4 form"},
  };
  for (const Case& c : cases) {
    std::string error;
    EXPECT_FALSE(parse_network(c.text, error)) << c.text;
    EXPECT_NE(error.find(c.error), std::string::npos) << c.text << ": " << error;
  }
}

}  // namespace

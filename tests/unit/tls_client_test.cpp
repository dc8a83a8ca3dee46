// tls_client_test.cpp - the client TLS pieces that need no peer:
// fingerprint parsing and printing, and ClientContext's refusals (a CA file
// that is missing or holds no certificate, pinning without a pin). The
// handshakes themselves (pin, CA and host name, failures) run against a
// real boxmaild in t-39-smtp-client.
#include "tls/client_context.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <fstream>
#include <string>

using namespace boxmail::tls;

namespace {

TEST(TlsClient, FingerprintParsesBothSpellings) {
  const std::string colons =
      "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89";
  const auto a = parse_fingerprint(colons);
  ASSERT_TRUE(a);
  EXPECT_EQ((*a)[0], 0xAB);
  EXPECT_EQ((*a)[31], 0x89);
  EXPECT_EQ(fingerprint_text(*a), colons);
  std::string plain;
  for (char c : colons) {
    if (c != ':') plain += static_cast<char>(std::tolower(c));
  }
  EXPECT_EQ(parse_fingerprint(plain), a);
  for (const std::string& bad : {std::string(), plain.substr(2), plain + "00", plain.substr(1) + "g", colons + ":",
                                ":" + colons, "AB::CD" + plain.substr(4)}) {
    EXPECT_FALSE(parse_fingerprint(bad)) << bad;
  }
}

TEST(TlsClient, ContextRefusesUnusableSettings) {
  ClientTlsOptions pin;
  pin.verify = ClientVerify::Pin;
  EXPECT_THROW(ClientContext::create(pin), std::runtime_error);
  ClientTlsOptions chain;
  chain.verify = ClientVerify::Chain;
  chain.ca_file = "/nonexistent/ca.pem";
  EXPECT_THROW(ClientContext::create(chain), std::runtime_error);
  char path[] = "/tmp/boxmail-ca-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ofstream(path) << "not a certificate\n";
  chain.ca_file = path;
  EXPECT_THROW(ClientContext::create(chain), std::runtime_error);
  std::remove(path);
  EXPECT_NE(ClientContext::create(ClientTlsOptions{}), nullptr);
}

}  // namespace

// replay_main.cpp - runs a fuzz target's entry point without libFuzzer: over
// every file in the directories given, then over generated inputs (seeded
// pseudo-random mixes of the protocol's own tokens), so the target is an
// ordinary, deterministic ctest test.
#include <cstdint>
#include <cstdio>
#include <dirent.h>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {
const char* const kTokens[] = {
    "\r\n", "\n", "\r", ".", "..", ".\r\n", "\r\n.\r\n", "\n.\n", "\0", "EHLO x\r\n", "HELO x\r\n",
    "MAIL FROM:<a@b>\r\n", "MAIL FROM:<> SIZE=10\r\n", "RCPT TO:<alice@x>\r\n", "RCPT TO:<bob@y>\r\n",
    "RCPT TO:<Postmaster>\r\n", "DATA\r\n", "RSET\r\n", "NOOP\r\n", "QUIT\r\n", "VRFY alice\r\n",
    "USER alice\r\n", "PASS pw\r\n", "STAT\r\n", "LIST\r\n", "LIST 1\r\n", "RETR 1\r\n", "TOP 1 0\r\n",
    "DELE 2\r\n", "UIDL\r\n", "CAPA\r\n", "AUTH PLAIN AGFsaWNlAHB3\r\n", "AUTH PLAIN\r\n", "*\r\n",
    "Received: x\r\n", "Subject: y\r\n", "<", ">", "@", "\"", "\\", "[1.2.3.4]", "[IPv6:::1]",
    "a", "x@y", "%", "!", ":", ",", " ", "\t", "=", "[smtp]\n", "listen = 127.0.0.1:25\n",
    "[aliases]\nsales = alice, bob\n", "max_message_size = 10M\n", "\xff", "GET / HTTP/1.1\r\n",
    "ok\n", "error x\n", "tls-install 5 3\n", "files a b\n",
    "certificate chain=1 self-signed=0 not-before=1 not-after=2\n", "subject CN=x\n", "issuer CN=y\n",
    "sha256 AB\n", "dns-name d\n", "refused r\n", "problem chain expired\n",
    "220 mx ESMTP\r\n", "250-mx\r\n", "250-PIPELINING\r\n", "250-STARTTLS\r\n", "250-AUTH PLAIN LOGIN\r\n",
    "250-SIZE 100\r\n", "250 8BITMIME\r\n", "250 2.1.5 ok\r\n", "354 go\r\n", "334 VXNlcm5hbWU6\r\n",
    "235 2.7.0 ok\r\n", "421 4.3.2 bye\r\n", "450 4.2.0 later\r\n", "550 5.1.1 no\r\n", "502 no\r\n",
};

std::string generate(std::mt19937& rng) {
  std::string s;
  const int n = static_cast<int>(rng() % 40);
  for (int i = 0; i < n; ++i) {
    if (rng() % 4 == 0) {
      s += static_cast<char>(rng() % 256);
    } else {
      const char* t = kTokens[rng() % (sizeof kTokens / sizeof kTokens[0])];
      s += (t[0] == '\0') ? std::string(1, '\0') : std::string(t);
    }
  }
  return s;
}
}  // namespace

int main(int argc, char** argv) {
  std::size_t files = 0;
  for (int i = 1; i < argc; ++i) {
    DIR* d = opendir(argv[i]);
    if (d == nullptr) continue;
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.') continue;
      std::ifstream f(std::string(argv[i]) + "/" + e->d_name, std::ios::binary);
      std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
      ++files;
    }
    closedir(d);
  }
  std::mt19937 rng(20261121);
  const int generated = 20000;
  for (int i = 0; i < generated; ++i) {
    const std::string data = generate(rng);
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
  }
  std::printf("replayed %zu corpus files and %d generated inputs\n", files, generated);
  return 0;
}

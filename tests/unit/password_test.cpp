// password_test.cpp - password hashing and checking (password.hpp) and the
// random generator under it (tls/random.hpp).
#include "config/password.hpp"
#include "tls/digest.hpp"
#include "tls/random.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <set>
#include <string>

namespace {

using namespace boxmail::config;

// Hashes of "secret" made by other tools, so that boxmail is checked against
// them and not only against itself:
//   python3 -c 'import crypt; print(crypt.crypt("secret", "$6$saltsaltsaltsalt"))'
//   openssl passwd -6 -salt saltsaltsaltsalt secret          (same result)
//   python3 -c 'import crypt; print(crypt.crypt("secret", "$5$saltsaltsaltsalt"))'
//   python3 -c 'import crypt; print(crypt.crypt("secret", "$2b$05$abcdefghijklmnopqrstuu"))'
//   python3 -c 'import crypt; print(crypt.crypt("secret", "ab"))'
constexpr std::string_view kSha512 =
    "$6$saltsaltsaltsalt$ph0yGsyjzqdeFaon7.gJZo8eAG5/rj9/JdzOu1Rl7dKzBYg3xgvl7T2VQ2Rt81bc5AXkdA54r0p8QvC1omD6R1";
constexpr std::string_view kSha256 = "$5$saltsaltsaltsalt$X0ra9qlY7TJaGBDgorLevriQfwysW8fXnbybcO4mF4/";
constexpr std::string_view kBlowfish = "$2b$05$abcdefghijklmnopqrstuuOQiyCxlgf/oeuTqixKmWdcYUh4Hjl0a";
constexpr std::string_view kDes = "abNANd1rDfiNc";

std::string with(std::string_view scheme, std::string_view hash) {
  return "{" + std::string(scheme) + "}" + std::string(hash);
}

TEST(Password, HashHasDovecotShape) {
  const std::string h = hash_password("correct horse");
  ASSERT_EQ(h.rfind("{SHA512-CRYPT}$6$", 0), 0u) << h;
  const std::string crypt = h.substr(14);
  // $6$ + 16 salt characters + $ + 86 hash characters
  ASSERT_EQ(crypt.size(), 3 + 16 + 1 + 86u) << crypt;
  EXPECT_EQ(crypt[19], '$');
  for (std::size_t i = 3; i < 19; ++i) {
    const char c = crypt[i];
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '/') << crypt;
  }
  EXPECT_EQ(h.find(':'), std::string::npos);   // fits a passwd-file field
}

TEST(Password, RoundTrip) {
  for (std::string_view plain : {"secret", "", "p\xc3\xa4ssw\xc3\xb6rd", "with:colon and space", "x"}) {
    SCOPED_TRACE(std::string(plain));
    const std::string h = hash_password(plain);
    EXPECT_TRUE(verify_password(plain, h));
    EXPECT_FALSE(verify_password(std::string(plain) + "x", h));
  }
  // The same password hashes differently each time (fresh salt).
  EXPECT_NE(hash_password("secret"), hash_password("secret"));
}

TEST(Password, ForeignHashes) {
  struct Case {
    std::string stored;
    bool ok;
  } cases[] = {
      {with("SHA512-CRYPT", kSha512), true},
      {with("sha512-crypt", kSha512), true},   // scheme names in any case
      {with("SHA256-CRYPT", kSha256), true},
      {with("BLF-CRYPT", kBlowfish), true},
      {with("CRYPT", kDes), true},
      {with("CRYPT", kSha512), true},          // CRYPT takes whatever crypt(3) knows
      {with("SHA256-CRYPT", kSha512), false},  // scheme and hash disagree
      {with("SHA512-CRYPT", kSha256), false},
      {with("BLF-CRYPT", kSha512), false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.stored);
    EXPECT_EQ(verify_password("secret", c.stored), c.ok);
    EXPECT_FALSE(verify_password("Secret", c.stored));
    EXPECT_FALSE(verify_password("secret ", c.stored));
  }
}

TEST(Password, RefusedAndMalformed) {
  const std::string good = with("SHA512-CRYPT", kSha512);
  const std::string cases[] = {
      "{PLAIN}secret",
      "{plain}secret",
      "{CLEARTEXT}secret",
      "{MD5}secret",
      "{SSHA}secret",
      "{PBKDF2}secret",
      "secret",
      std::string(kSha512),                  // no scheme
      "",
      "{}",
      "{SHA512-CRYPT}",
      "{SHA512-CRYPT}$6$",
      "{SHA512-CRYPT}$6$saltsaltsaltsalt$",
      "{SHA512-CRYPT}garbage",
      "{SHA512-CRYPT" + std::string(kSha512),  // no '}'
      good.substr(0, good.size() - 1),       // truncated hash
      good + "x",                            // extended hash
      "{CRYPT}*",                            // a locked account
      "{CRYPT}!" + std::string(kSha512),
      "{CRYPT}" + std::string(kDes) + std::string("\0", 1),
  };
  for (const std::string& stored : cases) {
    SCOPED_TRACE(stored);
    EXPECT_FALSE(verify_password("secret", stored));
  }
  EXPECT_TRUE(verify_password("secret", good));
  EXPECT_FALSE(verify_password(std::string("secret\0x", 8), good));
  EXPECT_THROW(hash_password(std::string("a\0b", 3)), std::invalid_argument);
}

TEST(Password, OverlongIsRefusedBeforeHashing) {
  const std::string longest(kMaxPasswordLength, 'p');
  const std::string hash = hash_password(longest);
  EXPECT_TRUE(verify_password(longest, hash));
  // One octet more is never hashed: even its own right hash does not match.
  const std::string over = longest + "p";
  EXPECT_FALSE(verify_password(over, hash_password(over)));
}

TEST(Digest, Sha256AndHmacKnownAnswers) {
  using boxmail::tls::hex;
  // FIPS 180-4 example "abc"; RFC 4231 test case 2.
  EXPECT_EQ(hex(boxmail::tls::sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex(boxmail::tls::hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(hex(boxmail::tls::sha256(""), 4), "e3b0c442");
}

TEST(Password, RandomPassword) {
  constexpr std::string_view kAmbiguous = "0O1lI";
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    const std::string p = random_password(12);
    ASSERT_EQ(p.size(), 12u);
    for (char c : p) {
      EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << p;
      EXPECT_EQ(kAmbiguous.find(c), std::string_view::npos) << p;
    }
    seen.insert(p);
  }
  EXPECT_EQ(seen.size(), 50u);
  EXPECT_EQ(random_password(0), "");
  EXPECT_EQ(random_password(1000).size(), 1000u);
}

TEST(Random, BytesAndNumbers) {
  // More than one CTR_DRBG request (1024 octets) in one call.
  std::array<unsigned char, 5000> buf{};
  boxmail::tls::random_bytes(buf.data(), buf.size());
  std::set<unsigned char> values(buf.begin(), buf.end());
  EXPECT_GT(values.size(), 200u);
  EXPECT_NE(boxmail::tls::random_u64(), boxmail::tls::random_u64());
  boxmail::tls::random_bytes(buf.data(), 0);
}

TEST(Random, ChildAfterForkDoesNotRepeatTheParent) {
  (void)boxmail::tls::random_u64();   // seeded before the fork
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::uint64_t v = boxmail::tls::random_u64();
    const bool ok = ::write(fds[1], &v, sizeof v) == static_cast<ssize_t>(sizeof v);
    ::_exit(ok ? 0 : 1);
  }
  ::close(fds[1]);
  const std::uint64_t mine = boxmail::tls::random_u64();
  std::uint64_t child = 0;
  ASSERT_EQ(::read(fds[0], &child, sizeof child), static_cast<ssize_t>(sizeof child));
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_NE(mine, child);
}

}  // namespace

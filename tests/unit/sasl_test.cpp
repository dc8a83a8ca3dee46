// sasl_test.cpp - SASL decoding (proto/sasl.hpp): strict base64, PLAIN
// messages, the LOGIN steps, "*" cancel, limits, constant-time equality.
#include "proto/sasl.hpp"

#include "config/password.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using namespace boxmail::proto::sasl;
using namespace std::string_literals;

TEST(Sasl, LimitsAgreeWithConfig) {
  EXPECT_EQ(kMaxPasswordLength, boxmail::config::kMaxPasswordLength);
  EXPECT_GE(kMaxResponseLength, encode_base64(std::string(kMaxPlainLength, 'x')).size());
}

TEST(Sasl, Base64RoundTrip) {
  for (const std::string& s : {""s, "f"s, "fo"s, "foo"s, "foob"s, "fooba"s, "foobar"s, "\0\xff\x80"s}) {
    const std::string e = encode_base64(s);
    const Decoded d = decode_base64(e);
    EXPECT_EQ(d.failure, Failure::None) << e;
    EXPECT_EQ(d.data, s) << e;
  }
  // RFC 4648 10 test vectors.
  EXPECT_EQ(encode_base64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(encode_base64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(encode_base64("foob"), "Zm9vYg==");
  EXPECT_EQ(decode_base64("Zm9vYg==").data, "foob");
}

TEST(Sasl, Base64Strict) {
  const char* const bad[] = {
      "Zm9",        // length not a multiple of 4
      "Zm9v\r\n",   // line break
      "Zm 9v",      // blank
      "Zm9v====",   // a whole group of padding
      "Z===",       // three padding symbols
      "Zg=a",       // a symbol after padding
      "Zg==Zm9v",   // padding before the end
      "Zm9-",       // URL alphabet
      "Zm9_",
      "Zh==",       // non-zero bits under the padding (not canonical)
      "Zm9=",       // idem, one "="
  };
  for (const char* b : bad) {
    EXPECT_EQ(decode_base64(b).failure, Failure::BadBase64) << b;
    EXPECT_TRUE(decode_base64(b).data.empty()) << b;
  }
  EXPECT_EQ(decode_base64("Zm9v\0\0\0\0"s).failure, Failure::BadBase64);   // NUL octets
}

TEST(Sasl, Base64TooLong) {
  const std::string ok(kMaxResponseLength, 'A');
  EXPECT_EQ(decode_base64(ok).failure, Failure::None);
  EXPECT_EQ(decode_base64(ok + "AAAA").failure, Failure::TooLong);
  EXPECT_EQ(decode_base64("AAAAAAAA", 4).failure, Failure::TooLong);
  // The length is checked first: garbage over the limit is TooLong too.
  EXPECT_EQ(decode_base64(std::string(100000, '!')).failure, Failure::TooLong);
}

TEST(Sasl, PlainMessage) {
  PlainResult r = parse_plain("\0alice\0secret"s);
  EXPECT_EQ(r.failure, Failure::None);
  EXPECT_EQ(r.credentials.authcid, "alice");
  EXPECT_EQ(r.credentials.password, "secret");

  r = parse_plain("alice\0alice\0pw"s);   // authzid equal to authcid
  EXPECT_EQ(r.failure, Failure::None);
  EXPECT_EQ(r.credentials.authcid, "alice");

  EXPECT_EQ(parse_plain("bob\0alice\0pw"s).failure, Failure::OtherIdentity);
  EXPECT_EQ(parse_plain("Alice\0alice\0pw"s).failure, Failure::OtherIdentity);
  EXPECT_EQ(parse_plain("\0\0pw"s).failure, Failure::Malformed);          // empty authcid
  EXPECT_EQ(parse_plain("\0alice\0"s).failure, Failure::Malformed);       // empty passwd
  EXPECT_EQ(parse_plain("alice\0secret"s).failure, Failure::Malformed);   // one NUL
  EXPECT_EQ(parse_plain("alice"s).failure, Failure::Malformed);
  EXPECT_EQ(parse_plain(""s).failure, Failure::Malformed);
  EXPECT_EQ(parse_plain("\0alice\0se\0cret"s).failure, Failure::Malformed);   // NUL in passwd
}

TEST(Sasl, PlainLimits) {
  const std::string id(kMaxIdentityLength, 'a');
  const std::string pw(kMaxPasswordLength, 'p');
  EXPECT_EQ(parse_plain(id + '\0' + id + '\0' + pw).failure, Failure::None);
  EXPECT_EQ(parse_plain('\0' + id + "a" + '\0' + pw).failure, Failure::FieldTooLong);
  EXPECT_EQ(parse_plain('\0' + id + '\0' + pw + "p").failure, Failure::FieldTooLong);
  EXPECT_EQ(parse_plain(id + "a" + '\0' + id + '\0' + pw).failure, Failure::FieldTooLong);
  // The longest message still fits the response limit, encoded.
  const Step s = Exchange(Mechanism::Plain).start(encode_base64(id + '\0' + id + '\0' + pw));
  EXPECT_EQ(s.kind, Step::Kind::Done);
}

TEST(Sasl, Mechanisms) {
  EXPECT_EQ(parse_mechanism("PLAIN"), Mechanism::Plain);
  EXPECT_EQ(parse_mechanism("plain"), Mechanism::Plain);
  EXPECT_EQ(parse_mechanism("Login"), Mechanism::Login);
  EXPECT_FALSE(parse_mechanism("CRAM-MD5"));
  EXPECT_FALSE(parse_mechanism(""));
  EXPECT_EQ(mechanism_name(Mechanism::Login), "LOGIN");
}

TEST(Sasl, PlainWithInitialResponse) {
  Exchange x(Mechanism::Plain);
  const Step s = x.start(encode_base64("\0alice\0secret"s));
  ASSERT_EQ(s.kind, Step::Kind::Done);
  EXPECT_EQ(s.credentials.authcid, "alice");
  EXPECT_EQ(s.credentials.password, "secret");
  EXPECT_TRUE(x.finished());
  EXPECT_EQ(x.respond("AAAA").failure, Failure::Sequence);
}

TEST(Sasl, PlainWithoutInitialResponse) {
  Exchange x(Mechanism::Plain);
  Step s = x.start(std::nullopt);
  ASSERT_EQ(s.kind, Step::Kind::Challenge);
  EXPECT_EQ(s.challenge, "");
  s = x.respond(encode_base64("\0bob\0pw"s));
  ASSERT_EQ(s.kind, Step::Kind::Done);
  EXPECT_EQ(s.credentials.authcid, "bob");
}

TEST(Sasl, PlainFailures) {
  EXPECT_EQ(Exchange(Mechanism::Plain).start("=").failure, Failure::Malformed);   // "=": empty response
  EXPECT_EQ(Exchange(Mechanism::Plain).start("*").failure, Failure::Cancelled);
  EXPECT_EQ(Exchange(Mechanism::Plain).start("AGFsaWNlAHB3!").failure, Failure::BadBase64);
  EXPECT_EQ(Exchange(Mechanism::Plain).start(std::string(kMaxResponseLength + 4, 'A')).failure,
            Failure::TooLong);
  EXPECT_EQ(Exchange(Mechanism::Plain).start(encode_base64("bob\0alice\0pw"s)).failure, Failure::OtherIdentity);
  Exchange x(Mechanism::Plain);
  ASSERT_EQ(x.start(std::nullopt).kind, Step::Kind::Challenge);
  const Step s = x.respond("*");
  EXPECT_EQ(s.kind, Step::Kind::Failed);
  EXPECT_EQ(s.failure, Failure::Cancelled);
  EXPECT_EQ(x.start(std::nullopt).failure, Failure::Sequence);
}

TEST(Sasl, LoginSteps) {
  Exchange x(Mechanism::Login);
  Step s = x.start(std::nullopt);
  ASSERT_EQ(s.kind, Step::Kind::Challenge);
  EXPECT_EQ(decode_base64(s.challenge).data, "Username:");
  s = x.respond(encode_base64("alice"));
  ASSERT_EQ(s.kind, Step::Kind::Challenge);
  EXPECT_EQ(decode_base64(s.challenge).data, "Password:");
  s = x.respond(encode_base64("secret"));
  ASSERT_EQ(s.kind, Step::Kind::Done);
  EXPECT_EQ(s.credentials.authcid, "alice");
  EXPECT_EQ(s.credentials.password, "secret");
  EXPECT_TRUE(x.finished());
}

TEST(Sasl, LoginWithInitialUser) {
  Exchange x(Mechanism::Login);
  Step s = x.start(encode_base64("alice"));
  ASSERT_EQ(s.kind, Step::Kind::Challenge);
  EXPECT_EQ(s.challenge, "UGFzc3dvcmQ6");
  s = x.respond(encode_base64("pw"));
  ASSERT_EQ(s.kind, Step::Kind::Done);
  EXPECT_EQ(s.credentials.authcid, "alice");
}

TEST(Sasl, LoginFailures) {
  auto after_user = [](std::string_view password_line) {
    Exchange x(Mechanism::Login);
    x.start(std::nullopt);
    x.respond(encode_base64("alice"));
    return x.respond(password_line);
  };
  EXPECT_EQ(after_user("*").failure, Failure::Cancelled);
  EXPECT_EQ(after_user("").failure, Failure::Malformed);   // empty password
  EXPECT_EQ(after_user(encode_base64("p\0w"s)).failure, Failure::Malformed);
  EXPECT_EQ(after_user("cHc").failure, Failure::BadBase64);
  EXPECT_EQ(after_user(encode_base64(std::string(kMaxPasswordLength, 'p'))).kind, Step::Kind::Done);
  EXPECT_EQ(after_user(encode_base64(std::string(kMaxPasswordLength + 1, 'p'))).failure, Failure::FieldTooLong);

  EXPECT_EQ(Exchange(Mechanism::Login).start("=").failure, Failure::Malformed);   // empty user
  EXPECT_EQ(Exchange(Mechanism::Login).start("*").failure, Failure::Cancelled);
  EXPECT_EQ(Exchange(Mechanism::Login).start(encode_base64(std::string(kMaxIdentityLength + 1, 'u'))).failure,
            Failure::FieldTooLong);
  Exchange x(Mechanism::Login);
  x.start(std::nullopt);
  EXPECT_EQ(x.respond("*").failure, Failure::Cancelled);
  EXPECT_EQ(x.respond(encode_base64("alice")).failure, Failure::Sequence);
}

TEST(Sasl, FailureTextsAreDistinct) {
  EXPECT_EQ(failure_text(Failure::BadBase64), "malformed base64");
  EXPECT_NE(failure_text(Failure::TooLong), failure_text(Failure::FieldTooLong));
}

TEST(Sasl, ConstantTimeEqual) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("secret", "secret"));
  EXPECT_FALSE(constant_time_equal("secret", "secreT"));
  EXPECT_FALSE(constant_time_equal("secret", "secret\0"s));
  EXPECT_FALSE(constant_time_equal("secret", "secretx"));
  EXPECT_FALSE(constant_time_equal("", "a"));
  EXPECT_FALSE(constant_time_equal("a", ""));
  EXPECT_FALSE(constant_time_equal("\0"s, ""));   // zero padding must not make these equal
}

}  // namespace

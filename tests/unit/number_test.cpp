// number_test.cpp - the checked number parser (text/number.hpp): digits
// only, range checks, overflow at and past 2^64, scaled sizes.
#include "text/number.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace {

using namespace boxmail::text;

struct Case {
  std::string text;
  NumberError error;
  std::uint64_t value = 0;
};

TEST(Number, Uint64) {
  const Case cases[] = {
      {"0", NumberError::None, 0},
      {"7", NumberError::None, 7},
      {"007", NumberError::None, 7},
      {"4294967296", NumberError::None, 4294967296ull},
      {"18446744073709551615", NumberError::None, 18446744073709551615ull},   // 2^64 - 1
      {"018446744073709551615", NumberError::None, 18446744073709551615ull},
      {"18446744073709551616", NumberError::OutOfRange},                       // 2^64
      {"18446744073709551617", NumberError::OutOfRange},
      {"99999999999999999999", NumberError::OutOfRange},
      {"999999999999999999999999999999999999999999", NumberError::OutOfRange},
      {"", NumberError::Empty},
      {"+1", NumberError::NotANumber},
      {"-1", NumberError::NotANumber},
      {"-0", NumberError::NotANumber},
      {" 1", NumberError::NotANumber},
      {"1 ", NumberError::NotANumber},
      {"1 2", NumberError::NotANumber},
      {"0x10", NumberError::NotANumber},
      {"1e3", NumberError::NotANumber},
      {"12abc", NumberError::NotANumber},
      {"99999999999999999999x", NumberError::NotANumber},   // too long AND not a number: not a number
      {"x", NumberError::NotANumber},
      {std::string("1\0", 2), NumberError::NotANumber},
  };
  for (const Case& c : cases) {
    const auto n = parse_unsigned<std::uint64_t>(c.text);
    EXPECT_EQ(n.error, c.error) << "'" << c.text << "'";
    EXPECT_EQ(static_cast<bool>(n), c.error == NumberError::None) << c.text;
    if (n) {
      EXPECT_EQ(n.value, c.value) << c.text;
    }
  }
}

TEST(Number, MaximumAndNarrowTypes) {
  EXPECT_EQ(parse_unsigned<std::uint64_t>("200", 200).value, 200u);
  EXPECT_EQ(parse_unsigned<std::uint64_t>("201", 200).error, NumberError::OutOfRange);
  EXPECT_EQ(parse_unsigned<unsigned>("4294967295").value, 4294967295u);
  EXPECT_EQ(parse_unsigned<unsigned>("4294967296").error, NumberError::OutOfRange);
  EXPECT_EQ(parse_unsigned<std::uint16_t>("65536").error, NumberError::OutOfRange);
  EXPECT_EQ(parse_unsigned<std::uint64_t>("4294967296", 4294967295u).error, NumberError::OutOfRange);
}

TEST(Number, Octal) {
  EXPECT_EQ(parse_unsigned<std::uint64_t>("0644", UINT64_MAX, 8).value, 0644u);
  EXPECT_EQ(parse_unsigned<std::uint64_t>("8", UINT64_MAX, 8).error, NumberError::NotANumber);
  EXPECT_EQ(parse_unsigned<std::uint64_t>("20000000000000", 1ull << 40, 8).value, 1ull << 40);
  EXPECT_EQ(parse_unsigned<std::uint64_t>("20000000000001", 1ull << 40, 8).error, NumberError::OutOfRange);
  EXPECT_EQ(parse_unsigned<std::uint64_t>("7777777777777777777777777", UINT64_MAX, 8).error,
            NumberError::OutOfRange);
}

TEST(Number, Scaled) {
  const auto size = [](std::string_view s, std::uint64_t max = UINT64_MAX) {
    return parse_scaled(s, kSizeSuffixes, kSizeFactors, max);
  };
  EXPECT_EQ(size("1234").value, 1234u);
  EXPECT_EQ(size("500M").value, 500ull << 20);
  EXPECT_EQ(size("500m").value, 500ull << 20);
  EXPECT_EQ(size("2G").value, 2ull << 30);
  EXPECT_EQ(size("2g").value, 2ull << 30);
  EXPECT_EQ(size("3k").value, 3072u);
  EXPECT_EQ(size("3K").value, 3072u);
  EXPECT_EQ(size("17179869183G").value, 17179869183ull << 30);   // the largest whole G in 64 bits
  EXPECT_EQ(size("17179869184G").error, NumberError::OutOfRange);  // 2^64 exactly
  EXPECT_EQ(size("99999999999G").error, NumberError::OutOfRange);  // wrapped to a small number before
  EXPECT_EQ(size("18014398509481984k").error, NumberError::OutOfRange);
  EXPECT_EQ(size("18446744073709551616").error, NumberError::OutOfRange);
  EXPECT_EQ(size("2G", 1ull << 30).error, NumberError::OutOfRange);
  EXPECT_EQ(size("G").error, NumberError::Empty);
  EXPECT_EQ(size("").error, NumberError::Empty);
  EXPECT_EQ(size("5T").error, NumberError::NotANumber);
  EXPECT_EQ(size("5MB").error, NumberError::NotANumber);
  EXPECT_EQ(size("-5M").error, NumberError::NotANumber);
  EXPECT_EQ(size("+5M").error, NumberError::NotANumber);
  EXPECT_EQ(size(" 5M").error, NumberError::NotANumber);
  EXPECT_EQ(size("5 M").error, NumberError::NotANumber);
}

TEST(Number, CheckedMultiply) {
  bool overflow = true;
  EXPECT_EQ(checked_multiply(0, UINT64_MAX, overflow), 0u);
  EXPECT_FALSE(overflow);
  EXPECT_EQ(checked_multiply(UINT64_MAX, 1, overflow), UINT64_MAX);
  EXPECT_FALSE(overflow);
  checked_multiply(1ull << 32, 1ull << 32, overflow);
  EXPECT_TRUE(overflow);
  checked_multiply(UINT64_MAX, 0, overflow);
  EXPECT_FALSE(overflow);
}

TEST(Number, Describe) {
  EXPECT_EQ(describe(NumberError::Empty), "is empty");
  EXPECT_EQ(describe(NumberError::NotANumber), "is not a number");
  EXPECT_EQ(describe(NumberError::OutOfRange), "is out of range");
}

}  // namespace

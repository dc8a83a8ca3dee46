// number.hpp - the one checked parser of unsigned numbers (pure, header-only).
//
// Every number boxmail reads from outside - configuration values, POP3
// message numbers, the control protocol's `log N`, quota=N in the
// passwd-file, the web panel's quota field, tar header fields - goes through
// parse_unsigned (std::from_chars plus range checks) and, for "500M"-style
// sizes, parse_scaled (a one-letter suffix whose factor is multiplied in with
// an overflow check). No wrap-around, no locale, no exceptions.
//
// Syntax: one or more digits of the base and nothing else: no sign ('+' or
// '-'), no blanks, no "0x" prefix; leading zeros are allowed. Anything else
// is NotANumber; a value above the caller's maximum (including one that does
// not fit 64 bits) is OutOfRange; "" is Empty.
#pragma once

#include <charconv>
#include <concepts>
#include <cstdint>
#include <limits>
#include <string_view>
#include <system_error>

namespace boxmail::text {

/// Why a number was refused.
enum class NumberError {
  None,         ///< parsed
  Empty,        ///< no digits at all
  NotANumber,   ///< a character that is not a digit of the base (sign, blank, letter, ...)
  OutOfRange,   ///< larger than the allowed maximum (or than 64 bits)
};

/// Short English text for an error ("is empty", "is not a number", "is out of range").
constexpr std::string_view describe(NumberError e) {
  switch (e) {
    case NumberError::None: return "is a number";
    case NumberError::Empty: return "is empty";
    case NumberError::NotANumber: return "is not a number";
    case NumberError::OutOfRange: return "is out of range";
  }
  return "is not a number";
}

/// A parsed number: `value` is meaningful only when `error` is None.
template <std::unsigned_integral T>
struct Number {
  T value = 0;
  NumberError error = NumberError::None;
  constexpr explicit operator bool() const { return error == NumberError::None; }
};

/// Parses all of `s` as an unsigned number in `base` (2..36; 10 or 8 here),
/// at most `max`. See the file comment for the syntax.
template <std::unsigned_integral T = std::uint64_t>
constexpr Number<T> parse_unsigned(std::string_view s, T max = std::numeric_limits<T>::max(), int base = 10) {
  Number<T> n;
  if (s.empty()) {
    n.error = NumberError::Empty;
    return n;
  }
  // from_chars accepts no blanks and no '+'; for unsigned types no '-' either.
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n.value, base);
  if (ec == std::errc::result_out_of_range) {
    // Too many digits for T; with anything after them it is not a number at all.
    n.value = 0;
    n.error = end == s.data() + s.size() ? NumberError::OutOfRange : NumberError::NotANumber;
    return n;
  }
  if (ec != std::errc() || end != s.data() + s.size()) {
    n.error = NumberError::NotANumber;
    n.value = 0;
    return n;
  }
  if (n.value > max) {
    n.error = NumberError::OutOfRange;
    n.value = 0;
  }
  return n;
}

/// a * b, or std::numeric_limits<std::uint64_t>::max() flagged by `overflow`.
constexpr std::uint64_t checked_multiply(std::uint64_t a, std::uint64_t b, bool& overflow) {
  overflow = b != 0 && a > std::numeric_limits<std::uint64_t>::max() / b;
  return overflow ? std::numeric_limits<std::uint64_t>::max() : a * b;
}

/// A decimal number with an optional one-letter suffix: `suffixes` holds
/// the lower-case letters (matched case-insensitively) and `factors` the
/// factor of each, in the same order ("kmg", {1024, 1048576, 1073741824}).
/// The product must not exceed `max`; "M" alone (no digits) is Empty.
constexpr Number<std::uint64_t> parse_scaled(std::string_view s, std::string_view suffixes,
                                             const std::uint64_t* factors,
                                             std::uint64_t max = std::numeric_limits<std::uint64_t>::max()) {
  std::uint64_t factor = 1;
  if (!s.empty()) {
    const char last = s.back() >= 'A' && s.back() <= 'Z' ? static_cast<char>(s.back() - 'A' + 'a') : s.back();
    if (const auto pos = suffixes.find(last); pos != std::string_view::npos) {
      s.remove_suffix(1);
      factor = factors[pos];
    }
  }
  Number<std::uint64_t> n = parse_unsigned<std::uint64_t>(s);
  if (!n) return n;
  bool overflow = false;
  const std::uint64_t v = checked_multiply(n.value, factor, overflow);
  if (overflow || v > max) return Number<std::uint64_t>{0, NumberError::OutOfRange};
  n.value = v;
  return n;
}

/// The 1024-based size suffixes of sizes in the configuration and the panel.
inline constexpr std::string_view kSizeSuffixes = "kmg";
inline constexpr std::uint64_t kSizeFactors[] = {1024, 1024 * 1024, 1024 * 1024 * 1024};

}  // namespace boxmail::text

// password.cpp - Dovecot-style password schemes over libxcrypt's crypt_r
// (see password.hpp).
#include "config/password.hpp"

#include "process/os_random.hpp"
#include "proto/sasl.hpp"

#include <crypt.h>

#include <array>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace boxmail::config {
namespace {

/// The crypt(3) salt alphabet: 64 characters, so a random octet & 63 is uniform.
constexpr std::string_view kSaltAlphabet =
    "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr std::size_t kSaltLength = 16;   // the most "$6$" takes

/// No 0/O, 1/l/I: a password read off a screen or paper is typed right.
constexpr std::string_view kPasswordAlphabet =
    "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

char upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

/// crypt_r(phrase, setting) or "" when crypt refuses (failure tokens start
/// with '*'). `phrase` and `setting` must be NUL-free.
std::string crypt_string(const std::string& phrase, const std::string& setting) {
  auto data = std::make_unique<crypt_data>();   // ~32 KiB: not on the stack
  const char* r = crypt_r(phrase.c_str(), setting.c_str(), data.get());
  if (r == nullptr || r[0] == '*' || r[0] == '\0') return {};
  return r;
}

/// Whether `hash` has the crypt(3) prefix that `scheme` (upper case) writes.
bool prefix_matches(std::string_view scheme, std::string_view hash) {
  if (scheme == "SHA512-CRYPT") return hash.starts_with("$6$");
  if (scheme == "SHA256-CRYPT") return hash.starts_with("$5$");
  if (scheme == "BLF-CRYPT") {
    return hash.starts_with("$2a$") || hash.starts_with("$2b$") || hash.starts_with("$2y$");
  }
  if (scheme == "CRYPT") return true;   // whatever crypt(3) itself accepts
  return false;                          // PLAIN, CLEARTEXT, unknown
}

}  // namespace

std::string hash_password(std::string_view plain) {
  if (plain.find('\0') != std::string_view::npos) {
    throw std::invalid_argument("password contains a NUL octet");
  }
  std::array<unsigned char, kSaltLength> raw{};
  process::os_random_bytes(raw.data(), raw.size());
  std::string setting = "$6$";
  for (unsigned char b : raw) setting += kSaltAlphabet[b & 63];
  const std::string hash = crypt_string(std::string(plain), setting);
  if (hash.empty() || !hash.starts_with(setting)) {
    throw std::runtime_error("crypt_r cannot make a SHA512-CRYPT hash");
  }
  return "{SHA512-CRYPT}" + hash;
}

bool verify_password(std::string_view plain, std::string_view stored) {
  if (plain.size() > kMaxPasswordLength) return false;
  if (stored.empty() || stored.front() != '{') return false;
  const auto close = stored.find('}');
  if (close == std::string_view::npos) return false;
  std::string scheme(stored.substr(1, close - 1));
  for (char& c : scheme) c = upper(c);
  const std::string_view hash = stored.substr(close + 1);
  if (!prefix_matches(scheme, hash)) return false;
  if (hash.empty() || hash.find('\0') != std::string_view::npos ||
      plain.find('\0') != std::string_view::npos) {
    return false;
  }
  const std::string computed = crypt_string(std::string(plain), std::string(hash));
  if (computed.empty()) return false;
  return proto::sasl::constant_time_equal(computed, hash);
}

std::string random_password(std::size_t length) {
  constexpr std::size_t n = kPasswordAlphabet.size();
  constexpr std::size_t limit = 256 - 256 % n;   // reject octets past the last whole multiple
  std::string out;
  out.reserve(length);
  std::array<unsigned char, 64> buf{};
  while (out.size() < length) {
    process::os_random_bytes(buf.data(), buf.size());
    for (unsigned char b : buf) {
      if (b >= limit) continue;
      out += kPasswordAlphabet[b % n];
      if (out.size() == length) break;
    }
  }
  return out;
}

}  // namespace boxmail::config

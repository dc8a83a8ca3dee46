// password.hpp - password hashing for mailbox accounts (Dovecot schemes).
//
// hash_password makes "{SHA512-CRYPT}$6$<16 salt chars>$<hash>" with libxcrypt's
// crypt_r (the same algorithm Dovecot, glibc and shadow use) and a salt drawn
// from the kernel, getrandom(2) (process/os_random.hpp). verify_password accepts the schemes
// Dovecot writes with crypt(3): SHA512-CRYPT, SHA256-CRYPT, BLF-CRYPT, CRYPT.
// Plaintext schemes ({PLAIN}, {CLEARTEXT}) are refused: verify returns false.
#pragma once

#include <string>
#include <string_view>

namespace boxmail::config {

/// The longest password any login takes (octets). Longer ones are refused
/// before any hashing, so a guesser cannot buy 16 ms of SHA512-CRYPT per
/// try with a long password; boxmailctl refuses to set one.
constexpr std::size_t kMaxPasswordLength = 256;

/// The shortest administrator (web panel) password boxmailctl sets.
constexpr std::size_t kMinAdminPasswordLength = 10;

/// Returns "{SHA512-CRYPT}$6$..." for `plain`. Throws std::runtime_error only
/// if the random generator or crypt fails (an unusable system).
std::string hash_password(std::string_view plain);

/// True when `plain` matches `stored` ("{SCHEME}hash"); false on mismatch,
/// unknown or plaintext scheme, malformed hash, or a `plain` longer than
/// kMaxPasswordLength (refused before hashing). Compares in constant time.
bool verify_password(std::string_view plain, std::string_view stored);

/// A random password of `length` characters from an unambiguous alphabet
/// (for the demo mailboxes and `boxmailctl user add --random`).
std::string random_password(std::size_t length);

}  // namespace boxmail::config

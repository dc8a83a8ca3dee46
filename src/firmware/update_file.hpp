// update_file.hpp - the firmware update file: its signed header, and the
// checks made before any octet of it is written to the box's inactive slot
// (docs/firmware.md, "The update file").
//
// Shape (every header line ends in LF; the header is at most kMaxHeader
// octets; the parts follow the blank line, in the order listed, with
// nothing after the last):
//
//   boxmail-firmware 1
//   board qemu-aarch64
//   version 0.5.0+20261203
//   part kernel 31457280 <SHA-256 of the part, 64 lower-case hex digits>
//   part initramfs 7340032 <SHA-256, hex>
//   key 9f2c51e07a3b44d1
//   signature <ECDSA P-256 signature, DER, lower-case hex>
//   <empty line>
//   <kernel octets><initramfs octets>
//
// The signature (ECDSA over P-256 with SHA-256: FIPS 186-4, SEC 1; DER as
// RFC 5480 3 / RFC 3279 2.2.3) covers the header from its first octet up to
// and including the LF of the `key` line; the parts are bound to it by
// their SHA-256 (FIPS 180-4). `key` names the signing key (the first 8
// octets of the SHA-256 of its DER SubjectPublicKeyInfo, RFC 5480 2), so a
// box can say which key a refused file was signed with. Written by
// board/common/sign_firmware.py; the box holds only the public key.
//
// Every check is strict: one spelling of each line, no extra spaces, no
// unknown lines, names and versions from small alphabets (they end up in
// the panel's page and the log). Errors are short English sentences meant
// for the administrator ("the file is signed with key X; this box trusts
// key Y").
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boxmail::firmware {

/// The largest header accepted (octets, up to and including the blank line).
inline constexpr std::size_t kMaxHeader = 4096;
/// The largest part (octets): more than any kernel or root file system the
/// boards take.
inline constexpr std::uint64_t kMaxPart = 256ull * 1024 * 1024;
/// At most this many parts.
inline constexpr std::size_t kMaxParts = 8;

/// One part of the payload: a name ([a-z0-9-], 1..32 characters, unique in
/// the file), its size in octets (1..kMaxPart) and its SHA-256.
struct Part {
  std::string name;
  std::uint64_t size = 0;
  std::array<std::uint8_t, 32> sha256{};
};

/// A parsed header (not yet verified: see verify_signature).
struct UpdateHeader {
  std::string board;             ///< the board the firmware is for ([a-z0-9-], 1..32)
  std::string version;           ///< printable, no space ([A-Za-z0-9.+~_-], 1..64)
  std::vector<Part> parts;       ///< 1..kMaxParts, in file order
  std::string key_id;            ///< 16 lower-case hex digits
  std::string signature;         ///< DER octets
  std::size_t signed_size = 0;   ///< octets of the header the signature covers
  std::size_t header_size = 0;   ///< octets before the first part (incl. the blank line)

  /// The sum of the parts' sizes (octets).
  std::uint64_t payload_size() const;
};

/// Result of parse_header: `header`, or `error` saying what is wrong.
struct HeaderParse {
  std::optional<UpdateHeader> header;
  std::string error;
};

/// Parses the header at the start of `bytes` (the file's first octets: at
/// least the whole header, more is ignored). Errors: not a boxmail firmware
/// file (first line), an unsupported format version, a line that is not
/// exactly one of the forms above or out of order, a header longer than
/// kMaxHeader or cut short.
HeaderParse parse_header(std::string_view bytes);

/// Verifies the header's signature with `public_key` (PEM or DER
/// SubjectPublicKeyInfo of an ECDSA P-256 key). "" when it holds; else why
/// not: the key cannot be read or is not P-256, the file names another key
/// (its id and this key's), or the signature does not match (the header
/// was changed after signing).
std::string verify_signature(std::string_view header_bytes, const UpdateHeader& header,
                             std::string_view public_key);

/// The key id of `public_key` (see the file comment), or "" when it cannot
/// be read.
std::string key_id(std::string_view public_key);

/// True for a part or board name as the header spells it: [a-z0-9-], 1..32
/// characters.
bool is_update_name(std::string_view s);

/// True for a version as the header spells it: [A-Za-z0-9.+~_-], 1..64
/// characters.
bool is_update_version(std::string_view s);

/// Checks the payload as it streams in (the octets after the header, in
/// any chunking): each part's size and SHA-256, and that nothing follows
/// the last part. Cheap enough to run on the upload itself; the caller
/// writes each part where it belongs (the parts' sizes in the header say
/// where each one begins).
class PayloadCheck {
 public:
  /// Checks against `header`'s parts (kept by reference: it must outlive this).
  explicit PayloadCheck(const UpdateHeader& header);
  ~PayloadCheck();
  PayloadCheck(const PayloadCheck&) = delete;
  PayloadCheck& operator=(const PayloadCheck&) = delete;

  /// Feeds the next `data`. "" while all is well; else the first error
  /// (a part whose SHA-256 differs; octets after the last part), and every
  /// later call returns it again.
  std::string feed(std::string_view data);

  /// At the end of the file: "" when every part was complete and matched;
  /// else the error (a part cut short, or the one feed() reported).
  std::string finish();

  /// Octets fed so far.
  std::uint64_t offset() const { return offset_; }

 private:
  const UpdateHeader& header_;
  std::size_t part_ = 0;           // the part being hashed
  std::uint64_t in_part_ = 0;      // its octets so far
  std::uint64_t offset_ = 0;
  std::string error_;
  void* md_ = nullptr;             // mbedtls_md_context_t
  void start_part();
  bool end_part();
};

/// Checks a whole update file at `path` for `board` with `public_key`:
/// header, signature, board, every part. "" when it may be installed (and
/// `*header` filled when not null); else the message for the
/// administrator. Reads the file once, in 64 KiB chunks; I/O errors are
/// reported with the path.
std::string check_file(const std::string& path, std::string_view board, std::string_view public_key,
                       UpdateHeader* header = nullptr);

}  // namespace boxmail::firmware

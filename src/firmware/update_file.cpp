// update_file.cpp - see update_file.hpp.
#include "firmware/update_file.hpp"

#include "text/number.hpp"
#include "tls/digest.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include <mbedtls/ecp.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>

namespace boxmail::firmware {

namespace {

constexpr std::string_view kMagic = "boxmail-firmware 1";

bool in_alphabet(std::string_view s, std::size_t max, std::string_view extra) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || extra.find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

bool is_name(std::string_view s) { return in_alphabet(s, 32, "-"); }
bool is_version(std::string_view s) { return in_alphabet(s, 64, "ABCDEFGHIJKLMNOPQRSTUVWXYZ.+~_-"); }

/// Lower-case hex of exactly `octets` octets into `out`; false otherwise.
bool parse_hex(std::string_view s, std::size_t min_octets, std::size_t max_octets, std::string& out) {
  if (s.size() % 2 != 0 || s.size() < 2 * min_octets || s.size() > 2 * max_octets) return false;
  out.clear();
  for (std::size_t i = 0; i < s.size(); i += 2) {
    int v = 0;
    for (std::size_t j = 0; j < 2; ++j) {
      const char c = s[i + j];
      int d = 0;
      if (c >= '0' && c <= '9') d = c - '0';
      else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
      else return false;
      v = v * 16 + d;
    }
    out += static_cast<char>(v);
  }
  return true;
}

/// Splits `line` at single spaces into exactly `n` fields; false when there
/// are more or fewer, or an empty one (two spaces, a leading or trailing one).
bool fields(std::string_view line, std::size_t n, std::string_view* out) {
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t sp = i + 1 < n ? line.find(' ') : std::string_view::npos;
    if (i + 1 < n && sp == std::string_view::npos) return false;
    out[i] = line.substr(0, sp);
    if (out[i].empty() || out[i].find(' ') != std::string_view::npos) return false;
    if (i + 1 < n) line.remove_prefix(sp + 1);
  }
  return true;
}

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

/// A parsed public key; ok() false when `key` is neither PEM nor DER of a
/// public key.
struct PublicKey {
  mbedtls_pk_context pk;
  bool loaded = false;
  explicit PublicKey(std::string_view key) {
    mbedtls_pk_init(&pk);
    // PEM must end in a NUL that the length counts (mbedtls_pk_parse_public_key).
    std::string text(key);
    if (text.find("-----BEGIN") != std::string::npos) text.push_back('\0');
    loaded = mbedtls_pk_parse_public_key(&pk, bytes(text), text.size()) == 0;
  }
  ~PublicKey() { mbedtls_pk_free(&pk); }
  PublicKey(const PublicKey&) = delete;
  PublicKey& operator=(const PublicKey&) = delete;

  bool is_p256() const {
    return loaded && mbedtls_pk_can_do(&pk, MBEDTLS_PK_ECDSA) &&
           mbedtls_pk_ec(pk)->grp.id == MBEDTLS_ECP_DP_SECP256R1;   // 3.x: MBEDTLS_PRIVATE(grp)
  }

  std::string id() {
    unsigned char der[256];
    const int n = mbedtls_pk_write_pubkey_der(&pk, der, sizeof der);   // written at the end of der
    if (n <= 0) return {};
    const std::string_view spki(reinterpret_cast<const char*>(der) + sizeof der - n, static_cast<std::size_t>(n));
    return tls::hex(tls::sha256(spki), 8);
  }
};

}  // namespace

bool is_update_name(std::string_view s) { return is_name(s); }
bool is_update_version(std::string_view s) { return is_version(s); }

std::uint64_t UpdateHeader::payload_size() const {
  std::uint64_t n = 0;
  for (const Part& p : parts) n += p.size;
  return n;
}

HeaderParse parse_header(std::string_view bytes) {
  HeaderParse r;
  UpdateHeader h;
  std::size_t pos = 0;
  // The lines in order: magic, board, version, part+, key, signature, "".
  enum class Want { Magic, Board, Version, Part, Signature, Blank } want = Want::Magic;
  for (;;) {
    const std::size_t lf = bytes.find('\n', pos);
    if (lf == std::string_view::npos || lf + 1 > kMaxHeader) {
      const bool magic_so_far = kMagic.starts_with(bytes.substr(0, kMagic.size())) || bytes.starts_with(kMagic);
      if (bytes.empty()) {
        r.error = "not a boxmail firmware file (it is empty)";
      } else if (pos == 0 && !magic_so_far) {
        r.error = "not a boxmail firmware file";
      } else if (lf == std::string_view::npos && bytes.size() < kMaxHeader) {
        r.error = "the file ends inside its header (cut short?)";
      } else {
        r.error = "the header is longer than " + std::to_string(kMaxHeader) + " octets";
      }
      return r;
    }
    const std::string_view line = bytes.substr(pos, lf - pos);
    const std::size_t next = lf + 1;
    std::string_view f[4];
    switch (want) {
      case Want::Magic:
        if (line != kMagic) {
          r.error = line.starts_with("boxmail-firmware ") ? "a firmware file of a format this box does not know ('" +
                                                                std::string(line.substr(0, 40)) + "')"
                                                          : "not a boxmail firmware file";
          return r;
        }
        want = Want::Board;
        break;
      case Want::Board:
        if (!fields(line, 2, f) || f[0] != "board" || !is_name(f[1])) {
          r.error = "line 2 is not 'board NAME'";
          return r;
        }
        h.board = f[1];
        want = Want::Version;
        break;
      case Want::Version:
        if (!fields(line, 2, f) || f[0] != "version" || !is_version(f[1])) {
          r.error = "line 3 is not 'version TEXT' (letters, digits and .+~_- only)";
          return r;
        }
        h.version = f[1];
        want = Want::Part;
        break;
      case Want::Part:
        if (line.starts_with("part ")) {
          Part p;
          std::string digest;
          bool ok = fields(line, 4, f) && is_name(f[1]) && parse_hex(f[3], 32, 32, digest);
          if (ok && f[2].size() > 1 && f[2][0] == '0') ok = false;   // one spelling: no leading zeros
          if (ok) {
            const auto size = text::parse_unsigned<std::uint64_t>(f[2], kMaxPart);
            ok = size && size.value > 0;
            p.size = ok ? size.value : 0;
          }
          if (!ok) {
            r.error = "a line is not 'part NAME SIZE SHA256' (size 1.." + std::to_string(kMaxPart) + ")";
            return r;
          }
          for (const Part& q : h.parts) {
            if (q.name == f[1]) {
              r.error = "the part '" + std::string(f[1]) + "' is listed twice";
              return r;
            }
          }
          if (h.parts.size() == kMaxParts) {
            r.error = "more than " + std::to_string(kMaxParts) + " parts";
            return r;
          }
          p.name = f[1];
          std::memcpy(p.sha256.data(), digest.data(), 32);
          h.parts.push_back(std::move(p));
          break;
        }
        if (h.parts.empty()) {
          r.error = "no 'part' line: the file carries nothing to install";
          return r;
        }
        if (!fields(line, 2, f) || f[0] != "key" || f[1].size() != 16 || !parse_hex(f[1], 8, 8, h.key_id)) {
          r.error = "the line after the parts is not 'key ID' (16 hex digits)";
          return r;
        }
        h.key_id = f[1];
        h.signed_size = next;
        want = Want::Signature;
        break;
      case Want::Signature:
        if (!fields(line, 2, f) || f[0] != "signature" || !parse_hex(f[1], 8, 72, h.signature)) {
          r.error = "the line after 'key' is not 'signature HEX' (an ECDSA P-256 signature, DER)";
          return r;
        }
        want = Want::Blank;
        break;
      case Want::Blank:
        if (!line.empty()) {
          r.error = "the header does not end with an empty line after 'signature'";
          return r;
        }
        h.header_size = next;
        r.header = std::move(h);
        return r;
    }
    pos = next;
  }
}

std::string key_id(std::string_view public_key) {
  PublicKey k(public_key);
  return k.loaded ? k.id() : std::string();
}

std::string verify_signature(std::string_view header_bytes, const UpdateHeader& header,
                             std::string_view public_key) {
  PublicKey k(public_key);
  if (!k.is_p256()) return "this box's firmware key cannot be read (not an ECDSA P-256 public key)";
  const std::string ours = k.id();
  if (header.key_id != ours) {
    return "the file is signed with key " + header.key_id + "; this box trusts key " + ours + " only";
  }
  if (header_bytes.size() < header.signed_size) return "the header is cut short";
  const tls::Digest256 hash = tls::sha256(header_bytes.substr(0, header.signed_size));
  if (mbedtls_pk_verify(&k.pk, MBEDTLS_MD_SHA256, hash.data(), hash.size(), bytes(header.signature),
                        header.signature.size()) != 0) {
    return "the signature does not match: the file was changed after it was signed";
  }
  return {};
}

PayloadCheck::PayloadCheck(const UpdateHeader& header) : header_(header) {
  auto* md = new mbedtls_md_context_t;
  mbedtls_md_init(md);
  md_ = md;
  if (mbedtls_md_setup(md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 0) != 0) {
    error_ = "SHA-256 is not available";
    return;
  }
  start_part();
}

PayloadCheck::~PayloadCheck() {
  auto* md = static_cast<mbedtls_md_context_t*>(md_);
  mbedtls_md_free(md);
  delete md;
}

void PayloadCheck::start_part() {
  in_part_ = 0;
  if (part_ < header_.parts.size()) mbedtls_md_starts(static_cast<mbedtls_md_context_t*>(md_));
}

bool PayloadCheck::end_part() {
  std::array<std::uint8_t, 32> got{};
  mbedtls_md_finish(static_cast<mbedtls_md_context_t*>(md_), got.data());
  const Part& p = header_.parts[part_];
  if (got != p.sha256) {
    error_ = "the part '" + p.name + "' does not match its SHA-256 in the signed header (corrupt or changed)";
    return false;
  }
  ++part_;
  start_part();
  return true;
}

std::string PayloadCheck::feed(std::string_view data) {
  while (error_.empty() && !data.empty()) {
    if (part_ == header_.parts.size()) {
      error_ = "the file goes on after its last part";
      break;
    }
    const std::uint64_t want = header_.parts[part_].size - in_part_;
    const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(want, data.size()));
    mbedtls_md_update(static_cast<mbedtls_md_context_t*>(md_), bytes(data), take);
    in_part_ += take;
    offset_ += take;
    data.remove_prefix(take);
    if (in_part_ == header_.parts[part_].size && !end_part()) break;
  }
  return error_;
}

std::string PayloadCheck::finish() {
  if (error_.empty() && part_ < header_.parts.size()) {
    error_ = "the file ends inside the part '" + header_.parts[part_].name + "' (cut short?)";
  }
  return error_;
}

std::string check_file(const std::string& path, std::string_view board, std::string_view public_key,
                       UpdateHeader* out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return path + ": " + std::strerror(errno);
  std::string buf(64 * 1024, '\0');
  // Reads up to `max` octets into buf; the count, 0 at the end, -1 on error.
  auto next = [&](std::size_t max) -> ssize_t {
    for (;;) {
      const ssize_t n = ::read(fd, buf.data(), std::min(max, buf.size()));
      if (n >= 0 || errno != EINTR) return n;
    }
  };
  std::string error;
  std::string head;   // the file's first kMaxHeader octets (fewer if it is shorter)
  ssize_t n = 1;
  while (head.size() < kMaxHeader && (n = next(kMaxHeader - head.size())) > 0) head.append(buf.data(), n);
  HeaderParse p;
  if (n >= 0) p = parse_header(head);
  if (n < 0) {
    error = path + ": " + std::strerror(errno);
  } else if (!p.header) {
    error = p.error;
  } else if (p.header->board != board) {
    error = "this firmware is for the board '" + p.header->board + "', this box is '" + std::string(board) + "'";
  } else {
    error = verify_signature(head, *p.header, public_key);
  }
  if (error.empty()) {
    PayloadCheck payload(*p.header);
    error = payload.feed(std::string_view(head).substr(p.header->header_size));
    while (error.empty() && (n = next(buf.size())) > 0) error = payload.feed(std::string_view(buf.data(), n));
    if (error.empty()) error = n < 0 ? path + ": " + std::strerror(errno) : payload.finish();
  }
  ::close(fd);
  if (error.empty() && out != nullptr) *out = *p.header;
  return error;
}

}  // namespace boxmail::firmware

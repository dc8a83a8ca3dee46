// mailbox.hpp - RFC 5321 4.1.2 path syntax: Reverse-path and Forward-path.
//
// Pure parsers over the text that follows "MAIL FROM:" / "RCPT TO:". They
// accept the RFC 5321 grammar: Dot-string and Quoted-string local-parts,
// domains, address literals ([1.2.3.4], [IPv6:...]), the null reverse-path <>,
// the special <Postmaster> forward-path, and source routes (@a,@b:user@dom),
// which are parsed and dropped (RFC 5321 4.1.1.3, C.). Not accepted: a path
// without angle brackets, a missing domain (except <Postmaster>), user@host@us
// and other syntax errors. The parsers never throw; the error text is meant
// for a 501 5.1.3 / 501 5.1.7 reply.
//
// Source: RFC 5321 4.1.2 (Path, Mailbox, Local-part, Domain, address-literal),
// RFC 5321 4.5.3.1 (local-part <= 64, domain <= 255 octets).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace boxmail::address {

/// An envelope mailbox. `local_part` is the decoded local-part: for a
/// Quoted-string the quotes and backslash escapes are removed ("a b"@x gives
/// `a b`), so relay tricks hidden in quotes ("user@host"@us) are visible.
struct Mailbox {
  std::string local_part;   ///< decoded, case kept as given
  std::string domain;       ///< as given: "example.com" or "[192.0.2.1]"; empty only for <Postmaster>
  bool quoted = false;      ///< the local-part was a Quoted-string
  bool address_literal = false;  ///< domain is an address literal
  /// "local@domain" in RFC 5321 form (quotes the local-part when needed).
  std::string to_string() const;
};

/// Result of parsing a path. On success `error` is empty and `end` is the
/// index just past the closing '>' in the input (ESMTP parameters follow).
struct PathResult {
  Mailbox mailbox;          ///< empty local_part and domain for the null path <>
  bool null_path = false;   ///< the reverse-path was "<>"
  std::size_t end = 0;
  std::string error;        ///< empty on success
};

/// Reverse-path = Path / "<>"  (RFC 5321 4.1.2). `text` starts at '<'
/// (leading spaces are skipped for leniency with old clients).
PathResult parse_reverse_path(std::string_view text);

/// Forward-path = Path / "<Postmaster>" (case-insensitive; its domain is empty).
PathResult parse_forward_path(std::string_view text);

/// True when `domain` is a syntactically valid RFC 5321 Domain (not a literal).
bool is_valid_domain(std::string_view domain);

}  // namespace boxmail::address

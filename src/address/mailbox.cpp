// mailbox.cpp - RFC 5321 4.1.2 path parser (see mailbox.hpp for the contract).
//
// The parser walks the text once, left to right, with a plain index. It stops
// at the first problem and returns a short error; it never throws and never
// reads past the end of `text`. Grammar implemented (RFC 5321 4.1.2, 4.1.3):
//
//   Path       = "<" [ A-d-l ":" ] Mailbox ">"
//   A-d-l      = At-domain *( "," At-domain )      ; parsed, checked, dropped
//   Mailbox    = Local-part "@" ( Domain / address-literal )
//   Local-part = Dot-string / Quoted-string
//   Domain     = sub-domain *("." sub-domain)      ; labels <= 63 octets
//   address-literal = "[" ( IPv4 / "IPv6:" IPv6-addr / tag ":" 1*dcontent ) "]"
//
// Choices where the RFC leaves room:
//  - Lengths (RFC 5321 4.5.3.1) are counted on the wire form: a Quoted-string
//    local-part counts its quotes and backslashes; an address literal counts
//    its brackets. The 256-octet path limit (4.5.3.1.3) is not enforced here:
//    the command-line limit of the SMTP parser bounds the whole line.
//  - A Quoted-string that decodes to nothing (""@example.com) is refused as an
//    empty local-part.
//  - "IPv6:" is matched case-insensitively (RFC 5234 string literals). "::"
//    may stand for one or more zero groups (RFC 4291), as inet_pton allows.
//  - A trailing dot in a domain (user@example.com.) is a syntax error, as in
//    the grammar.
//  - SMTPUTF8 (RFC 6531) is not supported: any octet >= 0x80 is refused.
#include "address/mailbox.hpp"

#include "text/ascii.hpp"

#include <string>
#include <utility>

namespace boxmail::address {
namespace {

constexpr std::size_t kMaxLocalPart = 64;   // RFC 5321 4.5.3.1.1
constexpr std::size_t kMaxDomain = 255;     // RFC 5321 4.5.3.1.2
constexpr std::size_t kMaxLabel = 63;       // RFC 1035 2.3.4

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_let_dig(char c) { return is_alpha(c) || is_digit(c); }
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
/// atext of RFC 5322 3.2.3, as used by RFC 5321 Atom.
bool is_atext(char c) {
  if (is_let_dig(c)) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*':
    case '+': case '-': case '/': case '=': case '?': case '^': case '_':
    case '`': case '{': case '|': case '}': case '~':
      return true;
    default:
      return false;
  }
}

/// Printable US-ASCII, %d32-126 (the range of quoted-pairSMTP's second octet).
bool is_print(char c) { return c >= 32 && c <= 126; }

/// dcontent = %d33-90 / %d94-126 (printable, no space, '[', '\', ']').
bool is_dcontent(char c) { return (c >= 33 && c <= 90) || (c >= 94 && c <= 126); }

/// Dot-string = Atom *("." Atom): non-empty atoms of atext.
bool is_dot_string(std::string_view s) {
  if (s.empty()) return false;
  bool atom_empty = true;
  for (char c : s) {
    if (c == '.') {
      if (atom_empty) return false;
      atom_empty = true;
    } else if (is_atext(c)) {
      atom_empty = false;
    } else {
      return false;
    }
  }
  return !atom_empty;
}

/// Error text for an octet found where the grammar does not allow it.
/// `where` names the part being parsed ("local-part", "domain", ...).
std::string unexpected(char c, std::string_view where) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x80) return "8-bit characters are not supported (no SMTPUTF8)";
  if (u < 0x20 || u == 0x7f) return "control character in " + std::string(where);
  if (c == ' ') return "unexpected space in " + std::string(where);
  return "invalid character '" + std::string(1, c) + "' in " + std::string(where);
}

/// Snum 3("." Snum), each Snum 1*3DIGIT with value 0..255.
bool is_ipv4(std::string_view s) {
  int parts = 0;
  std::size_t i = 0;
  while (true) {
    std::size_t digits = 0;
    int value = 0;
    while (i < s.size() && is_digit(s[i]) && digits < 4) {
      value = value * 10 + (s[i] - '0');
      ++i;
      ++digits;
    }
    if (digits == 0 || digits > 3 || value > 255) return false;
    ++parts;
    if (i == s.size()) return parts == 4;
    if (s[i] != '.' || parts == 4) return false;
    ++i;
  }
}

/// Counts the 16-bit groups in a run of "h:h:h" (possibly ending in an IPv4
/// dotted quad when `allow_v4`), or -1 when malformed. An empty run is 0.
int ipv6_groups(std::string_view s, bool allow_v4) {
  if (s.empty()) return 0;
  int groups = 0;
  std::size_t start = 0;
  while (true) {
    const std::size_t colon = s.find(':', start);
    const std::string_view piece =
        s.substr(start, colon == std::string_view::npos ? std::string_view::npos : colon - start);
    if (colon == std::string_view::npos && allow_v4 && piece.find('.') != std::string_view::npos) {
      return is_ipv4(piece) ? groups + 2 : -1;
    }
    if (piece.empty() || piece.size() > 4) return -1;
    for (char c : piece)
      if (!is_hex(c)) return -1;
    ++groups;
    if (colon == std::string_view::npos) return groups;
    start = colon + 1;
  }
}

/// RFC 5321 IPv6-addr (full, compressed, and the IPv4-embedded forms).
bool is_ipv6(std::string_view s) {
  const std::size_t dc = s.find("::");
  if (dc == std::string_view::npos) return ipv6_groups(s, true) == 8;
  if (s.find("::", dc + 1) != std::string_view::npos) return false;  // at most one "::"
  const std::string_view head = s.substr(0, dc);
  const std::string_view tail = s.substr(dc + 2);
  const int h = ipv6_groups(head, false);
  const int t = ipv6_groups(tail, true);
  if (h < 0 || t < 0) return false;
  return h + t <= 7;  // "::" stands for at least one group
}

/// Checks the inside of an address literal (between '[' and ']').
/// Returns an empty string when valid, else the error.
std::string literal_error(std::string_view in) {
  if (in.empty()) return "empty address literal";
  if (is_digit(in[0]) && in.find(':') == std::string_view::npos)
    return is_ipv4(in) ? std::string() : "invalid IPv4 address literal";
  const std::size_t colon = in.find(':');
  if (colon == std::string_view::npos) return "invalid address literal";
  const std::string_view tag = in.substr(0, colon);
  const std::string_view rest = in.substr(colon + 1);
  if (text::iequals(tag, "IPv6"))
    return is_ipv6(rest) ? std::string() : "invalid IPv6 address literal";
  // General-address-literal: Standardized-tag = Ldh-str, 1*dcontent.
  if (tag.empty() || !is_let_dig(tag.back())) return "invalid address literal tag";
  for (char c : tag)
    if (!is_let_dig(c) && c != '-') return "invalid address literal tag";
  if (rest.empty()) return "empty address literal";
  for (char c : rest)
    if (!is_dcontent(c)) return unexpected(c, "address literal");
  return {};
}

/// Why `domain` is not an RFC 5321 Domain, or an empty string when it is one:
/// sub-domain = Let-dig [Ldh-str], Ldh-str ending in Let-dig, labels of 1..63
/// octets (RFC 1035 2.3.4), at most 255 octets in all.
std::string domain_error(std::string_view domain) {
  if (domain.empty()) return "missing domain";
  if (domain.size() > kMaxDomain) return "domain longer than 255 octets";
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = domain.find('.', start);
    const std::string_view label =
        domain.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty()) return "invalid domain: empty label";
    if (label.size() > kMaxLabel) return "invalid domain: label longer than 63 octets";
    for (char c : label)
      if (!is_let_dig(c) && c != '-') return unexpected(c, "domain");
    if (!is_let_dig(label.front()) || !is_let_dig(label.back()))
      return "invalid domain: label starts or ends with '-'";
    if (dot == std::string_view::npos) return {};
    start = dot + 1;
  }
}

/// Octets that may appear in a Domain (letters, digits, '-', '.').
bool is_domain_char(char c) { return is_let_dig(c) || c == '-' || c == '.'; }

/// The parser state: the input and an index into it.
class PathParser {
 public:
  PathParser(std::string_view text, bool reverse) : text_(text), reverse_(reverse) {}

  PathResult run() {
    PathResult r;
    while (i_ < text_.size() && text_[i_] == ' ') ++i_;
    if (i_ == text_.size()) return fail(r, "missing path");
    if (text_[i_] != '<') {
      const auto u = static_cast<unsigned char>(text_[i_]);
      if (u >= 0x80) return fail(r, unexpected(text_[i_], "path"));
      return fail(r, "path must be enclosed in '<' and '>'");
    }
    ++i_;
    if (peek() == '>') {
      if (!reverse_) return fail(r, "null path <> is not a valid forward-path");
      r.null_path = true;
      r.end = i_ + 1;
      return r;
    }
    if (!reverse_) {
      constexpr std::string_view kPostmaster = "postmaster>";
      if (text_.size() - i_ >= kPostmaster.size() &&
          text::iequals(text_.substr(i_, kPostmaster.size()), kPostmaster)) {
        r.mailbox.local_part = std::string(text_.substr(i_, kPostmaster.size() - 1));
        r.end = i_ + kPostmaster.size();
        return r;
      }
    }
    if (peek() == '@') {
      if (std::string e = source_route(); !e.empty()) return fail(r, e);
    }
    if (std::string e = local_part(r.mailbox); !e.empty()) return fail(r, e);
    if (std::string e = domain(r.mailbox); !e.empty()) return fail(r, e);
    if (i_ == text_.size()) return fail(r, "missing '>' at end of path");
    if (text_[i_] == '@') return fail(r, "more than one '@' in address");
    if (text_[i_] != '>') return fail(r, unexpected(text_[i_], "domain"));
    r.end = i_ + 1;
    return r;
  }

 private:
  /// The current octet, or NUL at the end of the input (never valid here).
  char peek() const { return i_ < text_.size() ? text_[i_] : '\0'; }

  static PathResult& fail(PathResult& r, std::string error) {
    r.mailbox = Mailbox{};
    r.null_path = false;
    r.end = 0;
    r.error = std::move(error);
    return r;
  }

  /// Scans a Domain token at i_ (letters, digits, '-', '.') and validates it.
  std::string scan_domain(std::string_view& out) {
    const std::size_t start = i_;
    while (i_ < text_.size() && is_domain_char(text_[i_])) ++i_;
    out = text_.substr(start, i_ - start);
    if (out.empty()) {
      if (i_ == text_.size()) return "missing domain";
      const char c = text_[i_];
      if (c == '>' || c == ',' || c == ':') return "missing domain";
      return unexpected(c, "domain");
    }
    return domain_error(out);
  }

  /// A-d-l ":" - source route, RFC 5321 4.1.2 and C; checked, then dropped.
  std::string source_route() {
    while (true) {
      if (peek() != '@') return "invalid source route";
      ++i_;
      std::string_view d;
      if (std::string e = scan_domain(d); !e.empty()) return e;
      if (i_ == text_.size()) return "missing '>' at end of path";
      if (text_[i_] == ':') {
        ++i_;
        return {};
      }
      if (text_[i_] == '>') return "empty local-part";
      if (text_[i_] != ',') return "invalid source route";
      ++i_;
    }
  }

  /// Local-part = Dot-string / Quoted-string, followed by '@'.
  std::string local_part(Mailbox& m) {
    const std::size_t start = i_;
    if (peek() == '"') {
      m.quoted = true;
      ++i_;
      while (true) {
        if (i_ == text_.size()) return "unterminated quoted local-part";
        const char c = text_[i_];
        if (c == '"') {
          ++i_;
          break;
        }
        if (c == '\\') {  // quoted-pairSMTP = %d92 %d32-126
          ++i_;
          if (i_ == text_.size()) return "unterminated quoted local-part";
          if (!is_print(text_[i_])) return unexpected(text_[i_], "local-part");
          m.local_part.push_back(text_[i_]);
          ++i_;
          continue;
        }
        if (!is_print(c)) return unexpected(c, "local-part");  // qtextSMTP
        m.local_part.push_back(c);
        ++i_;
      }
      if (i_ - start > kMaxLocalPart) return "local-part longer than 64 octets";
      if (m.local_part.empty()) return "empty local-part";
      if (i_ == text_.size()) return "missing '>' at end of path";
      if (text_[i_] == '>') return "missing '@' and domain";
      if (text_[i_] != '@') return unexpected(text_[i_], "local-part");
      ++i_;
      return {};
    }
    while (i_ < text_.size() && (is_atext(text_[i_]) || text_[i_] == '.')) ++i_;
    const std::string_view raw = text_.substr(start, i_ - start);
    if (i_ == text_.size()) return raw.empty() ? "missing address" : "missing '>' at end of path";
    const char c = text_[i_];
    if (c == '>') return raw.empty() ? "empty path" : "missing '@' and domain";
    if (c == '@') {
      if (raw.empty()) return "empty local-part";
    } else {
      return unexpected(c, "local-part");
    }
    if (raw.size() > kMaxLocalPart) return "local-part longer than 64 octets";
    if (!is_dot_string(raw)) return "invalid local-part (misplaced '.')";
    m.local_part = std::string(raw);
    ++i_;  // '@'
    return {};
  }

  /// Domain / address-literal, after the '@'.
  std::string domain(Mailbox& m) {
    if (peek() == '[') {
      const std::size_t start = i_;
      const std::size_t close = text_.find(']', i_);
      if (close == std::string_view::npos) return "unterminated address literal";
      const std::string_view lit = text_.substr(start, close + 1 - start);
      // Report 8-bit / control octets before length or syntax.
      for (char c : lit.substr(1, lit.size() - 2)) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x80 || u < 0x20 || u == 0x7f) return unexpected(c, "address literal");
      }
      if (lit.size() > kMaxDomain) return "domain longer than 255 octets";
      if (std::string e = literal_error(lit.substr(1, lit.size() - 2)); !e.empty()) return e;
      m.domain = std::string(lit);
      m.address_literal = true;
      i_ = close + 1;
      return {};
    }
    std::string_view d;
    if (std::string e = scan_domain(d); !e.empty()) return e;
    m.domain = std::string(d);
    return {};
  }

  std::string_view text_;
  bool reverse_;
  std::size_t i_ = 0;
};

}  // namespace

std::string Mailbox::to_string() const {
  std::string out;
  if (is_dot_string(local_part)) {
    out = local_part;
  } else {
    out.reserve(local_part.size() + 2);
    out.push_back('"');
    for (char c : local_part) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  if (domain.empty()) return local_part.empty() ? std::string() : out;
  out.push_back('@');
  out += domain;
  return out;
}

PathResult parse_reverse_path(std::string_view text) { return PathParser(text, true).run(); }

PathResult parse_forward_path(std::string_view text) { return PathParser(text, false).run(); }

bool is_valid_domain(std::string_view domain) { return domain_error(domain).empty(); }

}  // namespace boxmail::address

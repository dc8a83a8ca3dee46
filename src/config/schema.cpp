// schema.cpp - the schema table and INI parsing over it (see schema.hpp).
//
// Parsing is pure: text in, Config or errors out. inih does the INI
// tokenizing (name = value, trimming, inline "; comments"); it is fed one
// line at a time by a reader here, which
//   - counts lines, so every error names its line;
//   - refuses lines longer than kMaxLineLength instead of letting inih cut
//     them silently into two lines;
//   - strips leading blanks, so inih never sees a Python-style continuation
//     line (an indented line would otherwise be glued to the previous key);
//   - checks and normalizes section headers, and reports lines that are
//     neither a comment, a section header nor "key = value".
// Each key is then looked up in the table; its value is parsed by type,
// range-checked and stored through the row's setter. Cross-key checks run
// last. The embedded default is the table's defaults run through the same
// parser, so the two cannot drift apart.
#include "config/schema.hpp"

#include "address/mailbox.hpp"

#include "text/ascii.hpp"
#include "text/number.hpp"

#include "config/account.hpp"
#include "dns/dnsbl.hpp"
#include "dns/domain_name.hpp"
#include "net/ip_network.hpp"

#include <arpa/inet.h>
#include <ini.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>

namespace boxmail::config {
namespace {

/// Longest line, line end excluded: inih's buffer holds INI_MAX_LINE octets
/// including CR, LF and NUL. Comment lines are exempt (they never reach inih).
constexpr std::size_t kMaxLineLength = INI_MAX_LINE - 3;

constexpr std::string_view kEmbeddedSource = "<embedded default>";
constexpr std::array<std::string_view, 9> kSections = {"server", "smtp", "pop3", "tls",     "store",
                                                       "relay",  "dns",  "firewall", "aliases"};

constexpr std::uint64_t kKi = 1024;
constexpr std::uint64_t kMi = kKi * 1024;
constexpr std::uint64_t kGi = kMi * 1024;

// ---- small text helpers ------------------------------------------------------


bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

/// Items of a list separated by commas and/or blanks; empty items are skipped.
std::vector<std::string_view> split_list(std::string_view s) {
  std::vector<std::string_view> items;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ',' || is_blank(s[i]))) ++i;
    const std::size_t start = i;
    while (i < s.size() && s[i] != ',' && !is_blank(s[i])) ++i;
    if (i > start) items.push_back(s.substr(start, i - start));
  }
  return items;
}

/// The words of an Enum's choices ("normalize|reject").
std::vector<std::string_view> split_choices(std::string_view choices) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const auto bar = choices.find('|', start);
    out.push_back(choices.substr(start, bar == std::string_view::npos ? bar : bar - start));
    if (bar == std::string_view::npos) return out;
    start = bar + 1;
  }
}

/// Decimal digits only (no sign, no blanks; text::parse_unsigned); nullopt
/// when not a number or when it does not fit 64 bits (then `overflow`).
std::optional<std::uint64_t> parse_digits(std::string_view s, bool& overflow) {
  const auto n = text::parse_unsigned<std::uint64_t>(s);
  overflow = n.error == text::NumberError::OutOfRange;
  if (!n) return std::nullopt;
  return n.value;
}

std::string format_size(std::uint64_t n) {
  if (n != 0 && n % kGi == 0) return std::to_string(n / kGi) + "G";
  if (n != 0 && n % kMi == 0) return std::to_string(n / kMi) + "M";
  if (n != 0 && n % kKi == 0) return std::to_string(n / kKi) + "k";
  return std::to_string(n);
}

std::string format_seconds(std::uint64_t n) {
  if (n != 0 && n % 3600 == 0) return std::to_string(n / 3600) + "h";
  if (n != 0 && n % 60 == 0) return std::to_string(n / 60) + "m";
  return std::to_string(n) + "s";
}

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

/// A host name as in RFC 1035 2.3.1 (letters, digits, hyphens; labels of
/// 1..63; 253 in all), lower case. Single labels ("localhost") are allowed.
bool is_domain(std::string_view d) {
  if (d.empty() || d.size() > 253) return false;
  std::size_t start = 0;
  for (;;) {
    const auto dot = d.find('.', start);
    const std::string_view label = d.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!((c >= 'a' && c <= 'z') || is_digit(c) || c == '-')) return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// ---- typed values -------------------------------------------------------------

/// A parsed value of one key; the field used depends on the key's type.
struct Value {
  std::string text;                      // String, Enum (lower case), Mailbox, Path
  std::uint64_t number = 0;              // Uint, Size, Seconds
  bool flag = false;                     // Bool
  std::vector<ListenAddress> listen;     // ListenList
  std::vector<std::string> domains;      // DomainList
  std::vector<net::IpNetwork> networks;  // NetworkList
};

using Error = std::optional<std::string>;

Error range_error(std::string_view text, std::uint64_t v, const KeyInfo& k,
                  std::string (*fmt)(std::uint64_t)) {
  if (v >= k.min && v <= k.max) return std::nullopt;
  return "value " + quoted(text) + " is out of range (" + fmt(k.min) + ".." + fmt(k.max) + ")";
}

std::string plain_number(std::uint64_t n) { return std::to_string(n); }

/// Number with an optional one-letter suffix from `suffixes` (lower case,
/// matched case-insensitively) multiplied by the matching factor.
Error parse_suffixed(std::string_view text, const KeyInfo& k, std::string_view suffixes,
                     const std::uint64_t* factors, std::string_view what,
                     std::string (*fmt)(std::uint64_t), Value& out) {
  const auto n = text::parse_scaled(text, suffixes, factors);
  if (n.error == text::NumberError::OutOfRange) {
    return "value " + quoted(text) + " is too large (at most " + fmt(k.max) + ")";
  }
  if (!n) return "value " + quoted(text) + " is not " + std::string(what);
  out.number = n.value;
  return range_error(text, out.number, k, fmt);
}

Error parse_value(const KeyInfo& k, std::string_view text, Value& out) {
  switch (k.type) {
    case KeyType::String:
      if (has_control(text)) return "value contains a control character";
      out.text = std::string(text);
      return std::nullopt;

    case KeyType::Bool: {
      const std::string v = text::ascii_lower(text);
      if (v == "yes" || v == "true" || v == "on" || v == "1") {
        out.flag = true;
      } else if (v == "no" || v == "false" || v == "off" || v == "0") {
        out.flag = false;
      } else {
        return "value " + quoted(text) + " is not a boolean (expected yes/no, true/false, on/off or 1/0)";
      }
      return std::nullopt;
    }

    case KeyType::Uint: {
      bool overflow = false;
      const auto n = parse_digits(text, overflow);
      if (overflow) return "value " + quoted(text) + " is too large (at most " + std::to_string(k.max) + ")";
      if (!n) return "value " + quoted(text) + " is not a whole number";
      out.number = *n;
      return range_error(text, *n, k, plain_number);
    }

    case KeyType::Size: {
      static constexpr std::uint64_t factors[] = {kKi, kMi, kGi};
      return parse_suffixed(text, k, "kmg", factors,
                            "a size (expected a number with optional k, M or G)", format_size, out);
    }

    case KeyType::Seconds: {
      static constexpr std::uint64_t factors[] = {1, 60, 3600};
      return parse_suffixed(text, k, "smh", factors,
                            "a duration (expected seconds, or a number with s, m or h)",
                            format_seconds, out);
    }

    case KeyType::Enum: {
      const std::string v = text::ascii_lower(text);
      const auto choices = split_choices(k.choices);
      for (std::string_view choice : choices) {
        if (v == choice) {
          out.text = v;
          return std::nullopt;
        }
      }
      std::string pretty;
      for (std::string_view c : choices) pretty += (pretty.empty() ? "" : ", ") + std::string(c);
      return "value " + quoted(text) + " is not one of: " + pretty;
    }

    case KeyType::ListenList: {
      const auto items = split_list(text);
      if (items.empty()) {
        if (k.may_be_empty) return std::nullopt;   // the service is off
        return "no listen address given (e.g. 0.0.0.0:25)";
      }
      for (std::string_view item : items) {
        std::string_view host;
        std::string_view port;
        int family = AF_INET;
        if (item.front() == '[') {
          const auto close = item.find(']');
          if (close == std::string_view::npos) return quoted(item) + " lacks ']'";
          host = item.substr(1, close - 1);
          if (close + 1 >= item.size() || item[close + 1] != ':') {
            return quoted(item) + " has no port (write [address]:port, e.g. [::]:25)";
          }
          port = item.substr(close + 2);
          family = AF_INET6;
        } else {
          const auto colon = item.rfind(':');
          if (colon == std::string_view::npos) {
            return quoted(item) + " has no port (write address:port, e.g. 0.0.0.0:25)";
          }
          host = item.substr(0, colon);
          port = item.substr(colon + 1);
          if (host.find(':') != std::string_view::npos) {
            return quoted(item) + ": IPv6 addresses go in brackets, e.g. [::1]:25";
          }
        }
        unsigned char bin[16];
        const std::string host_s(host);
        if (::inet_pton(family, host_s.c_str(), bin) != 1) {
          // Say "not an IPv4/IPv6 address" for a mistyped number, "must be
          // numeric" for what looks like a host name.
          const bool looks_numeric =
              family == AF_INET6 ? host.find(':') != std::string_view::npos
                                 : !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
                                     return is_digit(c) || c == '.';
                                   });
          if (!looks_numeric) {
            return quoted(item) + ": listen addresses must be numeric (" + quoted(host) + " is not an IP address)";
          }
          return quoted(item) + ": " + quoted(host) + " is not an " +
                 (family == AF_INET ? "IPv4" : "IPv6") + " address";
        }
        bool overflow = false;
        const auto p = parse_digits(port, overflow);
        if (!p || *p < 1 || *p > 65535) return quoted(item) + ": port " + quoted(port) + " is not 1..65535";
        char canon[INET6_ADDRSTRLEN];
        if (::inet_ntop(family, bin, canon, sizeof canon) == nullptr) return quoted(item) + " is not an address";
        ListenAddress a{canon, static_cast<std::uint16_t>(*p)};
        if (std::find(out.listen.begin(), out.listen.end(), a) != out.listen.end()) {
          return quoted(item) + " is listed twice";
        }
        out.listen.push_back(std::move(a));
      }
      return std::nullopt;
    }

    case KeyType::DomainList: {
      const auto items = split_list(text);
      if (items.empty()) {
        if (k.may_be_empty) return std::nullopt;
        return "no domain given (use * to accept any domain)";
      }
      for (std::string_view item : items) {
        const std::string d = text::ascii_lower(item);
        if (d == "*") {
          if (items.size() != 1) return "'*' must stand alone (it already accepts every domain)";
          out.domains.push_back(d);
          continue;
        }
        const std::string_view name = std::string_view(d).starts_with("*.") ? std::string_view(d).substr(2)
                                                                           : std::string_view(d);
        if (!is_domain(name)) {
          return quoted(item) + " is not a domain pattern (expected e.g. example.com or *.example.com)";
        }
        if (std::find(out.domains.begin(), out.domains.end(), d) == out.domains.end()) out.domains.push_back(d);
      }
      return std::nullopt;
    }

    case KeyType::Mailbox: {
      if (text.empty()) {
        out.text.clear();
        return std::nullopt;
      }
      const std::string name = text::ascii_lower(text);
      if (auto err = mailbox_name_error(name)) return *err;
      out.text = name;
      return std::nullopt;
    }

    case KeyType::NetworkList: {
      const auto items = split_list(text);
      if (items.empty() && !k.may_be_empty) return "no network given (e.g. 192.168.1.0/24)";
      for (std::string_view item : items) {
        std::string why;
        auto n = net::parse_network(item, why);
        if (!n) return why;
        if (std::find(out.networks.begin(), out.networks.end(), *n) == out.networks.end()) out.networks.push_back(*n);
      }
      return std::nullopt;
    }

    case KeyType::Path:
      if (text.empty()) return "a path is required";
      if (has_control(text)) return "value contains a control character";
      out.text = std::string(text);
      return std::nullopt;
  }
  return "internal error: unknown key type";
}

// ---- the table ------------------------------------------------------------------

using Apply = void (*)(Config&, const Value&);
using Check = Error (*)(const Value&);

struct Row {
  KeyInfo info;
  Apply apply;
  Check check = nullptr;   ///< a key-specific rule beyond the type's
};

/// A system account name as useradd(8) takes it: [a-z_][a-z0-9_-]*, at
/// most 32 octets, and not root (boxmaild never serves the network as root).
Error check_user_name(const Value& v) {
  const std::string& n = v.text;
  bool ok = !n.empty() && n.size() <= 32 && ((n[0] >= 'a' && n[0] <= 'z') || n[0] == '_');
  for (char c : n) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-');
  if (!ok) return "value " + quoted(n) + " is not a user name (a-z, 0-9, '_', '-'; at most 32)";
  if (n == "root") return std::string("boxmaild does not serve the network as root; name its own account");
  return std::nullopt;
}

Error check_hostname(const Value& v) {
  if (v.text.empty() || is_domain(text::ascii_lower(v.text))) return std::nullopt;
  return "value " + quoted(v.text) + " is not a host name (letters, digits, '-' and '.')";
}

/// A list of host names or IP addresses (an address may carry a /prefix).
Error check_feed_servers(const Value& v) {
  for (std::string_view item : split_list(v.text)) {
    const std::string d = text::ascii_lower(item);
    if (is_domain(d)) continue;
    const std::string addr = d.substr(0, d.find('/'));
    unsigned char bin[16];
    if (::inet_pton(AF_INET, addr.c_str(), bin) == 1 || ::inet_pton(AF_INET6, addr.c_str(), bin) == 1) continue;
    return quoted(item) + " is not a host name or IP address";
  }
  return std::nullopt;
}

/// DNSBL zones: host names short enough that an IPv6 query name fits
/// (dns/dnsbl.hpp), at most kMaxDnsblZones of them (all are asked at once).
Error check_dnsbl_zones(const Value& v) {
  constexpr std::size_t kMaxDnsblZones = 8;
  const auto items = split_list(v.text);
  if (items.size() > kMaxDnsblZones) {
    return "at most " + std::to_string(kMaxDnsblZones) + " zones (each is asked for every feed client)";
  }
  for (std::string_view item : items) {
    const std::string zone = text::ascii_lower(item);
    const dns::NameError e = dns::check_name(zone, dns::NameKind::Host);
    if (e != dns::NameError::None) return quoted(item) + " is not a DNS zone name: it " + std::string(dns::describe(e));
    if (zone.back() == '.') return quoted(item) + ": write the zone without the trailing dot";
    if (zone.find('.') == std::string::npos) return quoted(item) + " is not a DNS zone name (e.g. zen.spamhaus.org)";
    if (zone.size() > dns::kMaxDnsblZone) {
      return quoted(item) + " is too long for a block list (at most " + std::to_string(dns::kMaxDnsblZone) +
             " octets, so that an IPv6 query fits)";
    }
  }
  return std::nullopt;
}

/// The box's own domains are names, never "*" (that would make every
/// domain local for the LAN too, and nothing could be sent out).
Error check_local_domains(const Value& v) {
  if (v.domains.size() == 1 && v.domains.front() == "*") {
    return std::string("'*' is not allowed here: list the box's own domains (e.g. example.com *.example.com)");
  }
  return std::nullopt;
}

/// A network that holds every address would make an open relay.
Error check_relay_networks(const Value& v) {
  for (const net::IpNetwork& n : v.networks) {
    if (n.prefix == 0) {
      return quoted(n.to_string()) + " holds every address: the box would be an open relay "
             "(list the LAN, e.g. 192.168.1.0/24)";
    }
  }
  return std::nullopt;
}

/// [firewall] allow: never a network that holds every address (nothing
/// could be banned).
Error check_firewall_allow(const Value& v) {
  for (const net::IpNetwork& n : v.networks) {
    if (n.prefix == 0) return quoted(n.to_string()) + " holds every address: nothing could be banned";
  }
  return std::nullopt;
}

/// "none", or a list of mx, direct, smarthost (each once), in order.
std::optional<std::vector<RouteMethod>> parse_route(std::string_view text, std::string& why) {
  std::vector<RouteMethod> out;
  const auto items = split_list(text);
  if (items.empty()) {
    why = "no route given (none, or mx, direct, smarthost in the order to try)";
    return std::nullopt;
  }
  for (std::string_view item : items) {
    const std::string w = text::ascii_lower(item);
    if (w == "none") {
      if (items.size() != 1) {
        why = "'none' must stand alone";
        return std::nullopt;
      }
      return out;
    }
    RouteMethod m;
    if (w == "mx") {
      m = RouteMethod::Mx;
    } else if (w == "direct") {
      m = RouteMethod::Direct;
    } else if (w == "smarthost") {
      m = RouteMethod::Smarthost;
    } else {
      why = quoted(item) + " is not a route (expected none, or mx, direct, smarthost)";
      return std::nullopt;
    }
    if (std::find(out.begin(), out.end(), m) != out.end()) {
      why = quoted(item) + " is listed twice";
      return std::nullopt;
    }
    out.push_back(m);
  }
  return out;
}

Error check_route(const Value& v) {
  std::string why;
  if (!parse_route(v.text, why)) return why;
  return std::nullopt;
}

/// "host", "host:port" or "[v6]:port" (a name or a numeric address).
Error check_smarthost(const Value& v) {
  if (v.text.empty()) return std::nullopt;
  std::string_view t = v.text;
  std::string_view host = t;
  std::string_view port;
  if (t.front() == '[') {
    const auto close = t.find(']');
    if (close == std::string_view::npos) return quoted(t) + " lacks ']'";
    host = t.substr(1, close - 1);
    if (close + 1 < t.size()) {
      if (t[close + 1] != ':') return quoted(t) + ": expected [address]:port";
      port = t.substr(close + 2);
    }
    unsigned char bin[16];
    if (::inet_pton(AF_INET6, std::string(host).c_str(), bin) != 1) return quoted(host) + " is not an IPv6 address";
  } else {
    const auto colon = t.find(':');
    if (colon != std::string_view::npos) {
      host = t.substr(0, colon);
      port = t.substr(colon + 1);
    }
    if (!is_domain(text::ascii_lower(host))) {
      return quoted(v.text) + " is not host[:port] (e.g. smtp.isp.example:587 or [2001:db8::1]:587)";
    }
  }
  if (t.find(':') != std::string_view::npos && (t.front() != '[' || !port.empty())) {
    bool overflow = false;
    const auto p = parse_digits(port, overflow);
    if (!p || *p < 1 || *p > 65535) return quoted(v.text) + ": port " + quoted(port) + " is not 1..65535";
  }
  return std::nullopt;
}

/// 64 hex digits, colons allowed between pairs (as openssl prints them).
Error check_fingerprint(const Value& v) {
  if (v.text.empty()) return std::nullopt;
  std::size_t hex = 0;
  for (char c : v.text) {
    if (c == ':') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return quoted(v.text) + " is not a SHA-256 fingerprint (64 hex digits)";
    ++hex;
  }
  if (hex != 64) return quoted(v.text) + " is not a SHA-256 fingerprint (64 hex digits)";
  return std::nullopt;
}

std::string fingerprint_hex(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c != ':') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

template <typename T>
T narrow(std::uint64_t v) {
  return static_cast<T>(v);   // the schema's max keeps v within T
}

const std::vector<Row>& rows() {
  // Designated initializers keep each row readable as
  // section, key, type, [min, max], [choices], default, doc.
  static const std::vector<Row> table = {
      // [server]
      {{.section = "server", .key = "hostname", .type = KeyType::String, .default_value = "",
        .doc = "Host name announced in the SMTP greeting and in Received: headers; "
               "empty means the system host name."},
       [](Config& c, const Value& v) { c.server.hostname = text::ascii_lower(v.text); }, check_hostname},
      {{.section = "server", .key = "passwd_file", .type = KeyType::Path, .default_value = "./var/passwd",
        .doc = "Dovecot-compatible passwd-file of the mailbox accounts (edited with boxmailctl; "
               "reread when it changes).",
        .fixed_at_install = true},
       [](Config& c, const Value& v) { c.server.passwd_file = v.text; }},
      {{.section = "server", .key = "log", .type = KeyType::Enum, .choices = "stderr|syslog",
        .default_value = "stderr",
        .doc = "Where log lines go: stderr, or syslog (facility mail)."},
       [](Config& c, const Value& v) { c.server.log = v.text; }},
      {{.section = "server", .key = "control_socket", .type = KeyType::Path,
        .default_value = "./var/run/boxmaild.sock",
        .doc = "UNIX socket for the web panel and tools (status, reload, recent log lines); "
               "mode 0660, group of its directory.",
        .fixed_at_install = true},
       [](Config& c, const Value& v) { c.server.control_socket = v.text; }},
      {{.section = "server", .key = "user", .type = KeyType::String, .default_value = "boxmail",
        .doc = "The account boxmaild runs as once its ports are bound, when it is started as root "
               "(its group is the account's primary group); it then has no capabilities and cannot "
               "regain root. Not started as root, boxmaild stays as it was started.",
        .fixed_at_install = true},
       [](Config& c, const Value& v) { c.server.user = v.text; }, check_user_name},
      {{.section = "server", .key = "login_failures_per_address", .type = KeyType::Uint, .min = 1, .max = 1000,
        .default_value = "10",
        .doc = "Failed logins (POP3 and every later login) from one client address, each within "
               "login_failure_window of the one before, after which logins from that address are "
               "refused without checking the password (POP3: -ERR [SYS/TEMP]) until "
               "login_failure_window has passed since the last failure."},
       [](Config& c, const Value& v) { c.server.login_failures_per_address = narrow<std::uint32_t>(v.number); }},
      {{.section = "server", .key = "login_failure_window", .type = KeyType::Seconds, .min = 1, .max = 86400,
        .default_value = "900",
        .doc = "How long a failed login is remembered for login_failures_per_address, and how long "
               "a blocked address waits after its last failure."},
       [](Config& c, const Value& v) { c.server.login_failure_window = narrow<std::uint32_t>(v.number); }},
      {{.section = "server", .key = "login_check_queue", .type = KeyType::Uint, .min = 1, .max = 10000,
        .default_value = "16",
        .doc = "Password checks that may wait for the hashing thread; a login beyond that is "
               "refused at once with a temporary error (POP3: -ERR [SYS/TEMP])."},
       [](Config& c, const Value& v) { c.server.login_check_queue = narrow<std::uint32_t>(v.number); }},
      {{.section = "server", .key = "plaintext_login_networks", .type = KeyType::NetworkList, .default_value = "",
        .doc = "Client networks allowed to log in without TLS (POP3 USER/PASS and AUTH, SMTP AUTH), "
               "e.g. 127.0.0.0/8 ::1; empty (the default): every login needs TLS first (STLS, "
               "STARTTLS or the implicit-TLS ports), so no password crosses the LAN in clear.",
        .may_be_empty = true},
       [](Config& c, const Value& v) { c.server.plaintext_login_networks = v.networks; }},

      // [smtp]
      {{.section = "smtp", .key = "listen", .type = KeyType::ListenList, .default_value = "127.0.0.1:2525",
        .doc = "Numeric addresses and ports the SMTP feed listens on, e.g. 0.0.0.0:25 [::]:25. "
               "STARTTLS is offered there (RFC 3207); AUTH only after it.",
        .read_at_start = true},
       [](Config& c, const Value& v) { c.smtp.listen = v.listen; }},
      {{.section = "smtp", .key = "submission_listen", .type = KeyType::ListenList,
        .default_value = "127.0.0.1:5587",
        .doc = "Where LAN users submit mail (RFC 6409), e.g. 0.0.0.0:587: STARTTLS, then AUTH is "
               "required before MAIL; empty turns it off.",
        .read_at_start = true, .may_be_empty = true},
       [](Config& c, const Value& v) { c.smtp.submission_listen = v.listen; }},
      {{.section = "smtp", .key = "submissions_listen", .type = KeyType::ListenList,
        .default_value = "127.0.0.1:4465",
        .doc = "Submission over implicit TLS (RFC 8314 3.3), e.g. 0.0.0.0:465: TLS from the first "
               "octet, then AUTH is required before MAIL; empty turns it off.",
        .read_at_start = true, .may_be_empty = true},
       [](Config& c, const Value& v) { c.smtp.submissions_listen = v.listen; }},
      {{.section = "smtp", .key = "banner", .type = KeyType::String, .default_value = "",
        .doc = "Text after \"220 <hostname> ESMTP\" in the greeting."},
       [](Config& c, const Value& v) { c.smtp.banner = v.text; }},
      {{.section = "smtp", .key = "accept_domains", .type = KeyType::DomainList, .default_value = "*",
        .doc = "Recipient domains delivered here: * for any, or patterns such as example.com "
               "and *.example.org (sub-domains only); others get 550 5.7.1."},
       [](Config& c, const Value& v) { c.smtp.accept_domains = v.domains; }},
      {{.section = "smtp", .key = "feed_servers", .type = KeyType::String, .default_value = "",
        .doc = "Servers you accept SMTP mail from (your ISP's mail servers: host names, IP "
               "addresses or networks). Empty: anyone may connect to the feed port (listen). Set: "
               "the feed port serves only these and [firewall] allow (the box itself; not "
               "[relay] relay_networks: LAN users submit on 587/465); others get a 554 5.7.1 "
               "greeting and, with the firewall on, are dropped by it. Host names are resolved "
               "(A, AAAA) at start, reload and every feed_refresh; a failed lookup keeps the last "
               "addresses, a name not resolved yet admits nobody. Addresses and networks listed "
               "here are exempt from dnsbl_zones and reverse_dns. Submission and POP3 are not "
               "affected."},
       [](Config& c, const Value& v) {
         c.smtp.feed_servers.clear();
         for (std::string_view item : split_list(v.text)) c.smtp.feed_servers.push_back(text::ascii_lower(item));
       },
       check_feed_servers},
      {{.section = "smtp", .key = "feed_refresh", .type = KeyType::Seconds, .min = 1, .max = 86400,
        .default_value = "3600",
        .doc = "How often the host names in feed_servers are looked up again (seconds after the "
               "last round ended)."},
       [](Config& c, const Value& v) { c.smtp.feed_refresh = narrow<std::uint32_t>(v.number); }},
      {{.section = "smtp", .key = "catch_all", .type = KeyType::Mailbox, .default_value = "",
        .doc = "Mailbox for mail to unknown local-parts; empty refuses them with 550 5.1.1."},
       [](Config& c, const Value& v) { c.smtp.catch_all = v.text; }},
      {{.section = "smtp", .key = "vrfy", .type = KeyType::Bool, .default_value = "no",
        .doc = "Answer VRFY from the accounts; no answers 252 2.5.0 to every VRFY "
               "(no address harvesting)."},
       [](Config& c, const Value& v) { c.smtp.vrfy = v.flag; }},
      {{.section = "smtp", .key = "max_message_size", .type = KeyType::Size, .min = kKi, .max = 2 * kGi,
        .default_value = "25M",
        .doc = "Largest message accepted in octets, announced as SIZE (RFC 1870); "
               "larger gets 552 5.3.4."},
       [](Config& c, const Value& v) { c.smtp.max_message_size = v.number; }},
      {{.section = "smtp", .key = "max_recipients", .type = KeyType::Uint, .min = 1, .max = 10000,
        .default_value = "100",
        .doc = "Recipients per message; more get 452 4.5.3 (RFC 5321 4.5.3.1.8 asks for at least 100)."},
       [](Config& c, const Value& v) { c.smtp.max_recipients = narrow<std::uint32_t>(v.number); }},
      {{.section = "smtp", .key = "max_command_line", .type = KeyType::Uint, .min = 512, .max = 65536,
        .default_value = "2048",
        .doc = "Longest command line in octets, CRLF included; longer gets 500 5.5.2 "
               "(RFC 5321 4.5.3.1.4: at least 512)."},
       [](Config& c, const Value& v) { c.smtp.max_command_line = narrow<std::uint32_t>(v.number); }},
      {{.section = "smtp", .key = "max_text_line", .type = KeyType::Size, .min = 1000, .max = 16 * kMi,
        .default_value = "1M",
        .doc = "Longest line of message text in octets, CRLF excluded; longer gets 554 5.6.0 "
               "(RFC 5321 4.5.3.1.6: at least 1000)."},
       [](Config& c, const Value& v) { c.smtp.max_text_line = narrow<std::uint32_t>(v.number); }},
      {{.section = "smtp", .key = "max_connections", .type = KeyType::Uint, .min = 1, .max = 100000,
        .default_value = "100",
        .doc = "Simultaneous SMTP sessions in all; more are answered 421 4.7.0 and closed."},
       [](Config& c, const Value& v) { c.smtp.max_connections = narrow<std::uint32_t>(v.number); }},
      {{.section = "smtp", .key = "max_connections_per_ip", .type = KeyType::Uint, .min = 1, .max = 100000,
        .default_value = "20",
        .doc = "Simultaneous SMTP sessions from one client address (at most max_connections); "
               "more get 421 4.7.0."},
       [](Config& c, const Value& v) { c.smtp.max_connections_per_ip = narrow<std::uint32_t>(v.number); }},
      {{.section = "smtp", .key = "idle_timeout", .type = KeyType::Seconds, .min = 10, .max = 86400,
        .default_value = "300",
        .doc = "Time allowed without a complete command or DATA progress, then 421 4.4.2 "
               "(RFC 5321 4.5.3.2.7: 5 minutes)."},
       [](Config& c, const Value& v) { c.smtp.idle_timeout = narrow<std::uint32_t>(v.number); }},
      {{.section = "smtp", .key = "session_timeout", .type = KeyType::Seconds, .min = 60, .max = 86400,
        .default_value = "3600",
        .doc = "Time allowed for a whole session (at least idle_timeout), then 421 4.4.2."},
       [](Config& c, const Value& v) { c.smtp.session_timeout = narrow<std::uint32_t>(v.number); }},
      {{.section = "smtp", .key = "max_errors", .type = KeyType::Uint, .min = 1, .max = 1000,
        .default_value = "10",
        .doc = "Protocol errors allowed in one session, then 421 4.7.0 and close."},
       [](Config& c, const Value& v) { c.smtp.max_errors = narrow<std::uint32_t>(v.number); }},
      {{.section = "smtp", .key = "max_hops", .type = KeyType::Uint, .min = 1, .max = 1000,
        .default_value = "100",
        .doc = "Received: headers allowed before a message is refused as a mail loop with 554 5.4.6 "
               "(RFC 5321 6.3)."},
       [](Config& c, const Value& v) { c.smtp.max_hops = narrow<std::uint32_t>(v.number); }},
      {{.section = "smtp", .key = "max_alias_depth", .type = KeyType::Uint, .min = 1, .max = 64,
        .default_value = "8",
        .doc = "Nesting of [aliases] followed for one recipient; deeper or cyclic gets 550 5.4.6."},
       [](Config& c, const Value& v) { c.smtp.max_alias_depth = narrow<std::uint32_t>(v.number); }},
      {{.section = "smtp", .key = "bare_lf", .type = KeyType::Enum, .choices = "normalize|reject",
        .default_value = "normalize",
        .doc = "A bare LF in message text: normalize takes it as a line end, reject refuses the "
               "message with 550 5.5.2 (only CRLF.CRLF ever ends DATA)."},
       [](Config& c, const Value& v) { c.smtp.bare_lf = v.text == "reject" ? BareLf::Reject : BareLf::Normalize; }},
      {{.section = "smtp", .key = "bare_cr", .type = KeyType::Enum, .choices = "keep|reject",
        .default_value = "keep",
        .doc = "A bare CR in message text: keep stores it as data, reject refuses the message "
               "with 550 5.5.2."},
       [](Config& c, const Value& v) { c.smtp.bare_cr = v.text == "reject" ? BareCr::Reject : BareCr::Keep; }},
      {{.section = "smtp", .key = "min_data_rate", .type = KeyType::Uint, .min = 0, .max = 1000000000,
        .default_value = "500",
        .doc = "Message data counts as progress (moves the idle deadline on) at this rate in octets/s: "
               "each chunk is credited octets/min_data_rate seconds, so a client trickling a few octets "
               "now and then is ended by idle_timeout; 0 counts any data. 500 octets/s is 4 kbit/s, "
               "below any real line; a slower client is not cut off at once, its idle time just grows "
               "by (1 - rate/min_data_rate) of the time passed."},
       [](Config& c, const Value& v) { c.smtp.min_data_rate = narrow<std::uint32_t>(v.number); }},
      {{.section = "smtp", .key = "evict_idle", .type = KeyType::Seconds, .min = 1, .max = 3600,
        .default_value = "30",
        .doc = "When all max_connections slots are taken, a new client is not refused while some "
               "session has made no progress (complete command, DATA at min_data_rate) for this long: "
               "the one idle the longest gets 421 4.4.2 and is closed to make room. Slow clients can "
               "therefore keep the feed out for at most about this long."},
       [](Config& c, const Value& v) { c.smtp.evict_idle = narrow<std::uint32_t>(v.number); }},
      // Checks at connection time (smtp/client_check.hpp, docs/abuse.md)
      {{.section = "smtp", .key = "dnsbl_zones", .type = KeyType::String, .default_value = "",
        .doc = "DNS block lists (RFC 5782) asked for every client of the feed port (listen) that is "
               "not in [relay] relay_networks nor an address or network in feed_servers, e.g. "
               "zen.spamhaus.org: a listed client gets 554 5.7.1 with the list's reason at RCPT. "
               "A list that does not answer in client_check_timeout, fails, or refuses the query "
               "(127.255.255.252-255) lets the client through and is logged. Empty (the default): none."},
       [](Config& c, const Value& v) {
         c.smtp.dnsbl_zones.clear();
         for (std::string_view item : split_list(v.text)) {
           std::string zone = text::ascii_lower(item);
           if (std::find(c.smtp.dnsbl_zones.begin(), c.smtp.dnsbl_zones.end(), zone) == c.smtp.dnsbl_zones.end())
             c.smtp.dnsbl_zones.push_back(std::move(zone));
         }
       },
       check_dnsbl_zones},
      {{.section = "smtp", .key = "reverse_dns", .type = KeyType::Enum, .choices = "off|log|reject",
        .default_value = "off",
        .doc = "Forward-confirmed reverse DNS of the same clients as dnsbl_zones: off; log (looked up and "
               "logged only); reject: a client without a PTR record, or whose PTR names do not resolve "
               "back to its address, gets 550 5.7.25 at RCPT, and 450 4.7.25 when DNS fails "
               "(RFC 7372; Postfix's reject_unknown_client_hostname). Many small senders have no "
               "matching reverse DNS: try log first."},
       [](Config& c, const Value& v) {
         c.smtp.reverse_dns = v.text == "reject" ? ReverseDnsPolicy::Reject
                              : v.text == "log"  ? ReverseDnsPolicy::Log
                                                 : ReverseDnsPolicy::Off;
       }},
      {{.section = "smtp", .key = "client_check_timeout", .type = KeyType::Seconds, .min = 1, .max = 60,
        .default_value = "10",
        .doc = "How long the dnsbl_zones and reverse_dns lookups of one client may take from its "
               "connection (they run at once, in parallel with the SMTP dialogue; the greeting never "
               "waits). A lookup not answered by then counts as failed: the list is skipped, "
               "reverse_dns = reject answers 450 4.7.25."},
       [](Config& c, const Value& v) { c.smtp.client_check_timeout = narrow<std::uint32_t>(v.number); }},

      // [pop3]
      {{.section = "pop3", .key = "enabled", .type = KeyType::Bool, .default_value = "yes",
        .doc = "Run the POP3 server (RFC 1939) for LAN users to fetch their mail.",
        .read_at_start = true},
       [](Config& c, const Value& v) { c.pop3.enabled = v.flag; }},
      {{.section = "pop3", .key = "listen", .type = KeyType::ListenList, .default_value = "127.0.0.1:1100",
        .doc = "Numeric addresses and ports POP3 listens on, e.g. 0.0.0.0:110 [::]:110. STLS is "
               "offered there (RFC 2595); logins need it unless the client is in "
               "[server] plaintext_login_networks.",
        .read_at_start = true},
       [](Config& c, const Value& v) { c.pop3.listen = v.listen; }},
      {{.section = "pop3", .key = "pop3s_listen", .type = KeyType::ListenList, .default_value = "127.0.0.1:1995",
        .doc = "POP3 over implicit TLS (RFC 8314 3.3), e.g. 0.0.0.0:995; empty turns it off.",
        .read_at_start = true, .may_be_empty = true},
       [](Config& c, const Value& v) { c.pop3.pop3s_listen = v.listen; }},
      {{.section = "pop3", .key = "max_command_line", .type = KeyType::Uint, .min = 255, .max = 8192,
        .default_value = "512",
        .doc = "Longest command line in octets, CRLF included; longer gets -ERR "
               "(RFC 2449 4: commands are at most 255 octets)."},
       [](Config& c, const Value& v) { c.pop3.max_command_line = narrow<std::uint32_t>(v.number); }},
      {{.section = "pop3", .key = "idle_timeout", .type = KeyType::Seconds, .min = 600, .max = 86400,
        .default_value = "600",
        .doc = "Time allowed without a command, then -ERR and close without deleting anything "
               "(RFC 1939 3: at least 10 minutes)."},
       [](Config& c, const Value& v) { c.pop3.idle_timeout = narrow<std::uint32_t>(v.number); }},
      {{.section = "pop3", .key = "max_errors", .type = KeyType::Uint, .min = 1, .max = 1000,
        .default_value = "10",
        .doc = "Protocol errors allowed in one session, then -ERR and close."},
       [](Config& c, const Value& v) { c.pop3.max_errors = narrow<std::uint32_t>(v.number); }},
      {{.section = "pop3", .key = "max_connections", .type = KeyType::Uint, .min = 1, .max = 100000,
        .default_value = "50",
        .doc = "Simultaneous POP3 sessions in all; more get -ERR [SYS/TEMP] and are closed."},
       [](Config& c, const Value& v) { c.pop3.max_connections = narrow<std::uint32_t>(v.number); }},
      {{.section = "pop3", .key = "max_connections_per_ip", .type = KeyType::Uint, .min = 1, .max = 100000,
        .default_value = "10",
        .doc = "Simultaneous POP3 sessions from one client address (at most max_connections); "
               "more get -ERR [SYS/TEMP]."},
       [](Config& c, const Value& v) { c.pop3.max_connections_per_ip = narrow<std::uint32_t>(v.number); }},
      {{.section = "pop3", .key = "login_failures", .type = KeyType::Uint, .min = 1, .max = 100,
        .default_value = "3",
        .doc = "Failed logins allowed in one session; the last one closes the connection "
               "(failures are also counted per client address)."},
       [](Config& c, const Value& v) { c.pop3.login_failures = narrow<std::uint32_t>(v.number); }},
      {{.section = "pop3", .key = "login_delay", .type = KeyType::Seconds, .min = 0, .max = 30,
        .default_value = "2",
        .doc = "Wait before answering a failed login (slows password guessing)."},
       [](Config& c, const Value& v) { c.pop3.login_delay = narrow<std::uint32_t>(v.number); }},
      {{.section = "pop3", .key = "evict_idle", .type = KeyType::Seconds, .min = 1, .max = 3600,
        .default_value = "30",
        .doc = "When all max_connections slots are taken, a new client is not refused while some "
               "session has made no progress (complete command, RETR/TOP output) for this long: the "
               "one idle the longest gets -ERR and is closed to make room."},
       [](Config& c, const Value& v) { c.pop3.evict_idle = narrow<std::uint32_t>(v.number); }},

      // [tls]
      {{.section = "tls", .key = "certificate", .type = KeyType::Path, .default_value = "./var/tls/cert.pem",
        .doc = "The server's certificate chain in PEM, leaf first, for STARTTLS, STLS and the TLS ports. "
               "When it does not exist at start, boxmaild makes a self-signed ECDSA P-256 certificate "
               "for its host name here (and the key); a bad, mismatched or expired one is refused "
               "with an error naming the file. Read again on SIGHUP; a refused new one keeps the old.",
        .fixed_at_install = true},
       [](Config& c, const Value& v) { c.tls.certificate = v.text; }},
      {{.section = "tls", .key = "key", .type = KeyType::Path, .default_value = "./var/tls/key.pem",
        .doc = "The private key of the certificate in PEM (not encrypted), readable only by the "
               "daemon's user (mode 0600).",
        .fixed_at_install = true},
       [](Config& c, const Value& v) { c.tls.key = v.text; }},

      // [store]
      {{.section = "store", .key = "mail_dir", .type = KeyType::Path, .default_value = "./var/mail",
        .doc = "Directory of the mailboxes, one Maildir each: mail_dir/NAME/{tmp,new,cur}.",
        .fixed_at_install = true},
       [](Config& c, const Value& v) { c.store.mail_dir = v.text; }},
      {{.section = "store", .key = "spool_dir", .type = KeyType::Path, .default_value = "./var/spool",
        .doc = "Directory of messages being received (spool_dir/tmp); keep it on the same "
               "file system as mail_dir.",
        .fixed_at_install = true},
       [](Config& c, const Value& v) { c.store.spool_dir = v.text; }},
      {{.section = "store", .key = "sync", .type = KeyType::Enum, .choices = "syncfs|fsync",
        .default_value = "syncfs",
        .doc = "How deliveries reach stable storage before 250: syncfs (one syncfs(2) per batch) "
               "or fsync (each file and directory)."},
       [](Config& c, const Value& v) { c.store.sync = v.text == "fsync" ? SyncMode::Fsync : SyncMode::Syncfs; }},
      {{.section = "store", .key = "min_free_space", .type = KeyType::Size, .min = 0, .max = 1024 * kGi,
        .default_value = "16M",
        .doc = "Free space kept on the file system of mail_dir for the spool, the queue and the settings: "
               "when less is free (minus the message's SIZE=) new mail gets 452 4.3.1 at MAIL; 0 turns the "
               "check off. Not checked where the file system reports no size (ramfs, a tmpfs without a size limit)."},
       [](Config& c, const Value& v) { c.store.min_free_space = v.number; }},

      // [relay]
      {{.section = "relay", .key = "relay_networks", .type = KeyType::NetworkList, .default_value = "",
        .doc = "Client networks that may send mail to other domains through the box without logging in "
               "(the LAN), e.g. 192.168.1.0/24 fd00::/8; NetCruiser-style wildcards such as 192.168.* "
               "are taken and shown as CIDR. Users who log in (SMTP AUTH) may always. Everyone else gets "
               "550 5.7.1 for a domain that is not the box's own. A network holding every address is "
               "refused (open relay). Empty (the default): only logged-in users.",
        .may_be_empty = true},
       [](Config& c, const Value& v) { c.relay.relay_networks = v.networks; }, check_relay_networks},
      {{.section = "relay", .key = "local_domains", .type = KeyType::DomainList, .default_value = "",
        .doc = "The box's own domains (e.g. example.com *.example.com), delivered here for everyone. "
               "For the feed ([smtp] accept_domains = *) every domain stays local, but for a relay "
               "client (relay_networks or logged in) only these are: mail to any other domain goes "
               "out. Empty (the default): the box's own domains are accept_domains; with "
               "accept_domains = * every recipient is then local.",
        .may_be_empty = true},
       [](Config& c, const Value& v) { c.relay.local_domains = v.domains; }, check_local_domains},
      {{.section = "relay", .key = "route", .type = KeyType::String, .default_value = "none",
        .doc = "How mail to other domains leaves the box: none (the default: such recipients are refused "
               "with 550 5.7.1, nothing is sent out), or one or more of mx (the recipient domain's MX "
               "hosts, RFC 5321 5.1), direct (the domain's own address, no MX lookup) and smarthost (the "
               "ISP's relay server), tried in the order written when one fails temporarily."},
       [](Config& c, const Value& v) {
         std::string why;
         c.relay.route = parse_route(v.text, why).value_or(std::vector<RouteMethod>{});
       },
       check_route},
      {{.section = "relay", .key = "smarthost", .type = KeyType::String, .default_value = "",
        .doc = "The ISP's mail relay for route smarthost: host or host:port (e.g. smtp.isp.example:587, "
               "[2001:db8::1]:587); the port defaults to 587, or 465 with smarthost_tls = implicit."},
       [](Config& c, const Value& v) { c.relay.smarthost = text::ascii_lower(v.text); }, check_smarthost},
      {{.section = "relay", .key = "smarthost_tls", .type = KeyType::Enum,
        .choices = "starttls|implicit|opportunistic|none", .default_value = "starttls",
        .doc = "TLS to the smarthost: starttls (required: a server without it, or a failed handshake, "
               "is a temporary failure; RFC 3207), implicit (TLS from the first octet, port 465; RFC "
               "8314), opportunistic (STARTTLS when offered), none. Credentials are never sent without TLS."},
       [](Config& c, const Value& v) {
         c.relay.smarthost_tls = v.text == "implicit"        ? SmarthostTls::Implicit
                                 : v.text == "opportunistic" ? SmarthostTls::Opportunistic
                                 : v.text == "none"          ? SmarthostTls::None
                                                             : SmarthostTls::Starttls;
       }},
      {{.section = "relay", .key = "smarthost_fingerprint", .type = KeyType::String, .default_value = "",
        .doc = "SHA-256 fingerprint of the smarthost's certificate (64 hex digits, colons allowed, as "
               "openssl x509 -fingerprint -sha256 prints it): the connection is used only when the "
               "certificate matches. Empty: the certificate is not checked (TLS still hides the login "
               "and the mail from eavesdroppers)."},
       [](Config& c, const Value& v) { c.relay.smarthost_fingerprint = fingerprint_hex(v.text); },
       check_fingerprint},
      {{.section = "relay", .key = "smarthost_credentials", .type = KeyType::Path,
        .default_value = "./var/relay/smarthost-login",
        .doc = "File with the smarthost login as one line user:password (AUTH PLAIN or LOGIN, RFC 4954, "
               "only over TLS); written by the panel through boxmaild, mode 0600, readable only by the "
               "daemon's user. Missing or empty: no login.",
        .fixed_at_install = true},
       [](Config& c, const Value& v) { c.relay.smarthost_credentials = v.text; }},
      {{.section = "relay", .key = "mx_starttls", .type = KeyType::Bool, .default_value = "yes",
        .doc = "Use STARTTLS towards MX hosts when they offer it (opportunistic, certificates not "
               "checked, as MTAs do by default; RFC 3207, RFC 7435)."},
       [](Config& c, const Value& v) { c.relay.mx_starttls = v.flag; }},
      {{.section = "relay", .key = "retry_min", .type = KeyType::Seconds, .min = 1, .max = 86400,
        .default_value = "5m",
        .doc = "Wait after a temporary failure before the first retry; each later wait doubles, up to retry_max."},
       [](Config& c, const Value& v) { c.relay.retry_min = narrow<std::uint32_t>(v.number); }},
      {{.section = "relay", .key = "retry_max", .type = KeyType::Seconds, .min = 1, .max = 86400,
        .default_value = "4h",
        .doc = "The longest wait between two attempts for one recipient (at least retry_min)."},
       [](Config& c, const Value& v) { c.relay.retry_max = narrow<std::uint32_t>(v.number); }},
      {{.section = "relay", .key = "max_lifetime", .type = KeyType::Seconds, .min = 60, .max = 30 * 86400,
        .default_value = "120h",
        .doc = "How long a message may wait in the queue; then the sender gets a failure notice (RFC 3464) "
               "for every recipient not delivered."},
       [](Config& c, const Value& v) { c.relay.max_lifetime = narrow<std::uint32_t>(v.number); }},
      {{.section = "relay", .key = "delay_notice_after", .type = KeyType::Seconds, .min = 0, .max = 30 * 86400,
        .default_value = "4h",
        .doc = "After this long undelivered, the sender gets one delay notice (RFC 3464, Action: delayed); "
               "0: none. Never for a message with the null sender."},
       [](Config& c, const Value& v) { c.relay.delay_notice_after = narrow<std::uint32_t>(v.number); }},
      {{.section = "relay", .key = "max_deliveries", .type = KeyType::Uint, .min = 1, .max = 1000,
        .default_value = "10",
        .doc = "Outgoing SMTP connections at once, in all."},
       [](Config& c, const Value& v) { c.relay.max_deliveries = narrow<std::uint32_t>(v.number); }},
      {{.section = "relay", .key = "max_deliveries_per_destination", .type = KeyType::Uint, .min = 1, .max = 1000,
        .default_value = "2",
        .doc = "Outgoing SMTP connections at once to one destination (a domain, or the smarthost); "
               "several messages go over one connection."},
       [](Config& c, const Value& v) { c.relay.max_deliveries_per_destination = narrow<std::uint32_t>(v.number); }},
      {{.section = "relay", .key = "connect_timeout", .type = KeyType::Seconds, .min = 1, .max = 600,
        .default_value = "30",
        .doc = "Wait for a TCP connection to a remote server before trying the next address. The SMTP "
               "replies then get RFC 5321 4.5.3.2's timeouts (5 minutes for most, 10 after the message)."},
       [](Config& c, const Value& v) { c.relay.connect_timeout = narrow<std::uint32_t>(v.number); }},

      // [dns]
      {{.section = "dns", .key = "servers", .type = KeyType::ListenList, .default_value = "",
        .doc = "DNS servers for the outgoing queue's MX and address lookups, as address:port "
               "(e.g. 192.168.1.1:53 [2001:db8::53]:53); empty (the default): those of /etc/resolv.conf.",
        .may_be_empty = true},
       [](Config& c, const Value& v) { c.dns.servers = v.listen; }},
      {{.section = "dns", .key = "timeout", .type = KeyType::Seconds, .min = 1, .max = 60, .default_value = "5",
        .doc = "Wait for one DNS answer before asking again (or the next server)."},
       [](Config& c, const Value& v) { c.dns.timeout = narrow<std::uint32_t>(v.number); }},
      {{.section = "dns", .key = "attempts", .type = KeyType::Uint, .min = 1, .max = 10, .default_value = "3",
        .doc = "Tries per server before a lookup fails temporarily (the message is retried later)."},
       [](Config& c, const Value& v) { c.dns.attempts = narrow<std::uint32_t>(v.number); }},

      // [firewall] (firewall/, docs/firewall.md)
      {{.section = "firewall", .key = "enabled", .type = KeyType::Bool, .default_value = "no",
        .doc = "Keep boxmail's own nftables table inet boxmail: boxmaild, started as root, starts the helper "
               "program (which keeps only CAP_NET_ADMIN) before it drops its privileges; banned addresses "
               "are then dropped on the mail ports. Stopping boxmaild deletes the table. The appliance "
               "turns it on; off (the default) boxmaild never touches the machine's firewall.",
        .read_at_start = true},
       [](Config& c, const Value& v) { c.firewall.enabled = v.flag; }},
      {{.section = "firewall", .key = "allow", .type = KeyType::NetworkList, .default_value = "127.0.0.1 ::1",
        .doc = "Addresses and networks that are never banned, e.g. 127.0.0.1 ::1 192.168.1.10; [relay] "
               "relay_networks (the LAN) are never banned either. A ban of one of them is refused; a "
               "network holding every address is refused here.",
        .may_be_empty = true},
       [](Config& c, const Value& v) { c.firewall.allow = v.networks; }, check_firewall_allow},
      {{.section = "firewall", .key = "program", .type = KeyType::Path, .default_value = "/usr/sbin/boxmail-fw",
        .doc = "The firewall helper boxmaild starts as root when enabled.",
        .fixed_at_install = true},
       [](Config& c, const Value& v) { c.firewall.program = v.text; }},
      {{.section = "firewall", .key = "ban_after_login_failures", .type = KeyType::Uint, .min = 0, .max = 1000,
        .default_value = "10",
        .doc = "The auto-ban: failed logins (POP3, SMTP AUTH, the panel's; also attempts refused while "
               "the address is blocked) that alone get a client address banned within ban_window; 0 = "
               "not counted. Offences of different kinds add up: each counts 1/its limit, a ban at 1. "
               "Needs enabled = yes; allowed addresses are never banned."},
       [](Config& c, const Value& v) { c.firewall.ban_after_login_failures = narrow<std::uint32_t>(v.number); }},
      {{.section = "firewall", .key = "ban_after_protocol_errors", .type = KeyType::Uint, .min = 0, .max = 1000,
        .default_value = "5",
        .doc = "Sessions (SMTP or POP3) ended by the server for too many errors that alone get a client "
               "address banned within ban_window; 0 = not counted."},
       [](Config& c, const Value& v) { c.firewall.ban_after_protocol_errors = narrow<std::uint32_t>(v.number); }},
      {{.section = "firewall", .key = "ban_after_relay_attempts", .type = KeyType::Uint, .min = 0, .max = 1000,
        .default_value = "5",
        .doc = "RCPTs refused as relaying (a remote recipient from a client that may not relay, a route-like "
               "address) that alone get a client address banned within ban_window; 0 = not counted."},
       [](Config& c, const Value& v) { c.firewall.ban_after_relay_attempts = narrow<std::uint32_t>(v.number); }},
      {{.section = "firewall", .key = "ban_after_unknown_recipients", .type = KeyType::Uint, .min = 0, .max = 10000,
        .default_value = "20",
        .doc = "RCPTs to users that do not exist (directory harvesting) that alone get a client address "
               "banned within ban_window; 0 = not counted."},
       [](Config& c, const Value& v) { c.firewall.ban_after_unknown_recipients = narrow<std::uint32_t>(v.number); }},
      {{.section = "firewall", .key = "ban_window", .type = KeyType::Seconds, .min = 1, .max = 86400,
        .default_value = "10m",
        .doc = "Offences of an address add up while each comes within this time of the one before."},
       [](Config& c, const Value& v) { c.firewall.ban_window = narrow<std::uint32_t>(v.number); }},
      {{.section = "firewall", .key = "ban_time", .type = KeyType::Seconds, .min = 1, .max = 30 * 86400,
        .default_value = "1h",
        .doc = "How long an address's first auto-ban lasts; each further one, while its earlier bans are "
               "remembered (ban_time_max after the last ended), lasts twice as long, up to ban_time_max."},
       [](Config& c, const Value& v) { c.firewall.ban_time = narrow<std::uint32_t>(v.number); }},
      {{.section = "firewall", .key = "ban_time_max", .type = KeyType::Seconds, .min = 1, .max = 30 * 86400,
        .default_value = "168h",
        .doc = "The longest auto-ban (at least ban_time), and how long an address's bans are remembered."},
       [](Config& c, const Value& v) { c.firewall.ban_time_max = narrow<std::uint32_t>(v.number); }},
  };
  return table;
}

const Row* find_row(std::string_view section, std::string_view key) {
  for (const Row& r : rows()) {
    if (r.info.section == section && r.info.key == key) return &r;
  }
  return nullptr;
}

bool known_section(std::string_view s) {
  return std::find(kSections.begin(), kSections.end(), s) != kSections.end();
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

/// "unknown key", with a hint when the key is misspelt or in another section.
std::string unknown_key_message(std::string_view section, std::string_view key) {
  for (const Row& r : rows()) {
    if (r.info.key == key) return "unknown key (it belongs in [" + std::string(r.info.section) + "])";
  }
  const KeyInfo* best = nullptr;
  std::size_t best_d = 3;
  for (const Row& r : rows()) {
    if (r.info.section != section) continue;
    const std::size_t d = edit_distance(key, r.info.key);
    if (d < best_d) {
      best_d = d;
      best = &r.info;
    }
  }
  if (best) return "unknown key (did you mean '" + std::string(best->key) + "'?)";
  return "unknown key";
}

// ---- the parser -----------------------------------------------------------------

constexpr char kUnknownSection[] =
    "unknown section (known: [server], [smtp], [pop3], [tls], [store], [relay], [dns], [firewall], [aliases])";

struct Parser {
  std::string_view text;
  std::size_t pos = 0;
  int line = 0;                  ///< line last handed to inih
  std::string file;
  Config config;
  std::vector<ConfigError> errors;
  std::string section;           ///< current section, lower case
  bool section_ok = false;       ///< keys of the current section are to be read
  bool section_reported = false; ///< the current header was already an error
  int unknown_line = 0;          ///< line of an unknown section's header; 0 if none is open
  bool unknown_has_keys = false; ///< the open unknown section's keys were reported
  std::map<std::string, int, std::less<>> seen;   ///< "section\nkey" -> line
  std::set<std::string, std::less<>> bad;         ///< keys whose value had an error

  void error(std::string sec, std::string key, std::string message) {
    errors.push_back(ConfigError{file, line, std::move(sec), std::move(key), std::move(message)});
  }

  /// Checks one physical line and returns what inih gets to see of it
  /// (possibly nothing: an empty line).
  std::string filter_line(std::string_view raw) {
    if (line == 1 && raw.starts_with("\xEF\xBB\xBF")) raw.remove_prefix(3);   // UTF-8 BOM
    std::string_view s = raw;
    while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
    if (s.empty() || s.front() == ';' || s.front() == '#') return {};
    if (raw.find('\0') != std::string_view::npos) {
      error("", "", "line contains a NUL octet");
      return {};
    }
    if (raw.size() > kMaxLineLength) {
      error("", "", "line is " + std::to_string(raw.size()) + " octets long (at most " +
                        std::to_string(kMaxLineLength) + ")");
      return {};
    }
    if (s.front() == '[') {
      close_unknown_section();
      section_ok = false;
      section_reported = true;   // keys below a broken header are not reported one by one
      section.clear();
      const auto close = s.find(']');
      if (close == std::string_view::npos) {
        error("", "", "section header lacks ']'");
        return {};
      }
      const std::string_view after = trim(s.substr(close + 1));
      if (!after.empty() && after.front() != ';' && after.front() != '#') {
        error("", "", "text after the section header");
        return {};
      }
      section = text::ascii_lower(trim(s.substr(1, close - 1)));
      if (section.empty()) {
        error("", "", "empty section name");
        return {};
      }
      if (!known_section(section)) {
        // Reported on each of its keys (or on the header when it has none).
        unknown_line = line;
        unknown_has_keys = false;
        return "[" + section + "]";
      }
      section_ok = true;
      section_reported = false;
      return "[" + section + "]";
    }
    const auto sep = s.find_first_of("=:");
    if (sep == std::string_view::npos || s[sep] == ':') {
      error(section, "", "expected 'key = value'");
      return {};
    }
    if (trim(s.substr(0, sep)).empty()) {
      error(section, "", "missing key before '='");
      return {};
    }
    return std::string(s);
  }

  /// inih's reader: one line per call, as filtered by filter_line.
  static char* read_line(char* buf, int size, void* stream) {
    auto* p = static_cast<Parser*>(stream);
    if (p->pos >= p->text.size() || size <= 1) return nullptr;
    auto end = p->text.find('\n', p->pos);
    if (end == std::string_view::npos) end = p->text.size();
    std::string_view raw = p->text.substr(p->pos, end - p->pos);
    p->pos = end + 1;
    ++p->line;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    std::string out = p->filter_line(raw);
    if (out.size() >= static_cast<std::size_t>(size)) {   // only if inih's buffer is smaller than its header says
      p->error("", "", "line is too long for the INI parser");
      out.clear();
    }
    std::memcpy(buf, out.data(), out.size());
    buf[out.size()] = '\0';
    return buf;
  }

  static int on_key(void* user, const char* sec, const char* name, const char* value) {
    static_cast<Parser*>(user)->key(sec, name, value);
    return 1;   // errors are collected here; inih goes on either way
  }

  void key(std::string_view sec, std::string_view name, std::string_view value) {
    const std::string k = text::ascii_lower(name);
    if (!section_ok) {
      if (unknown_line != 0) {
        error(section, k, kUnknownSection);
        unknown_has_keys = true;
      } else if (sec.empty() && !section_reported) {
        error("", k, "key outside any section (start with e.g. [smtp])");
      }
      return;
    }
    std::string id = section + "\n" + k;
    if (auto it = seen.find(id); it != seen.end()) {
      error(section, k, "duplicate key (first set on line " + std::to_string(it->second) + ")");
      return;
    }
    seen.emplace(std::move(id), line);

    if (section == "aliases") {
      alias(k, value);
      return;
    }
    const Row* row = find_row(section, k);
    if (row == nullptr) {
      error(section, k, unknown_key_message(section, k));
      return;
    }
    Value v;
    Error err = parse_value(row->info, value, v);
    if (!err && row->check) err = row->check(v);
    if (err) {
      bad.insert(section + "\n" + k);
      error(section, k, *err);
      return;
    }
    row->apply(config, v);
  }

  /// Ends an unknown section: one error on its header if none of its keys had one.
  void close_unknown_section() {
    if (unknown_line != 0 && !unknown_has_keys) {
      errors.push_back(ConfigError{file, unknown_line, section, "", kUnknownSection});
    }
    unknown_line = 0;
  }

  void alias(const std::string& name, std::string_view value) {
    if (auto err = mailbox_name_error(name)) {
      error("aliases", name, "bad alias name: " + *err);
      return;
    }
    const auto items = split_list(value);
    if (items.empty()) {
      error("aliases", name, "alias has no targets (use 'null' to discard)");
      return;
    }
    std::vector<std::string> targets;
    for (std::string_view item : items) {
      std::string t = text::ascii_lower(item);
      if (item.find('@') != std::string_view::npos) {
        // A forwarding target: an address elsewhere (relayed by the queue).
        const address::PathResult p = address::parse_forward_path("<" + std::string(item) + ">");
        if (!p.error.empty() || p.mailbox.domain.empty()) {
          error("aliases", name, "target " + quoted(item) + " is not an address" +
                                     (p.error.empty() ? std::string() : " (" + p.error + ")"));
          return;
        }
        if (p.mailbox.address_literal) {
          error("aliases", name, "target " + quoted(item) + ": forwarding to an address literal is not supported");
          return;
        }
        if (p.mailbox.local_part.find_first_of(" \"(),:;<>@[\\]%!") != std::string::npos) {
          error("aliases", name, "target " + quoted(item) + ": the local-part must be a plain dot-atom");
          return;
        }
        t = p.mailbox.local_part + "@" + text::ascii_lower(p.mailbox.domain);
        if (std::find(targets.begin(), targets.end(), t) == targets.end()) targets.push_back(std::move(t));
        continue;
      }
      if (t != "null") {
        if (auto err = mailbox_name_error(t)) {
          error("aliases", name, "target " + quoted(item) + ": " + *err);
          return;
        }
      }
      if (t == name) {
        error("aliases", name, "alias lists itself as a target");
        return;
      }
      if (std::find(targets.begin(), targets.end(), t) == targets.end()) targets.push_back(std::move(t));
    }
    config.aliases.emplace(name, std::move(targets));
  }

  int line_of(std::string_view sec, std::string_view key) const {
    auto it = seen.find(std::string(sec) + "\n" + std::string(key));
    return it == seen.end() ? 0 : it->second;
  }
  bool is_bad(std::string_view sec, std::string_view key) const {
    return bad.count(std::string(sec) + "\n" + std::string(key)) != 0;
  }

  /// A cross-key error, placed on the line of `key` (or of `other` when
  /// only that one was set in the file), 0 when neither was.
  void cross_error(std::string_view key, std::string_view other, std::string message) {
    cross_error_in("smtp", key, other, std::move(message));
  }
  void cross_error_in(std::string_view sec, std::string_view key, std::string_view other, std::string message) {
    const int l = line_of(sec, key) != 0 ? line_of(sec, key) : line_of(sec, other);
    errors.push_back(ConfigError{file, l, std::string(sec), std::string(key), std::move(message)});
  }

  void cross_checks() {
    const SmtpConfig& s = config.smtp;
    if (!is_bad("smtp", "max_connections") && !is_bad("smtp", "max_connections_per_ip") &&
        s.max_connections_per_ip > s.max_connections) {
      cross_error("max_connections_per_ip", "max_connections",
                  "max_connections_per_ip (" + std::to_string(s.max_connections_per_ip) +
                      ") is larger than max_connections (" + std::to_string(s.max_connections) + ")");
    }
    if (!is_bad("smtp", "idle_timeout") && !is_bad("smtp", "session_timeout") &&
        s.idle_timeout > s.session_timeout) {
      cross_error("idle_timeout", "session_timeout",
                  "idle_timeout (" + std::to_string(s.idle_timeout) + "s) is longer than session_timeout (" +
                      std::to_string(s.session_timeout) + "s)");
    }
    if (!is_bad("smtp", "listen") && s.listen.empty()) {
      cross_error("listen", "listen", "no listen address");
    }
    if (!is_bad("smtp", "catch_all") && !s.catch_all.empty()) {
      if (auto err = mailbox_name_error(s.catch_all)) cross_error("catch_all", "catch_all", *err);
    }
    const Pop3Config& p = config.pop3;
    if (!is_bad("pop3", "max_connections") && !is_bad("pop3", "max_connections_per_ip") &&
        p.max_connections_per_ip > p.max_connections) {
      cross_error_in("pop3", "max_connections_per_ip", "max_connections",
                     "max_connections_per_ip (" + std::to_string(p.max_connections_per_ip) +
                         ") is larger than max_connections (" + std::to_string(p.max_connections) + ")");
    }
    const RelayConfig& r = config.relay;
    if (r.route.empty() && !is_bad("relay", "route")) {
      for (const auto& [alias_name, targets] : config.aliases) {
        for (const std::string& t : targets) {
          if (t.find('@') == std::string::npos) continue;
          errors.push_back(ConfigError{file, line_of("aliases", alias_name), "aliases", alias_name,
                                       "forwards to " + t + " but [relay] route is none (no way out for it)"});
          break;
        }
      }
    }
    const FirewallConfig& fw = config.firewall;
    if (!is_bad("firewall", "ban_time") && !is_bad("firewall", "ban_time_max") && fw.ban_time > fw.ban_time_max) {
      cross_error_in("firewall", "ban_time", "ban_time_max",
                     "ban_time (" + std::to_string(fw.ban_time) + "s) is longer than ban_time_max (" +
                         std::to_string(fw.ban_time_max) + "s)");
    }
    if (!is_bad("relay", "retry_min") && !is_bad("relay", "retry_max") && r.retry_min > r.retry_max) {
      cross_error_in("relay", "retry_min", "retry_max",
                     "retry_min (" + std::to_string(r.retry_min) + "s) is longer than retry_max (" +
                         std::to_string(r.retry_max) + "s)");
    }
    if (!is_bad("relay", "max_deliveries") && !is_bad("relay", "max_deliveries_per_destination") &&
        r.max_deliveries_per_destination > r.max_deliveries) {
      cross_error_in("relay", "max_deliveries_per_destination", "max_deliveries",
                     "max_deliveries_per_destination (" + std::to_string(r.max_deliveries_per_destination) +
                         ") is larger than max_deliveries (" + std::to_string(r.max_deliveries) + ")");
    }
    const bool via_smarthost =
        std::find(r.route.begin(), r.route.end(), RouteMethod::Smarthost) != r.route.end();
    if (!is_bad("relay", "route") && !is_bad("relay", "smarthost") && via_smarthost && r.smarthost.empty()) {
      cross_error_in("relay", "smarthost", "route", "route names smarthost but no smarthost is set");
    }
    // One socket per address: no address in two services' lists.
    struct Service {
      const char* section;
      const char* key;
      const std::vector<ListenAddress>* list;
    };
    std::vector<Service> services = {{"smtp", "listen", &s.listen},
                                     {"smtp", "submission_listen", &s.submission_listen},
                                     {"smtp", "submissions_listen", &s.submissions_listen}};
    if (p.enabled) {
      services.push_back({"pop3", "listen", &p.listen});
      services.push_back({"pop3", "pop3s_listen", &p.pop3s_listen});
    }
    for (std::size_t i = 0; i < services.size(); ++i) {
      if (is_bad(services[i].section, services[i].key)) continue;
      for (std::size_t j = 0; j < i; ++j) {
        if (is_bad(services[j].section, services[j].key)) continue;
        const auto& earlier = *services[j].list;
        for (const ListenAddress& a : *services[i].list) {
          if (std::find(earlier.begin(), earlier.end(), a) == earlier.end()) continue;
          cross_error_in(services[i].section, services[i].key, services[i].key,
                         "port " + std::to_string(a.port) + " on " + a.host + " is also in [" +
                             services[j].section + "] " + services[j].key);
          break;
        }
      }
    }
  }
};

/// Man page text: escapes backslashes and hyphens, and protects a leading
/// '.' or '\''.
std::string roff(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else {
      out += c;
    }
  }
  if (!out.empty() && (out.front() == '.' || out.front() == '\'')) out.insert(0, "\\&");
  return out;
}

std::string_view type_word(KeyType t) {
  switch (t) {
    case KeyType::String: return "text";
    case KeyType::Bool: return "boolean";
    case KeyType::Uint: return "number";
    case KeyType::Size: return "size";
    case KeyType::Seconds: return "duration";
    case KeyType::Enum: return "word";
    case KeyType::ListenList: return "addresses";
    case KeyType::DomainList: return "domains";
    case KeyType::Mailbox: return "mailbox";
    case KeyType::Path: return "path";
    case KeyType::NetworkList: return "networks";
  }
  return "value";
}

}  // namespace

// ---- public interface ---------------------------------------------------------------

const std::vector<KeyInfo>& schema() {
  static const std::vector<KeyInfo> infos = [] {
    std::vector<KeyInfo> v;
    for (const Row& r : rows()) v.push_back(r.info);
    return v;
  }();
  return infos;
}

const KeyInfo* find_key(std::string_view section, std::string_view key) {
  for (const KeyInfo& k : schema()) {
    if (k.section == section && k.key == key) return &k;
  }
  return nullptr;
}

std::string ConfigError::to_string() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  if (!section.empty()) {
    out += "[" + section + "]";
    out += key.empty() ? ": " : " ";
  }
  if (!key.empty()) out += key + ": ";
  out += message;
  return out;
}

ConfigPtr default_config() {
  static const ConfigPtr config = [] {
    Config c;
    c.source = std::string(kEmbeddedSource);
    for (const Row& r : rows()) {
      Value v;
      Error err = parse_value(r.info, r.info.default_value, v);
      if (!err && r.check) err = r.check(v);
      if (err) {
        throw std::logic_error("schema default of [" + std::string(r.info.section) + "] " +
                               std::string(r.info.key) + " is invalid: " + *err);
      }
      r.apply(c, v);
    }
    return std::make_shared<const Config>(std::move(c));
  }();
  return config;
}

ParseResult parse_config(std::string_view text, std::string_view file_name) {
  Parser p;
  p.text = text;
  p.file = std::string(file_name);
  p.config = *default_config();
  p.config.source = std::string(file_name);
  const int rc = ini_parse_stream(&Parser::read_line, &p, &Parser::on_key, &p);
  if (rc != 0) {
    // Not expected: read_line hands inih only well-formed lines.
    p.errors.push_back(ConfigError{p.file, rc > 0 ? rc : 0, "", "",
                                   rc > 0 ? "syntax error" : "INI parser failed"});
  }
  p.close_unknown_section();
  p.cross_checks();
  ParseResult result;
  if (p.errors.empty()) {
    result.config = std::make_shared<const Config>(std::move(p.config));
  } else {
    std::stable_sort(p.errors.begin(), p.errors.end(),
                     [](const ConfigError& a, const ConfigError& b) {
                       return (a.line == 0 ? std::numeric_limits<int>::max() : a.line) <
                              (b.line == 0 ? std::numeric_limits<int>::max() : b.line);
                     });
    result.errors = std::move(p.errors);
  }
  return result;
}

bool is_empty_config(std::string_view text) { return text.find_first_not_of(" \t\r\n") == std::string_view::npos; }

std::string schema_man_page() {
  std::string m;
  auto add = [&m](std::string_view s) {
    m += s;
    m += '\n';
  };
  const std::string max_line = std::to_string(kMaxLineLength);

  add(".\\\" boxmail.ini(5) - generated from src/config/schema.cpp by schema_man_page(); do not edit.");
  add(".TH BOXMAIL.INI 5 \"\" \"boxmail\" \"File Formats Manual\"");
  add(".nh");
  add(".ad l");
  add(".SH NAME");
  add("boxmail.ini \\- configuration file of the boxmail mail server");
  add(".SH SYNOPSIS");
  add(".B /etc/boxmail/boxmail.ini");
  add(".SH DESCRIPTION");
  add(".BR boxmaild (8)");
  add("and");
  add(".BR boxmailctl (8)");
  add("read their settings from one INI file, given with \\fB\\-c\\fR \\fIFILE\\fR.");
  add("Without");
  add(".BR \\-c ,");
  add("both use the embedded default, which is every key at the default shown below.");
  add("A key that is not in the file keeps its default.");
  add(".PP");
  add("The file is made of sections, each begun by a header such as");
  add(".BR [smtp] ,");
  add("and of");
  add(".I key = value");
  add("lines within them.");
  add("Section and key names are matched regardless of case.");
  add("Blanks around keys and values are ignored; values are not quoted (quotes are part of the value).");
  add("Lines that begin with");
  add(".B ;");
  add("or");
  add(".B #");
  add("are comments, and so is the rest of a line from a");
  add(".B ;");
  add("that follows a blank.");
  add("A line other than a comment may be at most " + max_line + " octets long.");
  add(".PP");
  add("Value types:");
  add(".TP");
  add(".I boolean");
  add(".BR yes / no ,");
  add(".BR true / false ,");
  add(".BR on / off ,");
  add(".BR 1 / 0 .");
  add(".TP");
  add(".I number");
  add("A decimal integer within the range shown.");
  add(".TP");
  add(".I size");
  add("Octets: a decimal integer with an optional suffix");
  add(".BR k ,");
  add(".B M");
  add("or");
  add(".B G");
  add("(1024, 1024\\(ha2, 1024\\(ha3; either case), within the range shown.");
  add(".TP");
  add(".I duration");
  add("Seconds: a decimal integer with an optional suffix");
  add(".B s");
  add("(seconds),");
  add(".B m");
  add("(minutes) or");
  add(".B h");
  add("(hours), within the range shown.");
  add(".TP");
  add(".I addresses");
  add("A list, separated by commas and/or blanks, of numeric");
  add(".I address:port");
  add("items: an IPv4 address, or an IPv6 address in brackets");
  add("(\\fB0.0.0.0:25\\fR, \\fB[::1]:2525\\fR).");
  add("Host names are refused: the daemon resolves nothing to listen.");
  add(".TP");
  add(".I domains");
  add("A list, separated by commas and/or blanks, of domain names");
  add("(\\fBexample.com\\fR) and patterns (\\fB*.example.com\\fR matches the sub\\-domains of");
  add("example.com, not example.com itself), or a single");
  add(".B *");
  add("for any domain.");
  add(".TP");
  add(".I networks");
  add("A list, separated by commas and/or blanks, of IP networks in CIDR notation");
  add("(\\fB192.168.1.0/24\\fR, \\fBfd00::/8\\fR) or single addresses (\\fB127.0.0.1\\fR, \\fB::1\\fR);");
  add("host bits below the prefix are refused. IPv4 wildcards over whole trailing octets");
  add("(\\fB192.168.*\\fR, \\fB10.1.2.*\\fR) are taken and shown in CIDR notation.");
  add("Empty for none where the key allows it.");
  add(".TP");
  add(".I mailbox");
  add("A mailbox name: 1 to 64 of the characters a\\-z, 0\\-9, \\(aq.\\(aq, \\(aq_\\(aq and \\(aq\\-\\(aq,");
  add("beginning with a letter or digit, without \\(aq..\\(aq; or empty for none.");
  add(".TP");
  add(".I path");
  add("A file or directory name, not empty; relative names are taken from the daemon's working directory.");
  add(".TP");
  add(".I word");
  add("One of the words shown.");

  std::string_view current;
  for (const Row& r : rows()) {
    const KeyInfo& k = r.info;
    if (k.section != current) {
      current = k.section;
      add(".SH \"SECTION [" + std::string(k.section) + "]\"");
    }
    std::string head = "\\fB" + roff(k.key) + "\\fR = ";
    if (k.type == KeyType::Enum) {
      std::string alt;
      for (std::string_view word : split_choices(k.choices)) {
        alt += (alt.empty() ? "" : " | ") + ("\\fB" + roff(word) + "\\fR");
      }
      head += alt;
    } else {
      head += "\\fI" + std::string(type_word(k.type)) + "\\fR";
    }
    head += " (";
    if (k.type == KeyType::Uint) {
      head += std::to_string(k.min) + "..\\:" + std::to_string(k.max) + "; ";
    } else if (k.type == KeyType::Size) {
      head += format_size(k.min) + "..\\:" + format_size(k.max) + "; ";
    } else if (k.type == KeyType::Seconds) {
      head += format_seconds(k.min) + "..\\:" + format_seconds(k.max) + "; ";
    }
    head += "default: ";
    head += k.default_value.empty() ? std::string("empty") : "\\fB" + roff(k.default_value) + "\\fR";
    head += ")";
    add(".TP");
    add(head);
    add(roff(k.doc));
    if (k.fixed_at_install) {
      add("Fixed at install time: the web panel and a restored backup refuse to change it,");
      add("and boxmaild takes a new value only when it is restarted.");
    }
    if (k.read_at_start) {
      add("Read at start only: a reload keeps the running value and reports that the change");
      add("needs a restart (the ports are bound as root, before boxmaild drops its privileges).");
    }
  }

  add(".SH \"SECTION [aliases]\"");
  add("Each key is an alias name, its value the targets it delivers to,");
  add("separated by commas and/or blanks.");
  add("A target is a mailbox, another alias, or");
  add(".BR null ,");
  add("which discards the message, or an address");
  add(".I user@domain");
  add("that forwards it: at one of the box's own domains it is resolved here by its local\\-part,");
  add("elsewhere it goes out through the outgoing queue with the original envelope sender");
  add("(a forwarding target needs a [relay] route).");
  add("Alias names follow the rules of mailbox names and are stored in lower case;");
  add("a mailbox of the same name is chosen before an alias.");
  add("An alias may not list itself, and");
  add(".B null");
  add("is not an alias name.");
  add("Aliases nest up to");
  add(".B max_alias_depth");
  add("levels; deeper or cyclic aliases are refused with 550 5.4.6.");
  add(".PP");
  add(".nf");
  add(".RS");
  add("[aliases]");
  add("info = alice, bob");
  add("sales = info carol");
  add("noreply = null");
  add(".RE");
  add(".fi");
  add(".SH CHECKS");
  add("Besides each value's type and range:");
  add(".B max_connections_per_ip");
  add("may not exceed");
  add(".BR max_connections ,");
  add(".B idle_timeout");
  add("may not exceed");
  add(".BR session_timeout ,");
  add("and");
  add(".B listen");
  add("may not be empty.");
  add("The same holds for the");
  add(".B max_connections");
  add("keys of [pop3].");
  add("No address and port may be in two of the listen lists");
  add("([smtp] listen, submission_listen, submissions_listen; [pop3] listen, pop3s_listen):");
  add("each is one socket for one service.");
  add("Unknown sections and keys, a key given twice in one section,");
  add("and lines longer than " + max_line + " octets are errors too.");
  add(".SH DIAGNOSTICS");
  add("Every error names the file, line, section and key:");
  add(".PP");
  add(".nf");
  add(".RS");
  add("/etc/boxmail/boxmail.ini:12: [smtp] max_message_size: value \\(aq25X\\(aq is not a size");
  add("(expected a number with optional k, M or G)");
  add(".RE");
  add(".fi");
  add(".PP");
  add("A file with any error is never used: the daemon does not start with it,");
  add("and a reload keeps the configuration already in use.");
  add(".SH EXAMPLES");
  add(".nf");
  add(".RS");
  add("[server]");
  add("passwd_file = /etc/boxmail/passwd");
  add("log = syslog");
  add("");
  add("[smtp]");
  add("listen = 0.0.0.0:25 [::]:25");
  add("accept_domains = example.com, *.example.com");
  add("catch_all = postmaster");
  add("max_message_size = 50M");
  add("");
  add("[pop3]");
  add("listen = 0.0.0.0:110 [::]:110");
  add("");
  add("[store]");
  add("mail_dir = /var/mail");
  add("spool_dir = /var/spool/boxmail");
  add(".RE");
  add(".fi");
  add(".SH FILES");
  add(".TP");
  add(".I /etc/boxmail/boxmail.ini");
  add("The configuration of the appliance.");
  add(".SH \"SEE ALSO\"");
  add(".BR boxmaild (8),");
  add(".BR boxmailctl (8)");
  return m;
}

}  // namespace boxmail::config

// account.cpp - mailbox names and the passwd-file text format (pure; see
// account.hpp). Standard library only: this file is part of boxmail_pure.
#include "config/account.hpp"

#include "text/ascii.hpp"
#include "text/number.hpp"

#include <cstddef>
#include <map>
#include <string>

namespace boxmail::config {
namespace {

constexpr std::size_t kMaxNameLength = 64;
constexpr std::size_t kFieldCount = 8;   // name:password:uid:gid:gecos:home:shell:extra

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }

/// A byte as it can be shown in a message: 'c' when printable, else \xHH.
std::string show_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x21 && u < 0x7f) return std::string("'") + c + "'";
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\\x";
  out += kHex[u >> 4];
  out += kHex[u & 0xf];
  return out;
}

/// "{SCHEME}" with SCHEME of 1..32 characters [A-Za-z0-9._-], followed by
/// at least one octet of hash.
bool has_scheme_prefix(std::string_view password) {
  if (password.size() < 3 || password[0] != '{') return false;
  const auto close = password.find('}');
  if (close == std::string_view::npos || close == 1 || close > 33) return false;
  for (std::size_t i = 1; i < close; ++i) {
    const char c = password[i];
    const bool ok = is_lower_alnum(c) || is_upper(c) || c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return close + 1 < password.size();
}

}  // namespace

std::optional<std::string> mailbox_name_error(std::string_view name) {
  if (name.empty()) return "mailbox name is empty";
  if (name.size() > kMaxNameLength) {
    return "mailbox name is " + std::to_string(name.size()) + " octets long (at most " +
           std::to_string(kMaxNameLength) + ")";
  }
  for (char c : name) {
    if (is_upper(c)) {
      return "mailbox names are lower case (write '" + text::ascii_lower(name) + "')";
    }
  }
  for (char c : name) {
    if (!is_lower_alnum(c) && c != '.' && c != '_' && c != '-') {
      return "mailbox name contains " + show_byte(c) +
             " (allowed: a-z, 0-9, '.', '_' and '-')";
    }
  }
  if (!is_lower_alnum(name.front())) return "mailbox name must start with a letter or digit";
  if (name.find("..") != std::string_view::npos) return "mailbox name must not contain '..'";
  if (name == "null") return "'null' is reserved (as an alias target it means discard)";
  return std::nullopt;
}

const Account* AccountTable::find(std::string_view name) const {
  const std::string key = text::ascii_lower(name);
  for (const Account& a : accounts) {
    if (a.name == key) return &a;
  }
  return nullptr;
}

AccountParse parse_passwd(std::string_view text) {
  AccountParse out;
  std::map<std::string, int, std::less<>> first_line;   // name -> line it was defined on
  int line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

    const auto first = line.find_first_not_of(" \t");
    if (first != std::string_view::npos && line[first] == '#') {
      const auto last = line.find_last_not_of(" \t");
      if (line.substr(first, last + 1 - first) == kNoMailboxes) out.says_no_mailboxes = true;
      continue;
    }
    if (first == std::string_view::npos) continue;

    std::vector<std::string_view> fields;
    std::size_t start = 0;
    while (fields.size() + 1 < kFieldCount) {
      const auto colon = line.find(':', start);
      if (colon == std::string_view::npos) break;
      fields.push_back(line.substr(start, colon - start));
      start = colon + 1;
    }
    fields.push_back(line.substr(start));   // the last field keeps any further ':'

    auto fail = [&](std::string message) {
      out.errors.push_back(AccountError{line_no, std::move(message)});
    };
    if (fields.size() < 2) {
      fail("expected 'name:{SCHEME}hash:...' (no ':' found)");
      continue;
    }
    if (auto err = mailbox_name_error(fields[0])) {
      fail(*err);
      continue;
    }
    if (fields[1].empty()) {
      fail("mailbox '" + std::string(fields[0]) + "' has an empty password field");
      continue;
    }
    if (!has_scheme_prefix(fields[1])) {
      fail("password of mailbox '" + std::string(fields[0]) +
           "' does not start with {SCHEME} (e.g. {SHA512-CRYPT}$6$...)");
      continue;
    }
    if (auto it = first_line.find(fields[0]); it != first_line.end()) {
      fail("duplicate mailbox '" + std::string(fields[0]) + "' (first on line " +
           std::to_string(it->second) + ")");
      continue;
    }
    first_line.emplace(std::string(fields[0]), line_no);

    fields.resize(kFieldCount);
    Account a;
    a.name = std::string(fields[0]);
    a.password = std::string(fields[1]);
    a.uid = std::string(fields[2]);
    a.gid = std::string(fields[3]);
    a.gecos = std::string(fields[4]);
    a.home = std::string(fields[5]);
    a.shell = std::string(fields[6]);
    a.extra = std::string(fields[7]);
    out.table.accounts.push_back(std::move(a));
  }
  return out;
}

namespace {
/// The tokens of an extra field, split at blanks.
std::vector<std::string_view> tokens(std::string_view extra) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < extra.size()) {
    while (i < extra.size() && (extra[i] == ' ' || extra[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < extra.size() && extra[i] != ' ' && extra[i] != '\t') ++i;
    if (i > start) out.push_back(extra.substr(start, i - start));
  }
  return out;
}

bool is_flag_token(std::string_view token, std::string_view flag) {
  return token == flag || (token.size() > flag.size() && token.starts_with(flag) && token[flag.size()] == '=');
}
}  // namespace

bool has_flag(const Account& account, std::string_view flag) {
  for (std::string_view t : tokens(account.extra)) {
    if (is_flag_token(t, flag)) return true;
  }
  return false;
}

void set_flag(Account& account, std::string_view flag, bool on) {
  std::string extra;
  for (std::string_view t : tokens(account.extra)) {
    if (is_flag_token(t, flag)) continue;
    if (!extra.empty()) extra += ' ';
    extra += t;
  }
  if (on) {
    if (!extra.empty()) extra += ' ';
    extra += flag;
  }
  account.extra = std::move(extra);
}

bool login_allowed(const Account& account) { return !has_flag(account, "nologin"); }

bool pop3_allowed(const Account& account) { return login_allowed(account) && !has_flag(account, "nopop3"); }

std::uint64_t quota_of(const Account& account) {
  for (std::string_view t : tokens(account.extra)) {
    if (!t.starts_with("quota=")) continue;
    const auto n = text::parse_unsigned<std::uint64_t>(t.substr(6));
    return n ? n.value : 0;
  }
  return 0;
}

void set_quota(Account& account, std::uint64_t octets) {
  set_flag(account, "quota", false);
  if (octets == 0) return;
  if (!account.extra.empty()) account.extra += ' ';
  account.extra += "quota=" + std::to_string(octets);
}

std::string format_passwd(const AccountTable& table) {
  if (table.accounts.empty()) return std::string(kNoMailboxes) + "\n";
  std::string out;
  for (const Account& a : table.accounts) {
    for (const std::string* f : {&a.name, &a.password, &a.uid, &a.gid, &a.gecos, &a.home, &a.shell}) {
      out += *f;
      out += ':';
    }
    out += a.extra;
    out += '\n';
  }
  return out;
}

}  // namespace boxmail::config

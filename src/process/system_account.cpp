// system_account.cpp - see system_account.hpp. Pure.
#include "process/system_account.hpp"

#include "text/lines.hpp"
#include "text/number.hpp"

#include <array>

namespace boxmail::process {
namespace {

/// Splits `line` at ':' into exactly N fields; false when it has another count.
template <std::size_t N>
bool split_fields(std::string_view line, std::array<std::string_view, N>& out) {
  std::size_t i = 0;
  while (true) {
    const auto colon = line.find(':');
    if (i == N) return false;
    out[i++] = line.substr(0, colon);
    if (colon == std::string_view::npos) break;
    line.remove_prefix(colon + 1);
  }
  return i == N;
}

std::optional<std::uint32_t> parse_id(std::string_view s) {
  // (uid_t)-1 means "no change" to setuid/chown: never an account's id.
  const auto n = text::parse_unsigned<std::uint32_t>(s, 0xfffffffeu);
  if (!n) return std::nullopt;
  return n.value;
}

/// Calls f(fields) for each line of `text` with N fields that is no comment
/// or NIS entry, until f returns true.
template <std::size_t N, typename F>
void each_entry(std::string_view text, F&& f) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::string_view line = text::next_line(text, pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#' || line[0] == '+' || line[0] == '-') continue;
    std::array<std::string_view, N> fields;
    if (!split_fields(line, fields)) continue;
    if (f(fields)) return;
  }
}

}  // namespace

std::optional<SystemAccount> find_user(std::string_view passwd_text, std::string_view name) {
  std::optional<SystemAccount> found;
  if (name.empty()) return found;
  each_entry<7>(passwd_text, [&](const std::array<std::string_view, 7>& f) {
    if (f[0] != name) return false;
    const auto uid = parse_id(f[2]);
    const auto gid = parse_id(f[3]);
    if (!uid || !gid) return false;   // a broken line names nobody; a later one may
    found = SystemAccount{std::string(f[0]), *uid, *gid, std::string(f[5])};
    return true;
  });
  return found;
}

std::optional<SystemGroup> find_group(std::string_view group_text, std::string_view name) {
  std::optional<SystemGroup> found;
  if (name.empty()) return found;
  each_entry<4>(group_text, [&](const std::array<std::string_view, 4>& f) {
    if (f[0] != name) return false;
    const auto gid = parse_id(f[2]);
    if (!gid) return false;
    found = SystemGroup{std::string(f[0]), *gid};
    return true;
  });
  return found;
}

}  // namespace boxmail::process

// ban_table.cpp - see ban_table.hpp.
#include "firewall/ban_table.hpp"

#include "text/number.hpp"

#include <algorithm>
#include <cstdint>

namespace boxmail::firewall {

namespace {
constexpr std::string_view kStateHead = "boxmail-bans 1";
}  // namespace

std::optional<net::IpNetwork> parse_host(std::string_view text) {
  if (text.empty() || text.size() > 64 || text.find('/') != std::string_view::npos) return std::nullopt;
  std::string lower;
  for (char c : text) lower += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  std::string_view s = lower;
  // A dual-stack socket's form of an IPv4 client.
  if (s.starts_with("::ffff:") && s.find('.') != std::string_view::npos) s.remove_prefix(7);
  if (s.find_first_not_of("0123456789abcdef.:") != std::string_view::npos) return std::nullopt;
  std::string why;
  const auto n = net::parse_network(s, why);
  if (!n || n->prefix != (n->v6 ? 128 : 32)) return std::nullopt;
  return n;
}

bool BanTable::ban(const std::string& address, std::int64_t expires, const std::string& reason) {
  const bool had = unban(address);
  if (!had && bans_.size() >= kMaxBans) return false;
  bans_.push_back(Ban{address, expires, reason});
  ends_[address] = static_cast<std::uint32_t>(std::clamp<std::int64_t>(expires, 0, UINT32_MAX));
  return true;
}

bool BanTable::unban(const std::string& address) {
  const auto it = std::find_if(bans_.begin(), bans_.end(), [&](const Ban& b) { return b.address == address; });
  if (it == bans_.end()) return false;
  bans_.erase(it);
  ends_.erase(address);
  return true;
}

std::size_t BanTable::expire(std::int64_t now) {
  const std::size_t before = bans_.size();
  std::erase_if(bans_, [&](const Ban& b) { return b.expires <= now && ends_.erase(b.address) <= 1; });
  return before - bans_.size();
}

const Ban* BanTable::find(std::string_view address) const {
  for (const Ban& b : bans_) {
    if (b.address == address) return &b;
  }
  return nullptr;
}

std::string format_state(const std::vector<Ban>& bans) {
  std::string out(kStateHead);
  out += '\n';
  for (const Ban& b : bans) out += b.address + " " + std::to_string(b.expires) + " " + b.reason + "\n";
  return out;
}

StateParse parse_state(std::string_view text, std::int64_t now) {
  StateParse out;
  std::size_t pos = 0;
  int line_no = 0;
  BanTable table;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    const std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (line_no == 1) {
      if (line != kStateHead) {
        out.notes.push_back("line 1: not a boxmail-bans 1 file; no bans read");
        return out;
      }
      continue;
    }
    const auto sp1 = line.find(' ');
    const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    const auto address = sp1 == std::string_view::npos ? std::nullopt : parse_canonical_address(line.substr(0, sp1));
    std::optional<std::int64_t> expires;
    if (sp2 != std::string_view::npos) {
      const auto n = text::parse_unsigned<std::uint64_t>(line.substr(sp1 + 1, sp2 - sp1 - 1), INT64_MAX);
      if (n) expires = static_cast<std::int64_t>(n.value);
    }
    const std::string_view reason = sp2 == std::string_view::npos ? std::string_view() : line.substr(sp2 + 1);
    if (!address || !expires || !reason_error(reason).empty()) {
      out.notes.push_back("line " + std::to_string(line_no) + ": not ADDRESS EXPIRES REASON; skipped");
      continue;
    }
    if (*expires <= now) continue;
    if (!table.ban(address->to_string(), *expires, std::string(reason))) {
      out.notes.push_back("line " + std::to_string(line_no) + ": more than " + std::to_string(kMaxBans) +
                          " bans; the rest skipped");
      break;
    }
  }
  out.bans = table.bans();
  return out;
}

}  // namespace boxmail::firewall

// login_throttle.cpp - see login_throttle.hpp.
#include "cgi/login_throttle.hpp"

#include "text/lines.hpp"
#include "text/number.hpp"

#include <algorithm>
#include <limits>

namespace boxmail::cgi {

namespace {

/// A non-negative decimal that fits `out` (text/number.hpp).
template <class T>
bool number(std::string_view s, T& out) {
  const auto n = text::parse_unsigned<std::uint64_t>(s, static_cast<std::uint64_t>(std::numeric_limits<T>::max()));
  if (!n) return false;
  out = static_cast<T>(n.value);
  return true;
}

/// Splits on single blanks; at most `n` fields.
std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  while (!line.empty() && out.size() < 8) {
    const auto sp = line.find(' ');
    out.push_back(line.substr(0, sp));
    if (sp == std::string_view::npos) break;
    line.remove_prefix(sp + 1);
  }
  return out;
}

}  // namespace

bool valid_client_address(std::string_view a) {
  if (a.empty() || a.size() > 64) return false;
  return std::all_of(a.begin(), a.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' || c == ':' ||
           c == '-';
  });
}

namespace {

/// Seconds an address with `failures` must wait after its last failure.
std::int64_t delay_for(std::uint32_t failures, bool alarm) {
  const std::uint32_t free = alarm ? 0 : kFreeFailures;
  if (failures <= free) return 0;
  const std::uint32_t steps = failures - free - 1;
  if (steps >= 5) return kMaxDelaySeconds;
  return std::min(kFirstDelaySeconds << steps, kMaxDelaySeconds);
}

void forget_stale(LoginFailures& f, std::int64_t now) {
  std::erase_if(f.addresses, [&](const AddressFailures& a) { return now - a.last > kWindowSeconds || a.last > now + 60; });
  if (now - f.total_since > kWindowSeconds || f.total_since > now + 60) {
    f.total_since = now;
    f.total = 0;
  }
}

}  // namespace

LoginFailures parse_login_failures(std::string_view text) {
  LoginFailures f;
  bool version = false;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::string_view line = text::next_line(text, pos);
    if (line.empty()) continue;
    if (line == "version: 1") {
      version = true;
      continue;
    }
    const auto w = fields(line);
    if (w.size() == 3 && w[0] == "total") {
      if (!number(w[1], f.total_since) || !number(w[2], f.total)) return {};
    } else if (w.size() == 4 && w[0] == "addr" && valid_client_address(w[1])) {
      AddressFailures a;
      a.address = std::string(w[1]);
      if (!number(w[2], a.failures) || !number(w[3], a.last)) return {};
      if (f.addresses.size() < kMaxAddresses) f.addresses.push_back(std::move(a));
    } else {
      return {};
    }
  }
  if (!version) return {};
  return f;
}

std::string format_login_failures(const LoginFailures& f) {
  std::string out = "version: 1\ntotal " + std::to_string(f.total_since) + " " + std::to_string(f.total) + "\n";
  for (const auto& a : f.addresses)
    out += "addr " + a.address + " " + std::to_string(a.failures) + " " + std::to_string(a.last) + "\n";
  return out;
}

LoginVerdict check_login(const LoginFailures& f, std::string_view address, std::int64_t now) {
  LoginVerdict v;
  const bool alarm = now - f.total_since <= kWindowSeconds && f.total > kOverallAlarm;
  for (const auto& a : f.addresses) {
    if (a.address != address || now - a.last > kWindowSeconds || a.last > now + 60) continue;
    if (a.failures >= kLockoutFailures) {
      v.allowed = false;
      v.locked_out = true;
      v.retry_after = std::max<std::int64_t>(1, a.last + kWindowSeconds - now);
      return v;
    }
    const std::int64_t wait = a.last + delay_for(a.failures, alarm) - now;
    if (wait > 0) {
      v.allowed = false;
      v.retry_after = wait;
    }
    return v;
  }
  return v;
}

void record_attempt(LoginFailures& f, std::string_view address, std::int64_t now) {
  forget_stale(f, now);
  if (f.total == 0) f.total_since = now;
  ++f.total;
  auto it = std::find_if(f.addresses.begin(), f.addresses.end(),
                         [&](const AddressFailures& a) { return a.address == address; });
  if (it == f.addresses.end()) {
    if (f.addresses.size() >= kMaxAddresses) {
      // Forget the address whose last failure is oldest.
      f.addresses.erase(std::min_element(f.addresses.begin(), f.addresses.end(),
                                         [](const auto& x, const auto& y) { return x.last < y.last; }));
    }
    f.addresses.push_back(AddressFailures{std::string(address), 0, now});
    it = f.addresses.end() - 1;
  }
  ++it->failures;
  it->last = now;
}

void record_success(LoginFailures& f, std::string_view address) {
  std::erase_if(f.addresses, [&](const AddressFailures& a) { return a.address == address; });
  if (f.total > 0) --f.total;
}

}  // namespace boxmail::cgi

// firmware_panel.cpp - see firmware_panel.hpp.
#include "cgi/firmware_panel.hpp"

#include <ctime>

namespace boxmail::cgi {

namespace {

/// Calls `f(key, value)` for each `key=value` line of `text` (CR before LF
/// dropped; lines without '=' skipped).
template <typename F>
void each_pair(std::string_view text, F f) {
  while (!text.empty()) {
    const auto lf = text.find('\n');
    std::string_view line = text.substr(0, lf);
    text.remove_prefix(lf == std::string_view::npos ? text.size() : lf + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    f(line.substr(0, eq), line.substr(eq + 1));
  }
}

}  // namespace

std::string clean_text(std::string_view s, std::size_t max) {
  std::string out;
  for (char c : s.substr(0, max)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 && c != '\t') || u == 0x7f ? '?' : c;
  }
  return out;
}

std::string FirmwareStatus::version_of(std::string_view slot) const {
  if (slot == "a") return version_a;
  if (slot == "b") return version_b;
  return {};
}

FirmwareStatus parse_firmware_status(std::string_view text) {
  FirmwareStatus s;
  each_pair(text, [&s](std::string_view k, std::string_view v) {
    std::string* to = k == "running"     ? &s.running
                      : k == "active"    ? &s.active
                      : k == "trial"     ? &s.trial
                      : k == "tries"     ? &s.tries
                      : k == "failed"    ? &s.failed
                      : k == "board"     ? &s.board
                      : k == "version"   ? &s.version
                      : k == "version.a" ? &s.version_a
                      : k == "version.b" ? &s.version_b
                      : k == "error"     ? &s.error
                                         : nullptr;
    if (to) *to = clean_text(v);
  });
  return s;
}

ReleaseInfo parse_release(std::string_view text) {
  ReleaseInfo r;
  each_pair(text, [&r](std::string_view k, std::string_view v) {
    if (k == "board") r.board = clean_text(v, 64);
    if (k == "version") r.version = clean_text(v, 64);
    if (k != "parts") return;
    r.parts.clear();
    std::size_t i = 0;
    while (i < v.size()) {
      while (i < v.size() && (v[i] == ' ' || v[i] == '\t')) ++i;
      std::size_t j = i;
      while (j < v.size() && v[j] != ' ' && v[j] != '\t') ++j;
      if (j > i) r.parts.push_back(clean_text(v.substr(i, j - i), 64));
      i = j;
    }
  });
  return r;
}

std::optional<std::string> reset_choice(std::string_view word) {
  if (word == "keep-mail" || word == "wipe") return std::string(word);
  return std::nullopt;
}

std::string install_request() { return "install\n"; }

std::string reset_request(std::string_view word) { return "factory-reset " + std::string(word) + "\n"; }

std::string utc_time(std::int64_t seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

}  // namespace boxmail::cgi

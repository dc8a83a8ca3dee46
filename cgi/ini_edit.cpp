// ini_edit.cpp - see ini_edit.hpp.
#include "cgi/ini_edit.hpp"

#include "text/ascii.hpp"

namespace boxmail::cgi {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

/// One physical line and what it is.
struct Line {
  std::size_t begin = 0, end = 0;   ///< [begin, end) without the LF
  std::string section;              ///< section this line is in (lower case)
  bool header = false;
  std::string key;                  ///< lower case, for key lines
  std::string value;
};

std::vector<Line> scan(std::string_view text) {
  std::vector<Line> lines;
  std::string section;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    Line l;
    l.begin = pos;
    l.end = nl;
    const std::string_view s = trim(text.substr(pos, nl - pos));
    if (!s.empty() && s.front() == '[') {
      const auto close = s.find(']');
      section = text::ascii_lower(trim(s.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1)));
      l.header = true;
    } else if (!s.empty() && s.front() != ';' && s.front() != '#') {
      const auto eq = s.find('=');
      if (eq != std::string_view::npos) {
        l.key = text::ascii_lower(trim(s.substr(0, eq)));
        std::string_view v = trim(s.substr(eq + 1));
        for (std::size_t i = 0; i < v.size(); ++i) {
          if (v[i] == ';' && i > 0 && (v[i - 1] == ' ' || v[i - 1] == '\t')) {
            v = trim(v.substr(0, i));
            break;
          }
        }
        l.value = std::string(v);
      }
    }
    l.section = section;
    lines.push_back(std::move(l));
    pos = nl + 1;
  }
  return lines;
}

}  // namespace

std::optional<std::string> ini_get(std::string_view text, std::string_view section, std::string_view key) {
  const std::string sec = text::ascii_lower(section), k = text::ascii_lower(key);
  for (const Line& l : scan(text))
    if (!l.header && l.section == sec && l.key == k) return l.value;
  return std::nullopt;
}

std::string ini_set(std::string_view text, std::string_view section, std::string_view key, std::string_view value) {
  const std::string sec = text::ascii_lower(section), k = text::ascii_lower(key);
  const std::string new_line = std::string(key) + " = " + std::string(value);
  const auto lines = scan(text);
  const Line* insert_after = nullptr;
  for (const Line& l : lines) {
    if (l.section != sec) continue;
    if (!l.header && l.key == k) {
      return std::string(text.substr(0, l.begin)) + new_line + std::string(text.substr(l.end));
    }
    if (l.header || !l.key.empty()) insert_after = &l;
  }
  std::string out(text);
  if (insert_after) {
    const std::size_t at = insert_after->end < text.size() ? insert_after->end + 1 : text.size();
    std::string ins = new_line + "\n";
    if (at == text.size() && !text.empty() && text.back() != '\n') ins = "\n" + ins;
    out.insert(at, ins);
    return out;
  }
  if (!out.empty() && out.back() != '\n') out += '\n';
  if (!out.empty()) out += '\n';
  out += "[" + sec + "]\n" + new_line + "\n";
  return out;
}

std::string ini_remove(std::string_view text, std::string_view section, std::string_view key) {
  const std::string sec = text::ascii_lower(section), k = text::ascii_lower(key);
  std::string out;
  std::size_t copied = 0;
  for (const Line& l : scan(text)) {
    if (l.header || l.section != sec || l.key != k) continue;
    out += text.substr(copied, l.begin - copied);
    copied = l.end < text.size() ? l.end + 1 : text.size();
  }
  out += text.substr(copied);
  return out;
}

std::vector<std::pair<std::string, std::string>> ini_keys(std::string_view text, std::string_view section) {
  const std::string sec = text::ascii_lower(section);
  std::vector<std::pair<std::string, std::string>> out;
  for (const Line& l : scan(text))
    if (!l.header && l.section == sec && !l.key.empty()) out.emplace_back(l.key, l.value);
  return out;
}

}  // namespace boxmail::cgi

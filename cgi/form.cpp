// form.cpp - see form.hpp.
#include "cgi/form.hpp"

#include "cgi/multipart_reader.hpp"

#include "text/ascii.hpp"

#include <algorithm>

namespace boxmail::cgi {
namespace {

Form fail(std::string message) {
  Form f;
  f.error = std::move(message);
  return f;
}

}  // namespace

std::string_view trim_blanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<std::string> header_parameter(std::string_view value, std::string_view name) {
  std::size_t i = value.find(';');
  while (i != std::string_view::npos && i < value.size()) {
    ++i;
    while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
    const std::size_t eq = value.find('=', i);
    if (eq == std::string_view::npos) return std::nullopt;
    const std::string_view pname = trim_blanks(value.substr(i, eq - i));
    std::size_t j = eq + 1;
    std::string pvalue;
    if (j < value.size() && value[j] == '"') {
      ++j;
      bool closed = false;
      while (j < value.size()) {
        if (value[j] == '\\' && j + 1 < value.size()) {
          pvalue += value[j + 1];
          j += 2;
          continue;
        }
        if (value[j] == '"') {
          closed = true;
          ++j;
          break;
        }
        pvalue += value[j++];
      }
      if (!closed) return std::nullopt;
    } else {
      const std::size_t end = value.find(';', j);
      pvalue = std::string(trim_blanks(value.substr(j, end == std::string_view::npos ? end : end - j)));
      j = end == std::string_view::npos ? value.size() : end;
    }
    if (text::iequals(pname, name)) return pvalue;
    i = value.find(';', j);
  }
  return std::nullopt;
}

const std::string* Form::get(std::string_view name) const {
  for (const Field& f : fields)
    if (f.name == name) return &f.value;
  return nullptr;
}

std::string Form::value(std::string_view name) const {
  const std::string* v = get(name);
  return v ? *v : std::string();
}

const Field* Form::file(std::string_view name) const {
  for (const Field& f : fields)
    if (f.name == name && f.filename) return &f;
  return nullptr;
}

std::optional<std::string> percent_decode(std::string_view s, bool plus_is_blank) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      const int hi = text::hex_digit_value(s[i + 1]);
      const int lo = text::hex_digit_value(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_blank) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
        c == '~' || c == '-') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

Form parse_urlencoded(std::string_view body, const Limits& limits) {
  if (body.size() > limits.max_body) return fail("request body too large");
  Form form;
  std::size_t pos = 0;
  while (pos <= body.size()) {
    const auto amp = body.find('&', pos);
    const std::string_view pair = body.substr(pos, amp == std::string_view::npos ? amp : amp - pos);
    pos = amp == std::string_view::npos ? body.size() + 1 : amp + 1;
    if (pair.empty()) continue;
    if (form.fields.size() == limits.max_fields) return fail("too many form fields");
    const auto eq = pair.find('=');
    auto name = percent_decode(pair.substr(0, eq), true);
    auto value = percent_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
    if (!name || !value) return fail("malformed %-escape in form data");
    if (name->empty()) return fail("form field without a name");
    if (name->size() > limits.max_name) return fail("form field name too long");
    if (value->size() > limits.max_value) return fail("form field '" + *name + "' too long");
    if (name->find('\0') != std::string::npos || value->find('\0') != std::string::npos)
      return fail("NUL octet in form data");
    form.fields.push_back(Field{std::move(*name), std::move(*value), std::nullopt});
  }
  return form;
}

std::optional<std::string> multipart_boundary(std::string_view content_type) {
  const auto semi = content_type.find(';');
  if (!text::iequals(trim_blanks(content_type.substr(0, semi)), "multipart/form-data")) return std::nullopt;
  auto b = header_parameter(content_type, "boundary");
  if (!b || b->empty() || b->size() > 70) return std::nullopt;
  for (char c : *b) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) return std::nullopt;
  }
  return b;
}

Form parse_multipart(std::string_view body, std::string_view boundary, const Limits& limits) {
  if (body.size() > limits.max_upload) return fail("upload too large");
  FieldCollector sink;
  MultipartReader reader(boundary, limits, sink);
  std::string error = reader.feed(body);
  if (error.empty()) error = reader.finish();
  if (!error.empty()) return fail(std::move(error));
  Form form;
  form.fields = std::move(sink.fields);
  return form;
}

Form parse_body(std::string_view content_type, std::string_view body, const Limits& limits) {
  const std::string_view type = trim_blanks(content_type.substr(0, content_type.find(';')));
  if (text::iequals(type, "application/x-www-form-urlencoded")) return parse_urlencoded(body, limits);
  if (text::iequals(type, "multipart/form-data")) {
    const auto b = multipart_boundary(content_type);
    if (!b) return fail("multipart/form-data without a valid boundary");
    return parse_multipart(body, *b, limits);
  }
  if (type.empty() && body.empty()) return Form{};
  return fail("unsupported content type");
}

std::vector<std::pair<std::string, std::string>> parse_cookies(std::string_view header) {
  std::vector<std::pair<std::string, std::string>> out;
  if (header.size() > 4096) header = header.substr(0, 4096);
  std::size_t pos = 0;
  while (pos < header.size() && out.size() < 32) {
    const auto semi = header.find(';', pos);
    const std::string_view pair = header.substr(pos, semi == std::string_view::npos ? semi : semi - pos);
    pos = semi == std::string_view::npos ? header.size() : semi + 1;
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view name = trim_blanks(pair.substr(0, eq));
    std::string_view value = trim_blanks(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    if (name.empty()) continue;
    out.emplace_back(std::string(name), std::string(value));
  }
  return out;
}

std::optional<std::string> cookie(std::string_view header, std::string_view name) {
  for (auto& [n, v] : parse_cookies(header))
    if (n == name) return v;
  return std::nullopt;
}

}  // namespace boxmail::cgi

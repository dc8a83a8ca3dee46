// html.cpp - see html.hpp.
#include "cgi/html.hpp"

namespace boxmail::cgi {
namespace {

/// A field name usable as an id: '.' becomes '-'.
std::string id_of(std::string_view name) {
  std::string id = "f-";
  for (char c : name) id += (c == '.' || c == '_') ? '-' : c;
  return id;
}

std::string help_and_error(const std::string& id, std::string_view help, std::string_view error) {
  std::string out;
  if (!error.empty()) out += "<p class=\"error\" id=\"" + id + "-err\">" + escape(error) + "</p>";
  if (!help.empty()) out += "<p class=\"help\" id=\"" + id + "-help\">" + escape(help) + "</p>";
  return out;
}

std::string described_by(const std::string& id, std::string_view help, std::string_view error) {
  std::string ids;
  if (!error.empty()) ids += id + "-err";
  if (!help.empty()) ids += (ids.empty() ? "" : " ") + id + "-help";
  std::string out;
  if (!ids.empty()) out += " aria-describedby=\"" + ids + "\"";
  if (!error.empty()) out += " aria-invalid=\"true\"";
  return out;
}

}  // namespace

std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string layout(std::string_view script, std::string_view title, const std::vector<MenuItem>& menu,
                   std::string_view active, std::string_view csrf, std::string_view body) {
  const std::string base = escape(script);
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>" + escape(title) + " - boxmail</title>"
      "<link rel=\"stylesheet\" href=\"" + base + "/style.css\">"
      "<link rel=\"icon\" href=\"data:,\"></head><body>\n"
      "<header><span class=\"brand\">boxmail</span>";
  if (!csrf.empty()) {
    out += "<form method=\"post\" action=\"" + base + "/logout\" class=\"logout\">" + csrf_field(csrf) +
           "<button type=\"submit\">Log out</button></form>";
  }
  out += "</header>\n<div class=\"wrap\">";
  if (!menu.empty()) {
    out += "<nav><ul>";
    for (const MenuItem& m : menu) {
      const bool on = m.path == active;
      out += "<li><a href=\"" + base + escape(m.path) + "\"" + (on ? " aria-current=\"page\"" : "") + ">" +
             escape(m.title) + "</a></li>";
    }
    out += "</ul></nav>";
  }
  out += "<main><h1>" + escape(title) + "</h1>\n";
  out += body;
  out += "</main></div>\n</body></html>\n";
  return out;
}

std::string notice(bool ok, std::string_view text) {
  return std::string("<p class=\"notice ") + (ok ? "ok" : "bad") + "\" role=\"status\">" + escape(text) + "</p>\n";
}

std::string csrf_field(std::string_view csrf) {
  return "<input type=\"hidden\" name=\"csrf\" value=\"" + escape(csrf) + "\">";
}

std::string schema_field(const config::KeyInfo& key, std::string_view label, std::string_view value,
                         std::string_view error, bool textarea) {
  const std::string name = std::string(key.section) + "." + std::string(key.key);
  const std::string id = id_of(name);
  const std::string aria = described_by(id, key.doc, error);
  std::string out = "<div class=\"field" + std::string(error.empty() ? "" : " invalid") + "\">";
  if (key.type == config::KeyType::Bool) {
    const bool on = value == "yes" || value == "true" || value == "on" || value == "1";
    out += "<label class=\"check\"><input type=\"checkbox\" id=\"" + id + "\" name=\"" + escape(name) +
           "\" value=\"yes\"" + (on ? " checked" : "") + aria + "> " + escape(label) + "</label>";
  } else if (key.type == config::KeyType::Enum) {
    out += "<label for=\"" + id + "\">" + escape(label) + "</label><select id=\"" + id + "\" name=\"" +
           escape(name) + "\"" + aria + ">";
    std::string_view choices = key.choices;
    while (!choices.empty()) {
      const auto bar = choices.find('|');
      const std::string_view c = choices.substr(0, bar);
      out += "<option" + std::string(c == value ? " selected" : "") + ">" + escape(c) + "</option>";
      choices = bar == std::string_view::npos ? std::string_view() : choices.substr(bar + 1);
    }
    out += "</select>";
  } else if (textarea) {
    out += "<label for=\"" + id + "\">" + escape(label) + "</label><textarea id=\"" + id + "\" name=\"" +
           escape(name) + "\" rows=\"3\"" + aria + ">" + escape(value) + "</textarea>";
  } else {
    out += "<label for=\"" + id + "\">" + escape(label) + "</label><input type=\"text\" id=\"" + id +
           "\" name=\"" + escape(name) + "\" value=\"" + escape(value) + "\"" + aria + ">";
  }
  out += help_and_error(id, key.doc, error);
  out += "</div>\n";
  return out;
}

std::string text_field(std::string_view name, std::string_view label, std::string_view value,
                       std::string_view help, std::string_view error, std::string_view type) {
  const std::string id = id_of(name);
  std::string out = "<div class=\"field" + std::string(error.empty() ? "" : " invalid") + "\"><label for=\"" + id +
                    "\">" + escape(label) + "</label><input type=\"" + escape(type) + "\" id=\"" + id +
                    "\" name=\"" + escape(name) + "\" value=\"" + escape(value) + "\"" +
                    described_by(id, help, error) + (type == "password" ? " autocomplete=\"new-password\"" : "") +
                    ">";
  out += help_and_error(id, help, error);
  out += "</div>\n";
  return out;
}

std::string check_field(std::string_view name, std::string_view label, bool checked, std::string_view help) {
  const std::string id = id_of(name);
  std::string out = "<div class=\"field\"><label class=\"check\"><input type=\"checkbox\" id=\"" + id +
                    "\" name=\"" + escape(name) + "\" value=\"yes\"" + (checked ? " checked" : "") +
                    described_by(id, help, "") + "> " + escape(label) + "</label>";
  out += help_and_error(id, help, "");
  out += "</div>\n";
  return out;
}

}  // namespace boxmail::cgi

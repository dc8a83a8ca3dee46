// html.cpp - see html.hpp.
#include "cgi/html.hpp"

namespace boxmail::cgi {
namespace {


/// A field name usable as an id: '.' and '_' become '-'.
std::string id_of(std::string_view name) {
  std::string id = "f-";
  for (char c : name) id += (c == '.' || c == '_') ? '-' : c;
  return id;
}

Html help_and_error(const std::string& id, std::string_view help, std::string_view error) {
  Html out;
  if (!error.empty()) out += Html::trusted("<p class=\"error\"") + attr("id", id + "-err") + Html::trusted(">") + error + Html::trusted("</p>");
  if (!help.empty()) out += Html::trusted("<p class=\"help\"") + attr("id", id + "-help") + Html::trusted(">") + help + Html::trusted("</p>");
  return out;
}

Html described_by(const std::string& id, std::string_view help, std::string_view error) {
  std::string ids;
  if (!error.empty()) ids += id + "-err";
  if (!help.empty()) ids += (ids.empty() ? "" : " ") + id + "-help";
  Html out;
  if (!ids.empty()) out += attr("aria-describedby", ids);
  if (!error.empty()) out += Html::trusted(" aria-invalid=\"true\"");
  return out;
}

Html field_open(std::string_view error) {
  return error.empty() ? Html::trusted("<div class=\"field\">") : Html::trusted("<div class=\"field invalid\">");
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

Html attr(Html::Literal name, std::string_view value) {
  Html h = Html::trusted(" ");
  h += Html::trusted(name);
  h += Html::trusted("=\"");
  h += value;
  h += Html::trusted("\"");
  return h;
}

Html td(std::string_view text) { return Html::trusted("<td>") + text + Html::trusted("</td>"); }

Html layout(std::string_view script, std::string_view title, const std::vector<MenuItem>& menu,
            std::string_view active, std::string_view csrf, const Html& body) {
  const std::string base(script);
  Html out = Html::trusted(
                 "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                 "<title>") +
             title + Html::trusted(" - boxmail</title><link rel=\"stylesheet\"") + attr("href", base + "/style.css") +
             Html::trusted("><link rel=\"icon\" href=\"data:,\"></head><body>\n"
                        "<header><span class=\"brand\">boxmail</span>");
  if (!csrf.empty()) {
    out += Html::trusted("<form method=\"post\"") + attr("action", base + "/logout") + Html::trusted(" class=\"logout\">") +
           csrf_field(csrf) + Html::trusted("<button type=\"submit\">Log out</button></form>");
  }
  out += Html::trusted("</header>\n<div class=\"wrap\">");
  if (!menu.empty()) {
    out += Html::trusted("<nav><ul>");
    for (const MenuItem& m : menu) {
      out += Html::trusted("<li><a") + attr("href", base + std::string(m.path)) +
             (m.path == active ? Html::trusted(" aria-current=\"page\"") : Html()) + Html::trusted(">") + m.title +
             Html::trusted("</a></li>");
    }
    out += Html::trusted("</ul></nav>");
  }
  out += Html::trusted("<main><h1>") + title + Html::trusted("</h1>\n");
  out += body;
  out += Html::trusted("</main></div>\n</body></html>\n");
  return out;
}

Html notice(bool ok, std::string_view text) {
  return (ok ? Html::trusted("<p class=\"notice ok\" role=\"status\">") : Html::trusted("<p class=\"notice bad\" role=\"status\">")) +
         text + Html::trusted("</p>\n");
}

Html hidden_field(Html::Literal name, std::string_view value) {
  return Html::trusted("<input type=\"hidden\"") + attr("name", name.text) + attr("value", value) +
         Html::trusted(">");
}

Html csrf_field(std::string_view csrf) { return hidden_field("csrf", csrf); }

Html schema_field(const config::KeyInfo& key, std::string_view label, std::string_view value,
                  std::string_view error, bool textarea) {
  const std::string name = std::string(key.section) + "." + std::string(key.key);
  const std::string id = id_of(name);
  const Html aria = described_by(id, key.doc, error);
  Html out = field_open(error);
  if (key.type == config::KeyType::Bool) {
    const bool on = value == "yes" || value == "true" || value == "on" || value == "1";
    out += Html::trusted("<label class=\"check\"><input type=\"checkbox\"") + attr("id", id) + attr("name", name) +
           Html::trusted(" value=\"yes\"") + (on ? Html::trusted(" checked") : Html()) + aria + Html::trusted("> ") + label +
           Html::trusted("</label>");
  } else if (key.type == config::KeyType::Enum) {
    out += Html::trusted("<label") + attr("for", id) + Html::trusted(">") + label + Html::trusted("</label><select") +
           attr("id", id) + attr("name", name) + aria + Html::trusted(">");
    std::string_view choices = key.choices;
    while (!choices.empty()) {
      const auto bar = choices.find('|');
      const std::string_view c = choices.substr(0, bar);
      out += (c == value ? Html::trusted("<option selected>") : Html::trusted("<option>")) + c + Html::trusted("</option>");
      choices = bar == std::string_view::npos ? std::string_view() : choices.substr(bar + 1);
    }
    out += Html::trusted("</select>");
  } else if (textarea) {
    out += Html::trusted("<label") + attr("for", id) + Html::trusted(">") + label + Html::trusted("</label><textarea") +
           attr("id", id) + attr("name", name) + Html::trusted(" rows=\"3\"") + aria + Html::trusted(">") + value +
           Html::trusted("</textarea>");
  } else {
    out += Html::trusted("<label") + attr("for", id) + Html::trusted(">") + label +
           Html::trusted("</label><input type=\"text\"") + attr("id", id) + attr("name", name) + attr("value", value) +
           aria + Html::trusted(">");
  }
  out += help_and_error(id, key.doc, error);
  out += Html::trusted("</div>\n");
  return out;
}

Html text_field(std::string_view name, std::string_view label, std::string_view value, std::string_view help,
                std::string_view error, std::string_view type) {
  const std::string id = id_of(name);
  Html out = field_open(error) + Html::trusted("<label") + attr("for", id) + Html::trusted(">") + label +
             Html::trusted("</label><input") + attr("type", type) + attr("id", id) + attr("name", name) +
             attr("value", value) + described_by(id, help, error) +
             (type == "password" ? Html::trusted(" autocomplete=\"new-password\"") : Html()) + Html::trusted(">");
  out += help_and_error(id, help, error);
  out += Html::trusted("</div>\n");
  return out;
}

Html check_field(std::string_view name, std::string_view label, bool checked, std::string_view help) {
  const std::string id = id_of(name);
  Html out = Html::trusted("<div class=\"field\"><label class=\"check\"><input type=\"checkbox\"") + attr("id", id) +
             attr("name", name) + Html::trusted(" value=\"yes\"") + (checked ? Html::trusted(" checked") : Html()) +
             described_by(id, help, "") + Html::trusted("> ") + label + Html::trusted("</label>");
  out += help_and_error(id, help, "");
  out += Html::trusted("</div>\n");
  return out;
}

}  // namespace boxmail::cgi

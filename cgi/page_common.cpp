// page_common.cpp - see page_common.hpp.
#include "cgi/page_common.hpp"

#include "cgi/ini_edit.hpp"
#include <algorithm>

namespace boxmail::cgi::detail {
using config::KeyInfo;


std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return std::string(s);
}

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

/// Items separated by commas, blanks or line ends.
std::vector<std::string> split_items(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

/// Lines (or comma-separated items) of a textarea, trimmed; an item with
/// an inner blank is returned whole so it can be refused.
std::vector<std::string> split_lines(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ',' || c == '\n') {
      if (auto t = trim(cur); !t.empty()) out.push_back(t);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (auto t = trim(cur); !t.empty()) out.push_back(t);
  return out;
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty()) out += sep;
    out += i;
  }
  return out;
}

std::string span(std::uint64_t s) {
  using std::to_string;
  if (s < 60) return to_string(s) + " s";
  if (s < 3600) return to_string(s / 60) + " min";
  if (s < 86400) return to_string(s / 3600) + " h" + (s % 3600 >= 60 ? " " + to_string(s % 3600 / 60) + " min" : "");
  return to_string(s / 86400) + " d" + (s % 86400 >= 3600 ? " " + to_string(s % 86400 / 3600) + " h" : "");
}

std::string field_name(const KeyInfo& k) { return std::string(k.section) + "." + std::string(k.key); }

std::string error_of(const View& v, std::string_view field) {
  if (!v.outcome) return {};
  auto it = v.outcome->errors.find(std::string(field));
  return it == v.outcome->errors.end() ? std::string() : it->second;
}

/// The notice and the form-wide error of a view.
Html view_notices(const View& v) {
  Html out;
  if (!v.notice.empty()) out += notice(v.notice_ok, v.notice);
  if (v.outcome && !v.outcome->error.empty()) out += notice(false, v.outcome->error);
  if (v.outcome && !v.outcome->errors.empty() && v.outcome->error.empty())
    out += notice(false, "Nothing was changed: please correct the fields marked below.");
  if (v.outcome && !v.outcome->info.empty()) out += notice(true, v.outcome->info);
  return out;
}

Html form_open(const Request& r, std::string_view path, const Model& m, const Html& extra) {
  return Html::trusted("<form method=\"post\"") + attr("action", r.script + std::string(path)) + extra +
         Html::trusted(">") + csrf_field(m.csrf);
}

Html config_problem(const Model& m) {
  if (m.config) return {};
  Html out = Html::trusted("<div class=\"notice bad\" role=\"status\">The configuration file ") + m.ini_path +
             Html::trusted(" has errors; fix them (or restore a backup) before editing:<ul>");
  for (const auto& e : m.config_errors) out += Html::trusted("<li>") + e.to_string() + Html::trusted("</li>");
  return out + Html::trusted("</ul></div>\n");
}

// ---- settings forms over schema keys -----------------------------------------

/// The submitted text of a field as it goes into the INI file.
std::string submitted(const Form& f, const KeyInfo& k, bool textarea) {
  const std::string name = field_name(k);
  if (k.type == config::KeyType::Bool) return f.has(name) ? "yes" : "no";
  if (textarea) return join(split_lines(f.value(name)), ", ");
  return trim(f.value(name));
}

/// Applies the specs' submitted values to the INI text, validates it whole
/// and maps the errors back to the fields. `pre` may add field errors of
/// its own first (then the text is not validated further).
Outcome apply_settings(const Model& m, const Form& f, const std::vector<FieldSpec>& specs,
                       const std::map<std::string, std::string>& overrides,
                       std::map<std::string, std::string> pre) {
  Outcome o;
  o.errors = std::move(pre);
  if (!m.config) {
    o.error = "The configuration file has errors; nothing was changed.";
    return o;
  }
  std::string text = m.ini_text;
  std::vector<std::string> changed;
  for (const FieldSpec& s : specs) {
    const KeyInfo* k = config::find_key(s.section, s.key);
    if (!k) continue;
    const std::string name = field_name(*k);
    if (o.errors.count(name)) continue;
    auto ov = overrides.find(name);
    // A text field the form did not send at all keeps its value (an
    // unchecked checkbox is never sent: it means "no").
    if (ov == overrides.end() && k->type != config::KeyType::Bool && !f.has(name)) continue;
    const std::string value = ov != overrides.end() ? ov->second : submitted(f, *k, s.textarea);
    if (has_control(value) || value.find(';') != std::string::npos || value.find('#') == 0) {
      o.errors[name] = "value may not contain control characters, ';' or begin with '#'";
      continue;
    }
    if (value == effective_value(m.ini_text, *k)) continue;
    text = ini_set(text, s.section, s.key, value);
    changed.push_back(std::string(s.label));
  }
  if (!o.errors.empty()) return o;
  const auto parsed = config::parse_config(text, m.ini_path);
  for (const auto& e : parsed.errors) {
    const std::string name = e.section + "." + e.key;
    bool mine = false;
    for (const FieldSpec& s : specs) mine = mine || (s.section == e.section && s.key == e.key);
    if (mine && !o.errors.count(name)) {
      o.errors[name] = e.message;
    } else if (!mine) {
      o.error += (o.error.empty() ? "" : "; ") + e.to_string();
    }
  }
  if (!o.errors.empty() || !o.error.empty()) return o;
  if (changed.empty()) {
    o.info = "Nothing changed.";
    return o;
  }
  o.change = Change{text, std::nullopt, "Saved: " + join(changed, ", ") + "."};
  return o;
}

/// Renders the specs as fields; values from the submitted form after an
/// error, else from the INI text.
Html settings_fields(const Model& m, const View& v, const std::vector<FieldSpec>& specs) {
  Html out;
  for (const FieldSpec& s : specs) {
    const KeyInfo* k = config::find_key(s.section, s.key);
    if (!k) continue;
    const std::string name = field_name(*k);
    std::string value;
    if (v.form && v.outcome && !v.outcome->errors.empty()) {
      value = k->type == config::KeyType::Bool ? (v.form->has(name) ? "yes" : "no") : v.form->value(name);
    } else {
      value = effective_value(m.ini_text, *k);
      if (s.textarea) value = join(split_items(value), "\n");
    }
    out += schema_field(*k, s.label, value, error_of(v, name), s.textarea);
  }
  return out;
}

}  // namespace boxmail::cgi::detail

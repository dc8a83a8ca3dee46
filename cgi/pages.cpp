// pages.cpp - see pages.hpp. One section per page; the table is at the end.
#include "cgi/pages.hpp"

#include "text/ascii.hpp"
#include "text/number.hpp"

#include "cgi/archive.hpp"
#include "cgi/ini_edit.hpp"
#include "config/reload_rule.hpp"
#include "control/control_protocol.hpp"

#include <algorithm>
#include <cstdio>

namespace boxmail::cgi {
namespace {

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

std::string field_name(const KeyInfo& k) { return std::string(k.section) + "." + std::string(k.key); }

std::string error_of(const View& v, std::string_view field) {
  if (!v.outcome) return {};
  auto it = v.outcome->errors.find(std::string(field));
  return it == v.outcome->errors.end() ? std::string() : it->second;
}

/// The notice and the form-wide error of a view.
std::string view_notices(const View& v) {
  std::string out;
  if (!v.notice.empty()) out += notice(v.notice_ok, v.notice);
  if (v.outcome && !v.outcome->error.empty()) out += notice(false, v.outcome->error);
  if (v.outcome && !v.outcome->errors.empty() && v.outcome->error.empty())
    out += notice(false, "Nothing was changed: please correct the fields marked below.");
  if (v.outcome && !v.outcome->info.empty()) out += notice(true, v.outcome->info);
  return out;
}

std::string form_open(const Request& r, std::string_view path, const Model& m, std::string_view extra = "") {
  return "<form method=\"post\" action=\"" + escape(r.script) + escape(path) + "\"" + std::string(extra) + ">" +
         csrf_field(m.csrf);
}

std::string config_problem(const Model& m) {
  if (m.config) return {};
  std::string out = "<div class=\"notice bad\" role=\"status\">The configuration file " + escape(m.ini_path) +
                    " has errors; fix them (or restore a backup) before editing:<ul>";
  for (const auto& e : m.config_errors) out += "<li>" + escape(e.to_string()) + "</li>";
  return out + "</ul></div>\n";
}

// ---- settings forms over schema keys -----------------------------------------

/// One schema key on a settings page.
struct FieldSpec {
  std::string_view section;
  std::string_view key;
  std::string_view label;
  bool textarea = false;
};

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
                       std::map<std::string, std::string> pre = {}) {
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
std::string settings_fields(const Model& m, const View& v, const std::vector<FieldSpec>& specs) {
  std::string out;
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

// ---- status ----------------------------------------------------------------------

std::string status_render(const Request&, const Model& m, const View& v) {
  std::string out = view_notices(v) + config_problem(m);
  const DaemonView& d = m.daemon;
  if (!d.reached) {
    out += notice(false, "boxmaild does not answer on its control socket: " + d.error);
    return out;
  }
  std::string uptime;
  std::string services;
  std::string boxes;
  std::string store;
  for (const std::string& l : d.status) {
    if (l.starts_with("uptime ")) {
      const long long s = std::atoll(l.c_str() + 7);
      uptime = std::to_string(s / 86400) + " d " + std::to_string(s % 86400 / 3600) + " h " +
               std::to_string(s % 3600 / 60) + " min";
    } else if (l.starts_with("service ")) {
      const auto parts = split_items(l);
      if (parts.size() < 3) continue;
      const bool off = parts[2] == "off";
      services += "<tr><td>" + escape(parts[1]) + "</td><td>" + (off ? "off" : "up") + "</td><td>" +
                  escape(off ? "" : parts[2]) + "</td><td>" + escape(control::field(l, "sessions")) + "</td></tr>";
    } else if (l.starts_with("mailbox ")) {
      const auto parts = split_items(l);
      if (parts.size() < 2) continue;
      const std::string bytes_text(control::field(l, "bytes"));
      const std::uint64_t bytes = std::strtoull(bytes_text.c_str(), nullptr, 10);
      const std::uint64_t quota = std::strtoull(std::string(control::field(l, "quota")).c_str(), nullptr, 10);
      const bool counted = bytes_text != "-";   // "-" while boxmaild has not counted it yet
      std::string quota_cell = "none";
      if (quota > 0) {
        quota_cell = human_size(quota);
        if (counted) quota_cell += " (" + std::to_string(bytes >= quota ? 100 : bytes * 100 / quota) + "% used" +
                                   (bytes >= quota ? ", full: new mail is deferred" : "") + ")";
      }
      boxes += std::string(counted && quota > 0 && bytes >= quota ? "<tr class=\"full\">" : "<tr>") + "<td>" +
               escape(parts[1]) + "</td><td>" + escape(control::field(l, "messages")) + "</td><td>" +
               escape(counted ? human_size(bytes) : "counting") + "</td><td>" + escape(quota_cell) + "</td></tr>";
    } else if (l.starts_with("store ")) {
      const auto parts = split_items(l);
      const auto num = [&](std::string_view k) {
        return std::strtoull(std::string(control::field(l, k)).c_str(), nullptr, 10);
      };
      store = "<p>Mail store <code>" + escape(parts.size() > 1 ? parts[1] : "") + "</code>: mail " +
              escape(human_size(num("used"))) + "; file system " + escape(human_size(num("free"))) + " free of " +
              escape(human_size(num("total"))) + "." +
              (num("reserve") > 0 ? " New mail is deferred when less than " + escape(human_size(num("reserve"))) +
                                        " is free."
                                  : std::string()) +
              "</p>";
    }
  }
  std::string accepted = "0", refused = "0";
  for (const std::string& l : d.stats) {
    if (l.starts_with("today ")) {
      accepted = std::string(control::field(l, "accepted"));
      refused = std::string(control::field(l, "refused"));
    }
  }
  out += "<section><h2>Services</h2><table><thead><tr><th>service</th><th>state</th><th>listening on</th>"
         "<th>sessions</th></tr></thead><tbody>" +
         services + "</tbody></table><p>Up for " + escape(uptime) + ".</p></section>\n";
  out += "<section><h2>Messages today</h2><p class=\"counts\"><span id=\"accepted-today\">" + escape(accepted) +
         "</span> received, <span id=\"refused-today\">" + escape(refused) + "</span> refused.</p>" +
         hourly_chart(d.stats) + "</section>\n";
  out += "<section><h2>Mailboxes</h2><table id=\"mailbox-sizes\"><thead><tr><th>mailbox</th><th>messages</th>"
         "<th>size</th><th>quota</th></tr></thead><tbody>" + boxes + "</tbody></table>" + store + "</section>\n";
  out += "<section><h2>Recent log</h2><pre class=\"log\">";
  for (const std::string& l : d.log) out += escape(l) + "\n";
  out += "</pre></section>\n";
  return out;
}

// ---- mailboxes ---------------------------------------------------------------------

constexpr std::size_t kMinPassword = 8;
constexpr std::size_t kMaxPassword = 128;

std::optional<std::string> password_error(std::string_view pw) {
  if (pw.size() < kMinPassword) return "at least " + std::to_string(kMinPassword) + " characters";
  if (pw.size() > kMaxPassword) return "at most " + std::to_string(kMaxPassword) + " characters";
  if (has_control(pw)) return "no control characters";
  return std::nullopt;
}

/// A quota as parse_quota reads it back ("500M", "2G", "1234").
std::string quota_text(std::uint64_t q) {
  if (q == 0) return "";
  if (q % (1024ull * 1024 * 1024) == 0) return std::to_string(q / (1024ull * 1024 * 1024)) + "G";
  if (q % (1024 * 1024) == 0) return std::to_string(q / (1024 * 1024)) + "M";
  if (q % 1024 == 0) return std::to_string(q / 1024) + "k";
  return std::to_string(q);
}

std::string mailbox_sizes(const Model& m, std::string_view name) {
  for (const std::string& l : m.daemon.status) {
    if (!l.starts_with("mailbox ")) continue;
    const auto parts = split_items(l);
    if (parts.size() >= 2 && parts[1] == name)
      return std::string(control::field(l, "messages")) + " / " +
             human_size(std::strtoull(std::string(control::field(l, "bytes")).c_str(), nullptr, 10));
  }
  return "-";
}

std::string mailboxes_render(const Request& r, const Model& m, const View& v) {
  std::string out = view_notices(v);
  for (const auto& e : m.account_errors) out += notice(false, e);
  const std::string edit = r.query.value("edit");
  const std::string del = r.query.value("delete");
  const std::string base = escape(r.script) + "/mailboxes";
  if (!del.empty()) {
    if (m.accounts.find(del) == nullptr) {
      out += notice(false, "There is no mailbox named " + del + ".");
    } else {
      out += "<section class=\"confirm\"><h2>Delete mailbox " + escape(del) + "?</h2>" +
             "<p>The account is removed; its messages stay in the mail store.</p>" + form_open(r, "/mailboxes", m) +
             "<input type=\"hidden\" name=\"action\" value=\"delete\"><input type=\"hidden\" name=\"name\" value=\"" +
             escape(del) + "\"><input type=\"hidden\" name=\"confirm\" value=\"yes\">"
             "<button type=\"submit\" class=\"danger\">Delete " + escape(del) + "</button> <a href=\"" + base +
             "\">Cancel</a></form></section>\n";
    }
  }
  if (!edit.empty()) {
    const config::Account* a = m.accounts.find(edit);
    if (a == nullptr) {
      out += notice(false, "There is no mailbox named " + edit + ".");
    } else {
      const bool again = v.form && v.form->value("action") == "update";
      out += "<section><h2>Mailbox " + escape(a->name) + "</h2>" + form_open(r, "/mailboxes", m) +
             "<input type=\"hidden\" name=\"action\" value=\"update\"><input type=\"hidden\" name=\"name\" value=\"" +
             escape(a->name) + "\">" +
             text_field("new_password", "New password", "",
                        "Leave empty to keep the password; at least 8 characters.", error_of(v, "new_password"),
                        "password") +
             text_field("edit_quota", "Quota", again ? v.form->value("edit_quota") : quota_text(config::quota_of(*a)),
                        "Size such as 500M or 2G; empty for none. Stored and shown; not enforced at delivery yet.",
                        error_of(v, "edit_quota")) +
             check_field("pop3", "POP3 access", !config::has_flag(*a, "nopop3"),
                         "May fetch mail over POP3 (the 'nopop3' flag when off).") +
             check_field("nologin", "Logon disabled", config::has_flag(*a, "nologin"),
                         "No logins at all; mail is still received (Dovecot's 'nologin' flag).") +
             "<button type=\"submit\">Save</button> <a href=\"" + base + "\">Back</a></form></section>\n";
    }
  }
  out += "<section><h2>Mailboxes</h2><table id=\"mailboxes\"><thead><tr><th>name</th><th>messages / size</th>"
         "<th>quota</th><th>POP3</th><th>logon</th><th></th></tr></thead><tbody>";
  for (const config::Account& a : m.accounts.accounts) {
    const std::string q = percent_encode(a.name);
    out += "<tr><td>" + escape(a.name) + "</td><td>" + escape(mailbox_sizes(m, a.name)) + "</td><td>" +
           escape(config::quota_of(a) ? human_size(config::quota_of(a)) : "none") + "</td><td>" +
           (config::has_flag(a, "nopop3") ? "off" : "on") + "</td><td>" +
           (config::has_flag(a, "nologin") ? "disabled" : "allowed") + "</td><td><a href=\"" + base + "?edit=" +
           escape(q) + "\">Edit</a> <a href=\"" + base + "?delete=" + escape(q) + "\">Delete</a></td></tr>";
  }
  out += "</tbody></table></section>\n";
  const bool adding = v.form && v.form->value("action") == "add";
  out += "<section><h2>Add a mailbox</h2>" + form_open(r, "/mailboxes", m) +
         "<input type=\"hidden\" name=\"action\" value=\"add\">" +
         text_field("name", "Name", adding ? v.form->value("name") : "",
                    "1 to 64 of a-z, 0-9, '.', '_', '-'; mail to NAME@any accepted domain lands here.",
                    error_of(v, "name")) +
         text_field("password", "Password", "", "At least 8 characters.", adding ? error_of(v, "password") : "",
                    "password") +
         text_field("quota", "Quota", adding ? v.form->value("quota") : "",
                    "Size such as 500M or 2G; empty for none.", adding ? error_of(v, "quota") : "") +
         "<button type=\"submit\">Add mailbox</button></form></section>\n";
  return out;
}

Outcome mailboxes_post(const Request& r, const Model& m) {
  Outcome o;
  const Form& f = r.form;
  const std::string action = f.value("action");
  const std::string name = text::ascii_lower(trim(f.value("name")));
  config::AccountTable table = m.accounts;
  auto find = [&](std::string_view n) -> config::Account* {
    for (auto& a : table.accounts)
      if (a.name == n) return &a;
    return nullptr;
  };
  std::optional<std::uint64_t> quota = 0;
  if (action == "add" || action == "update") {
    const std::string qf = action == "add" ? "quota" : "edit_quota";
    quota = parse_quota(trim(f.value(qf)));
    if (!quota) o.errors[qf] = "'" + trim(f.value(qf)) + "' is not a size (e.g. 500M, 2G or empty)";
  }
  if (action == "add") {
    if (name.empty()) {
      o.errors["name"] = "a name is required";
    } else if (auto e = config::mailbox_name_error(name)) {
      o.errors["name"] = "'" + name + "': " + *e;
    } else if (find(name)) {
      o.errors["name"] = "a mailbox named '" + name + "' exists already";
    }
    const std::string pw = f.value("password");
    if (auto e = password_error(pw)) o.errors["password"] = *e;
    if (!o.errors.empty()) return o;
    config::Account a;
    a.name = name;
    a.password = m.hash_password(pw);
    config::set_quota(a, *quota);
    table.accounts.push_back(std::move(a));
    o.change = Change{std::nullopt, std::move(table), "Mailbox " + name + " added."};
    return o;
  }
  config::Account* a = name.empty() || config::mailbox_name_error(name) ? nullptr : find(name);
  if (a == nullptr) {
    o.error = "There is no mailbox named '" + name + "'.";
    return o;
  }
  if (action == "delete") {
    if (f.value("confirm") != "yes") {
      o.error = "Deleting needs a confirmation.";
      return o;
    }
    std::erase_if(table.accounts, [&](const config::Account& x) { return x.name == name; });
    o.change = Change{std::nullopt, std::move(table),
                      "Mailbox " + name + " deleted (its messages stay in the mail store)."};
    return o;
  }
  if (action == "update") {
    const std::string pw = f.value("new_password");
    if (!pw.empty()) {
      if (auto e = password_error(pw)) o.errors["new_password"] = *e;
    }
    if (!o.errors.empty()) return o;
    if (!pw.empty()) a->password = m.hash_password(pw);
    config::set_quota(*a, *quota);
    config::set_flag(*a, "nopop3", !f.has("pop3"));
    config::set_flag(*a, "nologin", f.has("nologin"));
    o.change = Change{std::nullopt, std::move(table),
                      "Mailbox " + name + " saved" + (pw.empty() ? "." : " (new password).")};
    return o;
  }
  o.error = "Unknown action.";
  return o;
}

// ---- aliases ---------------------------------------------------------------------

std::string aliases_render(const Request& r, const Model& m, const View& v) {
  std::string out = view_notices(v) + config_problem(m);
  out += "<section><h2>Aliases and forwarding</h2><p>Mail to an alias goes to its targets: mailboxes, other "
         "aliases, or <code>null</code>, which accepts and discards. Targets are local for now. A mailbox of "
         "the same name wins over an alias.</p><table id=\"aliases\"><thead><tr><th>alias</th><th>targets</th>"
         "<th></th></tr></thead><tbody>";
  for (const auto& [name, value] : ini_keys(m.ini_text, "aliases")) {
    out += "<tr><td>" + escape(name) + "</td><td>" + escape(value) + "</td><td>" + form_open(r, "/aliases", m) +
           "<input type=\"hidden\" name=\"action\" value=\"delete\"><input type=\"hidden\" name=\"alias_name\" "
           "value=\"" + escape(name) + "\"><button type=\"submit\" class=\"small\">Delete</button></form></td></tr>";
  }
  out += "</tbody></table></section>\n";
  const bool adding = v.form && v.form->value("action") == "add";
  out += "<section><h2>Add or change an alias</h2>" + form_open(r, "/aliases", m) +
         "<input type=\"hidden\" name=\"action\" value=\"add\">" +
         text_field("alias_name", "Alias", adding ? v.form->value("alias_name") : "",
                    "The local-part that receives, e.g. info or sales (same rules as mailbox names).",
                    error_of(v, "alias_name")) +
         text_field("alias_targets", "Targets", adding ? v.form->value("alias_targets") : "",
                    "Mailboxes or aliases, separated by commas; or null to discard.", error_of(v, "alias_targets")) +
         "<button type=\"submit\">Save alias</button></form></section>\n";
  const KeyInfo* ca = config::find_key("smtp", "catch_all");
  const bool catching = v.form && v.form->value("action") == "catch_all";
  out += "<section><h2>Catch-all</h2>" + form_open(r, "/aliases", m) +
         "<input type=\"hidden\" name=\"action\" value=\"catch_all\">" +
         schema_field(*ca, "Catch-all mailbox", catching ? v.form->value("smtp.catch_all") : effective_value(m.ini_text, *ca),
                      error_of(v, "smtp.catch_all")) +
         "<button type=\"submit\">Save catch-all</button></form></section>\n";
  return out;
}

Outcome aliases_post(const Request& r, const Model& m) {
  const Form& f = r.form;
  const std::string action = f.value("action");
  Outcome o;
  if (!m.config) {
    o.error = "The configuration file has errors; nothing was changed.";
    return o;
  }
  if (action == "catch_all") {
    std::map<std::string, std::string> pre;
    const std::string v = text::ascii_lower(trim(f.value("smtp.catch_all")));
    if (!v.empty() && !config::mailbox_name_error(v) && m.accounts.find(v) == nullptr)
      pre["smtp.catch_all"] = "there is no mailbox named '" + v + "'";
    return apply_settings(m, f, {{"smtp", "catch_all", "Catch-all mailbox"}}, {{"smtp.catch_all", v}}, pre);
  }
  const std::string name = text::ascii_lower(trim(f.value("alias_name")));
  if (action == "delete") {
    if (!ini_get(m.ini_text, "aliases", name)) {
      o.error = "There is no alias named '" + name + "'.";
      return o;
    }
    std::string text = ini_remove(m.ini_text, "aliases", name);
    const auto p = config::parse_config(text, m.ini_path);
    if (!p.errors.empty()) {
      o.error = p.errors.front().to_string();
      return o;
    }
    o.change = Change{text, std::nullopt, "Alias " + name + " deleted."};
    return o;
  }
  if (action != "add") {
    o.error = "Unknown action.";
    return o;
  }
  if (name.empty()) {
    o.errors["alias_name"] = "a name is required";
  } else if (auto e = config::mailbox_name_error(name)) {
    o.errors["alias_name"] = "'" + name + "': " + *e;
  } else if (name == "null") {
    o.errors["alias_name"] = "'null' is not an alias name";
  }
  std::vector<std::string> targets;
  for (std::string& t : split_items(text::ascii_lower(f.value("alias_targets")))) {
    if (t != "null") {
      if (auto e = config::mailbox_name_error(t)) {
        o.errors["alias_targets"] = "'" + t + "': " + *e;
        break;
      }
    }
    targets.push_back(std::move(t));
  }
  if (targets.empty() && !o.errors.count("alias_targets")) o.errors["alias_targets"] = "at least one target (or null)";
  if (!o.errors.empty()) return o;
  const std::string value = join(targets, ", ");
  const bool existed = ini_get(m.ini_text, "aliases", name).has_value();
  std::string text = ini_set(m.ini_text, "aliases", name, value);
  const auto p = config::parse_config(text, m.ini_path);
  for (const auto& e : p.errors) {
    if (e.section == "aliases" && e.key == name) {
      o.errors["alias_targets"] = e.message;
    } else {
      o.error += (o.error.empty() ? "" : "; ") + e.to_string();
    }
  }
  if (!o.errors.empty() || !o.error.empty()) return o;
  o.change = Change{text, std::nullopt,
                    "Alias " + name + (existed ? " changed" : " added") + " (" + value + ")." +
                        (m.accounts.find(name) ? " Note: a mailbox of that name exists and wins." : "")};
  return o;
}

// ---- mail feed ---------------------------------------------------------------------

const std::vector<FieldSpec>& feed_specs() {
  static const std::vector<FieldSpec> specs = {
      {"server", "hostname", "Host name"},
      {"smtp", "max_message_size", "Maximum message size"},
      {"smtp", "max_recipients", "Maximum recipients per message"},
      {"smtp", "banner", "Welcome banner"},
      {"smtp", "feed_servers", "Servers you accept SMTP mail from", true},
  };
  return specs;
}

std::string feed_render(const Request& r, const Model& m, const View& v) {
  std::string out = view_notices(v) + config_problem(m);
  const KeyInfo* ad = config::find_key("smtp", "accept_domains");
  const bool again = v.form && v.outcome && !v.outcome->errors.empty();
  const std::string current = effective_value(m.ini_text, *ad);
  const bool any = again ? v.form->value("feed_mode") != "list" : current == "*";
  const std::string domains = again ? v.form->value("smtp.accept_domains")
                                    : (current == "*" ? std::string() : join(split_items(current), "\n"));
  const std::string derr = error_of(v, "smtp.accept_domains");
  out += form_open(r, "/feed", m) +
         "<fieldset><legend>Accepted domains</legend>"
         "<div class=\"field\"><label class=\"check\"><input type=\"radio\" id=\"f-feed-any\" name=\"feed_mode\" "
         "value=\"any\"" + std::string(any ? " checked" : "") + "> Any domain (feed mode: the ISP sends only your "
         "mail)</label><label class=\"check\"><input type=\"radio\" id=\"f-feed-list\" name=\"feed_mode\" "
         "value=\"list\"" + std::string(any ? "" : " checked") + "> Only these domains</label></div>" +
         "<div class=\"field" + std::string(derr.empty() ? "" : " invalid") + "\">"
         "<label for=\"f-smtp-accept-domains\">Domains (one per line)</label><textarea id=\"f-smtp-accept-domains\" "
         "name=\"smtp.accept_domains\" rows=\"3\" aria-describedby=\"f-smtp-accept-domains-help\"" +
         std::string(derr.empty() ? "" : " aria-invalid=\"true\"") + ">" + escape(domains) + "</textarea>" +
         (derr.empty() ? "" : "<p class=\"error\" id=\"f-smtp-accept-domains-err\">" + escape(derr) + "</p>") +
         "<p class=\"help\" id=\"f-smtp-accept-domains-help\">" + escape(ad->doc) + "</p></div></fieldset>" +
         settings_fields(m, v, feed_specs()) +
         "<button type=\"submit\">Save</button></form>\n"
         "<section class=\"note\"><h2>Port 25 on your router</h2><p>For mail to reach this box, the ISP router must "
         "forward TCP port 25 from the Internet to this box's LAN address (often under \"port forwarding\" or "
         "\"virtual server\"), and your domain's MX record must point at your public address. Many ISPs instead "
         "deliver to the box over their own feed: list their servers above for reference.</p></section>\n";
  return out;
}

Outcome feed_post(const Request& r, const Model& m) {
  const Form& f = r.form;
  std::map<std::string, std::string> pre;
  std::string domains = "*";
  if (f.value("feed_mode") == "list") {
    const auto items = split_lines(f.value("smtp.accept_domains"));
    for (const std::string& d : items) {
      if (d.find_first_of(" \t") != std::string::npos) {
        pre["smtp.accept_domains"] = "'" + d + "' contains a space (one domain per line)";
        break;
      }
    }
    if (items.empty()) pre["smtp.accept_domains"] = "enter at least one domain, or choose any domain";
    domains = join(items, ", ");
  }
  for (const std::string& s : split_lines(f.value("smtp.feed_servers"))) {
    if (s.find_first_of(" \t") != std::string::npos) {
      pre["smtp.feed_servers"] = "'" + s + "' contains a space (one server per line)";
      break;
    }
  }
  std::vector<FieldSpec> specs = feed_specs();
  specs.push_back({"smtp", "accept_domains", "Accepted domains"});
  return apply_settings(m, f, specs, {{"smtp.accept_domains", domains}}, pre);
}

// ---- mail retrieval ----------------------------------------------------------------

const std::vector<FieldSpec>& retrieval_specs() {
  static const std::vector<FieldSpec> specs = {
      {"pop3", "enabled", "POP3 server on"},
      {"pop3", "listen", "POP3 addresses and port"},
      {"pop3", "login_failures", "Login failures allowed per session"},
      {"pop3", "login_delay", "Delay after a failed login"},
  };
  return specs;
}

std::string retrieval_render(const Request& r, const Model& m, const View& v) {
  return view_notices(v) + config_problem(m) + form_open(r, "/retrieval", m) +
         settings_fields(m, v, retrieval_specs()) +
         "<p class=\"help\">Switching POP3 on or off and changing its addresses take effect when boxmaild "
         "restarts; the other settings at once.</p><button type=\"submit\">Save</button></form>\n";
}

Outcome retrieval_post(const Request& r, const Model& m) {
  return apply_settings(m, r.form, retrieval_specs(), {});
}

// ---- backup and restore -----------------------------------------------------------

std::string backup_render(const Request& r, const Model& m, const View& v) {
  return view_notices(v) +
         "<section><h2>Backup</h2><p>One archive (tar) with the configuration (boxmail.ini) and the mailbox "
         "accounts (passwd, password hashes only). Messages are not included.</p><p><a class=\"button\" "
         "id=\"download\" href=\"" + escape(r.script) + "/backup/download\">Download backup</a></p></section>\n"
         "<section><h2>Restore</h2><p>The archive is checked first; nothing changes when anything in it is "
         "wrong. The files it replaces are kept as .bak.</p>" +
         form_open(r, "/backup", m, " enctype=\"multipart/form-data\"") +
         "<div class=\"field" + std::string(error_of(v, "archive").empty() ? "" : " invalid") +
         "\"><label for=\"f-archive\">Backup archive</label><input type=\"file\" id=\"f-archive\" name=\"archive\" "
         "accept=\".tar,application/x-tar\">" +
         (error_of(v, "archive").empty() ? "" : "<p class=\"error\">" + escape(error_of(v, "archive")) + "</p>") +
         "</div><button type=\"submit\">Restore</button></form></section>\n";
}

Outcome backup_post(const Request& r, const Model&) {
  Outcome o;
  const Field* file = r.form.file("archive");
  if (file == nullptr || file->value.empty()) {
    o.errors["archive"] = "choose a backup archive to upload";
    return o;
  }
  const TarRead tar = read_tar(file->value);
  if (!tar.error.empty()) {
    o.errors["archive"] = tar.error;
    return o;
  }
  const TarMember* ini = nullptr;
  const TarMember* passwd = nullptr;
  for (const TarMember& t : tar.members) {
    if (t.name == "boxmail.ini") ini = &t;
    if (t.name == "passwd") passwd = &t;
  }
  if (!ini || !passwd) {
    o.errors["archive"] = "the archive lacks boxmail.ini or passwd (not a boxmail backup?)";
    return o;
  }
  const auto p = config::parse_config(ini->data, "boxmail.ini (backup)");
  if (!p.errors.empty()) {
    o.errors["archive"] = "boxmail.ini in the backup has errors: " + p.errors.front().to_string();
    return o;
  }
  // Paths fixed at install time (mail_dir, passwd_file, ...) are checked
  // for every page's change by post_page.
  auto accounts = config::parse_passwd(passwd->data);
  if (!accounts.errors.empty()) {
    o.errors["archive"] = "passwd in the backup has errors (line " + std::to_string(accounts.errors.front().line) +
                          ": " + accounts.errors.front().message + ")";
    return o;
  }
  const std::size_t count = accounts.table.accounts.size();
  o.change = Change{ini->data, std::move(accounts.table),
                    "Restored the configuration and " + std::to_string(count) + " mailbox accounts from the backup."};
  return o;
}

}  // namespace

// ---- the page table: one row per page, in menu order -----------------------------

const std::vector<PageInfo>& pages() {
  static const std::vector<PageInfo> table = {
      {"/status", "Status", status_render, nullptr},
      {"/mailboxes", "Mailboxes", mailboxes_render, mailboxes_post},
      {"/aliases", "Aliases", aliases_render, aliases_post},
      {"/feed", "Mail feed", feed_render, feed_post},
      {"/retrieval", "Mail retrieval", retrieval_render, retrieval_post},
      {"/backup", "Backup and restore", backup_render, backup_post},
  };
  return table;
}

const PageInfo* find_page(std::string_view path) {
  if (path.empty() || path == "/") return &pages().front();
  for (const PageInfo& p : pages())
    if (p.path == path) return &p;
  return nullptr;
}

std::vector<MenuItem> menu() {
  std::vector<MenuItem> out;
  for (const PageInfo& p : pages()) out.push_back(MenuItem{p.path, p.title});
  return out;
}

// ---- public ------------------------------------------------------------------------

namespace {

/// A fixed key's installed value: the running file's, or as written in a
/// file that has errors elsewhere.
std::string installed_value(const Model& m, const KeyInfo& k) {
  if (m.config) {
    if (const std::string* v = config::fixed_key_value(*m.config, k.section, k.key)) return *v;
  }
  return effective_value(m.ini_text, k);
}

constexpr std::string_view kFixedWhy =
    " is fixed at install time: the panel and a restored backup cannot change it";

}  // namespace

Outcome post_page(const PageInfo& page, const Request& r, const Model& m) {
  Outcome o;
  for (const Field& f : r.form.fields) {
    for (const KeyInfo& k : config::schema()) {
      if (!k.fixed_at_install || f.name != field_name(k)) continue;
      o.errors[f.name] = "[" + std::string(k.section) + "] " + std::string(k.key) + std::string(kFixedWhy);
      o.error += (o.error.empty() ? "Nothing was changed: " : "; ") + o.errors[f.name];
    }
  }
  if (!o.error.empty()) {
    o.error += ".";
    return o;
  }
  o = page.post(r, m);
  if (!o.change || !o.change->ini) return o;
  const auto parsed = config::parse_config(*o.change->ini, m.ini_path);
  if (!parsed.config) {
    // Pages validate their text; this is a last line, not a message path.
    o.change.reset();
    o.error = "Nothing was changed: the new configuration has errors (" +
              (parsed.errors.empty() ? std::string() : parsed.errors.front().to_string()) + ")";
    return o;
  }
  const auto changes = config::fixed_key_changes([&m](const KeyInfo& k) { return installed_value(m, k); },
                                                 *parsed.config);
  if (changes.empty()) return o;
  o.change.reset();
  o.error = "Nothing was changed: ";
  for (std::size_t i = 0; i < changes.size(); ++i) {
    const auto& c = changes[i];
    o.error += (i ? "; " : "") + ("[" + c.section + "] " + c.key) + std::string(kFixedWhy) + " (it is '" + c.from +
               "' here, '" + c.to + "' in the new configuration)";
  }
  o.error += ".";
  return o;
}

std::string effective_value(std::string_view text, const config::KeyInfo& key) {
  if (auto v = ini_get(text, key.section, key.key)) return *v;
  return std::string(key.default_value);
}

std::optional<std::uint64_t> parse_quota(std::string_view text) {
  if (text.empty()) return 0;
  const auto n = text::parse_scaled(text, text::kSizeSuffixes, text::kSizeFactors);
  if (!n) return std::nullopt;
  return n.value;
}

std::string human_size(std::uint64_t n) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
  } else {
    std::snprintf(buf, sizeof buf, v < 10 ? "%.1f %s" : "%.0f %s", v, kUnits[u]);
  }
  return buf;
}

std::string hourly_chart(const std::vector<std::string>& stats_lines) {
  struct Bar {
    unsigned accepted = 0, refused = 0;
  };
  std::vector<Bar> bars;
  for (const std::string& l : stats_lines) {
    if (!l.starts_with("hour ")) continue;
    bars.push_back(Bar{static_cast<unsigned>(std::strtoul(std::string(control::field(l, "accepted")).c_str(), nullptr, 10)),
                       static_cast<unsigned>(std::strtoul(std::string(control::field(l, "refused")).c_str(), nullptr, 10))});
  }
  unsigned peak = 1;
  for (const Bar& b : bars) peak = std::max(peak, b.accepted + b.refused);
  constexpr int kW = 480, kH = 120, kBar = 20;
  std::string svg = "<svg class=\"chart\" viewBox=\"0 0 " + std::to_string(kW) + " " + std::to_string(kH + 16) +
                    "\" role=\"img\" aria-label=\"Messages per hour, last 24 hours (peak " + std::to_string(peak) +
                    ")\"><title>Messages per hour, last 24 hours</title>"
                    "<line x1=\"0\" y1=\"" + std::to_string(kH) + "\" x2=\"" + std::to_string(kW) + "\" y2=\"" +
                    std::to_string(kH) + "\" stroke=\"#888\"/>";
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const int x = static_cast<int>(i) * kBar + 2;
    const int ha = static_cast<int>(bars[i].accepted * static_cast<unsigned>(kH - 4) / peak);
    const int hr = static_cast<int>(bars[i].refused * static_cast<unsigned>(kH - 4) / peak);
    const std::string tip = std::to_string(bars[i].accepted) + " received, " + std::to_string(bars[i].refused) +
                            " refused, " + std::to_string(bars.size() - 1 - i) + " h ago";
    svg += "<g><title>" + tip + "</title>";
    if (ha > 0)
      svg += "<rect x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(kH - ha) + "\" width=\"" +
             std::to_string(kBar - 4) + "\" height=\"" + std::to_string(ha) + "\" fill=\"#2a7ab0\"/>";
    if (hr > 0)
      svg += "<rect x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(kH - ha - hr) + "\" width=\"" +
             std::to_string(kBar - 4) + "\" height=\"" + std::to_string(hr) + "\" fill=\"#c0392b\"/>";
    svg += "<rect x=\"" + std::to_string(x) + "\" y=\"0\" width=\"" + std::to_string(kBar - 4) + "\" height=\"" +
           std::to_string(kH) + "\" fill=\"transparent\"/></g>";
  }
  svg += "<text x=\"0\" y=\"" + std::to_string(kH + 13) + "\" font-size=\"11\">-24 h</text><text x=\"" +
         std::to_string(kW) + "\" y=\"" + std::to_string(kH + 13) +
         "\" font-size=\"11\" text-anchor=\"end\">now</text></svg>"
         "<p class=\"legend\"><span class=\"acc\">&#9632;</span> received <span class=\"ref\">&#9632;</span> "
         "refused</p>";
  return svg;
}

std::string login_page(std::string_view script, std::string_view error, std::string_view csrf) {
  std::string body;
  if (!error.empty()) body += notice(false, error);
  body += "<form method=\"post\" action=\"" + escape(script) + "/login\" class=\"login\">" +
          "<input type=\"hidden\" name=\"csrf\" value=\"" + escape(csrf) + "\">" +
          text_field("user", "User", "admin", "", "") +
          "<div class=\"field\"><label for=\"f-password\">Password</label><input type=\"password\" id=\"f-password\" "
          "name=\"password\" autocomplete=\"current-password\"></div>"
          "<button type=\"submit\">Log in</button></form>"
          "<p class=\"help\">The administrator password was printed on the appliance's console at first boot "
          "(or by <code>make run</code>); <code>boxmailctl admin passwd</code> sets a new one.</p>";
  return layout(script, "Log in", {}, "", "", body);
}

}  // namespace boxmail::cgi

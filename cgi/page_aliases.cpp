// page_aliases.cpp - /aliases: the [aliases] section (add, change, delete) and
// the catch-all mailbox.
#include "cgi/page_common.hpp"

#include "text/ascii.hpp"
#include "cgi/ini_edit.hpp"

namespace boxmail::cgi::detail {
using config::KeyInfo;

Html aliases_render(const Request& r, const Model& m, const View& v) {
  Html out = view_notices(v) + config_problem(m);
  out += Html::trusted(
      "<section><h2>Aliases and forwarding</h2><p>Mail to an alias goes to its targets: mailboxes, other "
      "aliases, or <code>null</code>, which accepts and discards. Targets are local for now. A mailbox of "
      "the same name wins over an alias.</p><table id=\"aliases\"><thead><tr><th>alias</th><th>targets</th>"
      "<th></th></tr></thead><tbody>");
  for (const auto& [name, value] : ini_keys(m.ini_text, "aliases")) {
    out += Html::trusted("<tr>") + td(name) + td(value) + Html::trusted("<td>") + form_open(r, "/aliases", m) +
           hidden_field("action", "delete") + hidden_field("alias_name", name) +
           Html::trusted("<button type=\"submit\" class=\"small\">Delete</button></form></td></tr>");
  }
  out += Html::trusted("</tbody></table></section>\n");
  const bool adding = v.form && v.form->value("action") == "add";
  out += Html::trusted("<section><h2>Add or change an alias</h2>") + form_open(r, "/aliases", m) +
         hidden_field("action", "add") +
         text_field("alias_name", "Alias", adding ? v.form->value("alias_name") : "",
                    "The local-part that receives, e.g. info or sales (same rules as mailbox names).",
                    error_of(v, "alias_name")) +
         text_field("alias_targets", "Targets", adding ? v.form->value("alias_targets") : "",
                    "Mailboxes or aliases, separated by commas; or null to discard.", error_of(v, "alias_targets")) +
         Html::trusted("<button type=\"submit\">Save alias</button></form></section>\n");
  const KeyInfo* ca = config::find_key("smtp", "catch_all");
  const bool catching = v.form && v.form->value("action") == "catch_all";
  out += Html::trusted("<section><h2>Catch-all</h2>") + form_open(r, "/aliases", m) +
         hidden_field("action", "catch_all") +
         schema_field(*ca, "Catch-all mailbox",
                      catching ? v.form->value("smtp.catch_all") : effective_value(m.ini_text, *ca),
                      error_of(v, "smtp.catch_all")) +
         Html::trusted("<button type=\"submit\">Save catch-all</button></form></section>\n");
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

}  // namespace boxmail::cgi::detail

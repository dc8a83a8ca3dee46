// page_mailboxes.cpp - /mailboxes: the accounts (passwd-file) with their sizes;
// add, edit (password, quota, POP3, logon) and delete with a confirmation.
#include "cgi/page_common.hpp"

#include "text/ascii.hpp"

namespace boxmail::cgi::detail {
namespace {

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

/// "messages / size" of a mailbox as boxmaild counted it; "-" when it
/// has no mailbox of that name ("- / 0 B" while not counted yet).
std::string mailbox_sizes(const Model& m, std::string_view name) {
  for (const control::MailboxStatus& mb : m.daemon.status.mailboxes) {
    if (mb.name != name) continue;
    if (!mb.usage) return "- / " + human_size(0);
    return std::to_string(mb.usage->messages) + " / " + human_size(mb.usage->octets);
  }
  return "-";
}

}  // namespace

Html mailboxes_render(const Request& r, const Model& m, const View& v) {
  Html out = view_notices(v);
  for (const auto& e : m.account_errors) out += notice(false, e);
  const std::string edit = r.query.value("edit");
  const std::string del = r.query.value("delete");
  const std::string base = r.script + "/mailboxes";
  if (!del.empty()) {
    if (m.accounts.find(del) == nullptr) {
      out += notice(false, "There is no mailbox named " + del + ".");
    } else {
      out += Html::trusted("<section class=\"confirm\"><h2>Delete mailbox ") + del + "?" +
             Html::trusted("</h2><p>The account is removed; its messages stay in the mail store.</p>") +
             form_open(r, "/mailboxes", m) + hidden_field("action", "delete") + hidden_field("name", del) +
             hidden_field("confirm", "yes") + Html::trusted("<button type=\"submit\" class=\"danger\">Delete ") +
             del + Html::trusted("</button> <a") + attr("href", base) + Html::trusted(">Cancel</a></form></section>\n");
    }
  }
  if (!edit.empty()) {
    const config::Account* a = m.accounts.find(edit);
    if (a == nullptr) {
      out += notice(false, "There is no mailbox named " + edit + ".");
    } else {
      const bool again = v.form && v.form->value("action") == "update";
      out += Html::trusted("<section><h2>Mailbox ") + a->name + Html::trusted("</h2>") +
             form_open(r, "/mailboxes", m) + hidden_field("action", "update") + hidden_field("name", a->name) +
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
             Html::trusted("<button type=\"submit\">Save</button> <a") + attr("href", base) +
             Html::trusted(">Back</a></form></section>\n");
    }
  }
  out += Html::trusted("<section><h2>Mailboxes</h2><table id=\"mailboxes\"><thead><tr><th>name</th>"
                       "<th>messages / size</th><th>quota</th><th>POP3</th><th>logon</th><th></th></tr></thead>"
                       "<tbody>");
  for (const config::Account& a : m.accounts.accounts) {
    const std::string q = percent_encode(a.name);
    out += Html::trusted("<tr>") + td(a.name) + td(mailbox_sizes(m, a.name)) +
           td(config::quota_of(a) ? human_size(config::quota_of(a)) : "none") +
           td(config::has_flag(a, "nopop3") ? "off" : "on") +
           td(config::has_flag(a, "nologin") ? "disabled" : "allowed") + Html::trusted("<td><a") +
           attr("href", base + "?edit=" + q) + Html::trusted(">Edit</a> <a") + attr("href", base + "?delete=" + q) +
           Html::trusted(">Delete</a></td></tr>");
  }
  out += Html::trusted("</tbody></table></section>\n");
  const bool adding = v.form && v.form->value("action") == "add";
  out += Html::trusted("<section><h2>Add a mailbox</h2>") + form_open(r, "/mailboxes", m) +
         hidden_field("action", "add") +
         text_field("name", "Name", adding ? v.form->value("name") : "",
                    "1 to 64 of a-z, 0-9, '.', '_', '-'; mail to NAME@any accepted domain lands here.",
                    error_of(v, "name")) +
         text_field("password", "Password", "", "At least 8 characters.", adding ? error_of(v, "password") : "",
                    "password") +
         text_field("quota", "Quota", adding ? v.form->value("quota") : "",
                    "Size such as 500M or 2G; empty for none.", adding ? error_of(v, "quota") : "") +
         Html::trusted("<button type=\"submit\">Add mailbox</button></form></section>\n");
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

}  // namespace boxmail::cgi::detail

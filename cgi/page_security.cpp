// page_security.cpp - /security: the firewall's bans and the abuse
// defence's settings (issue 11; docs/firewall.md, docs/abuse.md).
//
// - The banned addresses with their time left and reason are what `bans`
//   over the control socket says (control::decode_bans); each row has an
//   Unban button (`unban ADDRESS`). The bans are boxmaild's (its ban list,
//   state file and the helper's table): a ban or an unban is a
//   DaemonChange the glue sends, like the Outgoing mail page's queue
//   actions.
// - A manual ban: address, duration, reason, checked here before boxmaild
//   is asked (firewall::parse_host: one IPv4 or IPv6 host, sent in its
//   canonical form; a duration of 1 s up to [firewall] ban_time_max of the
//   running configuration, typed as 90, 30m, 2h or 3d; a reason folded to
//   the helper's token: lower case, blanks as '-', then
//   firewall::reason_error). Anything with a line end, a control character
//   or a second word is refused with a message next to its field, so a
//   form can never make the request line carry a second request.
// - The settings ([firewall] enabled, allow and the auto-ban's ban_*,
//   [smtp] dnsbl_zones and reverse_dns) are a settings form like the
//   Mail feed page: validated whole by config::parse_config, written, then
//   `reload` (the glue puts the old file back when boxmaild refuses it).
// With the firewall off the page says so and still offers the settings.
#include "cgi/page_common.hpp"

#include "control/control_protocol.hpp"
#include "firewall/ban_table.hpp"
#include "firewall/request.hpp"
#include "text/number.hpp"

namespace boxmail::cgi::detail {
namespace {

/// The settings form's keys, in page order.
const std::vector<FieldSpec>& security_specs() {
  static const std::vector<FieldSpec> specs = {
      {"firewall", "enabled", "Firewall on (bans take effect; a change needs a restart of boxmaild)"},
      {"firewall", "allow", "Never banned (addresses and networks, one per line)", true},
      {"smtp", "dnsbl_zones", "DNS block lists (one zone per line)", true},
      {"smtp", "reverse_dns", "Reverse DNS check of SMTP clients"},
      {"firewall", "ban_after_login_failures", "Ban after failed logins"},
      {"firewall", "ban_after_protocol_errors", "Ban after sessions ended for protocol errors"},
      {"firewall", "ban_after_relay_attempts", "Ban after relay attempts"},
      {"firewall", "ban_after_unknown_recipients", "Ban after unknown recipients"},
      {"firewall", "ban_window", "Window the offences add up in"},
      {"firewall", "ban_time", "First ban lasts"},
      {"firewall", "ban_time_max", "Longest ban (repeat offenders)"},
  };
  return specs;
}

/// Seconds of a typed duration ("90", "30m", "2h", "3d"); nullopt when not one.
std::optional<std::uint64_t> duration_seconds(std::string_view text) {
  static constexpr std::uint64_t kFactors[] = {1, 60, 3600, 86400};
  const auto n = text::parse_scaled(text, "smhd", kFactors);
  if (!n) return std::nullopt;
  return n.value;
}

/// The longest manual ban: [firewall] ban_time_max of the running
/// configuration, never more than the helper takes.
std::uint64_t max_ban_seconds(const Model& m) {
  const std::uint64_t limit = m.config ? m.config->firewall.ban_time_max : 604800;
  return std::min<std::uint64_t>(limit, firewall::kMaxBanSeconds);
}

/// True when the firewall is on in the INI text.
bool firewall_on(const Model& m) {
  if (m.config) return m.config->firewall.enabled;
  return effective_value(m.ini_text, *config::find_key("firewall", "enabled")) == "yes";
}

/// At most 64 octets of `s` for a message (the Html escapes it).
std::string shown(std::string_view s) { return std::string(s.substr(0, 64)) + (s.size() > 64 ? "..." : ""); }

/// The canonical address of a form field, or the field's error into `o`.
std::optional<std::string> address_field(const Form& f, std::string_view field, Outcome& o) {
  const std::string raw = f.value(field);
  const std::string a = trim(raw);
  std::string& err = o.errors[std::string(field)];
  if (a.empty()) {
    err = "enter an IPv4 or IPv6 address";
  } else if (has_control(raw) || raw.find('\t') != std::string::npos) {
    err = "the address may not contain line breaks or control characters";
  } else if (a.find(' ') != std::string::npos) {
    err = "one address only, without blanks";
  } else if (const auto host = firewall::parse_host(a)) {
    o.errors.erase(std::string(field));
    return host->to_string();
  } else {
    err = "'" + shown(a) + "' is not one IPv4 or IPv6 address (no network, no host name)";
  }
  return std::nullopt;
}

/// The reason as the helper takes it ("" when empty), or an error into `o`.
std::optional<std::string> reason_field(const Form& f, Outcome& o) {
  const std::string raw = f.value("ban_reason");
  if (has_control(raw) || raw.find('\t') != std::string::npos) {
    o.errors["ban_reason"] = "the reason may not contain line breaks or control characters";
    return std::nullopt;
  }
  std::string r;
  for (char c : trim(raw)) r += c == ' ' ? '-' : (c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  if (r.empty()) return std::string("manual");
  if (!firewall::reason_error(r).empty()) {
    o.errors["ban_reason"] = "use 1 to " + std::to_string(firewall::kMaxReasonLength) +
                             " letters, digits and '-', starting with a letter (e.g. spam-run)";
    return std::nullopt;
  }
  return r;
}

/// The manual ban's DaemonChange, or the fields' errors.
Outcome ban_post(const Model& m, const Form& f) {
  Outcome o;
  const auto address = address_field(f, "ban_address", o);
  const std::string raw_time = f.value("ban_duration");
  const std::string time = trim(raw_time);
  const std::uint64_t max = max_ban_seconds(m);
  const auto seconds = duration_seconds(time);
  if (has_control(raw_time) || time.find_first_of(" \t") != std::string::npos) {
    o.errors["ban_duration"] = "one duration, e.g. 3600, 30m, 2h or 3d";
  } else if (!seconds || *seconds < firewall::kMinBanSeconds || *seconds > max) {
    o.errors["ban_duration"] = "a duration from 1 s up to " + span(max) +
                               " ([firewall] ban_time_max), e.g. 3600, 30m, 2h or 3d";
  }
  const auto reason = reason_field(f, o);
  if (!o.errors.empty()) return o;
  const std::string line = "ban " + *address + " " + std::to_string(*seconds) + " " + *reason;
  // The control protocol's own reading must give back exactly these values.
  const control::Request req = control::parse_request(line);
  if (!req.error.empty() || req.verb != control::Verb::Ban || req.address != *address || req.seconds != *seconds ||
      req.reason != *reason) {
    o.error = "Nothing was changed: the ban could not be written as one request.";
    return o;
  }
  Change c;
  c.daemon = DaemonChange{line, {}, "ban " + *address + " for " + std::to_string(*seconds) + " s (" + *reason + ")"};
  o.change = std::move(c);
  return o;
}

/// The list of bans with an Unban button per row.
Html bans_section(const Request& r, const Model& m) {
  Html out = Html::trusted("<section><h2>Banned addresses</h2>");
  const DaemonView& d = m.daemon;
  if (!d.bans) {
    out += notice(false, "The bans cannot be shown: " + d.bans_error);
    return out + Html::trusted("</section>\n");
  }
  const auto& bans = d.bans->bans;
  if (bans.empty()) {
    return out + Html::trusted("<p id=\"bans-empty\">No address is banned.</p></section>\n");
  }
  out += Html::trusted("<p>") +
         (std::to_string(bans.size()) + (bans.size() == 1 ? " address is" : " addresses are") +
          " banned from the mail ports.") +
         Html::trusted("</p><table id=\"bans\"><thead><tr><th>address</th><th>time left</th><th>reason</th>"
                       "<th>action</th></tr></thead><tbody>");
  for (const control::BanEntry& b : bans) {
    out += Html::trusted("<tr>") + td(b.address) + td(span(b.seconds_left)) + td(b.reason) +
           Html::trusted("<td class=\"actions\">") + form_open(r, "/security", m, Html::trusted(" class=\"inline\"")) +
           hidden_field("action", "unban") + hidden_field("address", b.address) +
           Html::trusted("<button type=\"submit\" class=\"small\"") + attr("aria-label", "Unban " + b.address) +
           Html::trusted(">Unban</button></form></td></tr>");
  }
  return out + Html::trusted("</tbody></table></section>\n");
}

/// The manual ban form (values again after its own error).
Html ban_section(const Request& r, const Model& m, const View& v) {
  const bool again = v.form && v.form->value("action") == "ban" && v.outcome && !v.outcome->errors.empty();
  std::string duration = effective_value(m.ini_text, *config::find_key("firewall", "ban_time"));
  if (const auto s = duration_seconds(duration); s && *s % 3600 == 0 && *s > 0) duration = std::to_string(*s / 3600) + "h";
  return Html::trusted("<section><h2>Ban an address</h2>") + form_open(r, "/security", m) +
         hidden_field("action", "ban") +
         text_field("ban_address", "Address", again ? v.form->value("ban_address") : std::string(),
                    "One IPv4 or IPv6 address, e.g. 192.0.2.7 or 2001:db8::7.", error_of(v, "ban_address")) +
         text_field("ban_duration", "Duration", again ? v.form->value("ban_duration") : duration,
                    "Seconds, or with m, h or d (30m, 2h, 3d); at most " + span(max_ban_seconds(m)) +
                        " ([firewall] ban_time_max).",
                    error_of(v, "ban_duration")) +
         text_field("ban_reason", "Reason (optional)", again ? v.form->value("ban_reason") : std::string(),
                    "A short word such as spam-run (letters, digits and '-'); empty: manual.",
                    error_of(v, "ban_reason")) +
         Html::trusted("<button type=\"submit\">Ban</button></form></section>\n");
}

}  // namespace

Html security_render(const Request& r, const Model& m, const View& v) {
  Html out = view_notices(v) + config_problem(m);
  if (!firewall_on(m)) {
    out += Html::trusted("<div id=\"firewall-off\">") +
           notice(false, "The firewall is off ([firewall] enabled = no): nobody is banned and the auto-ban counts "
                         "nothing. The settings below can still be edited; turning the firewall on takes a restart "
                         "of boxmaild.") +
           Html::trusted("</div>");
  }
  out += bans_section(r, m) + ban_section(r, m, v);
  // The settings form shows submitted values only after its own POST.
  View settings = v;
  if (!v.form || v.form->value("action") != "settings") {
    settings.form = nullptr;
    settings.outcome = nullptr;
  }
  out += Html::trusted("<section><h2>Settings</h2>") + form_open(r, "/security", m) +
         hidden_field("action", "settings") + settings_fields(m, settings, security_specs()) +
         Html::trusted("<button type=\"submit\">Save</button></form></section>\n");
  return out;
}

Outcome security_post(const Request& r, const Model& m) {
  const Form& f = r.form;
  const std::string action = f.value("action");
  Outcome o;
  if (action == "unban") {
    const auto address = address_field(f, "address", o);
    if (!address) {
      o.error = "Nothing was changed: " + o.errors["address"] + ".";
      o.errors.clear();
      return o;
    }
    Change c;
    c.daemon = DaemonChange{"unban " + *address, {}, "unban " + *address};
    o.change = std::move(c);
    return o;
  }
  if (action == "ban") return ban_post(m, f);
  if (action != "settings") {
    o.error = "Unknown action.";
    return o;
  }
  std::map<std::string, std::string> pre;
  for (const char* name : {"firewall.allow", "smtp.dnsbl_zones"}) {
    for (const std::string& s : split_lines(f.value(name))) {
      if (s.find_first_of(" \t") != std::string::npos) {
        pre[name] = "'" + shown(s) + "' contains a space (one item per line)";
        break;
      }
    }
  }
  return apply_settings(m, f, security_specs(), {}, pre);
}

}  // namespace boxmail::cgi::detail

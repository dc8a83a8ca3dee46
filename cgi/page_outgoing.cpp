// page_outgoing.cpp - /outgoing: the outgoing mail queue (one row per
// message from the control socket's `queue list`, with "Retry now" and
// "Delete" per row and "Flush the queue"), the routing settings ([relay]
// route, smarthost, smarthost_tls, smarthost_fingerprint,
// delay_notice_after in hours, relay_networks, local_domains: written to
// the INI like every settings page, validated whole by config::parse_config
// first) and the smarthost login. The queue and the login file are
// boxmaild's: a queue action or a login is a DaemonChange the glue sends
// over the control socket (queue retry|delete|flush, smarthost-login with
// the user and password as its payload, smarthost-login-clear); the page
// shows only the user a login is stored for, never a password. "Send a
// test message" asks boxmaild's relay-test (the message goes out now
// through the route; docs/relay.md) and shows its answer and the SMTP
// transcript, escaped like every text: the remote server wrote it.
#include "cgi/page_common.hpp"

#include "cgi/ini_edit.hpp"
#include "control/control_protocol.hpp"
#include "relay/test_message.hpp"
#include "store/maildir_name.hpp"
#include "text/number.hpp"

#include <algorithm>

namespace boxmail::cgi::detail {
namespace {

/// The route choices the form offers, in menu order: value, label.
struct RouteChoice {
  std::string_view value;
  std::string_view label;
};
constexpr RouteChoice kRoutes[] = {
    {"none", "None: mail to other domains is refused, nothing is sent out"},
    {"mx", "MX: straight to the recipient domain's mail servers"},
    {"smarthost", "Smarthost: through the ISP's mail relay"},
    {"mx, smarthost", "MX, then the smarthost when MX fails"},
    {"smarthost, mx", "The smarthost, then MX when it fails"},
    {"direct", "Direct: the domain's own address, no MX lookup"},
};

/// The settings shown by settings_fields (the route and the delay have
/// fields of their own).
const std::vector<FieldSpec>& routing_specs() {
  static const std::vector<FieldSpec> specs = {
      {"relay", "smarthost", "Smarthost (host or host:port)"},
      {"relay", "smarthost_tls", "TLS to the smarthost"},
      {"relay", "smarthost_fingerprint", "Smarthost certificate fingerprint (SHA-256)"},
      {"relay", "relay_networks", "Networks that may send out without logging in", true},
      {"relay", "local_domains", "The box's own domains", true},
  };
  return specs;
}

/// A route as the form compares it: lower case, items joined by ", ".
std::string normal_route(std::string_view text) {
  std::string lower;
  for (char c : text) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return join(split_items(lower), ", ");
}

/// Seconds of a [relay] delay_notice_after value ("4h", "30m", "600"); nullopt when not one.
std::optional<std::uint64_t> duration_seconds(std::string_view text) {
  static constexpr std::uint64_t kFactors[] = {1, 60, 3600};
  const auto n = text::parse_scaled(text, "smh", kFactors);
  if (!n) return std::nullopt;
  return n.value;
}

/// One small POST form with a button (a queue action on one message, or all).
Html action_form(const Request& r, const Model& m, std::string_view action, std::string_view id,
                 Html::Literal label, bool danger, std::string_view aria) {
  Html out = form_open(r, "/outgoing", m, Html::trusted(" class=\"inline\"")) + hidden_field("action", action);
  if (!id.empty()) out += hidden_field("id", id);
  out += (danger ? Html::trusted("<button type=\"submit\" class=\"small danger\"") : Html::trusted("<button type=\"submit\" class=\"small\"")) +
         attr("aria-label", aria) + Html::trusted(">") + Html::trusted(label) + Html::trusted("</button></form>");
  return out;
}

/// The queue: a row per message with its actions, or why it cannot be shown.
Html queue_section(const Request& r, const Model& m) {
  Html out = Html::trusted("<section><h2>Queue</h2>");
  const DaemonView& d = m.daemon;
  if (!d.queue) {
    out += notice(false, "The queue cannot be shown: " + d.queue_error);
    return out + Html::trusted("</section>\n");
  }
  const auto& msgs = d.queue->messages;
  if (msgs.empty()) {
    out += Html::trusted("<p id=\"queue-empty\">No message is waiting to go out.</p></section>\n");
    return out;
  }
  out += Html::trusted("<p>") +
         (std::to_string(msgs.size()) + (msgs.size() == 1 ? " message is" : " messages are") +
          " waiting to go out. boxmaild tries each again on its own; \"Retry now\" tries at once.") +
         Html::trusted("</p><table id=\"queue\"><thead><tr><th>queue id</th><th>sender</th><th>recipients</th>"
                       "<th>age</th><th>next attempt</th><th>actions</th><th>last error</th></tr></thead><tbody>");
  for (const control::QueuedMessage& q : msgs) {
    out += Html::trusted("<tr") + attr("id", "q-" + q.id) + Html::trusted(">") + td(q.id) +
           td(q.sender.empty() ? std::string("<> (a notice)") : q.sender) + td(join(q.recipients, ", ")) +
           td(span(q.age)) + td(q.next == 0 ? std::string("now") : "in " + span(q.next)) +
           Html::trusted("<td class=\"actions\">") +
           action_form(r, m, "retry", q.id, "Retry now", false, "Retry " + q.id + " now") +
           action_form(r, m, "delete", q.id, "Delete", true, "Delete " + q.id) +
           Html::trusted("</td><td class=\"error-text\">") + (q.error.empty() ? std::string("-") : q.error) +
           Html::trusted("</td></tr>");
  }
  out += Html::trusted("</tbody></table>") +
         Html::trusted("<p>") + action_form(r, m, "flush", "", "Flush the queue", false, "Try every queued message now") +
         Html::trusted("</p>") +
         Html::trusted("<p class=\"help\">Delete removes the message without telling its sender.</p></section>\n");
  return out;
}

/// The route select and the delay field (values from the form after an
/// error, else from the INI text).
Html route_fields(const Model& m, const View& v) {
  const bool again = v.form && v.outcome && !v.outcome->errors.empty();
  const config::KeyInfo* rk = config::find_key("relay", "route");
  const config::KeyInfo* dk = config::find_key("relay", "delay_notice_after");
  const std::string route = normal_route(again ? v.form->value("relay.route") : effective_value(m.ini_text, *rk));
  const std::string rerr = error_of(v, "relay.route");
  Html opts;
  bool known = false;
  for (const RouteChoice& c : kRoutes) {
    const bool sel = c.value == route;
    known = known || sel;
    opts += Html::trusted("<option") + attr("value", c.value) + (sel ? Html::trusted(" selected") : Html()) +
            Html::trusted(">") + c.label + Html::trusted("</option>");
  }
  if (!known) {
    opts += Html::trusted("<option selected") + attr("value", route) + Html::trusted(">") + ("as configured: " + route) +
            Html::trusted("</option>");
  }
  Html out = (rerr.empty() ? Html::trusted("<div class=\"field\">") : Html::trusted("<div class=\"field invalid\">")) +
             Html::trusted("<label for=\"f-relay-route\">Route for mail to other domains</label>"
                           "<select id=\"f-relay-route\" name=\"relay.route\" aria-describedby=\"f-relay-route-help\"") +
             (rerr.empty() ? Html() : Html::trusted(" aria-invalid=\"true\"")) + Html::trusted(">") + opts +
             Html::trusted("</select>");
  if (!rerr.empty()) out += Html::trusted("<p class=\"error\" id=\"f-relay-route-err\">") + rerr + Html::trusted("</p>");
  out += Html::trusted("<p class=\"help\" id=\"f-relay-route-help\">") + rk->doc + Html::trusted("</p></div>\n");
  std::string delay = again ? v.form->value("relay.delay_notice_after") : effective_value(m.ini_text, *dk);
  if (!again) {
    if (const auto s = duration_seconds(delay); s && *s % 3600 == 0) delay = std::to_string(*s / 3600);
  }
  out += text_field("relay.delay_notice_after", "Delay notice after (hours)", delay,
                    "After this many hours undelivered the sender gets one delay notice (RFC 3464); 0: none. "
                    "A duration such as 30m is taken too.",
                    error_of(v, "relay.delay_notice_after"));
  return out;
}

/// The smarthost login: who is stored, the form for a new one, clearing it.
Html login_section(const Request& r, const Model& m, const View& v) {
  Html out = Html::trusted("<section><h2>Smarthost login</h2>");
  const auto& relay = m.daemon.status.relay;
  if (!m.daemon.reached || !relay) {
    out += notice(false, "boxmaild does not say whether a login is stored" +
                             (m.daemon.error.empty() ? std::string(".") : ": " + m.daemon.error));
  } else if (relay->login_user) {
    out += Html::trusted("<p id=\"login-stored\">A login is stored for <strong>") + *relay->login_user +
           Html::trusted("</strong>. boxmaild sends it to the smarthost over TLS only.</p>") +
           form_open(r, "/outgoing", m) + hidden_field("action", "login_clear") +
           Html::trusted("<button type=\"submit\" class=\"danger\">Remove the login</button></form>");
  } else {
    out += Html::trusted("<p id=\"login-stored\">No login is stored: boxmaild sends mail to the smarthost without "
                         "logging in.</p>");
  }
  const bool again = v.form && v.form->value("action") == "login";
  out += form_open(r, "/outgoing", m) + hidden_field("action", "login") +
         text_field("smarthost_user", "User name", again ? v.form->value("smarthost_user") : std::string(),
                    "As the ISP gave it (often the e-mail address).", error_of(v, "smarthost_user")) +
         text_field("smarthost_password", "Password", "",
                    "Goes to boxmaild only, which keeps it in a file only it can read; it is never shown again.",
                    error_of(v, "smarthost_password"), "password") +
         Html::trusted("<button type=\"submit\">Store the login</button></form></section>\n");
  return out;
}

/// True when `s` holds a control character or DEL (a line end, NUL, TAB).
bool any_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

/// The test message: the recipient form and, after a test, how it went
/// and the SMTP transcript.
Html test_section(const Request& r, const Model& m, const View& v) {
  Html out = Html::trusted("<section><h2>Test message</h2><p>Sends a short message (subject \"") +
             relay::kTestSubject +
             Html::trusted("\") now, through the route above, to an address at another domain, and shows the "
                           "mail server's replies. The queue is not used.</p>");
  const bool again = v.form && v.form->value("action") == "test";
  out += form_open(r, "/outgoing", m) + hidden_field("action", "test") +
         text_field("test_to", "Recipient", again ? v.form->value("test_to") : std::string(),
                    "An address at another domain, e.g. your own at the ISP.", error_of(v, "test_to")) +
         text_field("test_from", "Sender (optional)", again ? v.form->value("test_from") : std::string(),
                    "Empty: the null sender <>. A smarthost that checks the sender against its login wants the "
                    "login's own address here.",
                    error_of(v, "test_from")) +
         Html::trusted("<button type=\"submit\">Send a test message</button></form>");
  if (again && v.outcome && v.outcome->relay_test) {
    using Result = control::RelayTestReply::Result;
    const control::RelayTestReply& t = *v.outcome->relay_test;
    std::string line = t.result == Result::Sent ? "Sent: the server accepted the test message: " + t.message
                       : t.result == Result::Failed ? "Not sent: " + t.message
                                                    : "Not sent: " + t.message + ".";
    if (!t.relay.empty()) line += " (" + t.relay + ")";
    out += Html::trusted("<div id=\"test-result\">") + notice(t.result == Result::Sent, line);
    if (!t.transcript.empty()) {
      std::string text;
      for (const std::string& l : t.transcript) text += l + "\n";
      out += Html::trusted("<pre class=\"log\" id=\"test-transcript\">") + text + Html::trusted("</pre>");
    }
    out += Html::trusted("</div>");
  }
  return out + Html::trusted("</section>\n");
}

/// The test form's DaemonChange, or the field's error.
Outcome test_post(const Form& f) {
  Outcome o;
  const std::string to = trim(f.value("test_to"));
  const std::string from = trim(f.value("test_from"));
  // Each address alone, so that the error goes next to its field.
  auto check = [&o](const std::string& field, const std::string& line, const std::string& text) {
    if (any_control(text)) {
      o.errors[field] = "the address may not contain control characters";
    } else if (text.find(' ') != std::string::npos) {
      o.errors[field] = "not an e-mail address";
    } else if (const auto req = control::parse_request(line); !req.error.empty()) {
      o.errors[field] = req.error == "request line too long" ? "the address is too long"
                                                             : req.error.substr(req.error.find(' ') + 1);
    }
  };
  if (to.empty()) {
    o.errors["test_to"] = "enter an e-mail address at another domain";
  } else {
    check("test_to", "relay-test " + to, to);
  }
  if (!from.empty()) check("test_from", "relay-test postmaster@example.net " + from, from);
  if (!o.errors.empty()) return o;
  Change c;
  const std::string line = "relay-test " + to + (from.empty() ? "" : " " + from);
  c.daemon = DaemonChange{line, {}, "test message to " + to};
  o.change = std::move(c);
  return o;
}

/// The form's queue id, or an error into `o`.
std::optional<std::string> queue_id(const Form& f, Outcome& o) {
  const std::string id = f.value("id");
  if (!store::parse_queue_id(id)) {
    o.error = "Nothing was changed: '" + id + "' is not a queue id.";
    return std::nullopt;
  }
  return id;
}

/// The login form's DaemonChange, or field errors.
Outcome login_post(const Form& f) {
  Outcome o;
  const std::string user = trim(f.value("smarthost_user"));
  const std::string password = f.value("smarthost_password");
  if (user.empty()) {
    o.errors["smarthost_user"] = "enter the user name";
  } else if (user.size() > control::kMaxSmarthostUser) {
    o.errors["smarthost_user"] = "at most " + std::to_string(control::kMaxSmarthostUser) + " characters";
  } else if (user.find(':') != std::string::npos || any_control(user)) {
    o.errors["smarthost_user"] = "the user name may not contain ':' or control characters";
  }
  if (password.empty()) {
    o.errors["smarthost_password"] = "enter the password";
  } else if (password.size() > control::kMaxSmarthostPassword) {
    o.errors["smarthost_password"] = "at most " + std::to_string(control::kMaxSmarthostPassword) + " characters";
  } else if (any_control(password)) {
    o.errors["smarthost_password"] = "the password may not contain control characters";
  }
  if (!o.errors.empty()) return o;
  Change c;
  c.daemon = DaemonChange{control::smarthost_login_line(user.size(), password.size()), user + password,
                          "smarthost login for " + user};
  o.change = std::move(c);
  return o;
}

}  // namespace

Html outgoing_render(const Request& r, const Model& m, const View& v) {
  Html out = view_notices(v) + config_problem(m);
  if (!m.daemon.reached) out += notice(false, "boxmaild does not answer on its control socket: " + m.daemon.error);
  out += queue_section(r, m);
  // The routing form shows submitted values only after its own POST.
  View routing = v;
  if (!v.form || v.form->value("action") != "route") {
    routing.form = nullptr;
    routing.outcome = nullptr;
  }
  out += Html::trusted("<section><h2>Routing</h2>") + form_open(r, "/outgoing", m) + hidden_field("action", "route") +
         route_fields(m, routing) + settings_fields(m, routing, routing_specs()) +
         Html::trusted("<button type=\"submit\">Save</button></form></section>\n");
  out += login_section(r, m, v);
  out += test_section(r, m, v);
  return out;
}

Outcome outgoing_post(const Request& r, const Model& m) {
  const Form& f = r.form;
  const std::string action = f.value("action");
  Outcome o;
  if (action == "retry" || action == "delete") {
    const auto id = queue_id(f, o);
    if (!id) return o;
    Change c;
    c.daemon = DaemonChange{"queue " + action + " " + *id, {}, action + " " + *id};
    o.change = std::move(c);
    return o;
  }
  if (action == "flush") {
    Change c;
    c.daemon = DaemonChange{"queue flush", {}, "flush the queue"};
    o.change = std::move(c);
    return o;
  }
  if (action == "login") return login_post(f);
  if (action == "test") return test_post(f);
  if (action == "login_clear") {
    Change c;
    c.daemon = DaemonChange{"smarthost-login-clear", {}, "remove the smarthost login"};
    o.change = std::move(c);
    return o;
  }
  if (action != "route") {
    o.error = "Unknown action.";
    return o;
  }
  std::vector<FieldSpec> specs = routing_specs();
  specs.push_back({"relay", "route", "Route"});
  specs.push_back({"relay", "delay_notice_after", "Delay notice"});
  std::map<std::string, std::string> overrides;
  if (f.has("relay.route")) overrides["relay.route"] = normal_route(f.value("relay.route"));
  if (f.has("relay.delay_notice_after")) {
    // Whole hours as "Nh"; anything else goes to the schema as typed. The
    // INI's text stays when it means the same.
    std::string delay = trim(f.value("relay.delay_notice_after"));
    const auto hours = text::parse_unsigned<std::uint64_t>(delay, 1000000);
    if (hours) delay = hours.value == 0 ? "0" : std::to_string(hours.value) + "h";
    const std::string current = effective_value(m.ini_text, *config::find_key("relay", "delay_notice_after"));
    const auto a = duration_seconds(delay);
    if (a && a == duration_seconds(current)) delay = current;
    overrides["relay.delay_notice_after"] = delay;
  }
  return apply_settings(m, f, specs, overrides);
}

}  // namespace boxmail::cgi::detail

namespace boxmail::cgi {

Outcome daemon_change_outcome(const DaemonChange& change, bool reached, std::string_view error,
                              const control::Reply& reply) {
  Outcome o;
  if (!reached) {
    o.error = (change.line.starts_with("relay-test ") ? "The test message was not sent" : "Nothing was changed") +
              std::string(": boxmaild could not be asked (") + std::string(error) + ").";
    return o;
  }
  if (change.line.starts_with("relay-test ")) {
    auto d = control::decode_relay_test(reply);
    if (!d) {
      o.error = "boxmaild's reply is malformed (" + d.error + ").";
    } else {
      o.relay_test = std::move(*d.value);
    }
    return o;
  }
  const bool login = change.line.starts_with("smarthost-login");
  if (login) {
    const auto d = control::decode_login_change(reply);
    if (!d) {
      o.error = "boxmaild's reply is malformed (" + d.error + ").";
    } else if (!d->done) {
      o.error = "Nothing was changed: " + d->message + ".";
    } else if (d->user) {
      o.info = "A login is stored for " + *d->user + ".";
    } else {
      o.info = "The smarthost login was removed.";
    }
    return o;
  }
  if (!reply.ok) {
    o.error = "Nothing was changed: " + reply.head + ".";
    return o;
  }
  o.info = reply.head.empty() ? "Done." : reply.head + ".";
  o.info[0] = static_cast<char>(o.info[0] >= 'a' && o.info[0] <= 'z' ? o.info[0] - 'a' + 'A' : o.info[0]);
  return o;
}

}  // namespace boxmail::cgi

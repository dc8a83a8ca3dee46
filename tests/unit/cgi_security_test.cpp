// cgi_security_test.cpp - the panel's Security page (cgi/page_security.cpp)
// and the Status page's ban counts: the bans as rows with an Unban form
// each (every text escaped: a ban's reason is boxmaild's, and could hold
// anything), the manual ban checked before boxmaild is asked (a hostile
// address, duration or reason is refused next to its field and never
// becomes a request, least of all a second one), the settings through
// config::parse_config, and what the page says with the firewall off.
#include "cgi/ini_edit.hpp"
#include "cgi_page_fixture.hpp"
#include "cgi/pages.hpp"
#include "control/control_protocol.hpp"
#include "control/control_replies.hpp"

#include <gtest/gtest.h>

namespace {

using namespace boxmail;
using namespace boxmail::cgi;

const std::string kIni =
    "[server]\npasswd_file = /tmp/p\ncontrol_socket = /tmp/s\n\n[smtp]\nlisten = 127.0.0.1:2525\n"
    "accept_domains = *\n\n[firewall]\nenabled = yes\nban_time = 2h\nban_time_max = 48h\n\n[aliases]\n";

Model model(std::string ini = kIni) {
  Model m = fixture::page_model(std::move(ini));
  m.daemon.reached = true;
  m.daemon.bans = control::BansReply{};
  return m;
}

Request request(std::string_view method, std::string_view body = "") {
  return fixture::page_request("/security", method, body);
}

std::string render(const Model& m, const View& v = {}) {
  return find_page("/security")->render(request("GET"), m, v).str();
}

Outcome post(std::string_view body, const Model& m) {
  const Request r = request("POST", body);
  EXPECT_EQ(r.form.error, "");
  return post_page(*find_page("/security"), r, m);
}

/// A form refused with `error` (a part of it) next to `field`.
struct FieldCase {
  std::string body, field, error;
};

/// Posts each case and expects it refused next to its field, nothing changed.
void expect_refused(const std::vector<FieldCase>& cases, const Model& m) {
  for (const auto& c : cases) {
    const Outcome o = post(c.body, m);
    EXPECT_FALSE(o.change) << c.body;
    ASSERT_TRUE(o.errors.count(c.field)) << c.body << ": " << o.error;
    EXPECT_NE(o.errors.at(c.field).find(c.error), std::string::npos) << c.body << ": " << o.errors.at(c.field);
  }
}

TEST(CgiSecurity, InTheMenu) {
  const PageInfo* p = find_page("/security");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->title, "Security");
  ASSERT_NE(p->post, nullptr);
  bool listed = false;
  for (const MenuItem& i : menu()) listed = listed || i.path == "/security";
  EXPECT_TRUE(listed);
}

TEST(CgiSecurity, BansAreRowsWithAnUnbanFormAllEscaped) {
  Model m = model();
  m.daemon.bans = control::BansReply{{{"192.0.2.7", 3 * 3600 + 120, "manual"},
                                      {"2001:db8::7", 45, "<script>alert(1)</script>\"><img src=x onerror=alert(2)>"}}};
  const std::string html = render(m);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("<td>192.0.2.7</td><td>3 h 2 min</td><td>manual</td>"), std::string::npos) << html;
  EXPECT_NE(html.find("<td>2001:db8::7</td><td>45 s</td>"), std::string::npos);
  EXPECT_NE(html.find("2 addresses are banned"), std::string::npos);
  for (std::string_view a : {"192.0.2.7", "2001:db8::7"}) {
    const std::string form = "<input type=\"hidden\" name=\"csrf\" value=\"" + m.csrf +
                             "\"><input type=\"hidden\" name=\"action\" value=\"unban\"><input type=\"hidden\" "
                             "name=\"address\" value=\"" + std::string(a) + "\">";
    EXPECT_NE(html.find(form), std::string::npos) << a << "\n" << html;
    EXPECT_NE(html.find("aria-label=\"Unban " + std::string(a) + "\""), std::string::npos);
  }
  EXPECT_NE(html.find("action=\"/cgi-bin/boxmail.cgi/security\""), std::string::npos);
  EXPECT_EQ(html.find("id=\"firewall-off\""), std::string::npos);
  // Empty, and not reachable.
  m.daemon.bans = control::BansReply{};
  EXPECT_NE(render(m).find("No address is banned."), std::string::npos);
  m.daemon.bans.reset();
  m.daemon.bans_error = "boxmaild does not answer on its control socket (<b>x</b>)";
  const std::string gone = render(m);
  EXPECT_NE(gone.find("The bans cannot be shown: boxmaild does not answer on its control socket (&lt;b&gt;x"),
            std::string::npos);
  EXPECT_NE(gone.find("name=\"ban_address\""), std::string::npos);   // the forms are still there
}

TEST(CgiSecurity, FormsShowTheConfiguredSettings) {
  const Model m = model(
      "[server]\npasswd_file = /tmp/p\ncontrol_socket = /tmp/s\n[smtp]\ndnsbl_zones = zen.example, bl.example\n"
      "reverse_dns = log\n[firewall]\nenabled = yes\nallow = 127.0.0.1 192.168.7.0/24\nban_after_login_failures = 4\n"
      "ban_time = 2h\n");
  const std::string html = render(m);
  EXPECT_NE(html.find(">127.0.0.1\n192.168.7.0/24</textarea>"), std::string::npos) << html;
  EXPECT_NE(html.find(">zen.example\nbl.example</textarea>"), std::string::npos);
  EXPECT_NE(html.find("<option selected>log</option>"), std::string::npos);
  EXPECT_NE(html.find("name=\"firewall.ban_after_login_failures\" value=\"4\""), std::string::npos);
  EXPECT_NE(html.find("name=\"firewall.enabled\" value=\"yes\" checked"), std::string::npos);
  for (std::string_view k : {"ban_after_protocol_errors", "ban_after_relay_attempts", "ban_after_unknown_recipients",
                             "ban_window", "ban_time_max"}) {
    EXPECT_NE(html.find("name=\"firewall." + std::string(k) + "\""), std::string::npos) << k;
  }
  // The manual ban's duration starts at ban_time.
  EXPECT_NE(html.find("name=\"ban_duration\" value=\"2h\""), std::string::npos);
}

TEST(CgiSecurity, FirewallOffIsSaidAndTheSettingsStayEditable) {
  Model m = model("[server]\npasswd_file = /tmp/p\ncontrol_socket = /tmp/s\n[firewall]\nenabled = no\n");
  m.daemon.bans.reset();
  m.daemon.bans_error = "the firewall is off ([firewall] enabled = no)";
  const std::string html = render(m);
  EXPECT_NE(html.find("id=\"firewall-off\""), std::string::npos);
  EXPECT_NE(html.find("The firewall is off ([firewall] enabled = no)"), std::string::npos);
  EXPECT_NE(html.find("name=\"firewall.ban_time\""), std::string::npos);
  const Outcome on = post("action=settings&firewall.enabled=yes&firewall.ban_time=30m", m);
  ASSERT_TRUE(on.change && on.change->ini) << on.error;
  EXPECT_EQ(ini_get(*on.change->ini, "firewall", "enabled"), "yes");
  EXPECT_EQ(ini_get(*on.change->ini, "firewall", "ban_time"), "30m");
}

TEST(CgiSecurity, ManualBanIsOneCheckedRequestToBoxmaild) {
  const Model m = model();
  const Outcome o = post("action=ban&ban_address=+192.0.2.9+&ban_duration=90m&ban_reason=Spam+Run", m);
  ASSERT_TRUE(o.change && o.change->daemon) << o.error;
  EXPECT_FALSE(o.change->ini);
  EXPECT_EQ(o.change->daemon->line, "ban 192.0.2.9 5400 spam-run");
  EXPECT_EQ(o.change->daemon->payload, "");
  // Addresses in any written form go out canonical; no reason is "manual".
  EXPECT_EQ(post("action=ban&ban_address=%3A%3Affff%3A192.0.2.10&ban_duration=60&ban_reason=", m).change->daemon->line,
            "ban 192.0.2.10 60 manual");
  EXPECT_EQ(post("action=ban&ban_address=2001%3ADB8%3A%3A1&ban_duration=2d&ban_reason=x", m).change->daemon->line,
            "ban 2001:db8::1 172800 x");
  // The line is what the control protocol reads back.
  const control::Request req = control::parse_request(o.change->daemon->line);
  EXPECT_EQ(req.error, "");
  EXPECT_EQ(req.verb, control::Verb::Ban);
}

TEST(CgiSecurity, HostileBanFormsAreRefusedAndNeverBecomeARequest) {
  const Model m = model();
  expect_refused({
      {"action=ban&ban_address=&ban_duration=1h", "ban_address", "enter an IPv4 or IPv6 address"},
      {"action=ban&ban_address=1.2.3.4+86400+x%0Astop&ban_duration=1h", "ban_address", "line breaks"},
      {"action=ban&ban_address=1.2.3.4%0D%0Aunban+1.2.3.5&ban_duration=1h", "ban_address", "line breaks"},
      {"action=ban&ban_address=1.2.3.4+86400+x&ban_duration=1h", "ban_address", "one address only"},
      {"action=ban&ban_address=%3Cscript%3Ealert(1)%3C%2Fscript%3E&ban_duration=1h", "ban_address",
       "is not one IPv4 or IPv6 address"},
      {"action=ban&ban_address=192.0.2.0%2F24&ban_duration=1h", "ban_address", "no network"},
      {"action=ban&ban_address=mail.example.com&ban_duration=1h", "ban_address", "not one IPv4 or IPv6"},
      {"action=ban&ban_address=1.2.3.4%09&ban_duration=1h", "ban_address", "control characters"},
      {"action=ban&ban_address=1.2.3.4&ban_duration=0", "ban_duration", "from 1 s up to 2 d"},
      {"action=ban&ban_address=1.2.3.4&ban_duration=3d", "ban_duration", "ban_time_max"},
      {"action=ban&ban_address=1.2.3.4&ban_duration=1h+stop", "ban_duration", "one duration"},
      {"action=ban&ban_address=1.2.3.4&ban_duration=1h%0Astop", "ban_duration", "one duration"},
      {"action=ban&ban_address=1.2.3.4&ban_duration=-5", "ban_duration", "from 1 s"},
      {"action=ban&ban_address=1.2.3.4&ban_duration=99999999999999999999999", "ban_duration", "from 1 s"},
      {"action=ban&ban_address=1.2.3.4&ban_duration=1h&ban_reason=%3Cscript%3E", "ban_reason", "letters, digits"},
      {"action=ban&ban_address=1.2.3.4&ban_duration=1h&ban_reason=x%0Astop", "ban_reason", "line breaks"},
      {"action=ban&ban_address=1.2.3.4&ban_duration=1h&ban_reason=x%0D%0Aunban+1.2.3.4", "ban_reason", "line breaks"},
      {"action=ban&ban_address=1.2.3.4&ban_duration=1h&ban_reason=" + std::string(25, 'a'), "ban_reason", "1 to 24"},
      {"action=ban&ban_address=1.2.3.4&ban_duration=1h&ban_reason=9lives", "ban_reason", "starting with a letter"},
  }, m);
  // The refused values are shown again, escaped, with the error next to the field.
  const Request r = request("POST", "action=ban&ban_address=%3Cscript%3Ex%3C%2Fscript%3E&ban_duration=1h");
  const Outcome o = post_page(*find_page("/security"), r, m);
  View v;
  v.form = &r.form;
  v.outcome = &o;
  const std::string html = render(m, v);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("value=\"&lt;script&gt;x&lt;/script&gt;\""), std::string::npos) << html;
  EXPECT_NE(html.find("Nothing was changed"), std::string::npos);
}

TEST(CgiSecurity, UnbanTakesOneCheckedAddress) {
  const Model m = model();
  const Outcome o = post("action=unban&address=2001%3Adb8%3A%3A7", m);
  ASSERT_TRUE(o.change && o.change->daemon);
  EXPECT_EQ(o.change->daemon->line, "unban 2001:db8::7");
  for (std::string_view bad : {"action=unban&address=", "action=unban&address=1.2.3.4%0Aban+1.2.3.5+60",
                               "action=unban&address=1.2.3.4+1.2.3.5", "action=unban"}) {
    const Outcome b = post(bad, m);
    EXPECT_FALSE(b.change) << bad;
    EXPECT_NE(b.error.find("Nothing was changed"), std::string::npos) << bad << ": " << b.error;
  }
  EXPECT_EQ(post("action=flush", m).error, "Unknown action.");
}

TEST(CgiSecurity, SettingsAreValidatedByTheSchemaBeforeAnythingIsWritten) {
  const Model m = model();
  expect_refused({
      {"action=settings&firewall.enabled=yes&firewall.allow=0.0.0.0%2F0", "firewall.allow", ""},
      {"action=settings&firewall.enabled=yes&firewall.allow=192.0.2.1+192.0.2.2", "firewall.allow", "contains a space"},
      {"action=settings&firewall.enabled=yes&firewall.allow=not-a-network", "firewall.allow", ""},
      {"action=settings&firewall.enabled=yes&smtp.dnsbl_zones=bad_zone!", "smtp.dnsbl_zones", ""},
      {"action=settings&firewall.enabled=yes&smtp.reverse_dns=sometimes", "smtp.reverse_dns", ""},
      {"action=settings&firewall.enabled=yes&firewall.ban_after_login_failures=1001", "firewall.ban_after_login_failures", ""},
      {"action=settings&firewall.enabled=yes&firewall.ban_window=0", "firewall.ban_window", ""},
      {"action=settings&firewall.enabled=yes&firewall.ban_time=x", "firewall.ban_time", ""},
      {"action=settings&firewall.enabled=yes&firewall.ban_time=1h%3Bx", "firewall.ban_time", "';'"},
  }, m);
  const Outcome ok = post(
      "action=settings&firewall.enabled=yes&firewall.allow=127.0.0.1%0A192.168.5.0%2F24&smtp.dnsbl_zones=zen.example"
      "&smtp.reverse_dns=reject&firewall.ban_after_login_failures=3&firewall.ban_window=5m&firewall.ban_time=2h"
      "&firewall.ban_time_max=48h",
      m);
  ASSERT_TRUE(ok.change && ok.change->ini) << ok.error << (ok.errors.empty() ? "" : ok.errors.begin()->second);
  EXPECT_FALSE(ok.change->daemon);
  const std::string& ini = *ok.change->ini;
  EXPECT_EQ(ini_get(ini, "firewall", "allow"), "127.0.0.1, 192.168.5.0/24");
  EXPECT_EQ(ini_get(ini, "smtp", "dnsbl_zones"), "zen.example");
  EXPECT_EQ(ini_get(ini, "smtp", "reverse_dns"), "reject");
  EXPECT_EQ(ini_get(ini, "firewall", "ban_after_login_failures"), "3");
  EXPECT_EQ(ini_get(ini, "firewall", "ban_window"), "5m");
  EXPECT_TRUE(config::parse_config(ini, "x").config);
  // The helper's path is fixed at install time: a crafted field is refused whole.
  const Outcome crafted = post("action=settings&firewall.enabled=yes&firewall.program=%2Ftmp%2Fevil", m);
  EXPECT_FALSE(crafted.change);
  EXPECT_NE(crafted.error.find("[firewall] program is fixed at install time"), std::string::npos) << crafted.error;
}

TEST(CgiSecurity, BoxmaildsAnswerBecomesTheNotice) {
  const DaemonChange ban{"ban 192.0.2.9 60 manual", {}, "ban 192.0.2.9"};
  const Outcome ok = daemon_change_outcome(ban, true, "", control::Reply{true, "banned 192.0.2.9 for 60 s (manual)", {}});
  EXPECT_EQ(ok.info, "Banned 192.0.2.9 for 60 s (manual).");
  const Outcome no = daemon_change_outcome(
      ban, true, "",
      control::Reply{false, "192.168.1.5 is allow-listed ([firewall] allow or [relay] relay_networks) and is never banned",
                     {}});
  EXPECT_NE(no.error.find("Nothing was changed: 192.168.1.5 is allow-listed"), std::string::npos);
  EXPECT_NE(daemon_change_outcome(ban, false, "cannot connect", control::Reply{}).error.find("could not be asked"),
            std::string::npos);
}

TEST(CgiSecurity, StatusPageCountsBansAndBlockedConnections) {
  Model m = model();
  m.daemon.stats.bans_today = 3;
  m.daemon.stats.firewall_drops = 41;
  m.daemon.stats.blocked_dnsbl_today = 5;
  m.daemon.stats.blocked_reverse_dns_today = 6;
  Request r = request("GET");
  r.path = "/status";
  std::string html = find_page("/status")->render(r, m, {}).str();
  EXPECT_NE(html.find("<span id=\"bans-today\">3</span> bans today"), std::string::npos) << html;
  EXPECT_NE(html.find("<span id=\"firewall-drops\">41</span>"), std::string::npos);
  EXPECT_NE(html.find("<span id=\"blocked-dnsbl\">5</span> by DNS block lists, <span id=\"blocked-reverse-dns\">6</span>"),
            std::string::npos);
  EXPECT_NE(html.find("href=\"/cgi-bin/boxmail.cgi/security\""), std::string::npos);
  m.daemon.stats.firewall_drops.reset();
  m.daemon.stats.bans_today = 1;
  html = find_page("/status")->render(r, m, {}).str();
  EXPECT_NE(html.find("<span id=\"bans-today\">1</span> ban today"), std::string::npos);
  EXPECT_NE(html.find("<span id=\"firewall-drops\">not counted</span>"), std::string::npos);
}

}  // namespace

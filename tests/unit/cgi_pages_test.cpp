// cgi_pages_test.cpp - the panel's pure page logic: INI edits, the backup
// archive, each page's validation (cgi/pages.hpp), and the control protocol
// and counters it reads (control/control_protocol.hpp, net/stats.hpp).
#include "cgi/archive.hpp"
#include "cgi/ini_edit.hpp"
#include "cgi/pages.hpp"
#include "cgi_page_fixture.hpp"
#include "control/control_protocol.hpp"
#include "net/stats.hpp"

#include <gtest/gtest.h>

namespace {

using namespace boxmail;
using namespace boxmail::cgi;

const std::string kIni =
    "; comment\n[server]\npasswd_file = /tmp/p\ncontrol_socket = /tmp/s\n\n[smtp]\n;max_message_size = 25M\n"
    "listen = 127.0.0.1:2525\n\n[aliases]\ninfo = alice\n";

TEST(CgiIniEdit, GetSetRemove) {
  EXPECT_EQ(ini_get(kIni, "SMTP", "Listen"), "127.0.0.1:2525");
  EXPECT_EQ(ini_get(kIni, "smtp", "max_message_size"), std::nullopt);   // commented out
  EXPECT_EQ(ini_get("[a]\nk = v ; note\n", "a", "k"), "v");
  // Replace in place.
  EXPECT_EQ(ini_set("[smtp]\nlisten = x\nbanner = b\n", "smtp", "listen", "y"), "[smtp]\nlisten = y\nbanner = b\n");
  // Insert after the section's last key, comments kept.
  EXPECT_EQ(ini_set(kIni, "smtp", "max_message_size", "2k"),
            "; comment\n[server]\npasswd_file = /tmp/p\ncontrol_socket = /tmp/s\n\n[smtp]\n;max_message_size = 25M\n"
            "listen = 127.0.0.1:2525\nmax_message_size = 2k\n\n[aliases]\ninfo = alice\n");
  // A missing section is appended.
  EXPECT_EQ(ini_set("[server]\nlog = stderr", "pop3", "enabled", "no"), "[server]\nlog = stderr\n\n[pop3]\nenabled = no\n");
  EXPECT_EQ(ini_set("", "aliases", "a", "b"), "[aliases]\na = b\n");
  EXPECT_EQ(ini_remove(kIni, "aliases", "info"),
            "; comment\n[server]\npasswd_file = /tmp/p\ncontrol_socket = /tmp/s\n\n[smtp]\n;max_message_size = 25M\n"
            "listen = 127.0.0.1:2525\n\n[aliases]\n");
  EXPECT_EQ(ini_remove(kIni, "aliases", "nope"), kIni);
  const auto keys = ini_keys(kIni, "aliases");
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].first, "info");
}

TEST(CgiArchive, RoundTripAndRejects) {
  const std::string tar = make_tar({{"boxmail.ini", "[server]\n"}, {"passwd", std::string(700, 'x')}}, 1700000000);
  EXPECT_EQ(tar.size() % 512, 0u);
  const TarRead r = read_tar(tar);
  ASSERT_EQ(r.error, "");
  ASSERT_EQ(r.members.size(), 2u);
  EXPECT_EQ(r.members[1].data, std::string(700, 'x'));
  EXPECT_NE(read_tar("short").error, "");
  std::string bad = tar;
  bad[0] = 'X';   // checksum no longer matches
  EXPECT_EQ(read_tar(bad).error, "bad tar header checksum (not a boxmail backup?)");
  EXPECT_EQ(read_tar(make_tar({{"../etc", "x"}}, 0)).error.rfind("unexpected file name in the archive", 0), 0u);
  EXPECT_EQ(read_tar(make_tar({{"a", "x"}, {"b", "y"}}, 0), 1).error, "too many files in the archive");
  EXPECT_NE(read_tar(tar.substr(0, 1024)).error, "");
}

Model model(std::string ini = kIni) {
  Model m = fixture::page_model(std::move(ini));
  m.accounts = config::parse_passwd("alice:{SHA512-CRYPT}$6$x$y::::::\n").table;
  m.hash_password = [](std::string_view pw) { return "{TEST}" + std::string(pw); };
  return m;
}

Outcome post(std::string_view path, std::string_view body, const Model& m) {
  const Request r = fixture::page_request(path, "POST", body);
  EXPECT_EQ(r.form.error, "");
  return find_page(path)->post(r, m);
}

TEST(CgiPages, TableAndMenu) {
  EXPECT_EQ(find_page("")->path, "/status");
  EXPECT_EQ(find_page("/")->path, "/status");
  EXPECT_EQ(find_page("/nope"), nullptr);
  EXPECT_EQ(menu().size(), pages().size());
}

TEST(CgiPages, FeedValidation) {
  const Model m = model();
  struct Case {
    std::string body, field, error;
  } cases[] = {
      {"feed_mode=any&smtp.max_message_size=abc", "smtp.max_message_size", "value 'abc' is not a size"},
      {"feed_mode=any&smtp.max_message_size=1", "smtp.max_message_size", "out of range"},
      {"feed_mode=list&smtp.accept_domains=exa+mple.com", "smtp.accept_domains", "'exa mple.com' contains a space"},
      {"feed_mode=list&smtp.accept_domains=", "smtp.accept_domains", "at least one domain"},
      {"feed_mode=list&smtp.accept_domains=bad_domain", "smtp.accept_domains", "is not a domain pattern"},
      {"feed_mode=any&server.hostname=no+way", "server.hostname", "is not a host name"},
      {"feed_mode=any&smtp.max_recipients=0", "smtp.max_recipients", "out of range"},
      {"feed_mode=any&smtp.banner=a%3Bb", "smtp.banner", "';'"},
      {"feed_mode=any&smtp.feed_servers=mx1.isp.example%0Abad+host", "smtp.feed_servers", "contains a space"},
  };
  for (const auto& c : cases) {
    const Outcome o = post("/feed", c.body, m);
    EXPECT_FALSE(o.change) << c.body;
    ASSERT_TRUE(o.errors.count(c.field)) << c.body;
    EXPECT_NE(o.errors.at(c.field).find(c.error), std::string::npos) << o.errors.at(c.field);
  }
  const Outcome ok = post("/feed", "feed_mode=list&smtp.accept_domains=example.com%0A*.example.org&smtp.max_message_size=2k", m);
  ASSERT_TRUE(ok.change) << ok.error << (ok.errors.empty() ? "" : ok.errors.begin()->first + ": " + ok.errors.begin()->second);
  ASSERT_TRUE(ok.change->ini);
  EXPECT_EQ(ini_get(*ok.change->ini, "smtp", "max_message_size"), "2k");
  EXPECT_EQ(ini_get(*ok.change->ini, "smtp", "accept_domains"), "example.com, *.example.org");
  const Outcome same = post("/feed", "feed_mode=any", m);
  EXPECT_FALSE(same.change);
  EXPECT_EQ(same.info, "Nothing changed.");
}

TEST(CgiPages, RetrievalValidation) {
  const Model m = model();
  const Outcome bad = post("/retrieval", "pop3.enabled=yes&pop3.listen=127.0.0.1:2525&pop3.login_failures=3", m);
  EXPECT_TRUE(bad.errors.count("pop3.listen"));   // same port as [smtp] listen
  const Outcome off = post("/retrieval", "pop3.listen=127.0.0.1:1100&pop3.login_failures=5&pop3.login_delay=2", m);
  ASSERT_TRUE(off.change);
  EXPECT_EQ(ini_get(*off.change->ini, "pop3", "enabled"), "no");
  EXPECT_EQ(ini_get(*off.change->ini, "pop3", "login_failures"), "5");
}

TEST(CgiPages, Aliases) {
  const Model m = model();
  const Outcome evil = post("/aliases", "action=add&alias_name=%3Cscript%3Ex%3C%2Fscript%3E&alias_targets=alice", m);
  ASSERT_TRUE(evil.errors.count("alias_name"));
  EXPECT_FALSE(evil.change);
  EXPECT_TRUE(post("/aliases", "action=add&alias_name=sales&alias_targets=bad%2Fname", m).errors.count("alias_targets"));
  EXPECT_TRUE(post("/aliases", "action=add&alias_name=sales&alias_targets=sales", m).errors.count("alias_targets"));
  EXPECT_TRUE(post("/aliases", "action=add&alias_name=null&alias_targets=alice", m).errors.count("alias_name"));
  const Outcome ok = post("/aliases", "action=add&alias_name=Sales&alias_targets=alice%2C+null", m);
  ASSERT_TRUE(ok.change);
  EXPECT_EQ(ini_get(*ok.change->ini, "aliases", "sales"), "alice, null");
  const Outcome del = post("/aliases", "action=delete&alias_name=info", m);
  ASSERT_TRUE(del.change);
  EXPECT_EQ(ini_get(*del.change->ini, "aliases", "info"), std::nullopt);
  EXPECT_TRUE(post("/aliases", "action=catch_all&smtp.catch_all=nobody", m).errors.count("smtp.catch_all"));
  const Outcome ca = post("/aliases", "action=catch_all&smtp.catch_all=alice", m);
  ASSERT_TRUE(ca.change);
  EXPECT_EQ(ini_get(*ca.change->ini, "smtp", "catch_all"), "alice");
}

TEST(CgiPages, Mailboxes) {
  const Model m = model();
  struct Case {
    std::string body, field;
  } bad[] = {
      {"action=add&name=..%2F..%2Fetc&password=longenough", "name"},
      {"action=add&name=alice&password=longenough", "name"},
      {"action=add&name=&password=longenough", "name"},
      {"action=add&name=bob&password=short", "password"},
      {"action=add&name=bob&password=longenough&quota=abc", "quota"},
      {"action=update&name=alice&new_password=x", "new_password"},
      {"action=update&name=alice&edit_quota=1T", "edit_quota"},
  };
  for (const auto& c : bad) {
    const Outcome o = post("/mailboxes", c.body, m);
    EXPECT_TRUE(o.errors.count(c.field)) << c.body;
    EXPECT_FALSE(o.change) << c.body;
  }
  EXPECT_FALSE(post("/mailboxes", "action=delete&name=alice", m).change);   // no confirmation
  EXPECT_FALSE(post("/mailboxes", "action=delete&name=..%2F..%2Fetc&confirm=yes", m).change);
  const Outcome add = post("/mailboxes", "action=add&name=Bob&password=longenough&quota=2G", m);
  ASSERT_TRUE(add.change && add.change->accounts);
  const auto* bob = add.change->accounts->find("bob");
  ASSERT_NE(bob, nullptr);
  EXPECT_EQ(bob->password, "{TEST}longenough");
  EXPECT_EQ(config::quota_of(*bob), 2ull << 30);
  const Outcome upd = post("/mailboxes", "action=update&name=alice&edit_quota=&nologin=yes", m);
  ASSERT_TRUE(upd.change);
  const auto* alice = upd.change->accounts->find("alice");
  EXPECT_EQ(alice->extra, "nopop3 nologin");
  EXPECT_FALSE(config::login_allowed(*alice));
  const Outcome del = post("/mailboxes", "action=delete&name=alice&confirm=yes", m);
  ASSERT_TRUE(del.change);
  EXPECT_TRUE(del.change->accounts->accounts.empty());
}

TEST(CgiPages, RenderEscapesEverything) {
  Model m = model();
  m.daemon.reached = true;
  m.daemon.log.lines = {"client=<script>alert(1)</script>"};
  m.daemon.status.services = {{"smtp", true, "127.0.0.1:25", 1}};
  m.daemon.status.mailboxes = {{"alice", control::MailboxUsage{2, 2048}, 0}};
  m.daemon.stats = {7, 1, {{0, 3, 1}}};
  Request r;
  r.method = "GET";
  r.script = "/cgi-bin/boxmail.cgi";
  const std::string html = find_page("/status")->render(r, m, View{}).str();
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;"), std::string::npos);
  EXPECT_NE(html.find("<span id=\"accepted-today\">7</span>"), std::string::npos);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  // Every input on the settings pages has a label and help text.
  for (std::string_view p : {"/feed", "/retrieval"}) {
    const std::string page = find_page(p)->render(r, m, View{}).str();
    std::size_t pos = 0, inputs = 0;
    while ((pos = page.find("<input type=\"text\" id=\"", pos)) != std::string::npos) {
      const std::size_t start = pos + 23;
      const std::string id = page.substr(start, page.find('"', start) - start);
      EXPECT_NE(page.find("<label for=\"" + id + "\">"), std::string::npos) << id;
      EXPECT_NE(page.find("id=\"" + id + "-help\""), std::string::npos) << id;
      pos = start;
      ++inputs;
    }
    EXPECT_GT(inputs, 1u) << p;
  }
}

TEST(CgiPages, QuotaAndSizes) {
  EXPECT_EQ(parse_quota(""), 0u);
  EXPECT_EQ(parse_quota("500M"), 500ull << 20);
  EXPECT_EQ(parse_quota("2g"), 2ull << 30);
  EXPECT_EQ(parse_quota("1234"), 1234u);
  EXPECT_EQ(parse_quota("abc"), std::nullopt);
  EXPECT_EQ(parse_quota("M"), std::nullopt);
  // Overflow is refused, never wrapped around to a small quota.
  EXPECT_EQ(parse_quota("99999999999G"), std::nullopt);
  EXPECT_EQ(parse_quota("17179869184G"), std::nullopt);
  EXPECT_EQ(parse_quota("17179869183G"), 17179869183ull << 30);
  EXPECT_EQ(parse_quota("18446744073709551615"), 18446744073709551615ull);
  EXPECT_EQ(parse_quota("18446744073709551616"), std::nullopt);
  EXPECT_EQ(parse_quota("-1M"), std::nullopt);
  EXPECT_EQ(parse_quota("+1M"), std::nullopt);
  EXPECT_EQ(human_size(512), "512 B");
  EXPECT_EQ(human_size(1536), "1.5 KiB");
  EXPECT_EQ(human_size(300ull << 20), "300 MiB");
}

TEST(ControlProtocol, Requests) {
  struct Case {
    std::string_view line;
    control::Verb verb;
    unsigned count;
    std::string_view error;
  } cases[] = {
      {"status\n", control::Verb::Status, 0, ""},
      {"RELOAD\r\n", control::Verb::Reload, 0, ""},
      {"stats", control::Verb::Stats, 0, ""},
      {"log 20", control::Verb::Log, 20, ""},
      {"log 0", control::Verb::Log, 0, "log: N must be 1..200"},
      {"log 201", control::Verb::Log, 0, "log: N must be 1..200"},
      {"log x", control::Verb::Log, 0, "usage: log N (1..200)"},
      {"log", control::Verb::Log, 0, "usage: log N (1..200)"},
      {"log -1", control::Verb::Log, 0, "usage: log N (1..200)"},
      {"log 99999999999999999999", control::Verb::Log, 0, "log: N must be 1..200"},
      {"log 4294967297", control::Verb::Log, 0, "log: N must be 1..200"},
      {"log 0200", control::Verb::Log, 200, ""},
      {"status now", control::Verb::Status, 0, "status takes no argument"},
      {"", control::Verb::Status, 0, "empty request"},
      {"shutdown", control::Verb::Status, 0,
       "unknown request (status, reload, log N, stats, tls, tls-install CHAIN KEY, tls-regenerate, "
       "smarthost-login USER PASS, smarthost-login-clear, queue ..., relay-test ADDRESS [SENDER], "
       "ban ADDRESS SECONDS [REASON], unban ADDRESS, bans, login-failed ADDRESS)"},
      {"tls", control::Verb::Tls, 0, ""},
      {"TLS-Regenerate\r\n", control::Verb::TlsRegenerate, 0, ""},
      {"tls now", control::Verb::Tls, 0, "tls takes no argument"},
      {"tls-regenerate mail.example", control::Verb::TlsRegenerate, 0, "tls-regenerate takes no argument"},
  };
  for (const auto& c : cases) {
    const auto r = control::parse_request(c.line);
    EXPECT_EQ(r.error, c.error) << c.line;
    if (c.error.empty()) {
      EXPECT_EQ(r.verb, c.verb) << c.line;
      EXPECT_EQ(r.count, c.count) << c.line;
    }
  }
  EXPECT_EQ(control::parse_request(std::string(control::kMaxRequestLine + 1, 'a')).error, "request line too long");
}

TEST(ControlProtocol, TlsInstallAnnouncesItsPayload) {
  const std::string usage = "usage: tls-install CHAIN_OCTETS KEY_OCTETS (the PEM chain and key follow the line)";
  const std::string each = "tls-install: the chain and the key must be 1..65536 octets each";
  struct Case {
    std::string_view line;
    std::size_t chain, key;
    std::string error;
  } cases[] = {
      {"tls-install 1200 240\n", 1200, 240, ""},
      {"tls-install 65535 1", 65535, 1, ""},
      {"tls-install 1 65535", 1, 65535, ""},
      {"tls-install", 0, 0, usage},
      {"tls-install 12", 0, 0, usage},
      {"tls-install 12 ", 0, 0, usage},
      {"tls-install  12 3", 0, 0, usage},
      {"tls-install 12 3 4", 0, 0, usage},
      {"tls-install 12 x", 0, 0, usage},
      {"tls-install -1 3", 0, 0, usage},
      {"tls-install +1 3", 0, 0, usage},
      {"tls-install 0x10 3", 0, 0, usage},
      {"tls-install 0 3", 0, 0, each},
      {"tls-install 3 0", 0, 0, each},
      {"tls-install 65537 1", 0, 0, each},
      {"tls-install 99999999999999999999 1", 0, 0, each},
      {"tls-install 65536 1", 0, 0, "tls-install: the chain and the key are 65537 octets together; at most 65536"},
      {"tls-install 40000 40000", 0, 0, "tls-install: the chain and the key are 80000 octets together; at most 65536"},
  };
  for (const auto& c : cases) {
    const auto r = control::parse_request(c.line);
    EXPECT_EQ(r.error, c.error) << c.line;
    EXPECT_EQ(r.verb, control::Verb::TlsInstall) << c.line;
    EXPECT_EQ(r.chain_octets, c.chain) << c.line;
    EXPECT_EQ(r.key_octets, c.key) << c.line;
    EXPECT_EQ(r.payload(), c.chain + c.key) << c.line;
  }
  EXPECT_EQ(control::tls_install_line(1200, 240), "tls-install 1200 240");
  const auto r = control::parse_request(control::tls_install_line(5, 3));
  ASSERT_EQ(r.error, "");
  const auto u = control::split_tls_upload(r, "CHAINKEY");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->chain, "CHAIN");
  EXPECT_EQ(u->key, "KEY");
  EXPECT_FALSE(control::split_tls_upload(r, "CHAINKE"));
  EXPECT_FALSE(control::split_tls_upload(r, "CHAINKEYS"));
  EXPECT_FALSE(control::split_tls_upload(control::parse_request("status"), ""));
  // Other requests carry no payload.
  EXPECT_EQ(control::parse_request("status").payload(), 0u);
}

TEST(ControlProtocol, RepliesRoundTripWholeAndTrickled) {
  const control::Reply reply{false, "configuration has errors", {".starts with a dot", "two\nlines", ""}};
  const std::string wire = control::format_reply(reply);
  EXPECT_EQ(wire, "error configuration has errors\n..starts with a dot\ntwo lines\n\n.\n");
  const auto p = control::parse_reply(wire);
  ASSERT_TRUE(p.complete);
  EXPECT_FALSE(p.reply.ok);
  EXPECT_EQ(p.reply.head, "configuration has errors");
  EXPECT_EQ(p.reply.lines, (std::vector<std::string>{".starts with a dot", "two lines", ""}));
  for (std::size_t i = 0; i < wire.size(); ++i) EXPECT_FALSE(control::parse_reply(wire.substr(0, i)).complete) << i;
  EXPECT_EQ(control::parse_reply("what\n.\n").error, "malformed reply head");
}

TEST(NetStats, Count) {
  // Typed events only: there is no log-line classifier any more (a log line
  // holds client text; see smtp_session events in session_test.cpp).
  net::MessageStats s;
  const std::int64_t t0 = 1700000000 - 1700000000 % 3600;
  s.record(net::MessageEvent::Accepted, t0 + 10, 1);
  s.record(net::MessageEvent::Accepted, t0 + 20, 1);
  s.record(net::MessageEvent::Refused, t0 + 3600, 1);
  s.record(net::MessageEvent::Accepted, t0 + 25 * 3600, 2);   // a day later: the first hour left the window
  EXPECT_EQ(s.accepted_today(2), 1u);
  EXPECT_EQ(s.refused_today(2), 0u);
  EXPECT_EQ(s.accepted_today(1), 0u);
  const auto h = s.hours(t0 + 25 * 3600);
  EXPECT_EQ(h.back().accepted, 1u);
  EXPECT_EQ(h.back().start, t0 + 25 * 3600);
  EXPECT_EQ(h.front().start, t0 + 2 * 3600);
  unsigned total = 0;
  for (const auto& x : h) total += x.accepted + x.refused;
  EXPECT_EQ(total, 1u);   // the refusal at t0+1h is 24 h old: out of the window

  net::LogRing ring(3, 5);
  for (std::string_view l : {"one", "two", "three", "four-long-line"}) ring.add(l);
  EXPECT_EQ(ring.last(10), (std::vector<std::string>{"two", "three", "four-"}));
  EXPECT_EQ(ring.last(1), (std::vector<std::string>{"four-"}));
}

}  // namespace

TEST(CgiLoginPage, CarriesTheCsrfTokenEscaped) {
  const std::string page = login_page("/cgi-bin/boxmail.cgi", "", "0123456789abcdef0123456789abcdef").str();
  EXPECT_NE(page.find("<input type=\"hidden\" name=\"csrf\" value=\"0123456789abcdef0123456789abcdef\">"),
            std::string::npos);
  const std::string odd = login_page("/x", "", "\"><script>").str();
  EXPECT_EQ(odd.find("<script>"), std::string::npos);
}

namespace {

TEST(CgiPages, StatusShowsUsageAgainstQuota) {
  Model m = model();
  m.daemon.reached = true;
  m.daemon.status.mailboxes = {{"alice", control::MailboxUsage{2, 1048576}, 2097152},
                               {"bob", control::MailboxUsage{9, 3145728}, 2097152},
                               {"carol", std::nullopt, 0}};
  m.daemon.status.store = control::StoreStatus{"/var/mail", 4194304, control::FileSystemSize{1073741824, 2147483648},
                                               67108864};
  Request r;
  r.method = "GET";
  r.script = "/cgi-bin/boxmail.cgi";
  const std::string html = find_page("/status")->render(r, m, View{}).str();
  EXPECT_NE(html.find("<th>quota</th>"), std::string::npos);
  EXPECT_NE(html.find("<td>2.0 MiB (50% used)</td>"), std::string::npos) << html;
  EXPECT_NE(html.find("<tr class=\"full\"><td>bob</td>"), std::string::npos) << html;
  EXPECT_NE(html.find("(100% used, full: new mail is deferred)"), std::string::npos) << html;
  EXPECT_NE(html.find("<td>carol</td><td>-</td><td>counting</td><td>none</td>"), std::string::npos) << html;
  EXPECT_NE(html.find("New mail is deferred when less than 64 MiB is free."), std::string::npos) << html;
}

using namespace boxmail;
using namespace boxmail::cgi;

/// A page's POST as the glue runs it (behind the rule for fixed paths).
Outcome guarded_post(std::string_view path, const Form& form, const Model& m) {
  Request r;
  r.method = "POST";
  r.path = std::string(path);
  r.script = "/cgi-bin/boxmail.cgi";
  r.form = form;
  return post_page(*find_page(path), r, m);
}

Form restore_form(const std::string& ini) {
  Form f;
  f.fields.push_back(Field{"archive", make_tar({{"boxmail.ini", ini}, {"passwd", "bob:{TEST}x::::::\n"}}, 0),
                           std::string("b.tar")});
  return f;
}

TEST(CgiFixedPaths, AFormFieldNamingAFixedKeyIsRefused) {
  const Model m = model();
  for (const char* field : {"store.mail_dir", "store.spool_dir", "server.passwd_file", "server.control_socket"}) {
    const Outcome o = guarded_post("/feed", parse_urlencoded(std::string(field) + "=/etc&smtp.max_recipients=50"), m);
    EXPECT_FALSE(o.change) << field;
    const std::string dotted = field;
    const std::string named = "[" + dotted.substr(0, dotted.find('.')) + "] " + dotted.substr(dotted.find('.') + 1);
    EXPECT_NE(o.error.find(named + " is fixed at install time"), std::string::npos) << o.error;
    EXPECT_EQ(o.error.rfind("Nothing was changed", 0), 0u) << o.error;
  }
  // Without it the same form is taken.
  const Outcome ok = guarded_post("/feed", parse_urlencoded("smtp.max_recipients=50"), m);
  ASSERT_TRUE(ok.change) << ok.error;
}

TEST(CgiFixedPaths, ARestoreThatMovesAPathIsRefusedNamingIt) {
  const Model m = model();
  const Outcome same = guarded_post("/backup", restore_form(kIni + "[smtp]\nbanner = restored\n"), m);
  ASSERT_TRUE(same.change) << same.error;
  ASSERT_TRUE(same.change->accounts);

  std::string moved = kIni;
  moved.replace(moved.find("passwd_file = /tmp/p"), 20, "passwd_file = /etc/shadow");
  moved += "[store]\nmail_dir = /etc\nspool_dir = /\n";
  const Outcome o = guarded_post("/backup", restore_form(moved), m);
  EXPECT_FALSE(o.change);
  for (const char* named : {"[server] passwd_file", "[store] mail_dir", "[store] spool_dir"}) {
    EXPECT_NE(o.error.find(std::string(named) + " is fixed at install time"), std::string::npos) << o.error;
  }
  EXPECT_NE(o.error.find("'./var/mail' here, '/etc' in the new configuration"), std::string::npos) << o.error;
  EXPECT_EQ(o.error.find("control_socket"), std::string::npos) << o.error;
}

TEST(CgiFixedPaths, ABrokenRunningFileStillFixesThePathsWrittenInIt) {
  // The running file has an error elsewhere: the paths as written in it hold.
  const Model m = model(kIni + "[smtp]\nmax_recipients = lots\n");
  ASSERT_FALSE(m.config);
  const Outcome same = guarded_post("/backup", restore_form(kIni), m);
  EXPECT_TRUE(same.change) << same.error;
  std::string moved = kIni;
  moved.replace(moved.find("control_socket = /tmp/s"), 23, "control_socket = /tmp/other");
  const Outcome o = guarded_post("/backup", restore_form(moved), m);
  EXPECT_FALSE(o.change);
  EXPECT_NE(o.error.find("[server] control_socket is fixed at install time"), std::string::npos) << o.error;
}

}  // namespace

namespace {

// ---- the Certificate page ----------------------------------------------------------

constexpr std::int64_t kNow = 1767225600;   // 2026-01-01 00:00:00 UTC

control::TlsReply tls_in_use(std::int64_t not_after) {
  control::TlsReply t;
  t.chain_file = "/etc/boxmail/tls/cert.pem";
  t.key_file = "/etc/boxmail/tls/key.pem";
  tls::CertificateInfo c;
  c.subject = "CN=mail.example.org";
  c.issuer = "CN=Test CA";
  c.dns_names = {"mail.example.org", "smtp.example.org"};
  c.sha256_fingerprint = "AB:CD";
  c.not_before_time = kNow - 86400 * 60;
  c.not_after_time = not_after;
  c.not_before = tls::format_utc(c.not_before_time);
  c.not_after = tls::format_utc(c.not_after_time);
  t.certificate = c;
  t.chain_length = 2;
  return t;
}

std::string certificate_page(const Model& m, const View& v = {}, std::string_view query = "") {
  Request r;
  r.method = "GET";
  r.path = "/certificate";
  r.script = "/cgi-bin/boxmail.cgi";
  r.query = parse_urlencoded(query);
  return find_page("/certificate")->render(r, m, v).str();
}

TEST(CgiCertificate, ShowsTheCertificateInUseAndWarnsBeforeItsEnd) {
  Model m = model();
  m.now = kNow;
  m.daemon.tls = tls_in_use(kNow + 86400 * 90);
  std::string html = certificate_page(m);
  EXPECT_NE(html.find("<td id=\"cert-subject\">CN=mail.example.org</td>"), std::string::npos) << html;
  EXPECT_NE(html.find("<td id=\"cert-names\">mail.example.org, smtp.example.org</td>"), std::string::npos);
  EXPECT_NE(html.find("<td id=\"cert-issuer\">CN=Test CA</td>"), std::string::npos);
  EXPECT_NE(html.find("<td id=\"cert-self-signed\">no</td>"), std::string::npos);
  EXPECT_NE(html.find("<td id=\"cert-sha256\"><code>AB:CD</code></td>"), std::string::npos);
  EXPECT_NE(html.find("<td id=\"cert-not-after\">2026-04-01 00:00:00 UTC</td>"), std::string::npos) << html;
  EXPECT_NE(html.find("<td id=\"cert-chain\">2 certificates</td>"), std::string::npos);
  EXPECT_EQ(html.find("Expires in"), std::string::npos);
  EXPECT_EQ(html.find("notice bad"), std::string::npos);
  // The upload form: multipart, CSRF, both parts; the regenerate link.
  EXPECT_NE(html.find("enctype=\"multipart/form-data\"><input type=\"hidden\" name=\"csrf\" value=\"" + m.csrf),
            std::string::npos);
  EXPECT_NE(html.find("name=\"chain_file\""), std::string::npos);
  EXPECT_NE(html.find("name=\"key_text\""), std::string::npos);
  EXPECT_NE(html.find("href=\"/cgi-bin/boxmail.cgi/certificate?regenerate=1\""), std::string::npos);
  EXPECT_EQ(html.find("name=\"confirm\""), std::string::npos);   // only after the click

  m.daemon.tls = tls_in_use(kNow + 86400 * 29 + 3600);
  html = certificate_page(m);
  EXPECT_NE(html.find("Expires in 29 days (2026-01-30 01:00:00 UTC)"), std::string::npos) << html;
  EXPECT_NE(html.find("<p class=\"notice bad\" role=\"status\">Expires in 29 days"), std::string::npos);
  EXPECT_NE(html.find("install a renewed certificate before then."), std::string::npos);
  m.daemon.tls->certificate->self_signed = true;   // boxmaild renews its own
  html = certificate_page(m);
  EXPECT_NE(html.find("boxmaild makes a new self-signed one at its next daily check"), std::string::npos) << html;

  m.daemon.tls = tls_in_use(kNow - 86400 * 3);
  html = certificate_page(m);
  EXPECT_NE(html.find("Expired on 2025-12-29 00:00:00 UTC (3 days ago)"), std::string::npos) << html;

  // A refused file waiting on disk; none loaded at all.
  m.daemon.tls = tls_in_use(kNow + 86400 * 90);
  m.daemon.tls->refused = "/etc/boxmail/tls/cert.pem: expired (certificate 1 of 1)";
  html = certificate_page(m);
  EXPECT_NE(html.find("refused the certificate files at its last load and still serves the certificate below: "
                      "/etc/boxmail/tls/cert.pem: expired"),
            std::string::npos)
      << html;
  m.daemon.tls = control::TlsReply{"/c", "/k", std::nullopt, 0, "/k: cannot read (Permission denied)"};
  html = certificate_page(m);
  EXPECT_NE(html.find("No certificate is loaded: STARTTLS, STLS and the TLS ports are off. boxmaild refused the "
                      "files: /k: cannot read (Permission denied)"),
            std::string::npos);
  EXPECT_EQ(html.find("cert-subject"), std::string::npos);

  m.daemon.tls.reset();
  m.daemon.tls_error = "cannot connect to /run/boxmail/control.sock: No such file or directory";
  html = certificate_page(m);
  EXPECT_NE(html.find("boxmaild does not answer on its control socket: cannot connect"), std::string::npos);
  EXPECT_EQ(html.find("<form method=\"post\" action=\"/cgi-bin/boxmail.cgi/certificate\""), std::string::npos);
}

TEST(CgiCertificate, EverythingFromTheCertificateIsEscaped) {
  Model m = model();
  m.now = kNow;
  m.daemon.tls = tls_in_use(kNow + 86400 * 90);
  m.daemon.tls->certificate->subject = "CN=<script>alert(1)</script>";
  m.daemon.tls->certificate->issuer = "O=\"a&b\"";
  m.daemon.tls->certificate->dns_names = {"<img src=x>"};
  m.daemon.tls->refused = "<b>bold</b>";
  Form submitted = parse_urlencoded("action=install&chain_text=%3Cscript%3E&key_text=SECRET-KEY");
  Outcome o;
  o.errors["chain"] = "<i>no</i>";
  const std::string html = certificate_page(m, View{&submitted, &o, "", true});
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("<b>bold"), std::string::npos);
  EXPECT_EQ(html.find("<i>no"), std::string::npos);
  EXPECT_NE(html.find("CN=&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("O=&quot;a&amp;b&quot;"), std::string::npos);
  // The error next to the chain field; the pasted chain shown again, the key never.
  EXPECT_NE(html.find("<div class=\"field invalid\"><label for=\"f-chain-file\">"), std::string::npos) << html;
  EXPECT_NE(html.find("<p class=\"error\" id=\"f-chain-err\">&lt;i&gt;no&lt;/i&gt;</p>"), std::string::npos);
  EXPECT_NE(html.find(">&lt;script&gt;</textarea>"), std::string::npos);
  EXPECT_EQ(html.find("SECRET-KEY"), std::string::npos);
}

TEST(CgiCertificate, RegenerateNeedsItsConfirmation) {
  Model m = model();
  m.now = kNow;
  m.daemon.tls = tls_in_use(kNow + 86400 * 90);
  const std::string html = certificate_page(m, {}, "regenerate=1");
  EXPECT_NE(html.find("<section class=\"confirm\"><h2>Regenerate the self-signed certificate?</h2>"),
            std::string::npos);
  EXPECT_NE(html.find("including the uploaded one"), std::string::npos);   // this one is not self-signed
  EXPECT_NE(html.find("<input type=\"hidden\" name=\"action\" value=\"regenerate\"><input type=\"hidden\" "
                      "name=\"confirm\" value=\"yes\">"),
            std::string::npos);

  Outcome o = guarded_post("/certificate", parse_urlencoded("action=regenerate"), m);
  EXPECT_FALSE(o.change);
  EXPECT_EQ(o.error, "Regenerating needs a confirmation.");
  o = guarded_post("/certificate", parse_urlencoded("action=regenerate&confirm=yes"), m);
  ASSERT_TRUE(o.change);
  ASSERT_TRUE(o.change->tls);
  EXPECT_TRUE(o.change->tls->regenerate);
  EXPECT_FALSE(o.change->ini);
  EXPECT_FALSE(o.change->accounts);
}

TEST(CgiCertificate, UploadTakesAFileOrPastedTextPerPart) {
  const Model m = model();
  auto form = [](std::vector<Field> fields) {
    Form f;
    f.fields.push_back(Field{"action", "install", std::nullopt});
    for (auto& x : fields) f.fields.push_back(std::move(x));
    return f;
  };
  Outcome o = guarded_post("/certificate",
                           form({{"chain_file", "CHAIN-PEM", std::string("fullchain.pem")},
                                 {"chain_text", "", std::nullopt},
                                 {"key_file", "", std::string("")},
                                 {"key_text", "KEY-PEM\r\n", std::nullopt}}),
                           m);
  ASSERT_TRUE(o.change && o.change->tls) << o.error;
  EXPECT_FALSE(o.change->tls->regenerate);
  EXPECT_EQ(o.change->tls->chain, "CHAIN-PEM");
  EXPECT_EQ(o.change->tls->key, "KEY-PEM\r\n");

  o = guarded_post("/certificate", form({{"chain_file", "A", std::string("a.pem")}, {"chain_text", "B", std::nullopt}}),
                   m);
  EXPECT_FALSE(o.change);
  EXPECT_EQ(o.errors["chain"], "choose a file or paste the certificate chain, not both");
  EXPECT_EQ(o.errors["key"], "choose the private key file or paste it (PEM)");

  o = guarded_post("/certificate", form({{"chain_text", "  \r\n", std::nullopt}, {"key_text", "K", std::nullopt}}), m);
  EXPECT_EQ(o.errors["chain"], "choose the certificate chain file or paste it (PEM)");
  EXPECT_FALSE(o.errors.count("key"));

  o = guarded_post("/certificate",
                   form({{"chain_file", std::string(60000, 'c'), std::string("big.pem")},
                         {"key_text", std::string(5537, 'k'), std::nullopt}}),
                   m);
  EXPECT_FALSE(o.change);
  EXPECT_EQ(o.errors["chain"], "the chain and the key are 65537 octets together; at most 65536 (64 KiB)");
  o = guarded_post("/certificate", parse_urlencoded("action=explode"), m);
  EXPECT_EQ(o.error, "Unknown action.");
}

TEST(CgiCertificate, DaemonRepliesBecomeFieldErrorsOrANotice) {
  auto outcome = [](const control::TlsChangeReply& t) {
    return certificate_outcome(true, "", control::parse_reply(control::format_reply(control::encode(t))).reply);
  };
  Outcome o = outcome({false, "expired (certificate 1 of 2, notAfter 2021-01-01 00:00:00 UTC)", "chain", "expired", {}});
  EXPECT_EQ(o.errors["chain"], "expired (certificate 1 of 2, notAfter 2021-01-01 00:00:00 UTC)");
  EXPECT_EQ(o.error, "");
  EXPECT_EQ(o.info, "");
  o = outcome({false, "the private key is encrypted (...)", "key", "encrypted-key", {}});
  EXPECT_EQ(o.errors["key"], "the private key is encrypted (...)");
  o = outcome({false, "cannot write the certificate files: x", "", "write-failed", {}});
  EXPECT_TRUE(o.errors.empty());
  EXPECT_EQ(o.error, "Nothing was changed: cannot write the certificate files: x.");
  control::TlsChangeReply done{true, "installed", "", "", tls_in_use(kNow + 86400 * 90)};
  o = outcome(done);
  EXPECT_TRUE(o.errors.empty());
  const std::string panel_note =
      " The panel's own HTTPS switches to it within about ten seconds; the browser may ask again whether to trust it.";
  EXPECT_EQ(o.info, "The uploaded certificate is in use (CN=mail.example.org, SHA-256 AB:CD)." + panel_note);
  done.message = "regenerated";
  EXPECT_EQ(outcome(done).info,
            "A new self-signed certificate is in use (CN=mail.example.org, SHA-256 AB:CD)." + panel_note);
  o = certificate_outcome(false, "cannot connect to /s: Permission denied", control::Reply{});
  EXPECT_EQ(o.error, "Nothing was changed: boxmaild could not be asked (cannot connect to /s: Permission denied).");
  o = certificate_outcome(true, "", control::Reply{false, "unknown request (status, reload, log N, stats)", {}});
  EXPECT_EQ(o.error, "Nothing was changed: unknown request (status, reload, log N, stats).");
}

}  // namespace

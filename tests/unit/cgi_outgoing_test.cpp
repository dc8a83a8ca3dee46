// cgi_outgoing_test.cpp - the Outgoing mail page and what it reads and
// sends: the control socket's smarthost-login verbs (parse, limits, the
// payload split, the server's handler and its reply), the status reply's
// relay lines, `queue list` lines as store::describe_queued writes them
// decoded back, the page's rendering (a row per message with its buttons,
// everything escaped, never a password) and its validation (the routing
// form through config::parse_config; queue actions and the login as
// requests to boxmaild), and the credentials file boxmaild writes.
#include "cgi/ini_edit.hpp"
#include "cgi_page_fixture.hpp"
#include "cgi/pages.hpp"
#include "control/control_protocol.hpp"
#include "control/control_replies.hpp"
#include "control/control_server.hpp"
#include "control/smarthost_login.hpp"
#include "store/maildir_name.hpp"
#include "store/queue_envelope.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace {

using namespace boxmail;
using namespace boxmail::cgi;

// ---- the control protocol -------------------------------------------------------------

TEST(SmarthostLoginProtocol, AnnouncesItsPayloadWithinLimits) {
  const std::string usage =
      "usage: smarthost-login USER_OCTETS PASSWORD_OCTETS (the user name and password follow the line)";
  const std::string user = "smarthost-login: the user name must be 1..256 octets";
  const std::string pass = "smarthost-login: the password must be 1..256 octets";
  struct Case {
    std::string_view line;
    std::size_t user, password;
    std::string error;
  } cases[] = {
      {"smarthost-login 5 8\n", 5, 8, ""},
      {"SMARTHOST-LOGIN 256 256\r\n", 256, 256, ""},
      {"smarthost-login 1 1", 1, 1, ""},
      {"smarthost-login", 0, 0, usage},
      {"smarthost-login 5", 0, 0, usage},
      {"smarthost-login 5 ", 0, 0, usage},
      {"smarthost-login 5 x", 0, 0, usage},
      {"smarthost-login -1 3", 0, 0, usage},
      {"smarthost-login 5 8 9", 0, 0, usage},
      {"smarthost-login 0 8", 0, 0, user},
      {"smarthost-login 257 8", 0, 0, user},
      {"smarthost-login 99999999999999999999 8", 0, 0, user},
      {"smarthost-login 5 0", 0, 0, pass},
      {"smarthost-login 5 257", 0, 0, pass},
  };
  for (const auto& c : cases) {
    const auto r = control::parse_request(c.line);
    EXPECT_EQ(r.error, c.error) << c.line;
    EXPECT_EQ(r.verb, control::Verb::SmarthostLogin) << c.line;
    EXPECT_EQ(r.user_octets, c.user) << c.line;
    EXPECT_EQ(r.password_octets, c.password) << c.line;
    EXPECT_EQ(r.payload(), c.user + c.password) << c.line;
  }
  EXPECT_EQ(control::smarthost_login_line(5, 8), "smarthost-login 5 8");
  EXPECT_EQ(control::parse_request("smarthost-login-clear").verb, control::Verb::SmarthostLoginClear);
  EXPECT_EQ(control::parse_request("smarthost-login-clear now").error, "smarthost-login-clear takes no argument");
  EXPECT_EQ(control::parse_request("smarthost-login-clear").payload(), 0u);
}

TEST(SmarthostLoginProtocol, SplitChecksLengthAndTheStoredLineFormat) {
  const auto r = control::parse_request(control::smarthost_login_line(5, 8));
  ASSERT_EQ(r.error, "");
  const auto ok = control::split_smarthost_login(r, "alicepa:ss wd");
  ASSERT_TRUE(ok.login) << ok.error;
  EXPECT_EQ(ok.login->user, "alice");
  EXPECT_EQ(ok.login->password, "pa:ss wd");   // ':' in the password: split at the first one
  EXPECT_EQ(control::split_smarthost_login(r, "alicepa:ss w").error, "smarthost-login: 13 octets announced, 12 sent");
  EXPECT_EQ(control::split_smarthost_login(r, "alicepa:ss wdx").error,
            "smarthost-login: 13 octets announced, 14 sent");
  EXPECT_EQ(control::split_smarthost_login(r, "al:cepassword").error, "the user name may not contain ':'");
  EXPECT_EQ(control::split_smarthost_login(r, "al\ncepassword").error,
            "the user name may not contain control characters");
  const auto lf = control::split_smarthost_login(r, "alicepass\nwrd");
  EXPECT_FALSE(lf.login);
  EXPECT_EQ(lf.error, "the password may not contain control characters (line ends, NUL)");
  EXPECT_EQ(lf.error.find("pass"), lf.error.find("password may"));   // the password itself is never quoted
  EXPECT_FALSE(control::split_smarthost_login(r, std::string("alicepass\0wrd", 13)).login);
  EXPECT_FALSE(control::split_smarthost_login(control::parse_request("status"), "").login);
}

TEST(SmarthostLoginProtocol, ServerHandsTheCheckedLoginToItsHandler) {
  boost::asio::io_context io;
  control::ControlServer::Handlers h;
  std::string user, password;
  int cleared = 0;
  h.smarthost_login = [&](const control::SmarthostLogin& l) {
    user = std::string(l.user);
    password = std::string(l.password);
    return control::LoginChangeReply{true, "stored", user};
  };
  h.smarthost_login_clear = [&] {
    ++cleared;
    return control::LoginChangeReply{true, "cleared", std::nullopt};
  };
  control::ControlServer server(io, "/nonexistent/control.sock", h);
  auto over = [](const control::Reply& r) { return control::parse_reply(control::format_reply(r)).reply; };
  const auto d = control::decode_login_change(over(server.answer("smarthost-login 5 6\n", "alicesecret")));
  ASSERT_TRUE(d) << d.error;
  EXPECT_TRUE(d->done);
  EXPECT_EQ(d->user, "alice");
  EXPECT_EQ(user, "alice");
  EXPECT_EQ(password, "secret");
  const std::string wire = control::format_reply(server.answer("smarthost-login 5 6", "alicesecret"));
  EXPECT_EQ(wire, "ok stored\nuser alice\n.\n");   // the user, never the password
  // A refused payload never reaches the handler and says why.
  user.clear();
  const auto bad = control::decode_login_change(over(server.answer("smarthost-login 5 6", "ali:esecret")));
  ASSERT_TRUE(bad);
  EXPECT_FALSE(bad->done);
  EXPECT_EQ(bad->message, "the user name may not contain ':'");
  EXPECT_EQ(server.answer("smarthost-login 5 6", "alicesecre").head, "smarthost-login: 11 octets announced, 10 sent");
  EXPECT_EQ(user, "");
  EXPECT_EQ(server.answer("smarthost-login-clear", "x").head, "data after the request line");
  EXPECT_EQ(cleared, 0);
  const auto c = control::decode_login_change(over(server.answer("smarthost-login-clear")));
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->done);
  EXPECT_FALSE(c->user);
  EXPECT_EQ(cleared, 1);
  control::ControlServer bare(io, "/nonexistent/control2.sock", {});
  EXPECT_EQ(bare.answer("smarthost-login 1 1", "ab").head, "smarthost-login not available");
  EXPECT_EQ(bare.answer("smarthost-login-clear").head, "smarthost-login-clear not available");
}

TEST(SmarthostLoginProtocol, ReplyDecodingRefusesMalformedLines) {
  using control::Reply;
  EXPECT_FALSE(control::decode_login_change(Reply{true, "stored", {"user a", "user b"}}));
  EXPECT_FALSE(control::decode_login_change(Reply{true, "stored", {"user a%"}}));
  EXPECT_FALSE(control::decode_login_change(Reply{true, "stored", {""}}));
  const auto old = control::decode_login_change(Reply{false, "unknown request", {}});
  ASSERT_TRUE(old);
  EXPECT_FALSE(old->done);
  const auto odd = control::decode_login_change(Reply{true, "stored", {"user a%20b"}});
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->user, "a b");
}

// ---- status: the relay lines -------------------------------------------------------------

TEST(StatusRelay, RoundTripsAndIsOptional) {
  control::StatusReply s;
  s.uptime = 1;
  s.config = "/etc/boxmail/boxmail.ini";
  const auto none = control::decode_status(control::encode(s));
  ASSERT_TRUE(none) << none.error;
  EXPECT_FALSE(none->relay);   // an older daemon says nothing
  s.relay = control::RelayStatus{{}, 0, std::nullopt};
  EXPECT_EQ(control::encode(s).lines.back(), "relay none queued=0");
  EXPECT_EQ(*control::decode_status(control::encode(s)).value, s);
  s.relay = control::RelayStatus{{"mx", "smarthost"}, 3, "user name@isp"};
  const auto lines = control::encode(s).lines;
  EXPECT_EQ(lines[lines.size() - 2], "relay mx,smarthost queued=3");
  EXPECT_EQ(lines.back(), "smarthost-login user%20name@isp");
  const auto d = control::decode_status(control::encode(s));
  ASSERT_TRUE(d) << d.error;
  EXPECT_EQ(*d, s);
  using control::Reply;
  const std::vector<std::string> head = {"uptime 1", "config x"};
  auto with = [&](std::vector<std::string> more) {
    std::vector<std::string> l = head;
    l.insert(l.end(), more.begin(), more.end());
    return control::decode_status(Reply{true, "", l});
  };
  EXPECT_FALSE(with({"relay none queued=x"}));
  EXPECT_FALSE(with({"relay none"}));
  EXPECT_FALSE(with({"relay mx,,smarthost queued=1"}));
  EXPECT_FALSE(with({"relay none queued=1", "relay none queued=1"}));
  EXPECT_FALSE(with({"smarthost-login alice"}));   // without a relay line
  EXPECT_FALSE(with({"relay none queued=1", "smarthost-login a", "smarthost-login b"}));
  EXPECT_TRUE(with({"relay none queued=1", "smarthost-login a"}));
}

// ---- queue list: store::describe_queued's lines, decoded ------------------------------------

store::QueueEnvelope sample_envelope(const std::string& id) {
  store::QueueEnvelope e;
  e.queue_id = id;
  e.arrival = 1000;
  e.reverse_path = "sender@example.org";
  store::QueueRecipient a;
  a.forward_path = "bob@remote.example";
  a.next_attempt = 1300;
  a.last_reply = "451 4.3.0 try again";
  store::QueueRecipient b;
  b.forward_path = "\"x,y z\"@remote.example";   // a ',' and a blank in a quoted local-part
  b.next_attempt = 1600;
  store::QueueRecipient done;
  done.forward_path = "gone@remote.example";
  done.state = store::RecipientState::Delivered;
  e.recipients = {a, b, done};
  return e;
}

TEST(QueueListReply, DecodesWhatDescribeQueuedWrites) {
  const std::string id = store::queue_id_from(0x123456789abcULL);
  store::QueueEnvelope e = sample_envelope(id);
  store::QueueEnvelope notice = sample_envelope(store::queue_id_from(42));
  notice.reverse_path.clear();   // the null sender
  notice.recipients.resize(1);
  notice.recipients[0].last_reply.clear();
  notice.recipients[0].next_attempt = 0;
  control::Reply r{true, "2 messages", {store::describe_queued(e, 1200), store::describe_queued(notice, 1200)}};
  r = control::parse_reply(control::format_reply(r)).reply;
  const auto q = control::decode_queue_list(r);
  ASSERT_TRUE(q) << q.error;
  ASSERT_EQ(q->messages.size(), 2u);
  const control::QueuedMessage& m = q->messages[0];
  EXPECT_EQ(m.id, id);
  EXPECT_EQ(m.age, 200u);
  EXPECT_EQ(m.sender, "sender@example.org");
  EXPECT_EQ(m.next, 100u);
  EXPECT_EQ(m.recipients, (std::vector<std::string>{"bob@remote.example", "\"x,y z\"@remote.example"}));
  EXPECT_EQ(m.error, "451 4.3.0 try again");
  const control::QueuedMessage& n = q->messages[1];
  EXPECT_EQ(n.sender, "");
  EXPECT_EQ(n.next, 0u);
  EXPECT_EQ(n.error, "");
  EXPECT_TRUE(control::decode_queue_list(control::Reply{true, "0 messages", {}}));
}

TEST(QueueListReply, RefusesMalformedLines) {
  const std::string id = store::queue_id_from(7);
  const std::string good = id + " age=1 sender=a@b next=0 rcpt=c@d error=-";
  ASSERT_TRUE(control::decode_queue_list(control::Reply{true, "", {good}}));
  for (const std::string& bad : {
           std::string("notanid age=1 sender=a@b next=0 rcpt=c@d error=-"),
           id + " age=x sender=a@b next=0 rcpt=c@d error=-",
           id + " sender=a@b next=0 rcpt=c@d error=-",
           id + " age=1 sender=a%2 next=0 rcpt=c@d error=-",
           id + " age=1 sender=a@b next=0 rcpt=c@d,,e@f error=-",
           id + " age=1 sender=a@b next=0 rcpt=c@d error=%zz",
           id + " age=1 sender=a@b next=0 rcpt=c@d",
           std::string(""),
       }) {
    EXPECT_FALSE(control::decode_queue_list(control::Reply{true, "", {bad}})) << bad;
  }
  EXPECT_FALSE(control::decode_queue_list(control::Reply{false, "the queue is not running yet", {}}));
}

// ---- the page ---------------------------------------------------------------------------------

const std::string kIni =
    "[server]\npasswd_file = /tmp/p\ncontrol_socket = /tmp/s\n\n[smtp]\nlisten = 127.0.0.1:2525\n"
    "accept_domains = *\n\n[relay]\nroute = mx\n\n[aliases]\n";

Model model(std::string ini = kIni) {
  Model m = fixture::page_model(std::move(ini));
  m.daemon.reached = true;
  m.daemon.status.relay = control::RelayStatus{{"mx"}, 1, std::nullopt};
  return m;
}

Request request(std::string_view method, std::string_view body = "", std::string_view query = "") {
  return fixture::page_request("/outgoing", method, body, query);
}

std::string render(const Model& m, const View& v = {}) {
  return find_page("/outgoing")->render(request("GET"), m, v).str();
}

Outcome post(std::string_view body, const Model& m) {
  const Request r = request("POST", body);
  EXPECT_EQ(r.form.error, "");
  return post_page(*find_page("/outgoing"), r, m);
}

TEST(CgiOutgoing, InTheMenu) {
  const PageInfo* p = find_page("/outgoing");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->title, "Outgoing mail");
  bool listed = false;
  for (const MenuItem& i : menu()) listed = listed || i.path == "/outgoing";
  EXPECT_TRUE(listed);
}

TEST(CgiOutgoing, RowPerMessageWithItsButtonsAllEscaped) {
  Model m = model();
  const std::string id = store::queue_id_from(0xabcdef);
  m.daemon.queue = control::QueueListReply{
      {{id, 7500, "<script>x</script>@example.org", 240, {"bob@remote.example", "carol@remote.example"},
        "451 4.4.1 <b>no answer</b>"}}};
  const std::string html = render(m);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_EQ(html.find("<b>no"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;x&lt;/script&gt;@example.org"), std::string::npos);
  EXPECT_NE(html.find("<tr id=\"q-" + id + "\"><td>" + id + "</td>"), std::string::npos) << html;
  EXPECT_NE(html.find("<td>bob@remote.example, carol@remote.example</td><td>2 h 5 min</td>"), std::string::npos);
  EXPECT_NE(html.find("<td>2 h 5 min</td><td>in 4 min</td><td class=\"actions\">"), std::string::npos);
  EXPECT_NE(html.find("451 4.4.1 &lt;b&gt;no answer&lt;/b&gt;"), std::string::npos);
  // Each button is its own POST form with the CSRF token, the action and the id.
  for (std::string_view action : {"retry", "delete"}) {
    const std::string form = "<input type=\"hidden\" name=\"csrf\" value=\"" + m.csrf +
                             "\"><input type=\"hidden\" name=\"action\" value=\"" + std::string(action) +
                             "\"><input type=\"hidden\" name=\"id\" value=\"" + id + "\">";
    EXPECT_NE(html.find(form), std::string::npos) << action << "\n" << html;
  }
  EXPECT_NE(html.find(">Flush the queue</button>"), std::string::npos);
  EXPECT_NE(html.find("action=\"/cgi-bin/boxmail.cgi/outgoing\""), std::string::npos);
  // Empty, and unreachable.
  m.daemon.queue = control::QueueListReply{};
  EXPECT_NE(render(m).find("No message is waiting to go out."), std::string::npos);
  m.daemon.queue.reset();
  m.daemon.queue_error = "cannot connect to /tmp/s: No such file or directory";
  EXPECT_NE(render(m).find("The queue cannot be shown: cannot connect to /tmp/s"), std::string::npos);
}

TEST(CgiOutgoing, RoutingFormShowsTheConfiguredValues) {
  Model m = model(
      "[server]\npasswd_file = /tmp/p\ncontrol_socket = /tmp/s\n[relay]\nroute = mx smarthost\n"
      "smarthost = smtp.isp.example:587\ndelay_notice_after = 6h\nrelay_networks = 192.168.1.0/24 10.0.0.0/8\n");
  m.daemon.queue = control::QueueListReply{};
  const std::string html = render(m);
  EXPECT_NE(html.find("<option value=\"mx, smarthost\" selected>"), std::string::npos) << html;
  EXPECT_NE(html.find("name=\"relay.smarthost\" value=\"smtp.isp.example:587\""), std::string::npos);
  EXPECT_NE(html.find("name=\"relay.delay_notice_after\" value=\"6\""), std::string::npos);
  EXPECT_NE(html.find(">192.168.1.0/24\n10.0.0.0/8</textarea>"), std::string::npos);
  EXPECT_NE(html.find("<select id=\"f-relay-smarthost-tls\" name=\"relay.smarthost_tls\""), std::string::npos);
  // A route the menu has no entry for is shown as it is.
  m = model("[server]\npasswd_file = /tmp/p\ncontrol_socket = /tmp/s\n[relay]\nroute = direct, mx\n");
  EXPECT_NE(render(m).find("<option selected value=\"direct, mx\">as configured: direct, mx</option>"),
            std::string::npos);
}

TEST(CgiOutgoing, RoutingIsValidatedByTheSchemaBeforeAnythingIsWritten) {
  const Model m = model();
  struct Case {
    std::string body, field, error;
  } cases[] = {
      {"action=route&relay.route=bogus", "relay.route", "bogus"},
      {"action=route&relay.route=none%2C+mx", "relay.route", "'none' must stand alone"},
      {"action=route&relay.route=smarthost&relay.smarthost=", "relay.smarthost", "no smarthost is set"},
      {"action=route&relay.route=smarthost&relay.smarthost=bad+host", "relay.smarthost", ""},
      {"action=route&relay.smarthost_tls=sometimes", "relay.smarthost_tls", ""},
      {"action=route&relay.smarthost_fingerprint=abc", "relay.smarthost_fingerprint", ""},
      {"action=route&relay.delay_notice_after=abc", "relay.delay_notice_after", ""},
      {"action=route&relay.delay_notice_after=721", "relay.delay_notice_after", "out of range"},
      {"action=route&relay.relay_networks=0.0.0.0%2F0", "relay.relay_networks", "open relay"},
      {"action=route&relay.local_domains=bad_domain", "relay.local_domains", ""},
      {"action=route&relay.smarthost=a%3Bb", "relay.smarthost", "';'"},
  };
  for (const auto& c : cases) {
    const Outcome o = post(c.body, m);
    EXPECT_FALSE(o.change) << c.body;
    ASSERT_TRUE(o.errors.count(c.field)) << c.body << ": " << o.error;
    EXPECT_NE(o.errors.at(c.field).find(c.error), std::string::npos) << o.errors.at(c.field);
  }
  const Outcome ok = post(
      "action=route&relay.route=mx%2C+smarthost&relay.smarthost=smtp.isp.example%3A587&relay.smarthost_tls=implicit"
      "&relay.delay_notice_after=8&relay.relay_networks=192.168.1.0%2F24%0A10.0.0.0%2F8"
      "&relay.local_domains=example.com",
      m);
  ASSERT_TRUE(ok.change) << ok.error << (ok.errors.empty() ? "" : ok.errors.begin()->second);
  ASSERT_TRUE(ok.change->ini);
  EXPECT_FALSE(ok.change->daemon);
  const std::string& ini = *ok.change->ini;
  EXPECT_EQ(ini_get(ini, "relay", "route"), "mx, smarthost");
  EXPECT_EQ(ini_get(ini, "relay", "smarthost"), "smtp.isp.example:587");
  EXPECT_EQ(ini_get(ini, "relay", "smarthost_tls"), "implicit");
  EXPECT_EQ(ini_get(ini, "relay", "delay_notice_after"), "8h");
  EXPECT_EQ(ini_get(ini, "relay", "relay_networks"), "192.168.1.0/24, 10.0.0.0/8");
  EXPECT_EQ(ini_get(ini, "relay", "local_domains"), "example.com");
  EXPECT_TRUE(config::parse_config(ini, "x").config);
  // The default delay given as "4" hours is no change; 0 is none.
  EXPECT_EQ(post("action=route&relay.route=mx&relay.delay_notice_after=4", m).info, "Nothing changed.");
  const Outcome zero = post("action=route&relay.route=mx&relay.delay_notice_after=0", m);
  ASSERT_TRUE(zero.change);
  EXPECT_EQ(ini_get(*zero.change->ini, "relay", "delay_notice_after"), "0");
  // The login file is fixed at install time: a crafted field is refused whole.
  const Outcome crafted = post("action=route&relay.route=none&relay.smarthost_credentials=%2Ftmp%2Fx", m);
  EXPECT_FALSE(crafted.change);
  EXPECT_NE(crafted.error.find("[relay] smarthost_credentials is fixed at install time"), std::string::npos);
}

TEST(CgiOutgoing, QueueActionsAndTheLoginAreRequestsToBoxmaild) {
  const Model m = model();
  const std::string id = store::queue_id_from(99);
  const Outcome retry = post("action=retry&id=" + id, m);
  ASSERT_TRUE(retry.change && retry.change->daemon);
  EXPECT_EQ(retry.change->daemon->line, "queue retry " + id);
  EXPECT_FALSE(retry.change->ini);
  EXPECT_EQ(post("action=delete&id=" + id, m).change->daemon->line, "queue delete " + id);
  EXPECT_EQ(post("action=flush", m).change->daemon->line, "queue flush");
  EXPECT_EQ(post("action=login_clear", m).change->daemon->line, "smarthost-login-clear");
  for (std::string_view bad : {"action=retry&id=..%2Fx", "action=delete&id=", "action=retry&id=" "abc%0Aqueue+flush"}) {
    const Outcome o = post(bad, m);
    EXPECT_FALSE(o.change) << bad;
    EXPECT_NE(o.error.find("is not a queue id"), std::string::npos) << bad;
  }
  EXPECT_EQ(post("action=shutdown", m).error, "Unknown action.");

  const Outcome login = post("action=login&smarthost_user=+me%40isp.example+&smarthost_password=s3cret%3Apw", m);
  ASSERT_TRUE(login.change && login.change->daemon);
  EXPECT_EQ(login.change->daemon->line, "smarthost-login 14 9");
  EXPECT_EQ(login.change->daemon->payload, "me@isp.examples3cret:pw");
  EXPECT_EQ(login.change->daemon->what.find("s3cret"), std::string::npos);   // what is logged
  struct Case {
    std::string body, field;
  } bad[] = {
      {"action=login&smarthost_user=&smarthost_password=x", "smarthost_user"},
      {"action=login&smarthost_user=a%3Ab&smarthost_password=x", "smarthost_user"},
      {"action=login&smarthost_user=a%0Db&smarthost_password=x", "smarthost_user"},
      {"action=login&smarthost_user=" + std::string(257, 'u') + "&smarthost_password=x", "smarthost_user"},
      {"action=login&smarthost_user=a&smarthost_password=", "smarthost_password"},
      {"action=login&smarthost_user=a&smarthost_password=x%0Ay", "smarthost_password"},
      {"action=login&smarthost_user=a&smarthost_password=" + std::string(257, 'p'), "smarthost_password"},
  };
  for (const auto& c : bad) {
    const Outcome o = post(c.body, m);
    EXPECT_FALSE(o.change) << c.body;
    EXPECT_TRUE(o.errors.count(c.field)) << c.body;
  }
}

TEST(CgiOutgoing, LoginIsShownByItsUserNeverItsPassword) {
  Model m = model();
  m.daemon.queue = control::QueueListReply{};
  EXPECT_NE(render(m).find("No login is stored"), std::string::npos);
  m.daemon.status.relay->login_user = "me@isp.example";
  std::string html = render(m);
  EXPECT_NE(html.find("A login is stored for <strong>me@isp.example</strong>"), std::string::npos);
  EXPECT_NE(html.find("<input type=\"password\" id=\"f-smarthost-password\" name=\"smarthost_password\" value=\"\""),
            std::string::npos)
      << html;
  // After a refused login the user name is shown again, the password never.
  const Request r = request("POST", "action=login&smarthost_user=me2&smarthost_password=hunter2hunter2");
  Outcome o;
  o.error = "Nothing was changed: the login could not be stored.";
  View v;
  v.form = &r.form;
  v.outcome = &o;
  html = find_page("/outgoing")->render(r, m, v).str();
  EXPECT_NE(html.find("value=\"me2\""), std::string::npos);
  EXPECT_EQ(html.find("hunter2"), std::string::npos);
}

TEST(CgiOutgoing, BoxmaildsAnswerBecomesTheNotice) {
  const DaemonChange retry{"queue retry X", "", "retry X"};
  EXPECT_EQ(daemon_change_outcome(retry, true, "", control::Reply{true, "X will be tried now", {}}).info,
            "X will be tried now.");
  const Outcome busy = daemon_change_outcome(
      retry, true, "", control::Reply{false, "X is being delivered now; try again in a moment", {}});
  EXPECT_EQ(busy.error, "Nothing was changed: X is being delivered now; try again in a moment.");
  EXPECT_EQ(daemon_change_outcome(retry, false, "timeout", control::Reply{}).error,
            "Nothing was changed: boxmaild could not be asked (timeout).");
  const DaemonChange login{"smarthost-login 2 2", "mepw", "smarthost login for me"};
  EXPECT_EQ(daemon_change_outcome(login, true, "", control::encode(control::LoginChangeReply{true, "stored", "me"})).info,
            "A login is stored for me.");
  EXPECT_EQ(daemon_change_outcome(login, true, "",
                                  control::encode(control::LoginChangeReply{false, "cannot create x", std::nullopt}))
                .error,
            "Nothing was changed: cannot create x.");
  const DaemonChange clear{"smarthost-login-clear", "", "remove"};
  EXPECT_EQ(daemon_change_outcome(clear, true, "", control::encode(control::LoginChangeReply{true, "cleared", {}})).info,
            "The smarthost login was removed.");
}

TEST(CgiOutgoing, TestMessageIsARequestToBoxmaildAndItsTranscriptIsEscaped) {
  Model m = model();
  m.daemon.queue = control::QueueListReply{};
  EXPECT_NE(render(m).find(">Send a test message</button>"), std::string::npos);
  const Outcome ok = post("action=test&test_to=+bob%40example.net+", m);
  ASSERT_TRUE(ok.change && ok.change->daemon);
  EXPECT_EQ(ok.change->daemon->line, "relay-test bob@example.net");
  EXPECT_EQ(ok.change->daemon->payload, "");
  const Outcome from = post("action=test&test_to=bob%40example.net&test_from=alice%40own.example", m);
  ASSERT_TRUE(from.change && from.change->daemon);
  EXPECT_EQ(from.change->daemon->line, "relay-test bob@example.net alice@own.example");
  const Outcome bad_from = post("action=test&test_to=bob%40example.net&test_from=alice", m);
  EXPECT_FALSE(bad_from.change);
  EXPECT_EQ(bad_from.errors.count("test_to"), 0u);
  EXPECT_TRUE(bad_from.errors.count("test_from"));
  for (std::string_view bad : {"action=test&test_to=", "action=test&test_to=bob",
                               "action=test&test_to=bob%40example.net%0D%0ARCPT+TO%3A%3Cx%40y.z%3E",
                               "action=test&test_to=bob%40example.net+x%40y.z"}) {
    const Outcome o = post(bad, m);
    EXPECT_FALSE(o.change) << bad;
    EXPECT_TRUE(o.errors.count("test_to")) << bad;
  }
  EXPECT_EQ(post("action=test&test_to=" + std::string(65, 'a') + "%40example.net", m).errors.at("test_to"),
            "not an e-mail address: local-part longer than 64 octets");
  EXPECT_EQ(post("action=test&test_to=a%40" + std::string(600, 'b') + ".net", m).errors.at("test_to"),
            "the address is too long");

  // boxmaild's answer: the result line and the transcript, every byte escaped.
  using R = control::RelayTestReply::Result;
  const DaemonChange change{"relay-test bob@example.net", "", "test message to bob@example.net"};
  const control::RelayTestReply hostile{R::Failed, "550 5.7.1 <script>alert(1)</script>", "mx[192.0.2.1]:25",
                                        {"-- route mx", "S: 220 <img src=x onerror=alert(2)> & \"'"}};
  Outcome o = daemon_change_outcome(change, true, "", control::encode(hostile));
  ASSERT_TRUE(o.relay_test);
  EXPECT_EQ(*o.relay_test, hostile);
  const Request r = request("POST", "action=test&test_to=bob%40example.net");
  View v;
  v.form = &r.form;
  v.outcome = &o;
  const std::string html = find_page("/outgoing")->render(r, m, v).str();
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_NE(html.find("Not sent: 550 5.7.1 &lt;script&gt;alert(1)&lt;/script&gt; (mx[192.0.2.1]:25)"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("<pre class=\"log\" id=\"test-transcript\">-- route mx\nS: 220 &lt;img src=x "
                      "onerror=alert(2)&gt; &amp; &quot;&#39;\n</pre>"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("value=\"bob@example.net\""), std::string::npos);
  const control::RelayTestReply sent{R::Sent, "250 2.0.0 Ok", "", {"S: 250 2.0.0 Ok"}};
  o = daemon_change_outcome(change, true, "", control::encode(sent));
  const std::string sent_html = find_page("/outgoing")->render(r, m, v).str();
  EXPECT_NE(sent_html.find("Sent: the server accepted the test message: 250 2.0.0 Ok"), std::string::npos);
  EXPECT_EQ(daemon_change_outcome(change, false, "timeout waiting for boxmaild's reply", control::Reply{}).error,
            "The test message was not sent: boxmaild could not be asked (timeout waiting for boxmaild's reply).");
  EXPECT_NE(daemon_change_outcome(change, true, "", control::Reply{true, "x", {"result nope"}}).error.find("malformed"),
            std::string::npos);
}

TEST(CgiOutgoing, StatusPageSaysWhetherOutgoingMailIsConfigured) {
  Model m = model();
  m.daemon.status.relay = control::RelayStatus{{}, 0, std::nullopt};
  Request r = request("GET");
  r.path = "/status";
  std::string html = find_page("/status")->render(r, m, View{}).str();
  EXPECT_NE(html.find("Outgoing mail: not configured"), std::string::npos) << html;
  m.daemon.status.relay = control::RelayStatus{{"mx", "smarthost"}, 2, std::nullopt};
  html = find_page("/status")->render(r, m, View{}).str();
  EXPECT_NE(html.find("Outgoing mail: via mx then smarthost; 2 messages in the queue."), std::string::npos);
  m.daemon.status.relay.reset();   // an older daemon: nothing said
  EXPECT_EQ(find_page("/status")->render(r, m, View{}).str().find("Outgoing mail:"), std::string::npos);
}

// ---- the credentials file boxmaild writes --------------------------------------------------

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(SmarthostLoginFile, WrittenWholeAs0600AndReadBackByUserOnly) {
  char tmpl[] = "/tmp/boxmail-login-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  const std::string path = dir + "/smarthost-login";
  EXPECT_FALSE(control::smarthost_login_user(path));
  // A stale tmp file of another mode does not leak its mode.
  { std::ofstream(path + ".tmp") << "old"; }
  ::chmod((path + ".tmp").c_str(), 0644);
  const auto r = control::store_smarthost_login(path, control::SmarthostLogin{"me@isp", "pa:ss"});
  EXPECT_TRUE(r.done) << r.message;
  EXPECT_EQ(r.user, "me@isp");
  EXPECT_EQ(control::encode(r).lines, (std::vector<std::string>{"user me@isp"}));
  EXPECT_EQ(slurp(path), "me@isp:pa:ss\n");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_NE(::access((path + ".tmp").c_str(), F_OK), 0);
  EXPECT_EQ(control::smarthost_login_user(path), "me@isp");
  {   // what the queue runner reads: the password whole, ':' and all
    std::string error;
    const auto login = control::read_smarthost_login(path, error);
    ASSERT_TRUE(login) << error;
    EXPECT_EQ(login->user, "me@isp");
    EXPECT_EQ(login->password, "pa:ss");
    EXPECT_EQ(error, "");
  }
  // Replaced whole.
  EXPECT_TRUE(control::store_smarthost_login(path, control::SmarthostLogin{"u2", "p2"}).done);
  EXPECT_EQ(slurp(path), "u2:p2\n");
  // A directory that cannot be written: refused, the old login stays.
  const auto bad = control::store_smarthost_login(dir + "/missing/file", control::SmarthostLogin{"u3", "p3"});
  EXPECT_FALSE(bad.done);
  EXPECT_EQ(bad.message.find("p3"), std::string::npos);
  EXPECT_TRUE(control::clear_smarthost_login(path).done);
  EXPECT_FALSE(control::smarthost_login_user(path));
  EXPECT_TRUE(control::clear_smarthost_login(path).done);   // none: still done
  {   // missing: no login and no error
    std::string error;
    EXPECT_FALSE(control::read_smarthost_login(path, error));
    EXPECT_EQ(error, "");
  }
  { std::ofstream(path) << "nocolon\n"; }
  EXPECT_FALSE(control::smarthost_login_user(path));
  {   // malformed: no login, and the error names the file
    std::string error;
    EXPECT_FALSE(control::read_smarthost_login(path, error));
    EXPECT_NE(error.find(path + ": expected one line user:password"), std::string::npos) << error;
  }
  ::unlink(path.c_str());
  ::rmdir(dir.c_str());
}

}  // namespace

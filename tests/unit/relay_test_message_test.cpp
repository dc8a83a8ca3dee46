// relay_test_message_test.cpp - the "send a test message" feature's pure
// parts: which recipient may get one (relay/test_message.hpp
// check_test_recipient: route none, syntax, open-relay forms, the box's
// own domains) and the message itself (RFC 5322 fields, CRLF, ASCII); the
// control socket's relay-test request (parse) and its reply (encode and
// decode); the control server answering relay-test asynchronously while it
// answers another request.
#include "config/schema.hpp"
#include "control/control_client.hpp"
#include "control/control_protocol.hpp"
#include "control/control_replies.hpp"
#include "control/control_server.hpp"
#include "relay/test_message.hpp"
#include "test_accounts.hpp"

#include <chrono>
#include <cstdlib>
#include <thread>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

namespace {

using namespace boxmail;

config::ConfigPtr config_of(const std::string& relay, const std::string& accept = "example.com") {
  const auto p = config::parse_config("[smtp]\naccept_domains = " + accept + "\n\n[relay]\n" + relay, "test.ini");
  EXPECT_TRUE(p.errors.empty()) << (p.errors.empty() ? "" : p.errors.front().to_string());
  return p.config;
}

TEST(RelayTestRecipient, OnlyWhatTheLanWouldRelay) {
  const auto accounts = test_fixtures::alice_and_bob();
  const auto cfg = config_of("route = smarthost\nsmarthost = 192.0.2.1:587\nlocal_domains = own.example\n");
  struct Case {
    std::string text, address, error_has;
  } cases[] = {
      {"bob@example.net", "bob@example.net", ""},
      {"<bob@example.net>", "bob@example.net", ""},
      {"Bob.Smith@Sub.Example.NET", "Bob.Smith@Sub.Example.NET", ""},
      {"alice@example.com", "", "delivered on this box"},
      {"alice@OWN.example", "", "delivered on this box"},
      {"nobody@own.example", "", "delivered on this box"},
      {"Postmaster", "", "delivered on this box"},
      {"user%elsewhere@example.net", "", "never relayed"},
      {"\"user@elsewhere\"@example.net", "", "never relayed"},
      {"host!user@example.net", "", "never relayed"},
      {"user@[192.0.2.7]", "", "never relayed"},
      {"<@a.example,@b.example:user@example.net>", "user@example.net", ""},
      {"user@example.net.", "", "not an e-mail address"},
      {"user", "", "not an e-mail address"},
      {"user@host@example.net", "", "not an e-mail address"},
      {"bob@example.net> <x@y.z", "", "not an e-mail address"},
      {"", "", "not an e-mail address"},
  };
  for (const Case& c : cases) {
    const relay::TestRecipient r = relay::check_test_recipient(c.text, *cfg, *accounts);
    EXPECT_EQ(r.address, c.address) << c.text;
    if (c.error_has.empty()) {
      EXPECT_EQ(r.error, "") << c.text;
    } else {
      EXPECT_NE(r.error.find(c.error_has), std::string::npos) << c.text << ": " << r.error;
    }
  }
}

TEST(RelayTestRecipient, RouteNoneAndFeedModeAreRefusedClearly) {
  const auto accounts = test_fixtures::alice_and_bob();
  EXPECT_EQ(relay::check_test_recipient("bob@example.net", *config_of("route = none\n"), *accounts).error,
            "no outgoing mail route is configured");
  // Feed mode without local_domains: every domain is delivered here.
  const auto feed = config_of("route = mx\n", "*");
  EXPECT_NE(relay::check_test_recipient("bob@example.net", *feed, *accounts).error.find("delivered on this box"),
            std::string::npos);
}

TEST(RelayTestMessage, IsAShortValidRfc5322Message) {
  relay::TestMessageInput in;
  in.hostname = "mail.own.example";
  in.to = "bob@example.net";
  in.id = "0123456789ABC";
  in.now = 1796289120;   // 2026-12-03 09:12:00 UTC
  const std::string m = relay::compose_test_message(in);
  for (const char* field :
       {"Date: Thu, 03 Dec 2026 09:12:00 +0000\r\n", "From: \"boxmail on mail.own.example\" <postmaster@mail.own.example>\r\n",
        "To: <bob@example.net>\r\n", "Message-ID: <0123456789ABC.test@mail.own.example>\r\n",
        "Subject: boxmail test message\r\n", "Auto-Submitted: auto-generated\r\n"}) {
    EXPECT_NE(m.find(field), std::string::npos) << field << "\n" << m;
  }
  const auto body = m.find("\r\n\r\n");
  ASSERT_NE(body, std::string::npos);
  EXPECT_GT(m.size(), body + 4);
  EXPECT_TRUE(m.ends_with("\r\n"));
  for (std::size_t i = 0; i < m.size(); ++i) {
    const auto c = static_cast<unsigned char>(m[i]);
    EXPECT_TRUE(c < 0x80 && c != 0) << i;
    if (c == '\n') {
      EXPECT_TRUE(i > 0 && m[i - 1] == '\r') << "bare LF at " << i;
    }
    if (c == '\r') {
      EXPECT_TRUE(i + 1 < m.size() && m[i + 1] == '\n') << "bare CR at " << i;
    }
  }
  for (std::size_t pos = 0, nl; (nl = m.find("\r\n", pos)) != std::string::npos; pos = nl + 2) {
    EXPECT_LE(nl - pos, 78u);   // RFC 5322 2.1.1
  }
}

TEST(RelayTestProtocol, ParsesTheAddressAndItsLimits) {
  const std::string longest = std::string(64, 'a') + "@" + std::string(63, 'b') + "." + std::string(63, 'c') + "." +
                              std::string(53, 'd') + ".example";   // 254 octets
  struct Case {
    std::string line, address, sender, error;
  } cases[] = {
      {"relay-test bob@example.net\n", "bob@example.net", "", ""},
      {"RELAY-TEST <bob@example.net>\r\n", "<bob@example.net>", "", ""},
      {"relay-test bob@example.net alice@own.example", "bob@example.net", "alice@own.example", ""},
      {"relay-test <bob@example.net> <Alice@Own.Example>", "<bob@example.net>", "Alice@Own.Example", ""},
      {"relay-test bob@example.net <>", "bob@example.net", "", ""},
      {"relay-test \"bob smith\"@example.net", "\"bob smith\"@example.net", "", ""},
      {"relay-test", "", "", "usage: relay-test ADDRESS [SENDER]"},
      {"relay-test ", "", "", "usage: relay-test ADDRESS [SENDER]"},
      {"relay-test bob", "", "", "relay-test: not an e-mail address: "},
      {"relay-test bob@example.net x", "", "", "relay-test: the sender is not an e-mail address"},
      {"relay-test bob@example.net x@y.z extra", "", "", "relay-test: not an e-mail address"},
      {"relay-test bob@example.net  x@y.z", "", "", "relay-test: not an e-mail address"},
      {"relay-test bob@example.net\rRCPT", "", "", "control character in request"},
      {"relay-test " + longest + " " + longest, longest, longest, ""},
      {"relay-test " + longest + "xxxxx " + longest, "", "", "request line too long"},
  };
  for (const Case& c : cases) {
    const control::Request r = control::parse_request(c.line);
    if (c.error.empty()) {
      EXPECT_EQ(r.error, "") << c.line;
      EXPECT_EQ(r.verb, control::Verb::RelayTest) << c.line;
      EXPECT_EQ(r.address, c.address) << c.line;
      EXPECT_EQ(r.sender, c.sender) << c.line;
    } else {
      EXPECT_TRUE(r.error.starts_with(c.error)) << c.line << ": " << r.error;
    }
    EXPECT_EQ(r.payload(), 0u);
  }
}

TEST(RelayTestReply, RoundTripsAndRefusesMalformedLines) {
  using R = control::RelayTestReply::Result;
  const control::RelayTestReply sent{R::Sent, "250 2.0.0 Ok: queued as X", "smtp.isp.example[192.0.2.1]:587 (TLS)",
                                     {"-- route smarthost", "S: 220 <script>alert(1)</script>  two  blanks", "C: .",
                                      ".starts with a dot", "line after"}};
  const control::RelayTestReply failed{R::Failed, "550 5.7.1 no", "", {"S: 550 5.7.1 no"}};
  const control::RelayTestReply refused{R::Refused, "no outgoing mail route is configured", "", {}};
  for (const auto& t : {sent, failed, refused}) {
    const auto wire = control::parse_reply(control::format_reply(control::encode(t)));
    ASSERT_TRUE(wire.complete);
    EXPECT_EQ(wire.reply.ok, t.result == R::Sent);
    const auto d = control::decode_relay_test(wire.reply);
    ASSERT_TRUE(d) << d.error;
    EXPECT_EQ(*d, t);
  }
  // An older daemon's "unknown request": a refusal with its text.
  const auto old = control::decode_relay_test(control::Reply{false, "unknown request (status, ...)", {}});
  ASSERT_TRUE(old);
  EXPECT_EQ(old->result, R::Refused);
  for (const control::Reply& bad : {
           control::Reply{true, "250 ok", {}},                           // ok without a result
           control::Reply{true, "250 ok", {"result failed"}},            // disagrees with the head
           control::Reply{false, "550", {"result sent"}},
           control::Reply{false, "x", {"result maybe"}},
           control::Reply{false, "x", {"result failed", "result failed"}},
           control::Reply{false, "x", {"result failed", "relay a%zz"}},
       }) {
    EXPECT_FALSE(control::decode_relay_test(bad)) << bad.head;
  }
}

TEST(RelayTestServer, AnswersAsynchronouslyWhileOtherRequestsAreServed) {
  namespace asio = boost::asio;
  char dir_template[] = "/tmp/boxmail-relay-test-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string path = std::string(dir_template) + "/control.sock";
  asio::io_context io;
  control::ControlServer::Handlers h;
  h.status = [] {
    control::StatusReply s;
    s.uptime = 7;
    return s;
  };
  using Clock = std::chrono::steady_clock;
  Clock::time_point status_answered{}, test_answered{};
  std::string seen;
  h.relay_test = [&](std::string address, std::string sender) -> asio::awaitable<control::RelayTestReply> {
    seen = address + " from " + sender;
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(600));
    co_await t.async_wait(asio::use_awaitable);
    co_return control::RelayTestReply{control::RelayTestReply::Result::Sent, "250 ok", "h[192.0.2.1]:25", {"S: 250 ok"}};
  };
  control::ControlServer server(io, path, h);
  ASSERT_EQ(server.listen(), "");
  // The synchronous path has no answer for it.
  EXPECT_EQ(control::decode_relay_test(server.answer("relay-test bob@example.net"))->message, "relay-test not available");
  std::thread loop([&io] { io.run_for(std::chrono::seconds(10)); });
  control::ClientResult test, status;
  std::thread t1([&] {
    test = control::control_request(path, "relay-test <bob@example.net> alice@own.example", 5000);
    test_answered = Clock::now();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  status = control::control_request(path, "status", 5000);
  status_answered = Clock::now();
  t1.join();
  io.stop();
  loop.join();
  ASSERT_TRUE(status.reached) << status.error;
  ASSERT_TRUE(test.reached) << test.error;
  EXPECT_LT(status_answered, test_answered);   // the loop was not blocked by the test
  EXPECT_EQ(seen, "<bob@example.net> from alice@own.example");
  const auto d = control::decode_relay_test(test.reply);
  ASSERT_TRUE(d) << d.error;
  EXPECT_EQ(d->result, control::RelayTestReply::Result::Sent);
  EXPECT_EQ(d->transcript, (std::vector<std::string>{"S: 250 ok"}));
  server.close();
  ::rmdir(dir_template);
}

}  // namespace

// control_server_test.cpp - boxmaild's side of the control socket
// (control/control_server.hpp): every verb's reply goes through the typed
// encode() that the panel decodes with, so what the daemon's handlers fill
// in is what the panel reads (no socket: ControlServer::answer).
#include "control/control_server.hpp"

#include <gtest/gtest.h>

namespace {

using namespace boxmail;
using namespace boxmail::control;

TEST(ControlServer, RepliesDecodeToWhatTheHandlersFilledIn) {
  boost::asio::io_context io;
  StatusReply status;
  status.uptime = 61;
  status.config = "/etc/boxmail/boxmail.ini";
  status.services = {{"smtp", true, "127.0.0.1:25", 1}, {"pop3", false, "", 0}};
  status.mailboxes = {{"alice", MailboxUsage{1, 10}, 0}};
  ControlServer::Handlers h;
  h.status = [&] { return status; };
  h.reload = [] { return ReloadReply{false, "configuration refused; the running one is kept", {"bad key"}, {}}; };
  ControlServer server(io, "/nonexistent/control.sock", h);

  const auto s = decode_status(parse_reply(format_reply(server.answer("status\n"))).reply);
  ASSERT_TRUE(s) << s.error;
  EXPECT_EQ(*s, status);

  const ReloadReply r = decode_reload(parse_reply(format_reply(server.answer("reload"))).reply);
  EXPECT_FALSE(r.taken);
  EXPECT_EQ(r.errors, (std::vector<std::string>{"bad key"}));

  server.count(net::MessageEvent::Accepted);
  server.count(net::MessageEvent::Refused);
  server.count(net::MessageEvent::Refused);
  const auto st = decode_stats(parse_reply(format_reply(server.answer("stats"))).reply);
  ASSERT_TRUE(st) << st.error;
  EXPECT_EQ(st->accepted_today, 1u);
  EXPECT_EQ(st->refused_today, 2u);
  EXPECT_EQ(st->hours.size(), net::MessageStats::kHours);
  EXPECT_EQ(st->hours.back().accepted, 1u);
  EXPECT_EQ(st->hours.back().refused, 2u);

  net::log_info("line one");
  const auto log = decode_log(parse_reply(format_reply(server.answer("log 1"))).reply);
  ASSERT_TRUE(log) << log.error;
  ASSERT_EQ(log->lines.size(), 1u);
  EXPECT_NE(log->lines[0].find("line one"), std::string::npos);

  // A request error is an error reply; decoding says so.
  EXPECT_FALSE(decode_stats(server.answer("stats now")));
}

TEST(ControlServer, BansTakenCountTodayAndStatsCarryTheDrops) {
  boost::asio::io_context io;
  ControlServer::Handlers h;
  std::vector<std::string> asked;
  h.firewall = [&asked](const Request& req) {
    asked.push_back(req.address);
    if (req.verb == Verb::Bans) return encode(BansReply{{{"192.0.2.7", 50, "manual"}}});
    return Reply{req.address != "192.0.2.99", req.address == "192.0.2.99" ? "refused" : "banned", {}};
  };
  ControlServer server(io, "/nonexistent/control.sock", h);
  EXPECT_TRUE(server.answer("ban 192.0.2.7 60 manual").ok);
  EXPECT_FALSE(server.answer("ban 192.0.2.99 60").ok);   // refused: not counted
  EXPECT_TRUE(server.answer("unban 192.0.2.7").ok);      // an unban is no ban
  const auto b = decode_bans(server.answer("bans"));
  ASSERT_TRUE(b) << b.error;
  EXPECT_EQ(b->bans.size(), 1u);
  server.count(net::MessageEvent::Banned);   // the auto-ban's, counted by the wiring
  const auto st = decode_stats(parse_reply(format_reply(server.answer("stats", {}, 77))).reply);
  ASSERT_TRUE(st) << st.error;
  EXPECT_EQ(st->bans_today, 2u);
  EXPECT_EQ(st->firewall_drops, 77u);
  EXPECT_EQ(st->accepted_today + st->refused_today, 0u);   // a ban is no message
  const auto off = decode_stats(server.answer("stats"));
  ASSERT_TRUE(off);
  EXPECT_FALSE(off->firewall_drops);
  EXPECT_EQ(asked, (std::vector<std::string>{"192.0.2.7", "192.0.2.99", "192.0.2.7", ""}));
  // A new day starts from zero.
  net::MessageStats s;
  s.record(net::MessageEvent::Banned, 1700000000, 10);
  s.record(net::MessageEvent::Banned, 1700000001, 10);
  EXPECT_EQ(s.bans_today(10), 2u);
  s.record(net::MessageEvent::Banned, 1700090000, 11);
  EXPECT_EQ(s.bans_today(11), 1u);
  EXPECT_EQ(s.bans_today(10), 0u);
}

TEST(ControlServer, TlsVerbsReachTheirHandlersWithTheUploadSplit) {
  boost::asio::io_context io;
  ControlServer::Handlers h;
  std::string chain, key;
  int regenerated = 0;
  h.tls = [] {
    TlsReply t;
    t.chain_file = "/c";
    t.key_file = "/k";
    return t;
  };
  h.tls_install = [&](const TlsUpload& u) {
    chain = std::string(u.chain);
    key = std::string(u.key);
    return TlsChangeReply{false, "the private key is encrypted", "key", "encrypted-key", {}};
  };
  h.tls_regenerate = [&] {
    ++regenerated;
    TlsChangeReply r;
    r.done = true;
    r.message = "regenerated";
    r.tls.chain_file = "/c";
    r.tls.key_file = "/k";
    return r;
  };
  ControlServer server(io, "/nonexistent/control.sock", h);

  const auto t = decode_tls(parse_reply(format_reply(server.answer("tls"))).reply);
  ASSERT_TRUE(t) << t.error;
  EXPECT_EQ(t->chain_file, "/c");

  const auto refused =
      decode_tls_change(parse_reply(format_reply(server.answer("tls-install 6 4\n", "-----BKEY!"))).reply);
  ASSERT_TRUE(refused) << refused.error;
  EXPECT_EQ(chain, "-----B");
  EXPECT_EQ(key, "KEY!");
  EXPECT_FALSE(refused->done);
  EXPECT_EQ(refused->part, "key");
  EXPECT_EQ(refused->problem, "encrypted-key");

  // Fewer or more octets than announced never reach the handler.
  chain.clear();
  Reply r = server.answer("tls-install 6 4", "-----BKEY");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.head, "tls-install: 10 octets announced, 9 sent");
  r = server.answer("tls-install 6 4", "-----BKEY!!");
  EXPECT_EQ(r.head, "tls-install: 10 octets announced, 11 sent");
  EXPECT_EQ(chain, "");
  // A payload after any other request is refused; so is an oversized upload.
  EXPECT_EQ(server.answer("tls-regenerate", "x").head, "data after the request line");
  EXPECT_EQ(regenerated, 0);
  EXPECT_EQ(server.answer("tls-install 65536 1").head,
            "tls-install: the chain and the key are 65537 octets together; at most 65536");

  const auto done = decode_tls_change(parse_reply(format_reply(server.answer("tls-regenerate"))).reply);
  ASSERT_TRUE(done) << done.error;
  EXPECT_TRUE(done->done);
  EXPECT_EQ(done->message, "regenerated");
  EXPECT_EQ(regenerated, 1);

  // A daemon built without the handlers says so.
  ControlServer bare(io, "/nonexistent/control2.sock", {});
  EXPECT_EQ(bare.answer("tls").head, "tls not available");
  EXPECT_EQ(bare.answer("tls-install 1 1", "ab").head, "tls-install not available");
}

TEST(ControlServer, MailStoreOfAnEmptyUsageTableIsNotCountedYet) {
  const auto table = config::parse_passwd("alice:{X}y:::::: quota=2048\n").table;
  store::UsageTable usage;
  StatusReply s;
  fill_mail_store(s, "/nonexistent-mail-dir", table, usage, 4096);
  ASSERT_EQ(s.mailboxes.size(), 1u);
  EXPECT_EQ(s.mailboxes[0].name, "alice");
  EXPECT_FALSE(s.mailboxes[0].usage);
  EXPECT_EQ(s.mailboxes[0].quota, 2048u);
  ASSERT_TRUE(s.store);
  EXPECT_EQ(s.store->dir, "/nonexistent-mail-dir");
  EXPECT_EQ(s.store->used, 0u);
  EXPECT_FALSE(s.store->fs);   // statvfs fails: no size
  EXPECT_EQ(s.store->reserve, 4096u);
  EXPECT_EQ(encode(s).lines.back(), "store /nonexistent-mail-dir used=0 reserve=4096");
}

}  // namespace

// control_replies_test.cpp - the control socket's typed replies
// (control/control_replies.hpp): round trips through the wire text, the
// wire lines earlier versions wrote (and the integration tests read),
// malformed input, and values that try to break out of their token or line.
#include "control/control_replies.hpp"

#include <gtest/gtest.h>

namespace {

using namespace boxmail::control;

/// encode -> wire text -> parse_reply, as the socket carries it.
Reply over_the_wire(const Reply& r) {
  const std::string wire = format_reply(r);
  const ReplyParse p = parse_reply(wire);
  EXPECT_TRUE(p.complete) << wire;
  EXPECT_EQ(p.error, "") << wire;
  return p.reply;
}

StatusReply sample_status() {
  StatusReply s;
  s.uptime = 93784;
  s.config = "/etc/boxmail/boxmail.ini";
  s.services = {{"smtp", true, "127.0.0.1:25,[::1]:25", 2}, {"pop3", false, "", 0}};
  s.mailboxes = {{"alice", MailboxUsage{2, 2048}, 3000}, {"bob", std::nullopt, 0}};
  s.store = StoreStatus{"/var/mail", 2048, FileSystemSize{1000000, 2000000}, 4096};
  return s;
}

Reply reply_of(std::vector<std::string> lines, bool ok = true) { return Reply{ok, "", std::move(lines)}; }

TEST(ControlReplies, StatusWireFormatIsTheOldOne) {
  EXPECT_EQ(encode(sample_status()).lines,
            (std::vector<std::string>{"uptime 93784", "config /etc/boxmail/boxmail.ini",
                                      "service smtp 127.0.0.1:25,[::1]:25 sessions=2", "service pop3 off sessions=0",
                                      "mailbox alice messages=2 bytes=2048 quota=3000",
                                      "mailbox bob messages=- bytes=- quota=0",
                                      "store /var/mail used=2048 free=1000000 total=2000000 reserve=4096"}));
}

TEST(ControlReplies, StatusRoundTrips) {
  const StatusReply s = sample_status();
  const auto d = decode_status(over_the_wire(encode(s)));
  ASSERT_TRUE(d) << d.error;
  EXPECT_EQ(*d, s);
  // A file system without a size (ramfs), no store, no mailboxes.
  StatusReply t = s;
  t.store->fs.reset();
  EXPECT_EQ(*decode_status(over_the_wire(encode(t))).value, t);
  EXPECT_EQ(encode(t).lines.back(), "store /var/mail used=2048 reserve=4096");
  t.store.reset();
  t.mailboxes.clear();
  t.config = "<embedded default>";
  EXPECT_EQ(*decode_status(over_the_wire(encode(t))).value, t);
}

TEST(ControlReplies, HostileValuesStayInTheirTokenAndLine) {
  StatusReply s = sample_status();
  // A name with blanks, a line end, a dot line and a forged key; a dir with
  // '%' and '='; words that look like the markers "-" and "off".
  s.mailboxes = {{"x quota=0\r\n.\r\nmailbox evil messages=1 bytes=1 quota=0", MailboxUsage{1, 1}, 5},
                 {"-", std::nullopt, 0},
                 {"", MailboxUsage{0, 0}, 0}};
  s.services = {{"smtp", true, "off", 1}, {"o ff", true, "a=b", 0}};
  s.store->dir = "/var/100%=mail dir";
  s.config = "/etc/x\r\n.\r\nuptime 1";
  const Reply wire = over_the_wire(encode(s));
  ASSERT_EQ(wire.lines.size(), 8u);   // uptime, config, 2 services, 3 mailboxes, store: nothing added
  EXPECT_EQ(wire.lines[4], "mailbox x%20quota%3D0%0D%0A.%0D%0Amailbox%20evil%20messages%3D1%20bytes%3D1%20quota%3D0"
                           " messages=1 bytes=1 quota=5");
  const auto d = decode_status(wire);
  ASSERT_TRUE(d) << d.error;
  EXPECT_EQ(d->mailboxes, s.mailboxes);
  EXPECT_EQ(d->services, s.services);
  EXPECT_EQ(d->store, s.store);
  EXPECT_EQ(d->config, "/etc/x  .  uptime 1");   // free text: line ends become blanks
}

TEST(ControlReplies, StatusRefusesMalformedInput) {
  const std::vector<std::string> good = encode(sample_status()).lines;
  struct Case {
    std::size_t line;         // which line of `good` to replace
    std::string text;         // with this
    std::string error;        // part of the error
  } cases[] = {
      {0, "uptime", "word 1 missing"},
      {0, "uptime x", "word 1 'x' is not a number"},
      {0, "uptime -5", "is not a number"},
      {0, "uptime 99999999999999999999", "is out of range"},
      {2, "service smtp 127.0.0.1:25", "sessions= missing"},
      {2, "service smtp 127.0.0.1:25 sessions=", "sessions= is empty"},
      {2, "service smtp 127.0.0.1:25 sessions=2x", "sessions=2x is not a number"},
      {2, "service smtp 127.0.0.1:25 sessions=+2", "is not a number"},
      {2, "service smtp  127.0.0.1:25 sessions=2", "empty token"},
      {2, "service smtp sessions=2", "word 2 missing"},
      {2, "service smtp 127.0.0.1:25 sessions=1 sessions=2", "key sessions repeated"},
      {4, "mailbox alice bytes=2048 quota=3000", "messages= missing"},
      {4, "mailbox alice messages=2 bytes=2048", "quota= missing"},
      {4, "mailbox alice messages=- bytes=2048 quota=0", "messages=- is not a number"},
      {4, "mailbox al%2 messages=2 bytes=2048 quota=0", "bad %-escape"},
      {4, "mailbox al%zz messages=2 bytes=2048 quota=0", "bad %-escape"},
      {4, "mailbox alice messages=2 bytes=2048 quota=0 extra", "after the keys"},
      {6, "store /var/mail used=1 free=5 reserve=0", "total= missing"},
      {6, "store /var/mail used=1 reserve=0 =3", "has no key"},
      {6, "", "empty token"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> lines = good;
    lines[c.line] = c.text;
    const auto d = decode_status(reply_of(lines));
    EXPECT_FALSE(d) << c.text;
    EXPECT_FALSE(d.value.has_value());
    EXPECT_NE(d.error.find(c.error), std::string::npos) << c.text << " -> " << d.error;
    EXPECT_NE(d.error.find("line " + std::to_string(c.line + 1)), std::string::npos) << d.error;
  }
  // Mandatory lines, repeated ones, an error head.
  EXPECT_EQ(decode_status(reply_of({good.begin() + 1, good.end()})).error, "status: no uptime line");
  std::vector<std::string> no_config = good;
  no_config.erase(no_config.begin() + 1);
  EXPECT_EQ(decode_status(reply_of(no_config)).error, "status: no config line");
  std::vector<std::string> twice = good;
  twice.push_back("uptime 5");
  EXPECT_NE(decode_status(reply_of(twice)).error.find("uptime repeated"), std::string::npos);
  twice = good;
  twice.push_back(good.back());
  EXPECT_NE(decode_status(reply_of(twice)).error.find("store repeated"), std::string::npos);
  EXPECT_EQ(decode_status(Reply{false, "status not available", {}}).error,
            "status: boxmaild answered error: status not available");
  // Unknown kinds and keys are a newer daemon's: skipped.
  std::vector<std::string> newer = good;
  newer.push_back("queue deferred=3");
  newer[2] += " max=20";
  const auto d = decode_status(reply_of(newer));
  ASSERT_TRUE(d) << d.error;
  EXPECT_EQ(*d, sample_status());
}

TEST(ControlReplies, StatsRoundTripAndErrors) {
  StatsReply s{7, 1, {{1700000000, 3, 1}, {1700003600, 4, 0}}, 5, 2, 3, std::nullopt};
  const Reply r = encode(s);
  EXPECT_EQ(r.lines, (std::vector<std::string>{"today accepted=7 refused=1", "blocked dnsbl=5 reverse_dns=2 bans=3",
                                               "hour 1700000000 accepted=3 refused=1",
                                               "hour 1700003600 accepted=4 refused=0"}));
  const auto d = decode_stats(over_the_wire(r));
  ASSERT_TRUE(d) << d.error;
  EXPECT_EQ(*d, s);
  EXPECT_EQ(decode_stats(reply_of({})).error, "stats: no today line");
  EXPECT_NE(decode_stats(reply_of({"today accepted=7"})).error.find("refused= missing"), std::string::npos);
  EXPECT_NE(decode_stats(reply_of({"today accepted=7 refused=1", "hour x accepted=1 refused=0"})).error.find(
                "line 2: word 1 'x' is not a number"),
            std::string::npos);
  EXPECT_NE(decode_stats(reply_of({"today accepted=0x7 refused=1"})).error.find("is not a number"), std::string::npos);
  EXPECT_FALSE(decode_stats(reply_of({"today accepted=1 refused=1", "today accepted=1 refused=1"})));
  // The blocked line: at most one, both numbers; an older daemon's reply without it reads as zeros.
  EXPECT_FALSE(decode_stats(reply_of({"today accepted=1 refused=1", "blocked dnsbl=1 reverse_dns=0",
                                      "blocked dnsbl=1 reverse_dns=0"})));
  EXPECT_NE(decode_stats(reply_of({"today accepted=1 refused=1", "blocked dnsbl=1"})).error.find("reverse_dns= missing"),
            std::string::npos);
  const auto old = decode_stats(reply_of({"today accepted=1 refused=1"}));
  ASSERT_TRUE(old) << old.error;
  EXPECT_EQ(old->blocked_dnsbl_today, 0u);
  EXPECT_FALSE(decode_stats(Reply{false, "unknown request", {}}));
  // bans= and firewall_drops= are optional (an older daemon; the firewall off); when there, numbers.
  const auto older = decode_stats(reply_of({"today accepted=1 refused=1", "blocked dnsbl=1 reverse_dns=0"}));
  ASSERT_TRUE(older) << older.error;
  EXPECT_EQ(older->bans_today, 0u);
  EXPECT_FALSE(older->firewall_drops);
  StatsReply fw{1, 0, {}, 0, 0, 4, 1234};
  EXPECT_EQ(encode(fw).lines[1], "blocked dnsbl=0 reverse_dns=0 bans=4 firewall_drops=1234");
  const auto back = decode_stats(over_the_wire(encode(fw)));
  ASSERT_TRUE(back) << back.error;
  EXPECT_EQ(*back, fw);
  EXPECT_FALSE(decode_stats(reply_of({"today accepted=1 refused=1", "blocked dnsbl=1 reverse_dns=0 bans=x"})));
  EXPECT_FALSE(decode_stats(reply_of({"today accepted=1 refused=1", "blocked dnsbl=1 reverse_dns=0 firewall_drops=-1"})));
  EXPECT_FALSE(decode_stats(reply_of({"today accepted=1 refused=1", "blocked dnsbl=1 reverse_dns=0 bans=1 bans=2"})));
}

TEST(ControlReplies, BansRoundTripAndRefusals) {
  const BansReply b{{{"192.0.2.7", 3599, "manual"}, {"2001:db8::7", 60, "login"}}};
  const Reply r = encode(b);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.head, "2 banned");
  EXPECT_EQ(r.lines, (std::vector<std::string>{"192.0.2.7 3599 manual", "2001:db8::7 60 login"}));
  const auto d = decode_bans(over_the_wire(r));
  ASSERT_TRUE(d) << d.error;
  EXPECT_EQ(*d, b);
  const auto none = decode_bans(Reply{true, "0 banned", {}});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->bans.empty());
  // A hostile reason stays one word on its line and comes back as it was.
  const BansReply hostile{{{"192.0.2.8", 10, "<script>alert(1)</script>\r\nstop x=1"}}};
  const Reply hr = encode(hostile);
  ASSERT_EQ(hr.lines.size(), 1u);
  EXPECT_EQ(hr.lines[0].find('\n'), std::string::npos);
  const auto hd = decode_bans(over_the_wire(hr));
  ASSERT_TRUE(hd) << hd.error;
  EXPECT_EQ(*hd, hostile);
  // The firewall off: boxmaild's own words.
  const auto off = decode_bans(Reply{false, "the firewall is off ([firewall] enabled = no)", {}});
  EXPECT_FALSE(off);
  EXPECT_EQ(off.error, "the firewall is off ([firewall] enabled = no)");
  for (std::string_view bad : {"192.0.2.7 60", "192.0.2.7 x manual", "192.0.2.7 60 manual extra",
                               "not-an-address 60 manual", "192.0.2.0/24 60 manual", "192.0.2.7 60 manual k=1",
                               "192.0.2.7 -1 manual", "", "192.0.2.7  60 manual", "192.0.2.7 60 %ZZ"}) {
    EXPECT_FALSE(decode_bans(reply_of({std::string(bad)}))) << bad;
  }
}

TEST(ControlReplies, LogLinesKeepDotsAndLoseLineEnds) {
  const LogReply log{{".", "..", ".x", "a\r\nb", "client=<script>"}};
  const auto d = decode_log(over_the_wire(encode(log)));
  ASSERT_TRUE(d) << d.error;
  EXPECT_EQ(d->lines, (std::vector<std::string>{".", "..", ".x", "a  b", "client=<script>"}));
  EXPECT_EQ(format_reply(encode(LogReply{{"."}})), "ok\n..\n.\n");
  EXPECT_FALSE(decode_log(Reply{false, "log: N must be 1..200", {}}));
}

TEST(ControlReplies, ReloadTakenOrRefused) {
  const ReloadReply taken{true, "reloaded", {}, {}};
  EXPECT_EQ(format_reply(encode(taken)), "ok reloaded\n.\n");
  EXPECT_EQ(decode_reload(over_the_wire(encode(taken))), taken);
  const ReloadReply refused{false, "configuration refused; the running one is kept",
                            {"boxmail.ini:3: [smtp] listen: bad", ".dot"}, {}};
  EXPECT_EQ(decode_reload(over_the_wire(encode(refused))), refused);
  // A head cannot grow a second line.
  const ReloadReply odd{false, "a\nerror b", {}, {}};
  EXPECT_EQ(format_reply(encode(odd)), "error a error b\n.\n");
  // A daemon without reload: refused, with its head as the message.
  const ReloadReply none = decode_reload(Reply{false, "reload not available", {}});
  EXPECT_FALSE(none.taken);
  EXPECT_EQ(none.message, "reload not available");
}

TEST(ControlReplies, RestartNeededTravelsInStatusAndReload) {
  const std::string note =
      "[smtp] listen changes from '0.0.0.0:25' to '0.0.0.0:26': needs a restart (still serving '0.0.0.0:25')";
  StatusReply s = sample_status();
  s.restart_needed = {note, "a\r\nuptime 5"};
  const auto d = decode_status(over_the_wire(encode(s)));
  ASSERT_TRUE(d) << d.error;
  EXPECT_EQ(d->restart_needed, (std::vector<std::string>{note, "a  uptime 5"}));   // no line of its own
  EXPECT_EQ(d->uptime, s.uptime);
  ReloadReply taken{true, "reloaded", {}, {note}};
  EXPECT_EQ(format_reply(encode(taken)), "ok reloaded\nrestart-needed " + note + "\n.\n");
  EXPECT_EQ(decode_reload(over_the_wire(encode(taken))), taken);
  // A refusal carries errors, never restart notes.
  const ReloadReply refused{false, "refused", {"x.ini:1: bad"}, {note}};
  EXPECT_TRUE(decode_reload(over_the_wire(encode(refused))).restart_needed.empty());
}

TlsReply sample_tls() {
  TlsReply t;
  t.chain_file = "/etc/boxmail/tls/cert.pem";
  t.key_file = "/etc/boxmail/tls/key.pem";
  boxmail::tls::CertificateInfo c;
  c.subject = "CN=mail.example.org, O=Example";
  c.issuer = "C=US, O=Let's Encrypt, CN=R3";
  c.dns_names = {"mail.example.org", "smtp.example.org"};
  c.sha256_fingerprint = "AB:CD:EF";
  c.not_before_time = 1700000000;
  c.not_after_time = 1707776000;
  c.not_before = boxmail::tls::format_utc(c.not_before_time);
  c.not_after = boxmail::tls::format_utc(c.not_after_time);
  c.self_signed = false;
  t.certificate = c;
  t.chain_length = 2;
  return t;
}

TEST(ControlReplies, TlsWireFormatAndRoundTrip) {
  const TlsReply t = sample_tls();
  EXPECT_EQ(t.certificate->not_before, "2023-11-14 22:13:20 UTC");
  EXPECT_EQ(encode(t).lines,
            (std::vector<std::string>{"files /etc/boxmail/tls/cert.pem /etc/boxmail/tls/key.pem",
                                      "certificate chain=2 self-signed=0 not-before=1700000000 not-after=1707776000",
                                      "subject CN=mail.example.org, O=Example", "issuer C=US, O=Let's Encrypt, CN=R3",
                                      "dns-name mail.example.org", "dns-name smtp.example.org", "sha256 AB:CD:EF"}));
  auto d = decode_tls(over_the_wire(encode(t)));
  ASSERT_TRUE(d) << d.error;
  EXPECT_EQ(*d, t);
  EXPECT_FALSE(d->pending());

  // Refused at the last load while the old one is served: pending.
  TlsReply pending = t;
  pending.refused = "/etc/boxmail/tls/cert.pem: expired (certificate 1 of 1, notAfter 2020-01-01 00:00:00 UTC)";
  d = decode_tls(over_the_wire(encode(pending)));
  ASSERT_TRUE(d) << d.error;
  EXPECT_EQ(*d, pending);
  EXPECT_TRUE(d->pending());

  // None loaded: only the files and the reason.
  TlsReply none;
  none.chain_file = "/x/cert.pem";
  none.key_file = "/x/key.pem";
  none.refused = "/x/key.pem: cannot read (Permission denied)";
  EXPECT_EQ(encode(none).lines, (std::vector<std::string>{"files /x/cert.pem /x/key.pem",
                                                          "refused /x/key.pem: cannot read (Permission denied)"}));
  d = decode_tls(over_the_wire(encode(none)));
  ASSERT_TRUE(d) << d.error;
  EXPECT_EQ(*d, none);
  EXPECT_FALSE(d->pending());

  // A time before 1970 goes out as 0 (and reads back as the epoch).
  TlsReply old = t;
  old.certificate->not_before_time = -86400;
  EXPECT_EQ(encode(old).lines[1], "certificate chain=2 self-signed=0 not-before=0 not-after=1707776000");
  EXPECT_EQ(decode_tls(encode(old))->certificate->not_before, "1970-01-01 00:00:00 UTC");
}

TEST(ControlReplies, TlsHostileTextStaysOnItsLine) {
  TlsReply t = sample_tls();
  t.certificate->subject = "CN=x\r\n.\r\nsha256 00";
  t.certificate->dns_names = {"a b", "sha256=1", ""};
  t.chain_file = "/tmp/a b/cert.pem";
  t.refused = "x\nfiles a b";
  const Reply wire = over_the_wire(encode(t));
  ASSERT_EQ(wire.lines.size(), 9u);   // files, certificate, subject, issuer, 3 names, sha256, refused: none added
  const auto d = decode_tls(wire);
  ASSERT_TRUE(d) << d.error;
  EXPECT_EQ(d->certificate->subject, "CN=x  .  sha256 00");
  EXPECT_EQ(d->certificate->dns_names, t.certificate->dns_names);
  EXPECT_EQ(d->certificate->sha256_fingerprint, "AB:CD:EF");
  EXPECT_EQ(d->chain_file, t.chain_file);
  EXPECT_EQ(d->refused, "x files a b");
}

TEST(ControlReplies, TlsRefusesMalformedInput) {
  const std::vector<std::string> good = encode(sample_tls()).lines;
  struct Case {
    std::size_t line;
    std::string text;
    std::string error;
  } cases[] = {
      {0, "files /a", "word 2 missing"},
      {1, "certificate chain=0 self-signed=0 not-before=1 not-after=2", "chain=0"},
      {1, "certificate chain=1 self-signed=2 not-before=1 not-after=2", "self-signed=2 is not 0 or 1"},
      {1, "certificate chain=1 self-signed=0 not-before=1", "not-after= missing"},
      {1, "certificate chain=1 self-signed=0 not-before=-1 not-after=2", "is not a number"},
      {1, "certificate chain=1 self-signed=0 not-before=1 not-after=253402300800", "after the year 9999"},
      {4, "dns-name", "word 1 missing"},
      {4, "dns-name a%zz", "bad %-escape"},
      {6, "sha256", "word 1 missing"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> lines = good;
    lines[c.line] = c.text;
    const auto d = decode_tls(reply_of(lines));
    EXPECT_FALSE(d) << c.text;
    EXPECT_NE(d.error.find(c.error), std::string::npos) << c.text << " -> " << d.error;
  }
  EXPECT_EQ(decode_tls(reply_of({good.begin() + 1, good.end()})).error, "tls: no files line");
  for (std::size_t drop : {1u, 2u, 3u, 6u}) {   // certificate, subject, issuer, sha256
    std::vector<std::string> lines = good;
    lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(drop));
    EXPECT_FALSE(decode_tls(reply_of(lines))) << drop;
  }
  for (std::size_t again : {0u, 1u, 2u, 3u, 6u}) {
    std::vector<std::string> lines = good;
    lines.push_back(good[again]);
    EXPECT_NE(decode_tls(reply_of(lines)).error.find("repeated"), std::string::npos) << again;
  }
  EXPECT_FALSE(decode_tls(reply_of({good[0], "dns-name a"})));   // a name without a certificate
  EXPECT_FALSE(decode_tls(reply_of({good[0], "refused"})));      // a refusal without a reason
  EXPECT_EQ(decode_tls(Reply{false, "unknown request", {}}).error, "tls: boxmaild answered error: unknown request");
  // Unknown kinds and keys are a newer daemon's.
  std::vector<std::string> newer = good;
  newer[1] += " ocsp=0";
  newer.push_back("staple none");
  const auto d = decode_tls(reply_of(newer));
  ASSERT_TRUE(d) << d.error;
  EXPECT_EQ(*d, sample_tls());
}

TEST(ControlReplies, TlsChangeInstalledOrRefused) {
  const TlsChangeReply done{true, "installed", "", "", sample_tls()};
  const Reply wire = encode(done);
  EXPECT_TRUE(wire.ok);
  EXPECT_EQ(wire.head, "installed");
  EXPECT_EQ(wire.lines, encode(sample_tls()).lines);
  auto d = decode_tls_change(over_the_wire(wire));
  ASSERT_TRUE(d) << d.error;
  EXPECT_EQ(*d, done);

  const TlsChangeReply refused{false, "expired (certificate 1 of 2, notAfter 2021-01-01 00:00:00 UTC)", "chain",
                               "expired", {}};
  EXPECT_EQ(format_reply(encode(refused)),
            "error expired (certificate 1 of 2, notAfter 2021-01-01 00:00:00 UTC)\nproblem chain expired\n.\n");
  d = decode_tls_change(over_the_wire(encode(refused)));
  ASSERT_TRUE(d) << d.error;
  EXPECT_EQ(*d, refused);

  // Neither part: a write failure; no problem line at all: an older daemon.
  const TlsChangeReply failed{false, "cannot write the certificate files: ...", "", "write-failed", {}};
  EXPECT_EQ(encode(failed).lines, (std::vector<std::string>{"problem - write-failed"}));
  EXPECT_EQ(*decode_tls_change(over_the_wire(encode(failed))).value, failed);
  d = decode_tls_change(Reply{false, "unknown request (status, reload, log N, stats)", {}});
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->done);
  EXPECT_EQ(d->part, "");
  EXPECT_EQ(d->message, "unknown request (status, reload, log N, stats)");

  EXPECT_FALSE(decode_tls_change(reply_of({"problem cert expired"}, false)));
  EXPECT_FALSE(decode_tls_change(reply_of({"problem chain expired", "problem key expired"}, false)));
  EXPECT_FALSE(decode_tls_change(reply_of({"problem chain"}, false)));
  EXPECT_FALSE(decode_tls_change(reply_of({"certificate chain=1"}, true)));   // "ok" needs the tls lines
}

TEST(ControlReplies, Words) {
  for (std::string_view w : {"", "-", "off", "%", "a b", "=", "x\r\n.", "\x7f", "plain.name-1_2"}) {
    const std::string e = encode_word(w);
    EXPECT_EQ(e.find_first_of(" =\r\n"), std::string::npos) << w;
    EXPECT_NE(e, "");
    EXPECT_EQ(decode_word(e), std::string(w)) << e;
  }
  EXPECT_EQ(encode_word("plain.name-1_2"), "plain.name-1_2");
  EXPECT_EQ(encode_word("off"), "%6Fff");
  EXPECT_EQ(decode_word("%"), std::nullopt);
  EXPECT_EQ(decode_word("%4"), std::nullopt);
  EXPECT_EQ(decode_word("%4g"), std::nullopt);
  EXPECT_EQ(decode_word("%4a"), "J");
}

}  // namespace

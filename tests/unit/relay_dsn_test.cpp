// relay_dsn_test.cpp - the failure and delay notices (RFC 3464 in an RFC
// 6522 multipart/report): fields and structure, checked here and by
// Python's email parser (tests/unit/dsn_check.py); outside text cannot add
// a field or a part; statuses; the bounded original header section.
#include "relay/dsn.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <unistd.h>

namespace {

using namespace boxmail::relay;

constexpr std::int64_t kNow = 1767232800;   // Thu, 01 Jan 2026 02:00:00 +0000

DsnInput failure() {
  DsnInput in;
  in.reporting_mta = "mx.example.org";
  in.to = "alice@example.org";
  in.queue_id = "0ABCDEFGHJKMN";
  in.notice_id = "1BCDEFGHJKMNP";
  in.arrival = kNow - 3600;
  in.now = kNow;
  in.received_from_mta = "[192.0.2.1]";
  DsnRecipient a;
  a.final_recipient = "bob@example.com";
  a.original_recipient = "team@example.org";
  a.action = DsnAction::Failed;
  a.status = dsn_status("550 5.1.1 <bob@example.com>: Recipient address rejected", DsnAction::Failed);
  a.remote_mta = "mx1.example.com";
  a.diagnostic = "550 5.1.1 <bob@example.com>: Recipient address rejected";
  a.last_attempt = kNow - 60;
  DsnRecipient b;
  b.final_recipient = "carol@example.net";
  b.action = DsnAction::Failed;
  b.status = dsn_status("connect to mx.example.net[198.51.100.7]:25: Connection refused", DsnAction::Failed, true);
  b.diagnostic = "connect to mx.example.net[198.51.100.7]:25: Connection refused";
  b.last_attempt = kNow - 30;
  in.recipients = {a, b};
  in.original_headers = header_section(
      "Received: from client (unknown [192.0.2.1])\n\tby mx.example.org (boxmail) with ESMTP id 0ABCDEFGHJKMN\n"
      "From: Alice <alice@example.org>\nTo: bob@example.com\nSubject: Lunch on Friday\n\nSee you there.\n");
  return in;
}

/// Runs dsn_check.py on `notice`; "" when it passes, else what it printed.
std::string python_check(const std::string& notice, const std::string& expect_json) {
  if (::access("/usr/bin/python3", X_OK) != 0) return "no /usr/bin/python3";
  char dir_tmpl[] = "/tmp/boxmail-dsn-XXXXXX";
  const std::string dir = ::mkdtemp(dir_tmpl);
  std::ofstream(dir + "/notice.eml", std::ios::binary) << notice;
  std::ofstream(dir + "/expect.json", std::ios::binary) << expect_json;
  const std::string cmd = "/usr/bin/python3 " BOXMAIL_SOURCE_DIR "/tests/unit/dsn_check.py " + dir +
                          "/notice.eml " + dir + "/expect.json > " + dir + "/out.txt 2>&1";
  const int rc = std::system(cmd.c_str());
  std::ifstream in(dir + "/out.txt");
  std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::system(("rm -rf " + dir).c_str());
  return rc == 0 ? std::string() : "exit " + std::to_string(rc) + ": " + out;
}

/// `n` with its folded lines unfolded (RFC 5322 2.2.3).
std::string unfolded(std::string n) {
  for (std::size_t i = 0; (i = n.find("\r\n ", i)) != std::string::npos;) n.erase(i, 2);
  return n;
}

TEST(Dsn, FailureNoticeFields) {
  const std::string n = unfolded(build_dsn(failure()));
  for (const char* want : {
           "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\n",
           "To: <alice@example.org>\r\n",
           "Subject: Undelivered Mail Returned to Sender\r\n",
           "Date: Thu, 01 Jan 2026 02:00:00 +0000\r\n",
           "Message-ID: <1BCDEFGHJKMNP.1767232800@mx.example.org>\r\n",
           "Auto-Submitted: auto-replied\r\n",
           "MIME-Version: 1.0\r\n",
           "Content-Type: multipart/report; report-type=delivery-status;",
           "Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n",
           "Received-From-MTA: dns; [192.0.2.1]\r\n",
           "Arrival-Date: Thu, 01 Jan 2026 01:00:00 +0000\r\n",
           "\r\n\r\nOriginal-Recipient: rfc822; team@example.org\r\nFinal-Recipient: rfc822; bob@example.com\r\n"
           "Action: failed\r\nStatus: 5.1.1\r\nRemote-MTA: dns; mx1.example.com\r\n"
           "Diagnostic-Code: smtp; 550 5.1.1 <bob@example.com>: Recipient address rejected\r\n"
           "Last-Attempt-Date: Thu, 01 Jan 2026 01:59:00 +0000\r\n",
           "\r\n\r\nFinal-Recipient: rfc822; carol@example.net\r\nAction: failed\r\nStatus: 5.4.7\r\n"
           "Diagnostic-Code: X-Boxmail; connect to mx.example.net[198.51.100.7]:25: Connection refused\r\n",
           "Content-Type: text/rfc822-headers\r\n\r\nReceived: from client (unknown [192.0.2.1])\r\n\tby mx",
           "Subject: Lunch on Friday\r\n\r\n--=_boxmail_1BCDEFGHJKMNP_1767232800--\r\n",
       }) {
    EXPECT_NE(n.find(want), std::string::npos) << "missing: " << want << "\nin:\n" << n;
  }
  EXPECT_EQ(n.find("See you there"), std::string::npos) << "the body is not returned";
  EXPECT_EQ(n.find("Will-Retry-Until"), std::string::npos);
  EXPECT_EQ(n.find("\n"), n.find("\r\n") + 1) << "CRLF line ends";
}

TEST(Dsn, FailureNoticeReadByPython) {
  const std::string err = python_check(build_dsn(failure()), R"J({
    "host": "mx.example.org", "to": "alice@example.org",
    "subject": "Undelivered Mail Returned to Sender", "received_from": "[192.0.2.1]",
    "original_subject": "Lunch on Friday",
    "recipients": [
      {"Original-Recipient": "rfc822; team@example.org", "Final-Recipient": "rfc822; bob@example.com",
       "Action": "failed", "Status": "5.1.1", "Remote-MTA": "dns; mx1.example.com",
       "Diagnostic-Code": "smtp; 550 5.1.1 <bob@example.com>: Recipient address rejected",
       "Last-Attempt-Date": "*date*", "Will-Retry-Until": null},
      {"Original-Recipient": null, "Final-Recipient": "rfc822; carol@example.net", "Action": "failed",
       "Status": "5.4.7", "Remote-MTA": null, "Last-Attempt-Date": "*date*"}
    ]})J");
  EXPECT_EQ(err, "");
}

TEST(Dsn, DelayNoticeReadByPython) {
  DsnInput in = failure();
  in.recipients.resize(1);
  DsnRecipient& r = in.recipients[0];
  r.action = DsnAction::Delayed;
  r.diagnostic = "451 4.7.1 Greylisted, please try again in a minute or two, this is a long reply that needs "
                 "folding because it is longer than a line should be in a header field of a notice";
  r.status = dsn_status(r.diagnostic, DsnAction::Delayed);
  r.will_retry_until = kNow + 5 * 86400;
  const std::string n = build_dsn(in);
  EXPECT_NE(n.find("Subject: Delayed Mail (still being retried)\r\n"), std::string::npos);
  EXPECT_NE(n.find("Will-Retry-Until: Tue, 06 Jan 2026 02:00:00 +0000\r\n"), std::string::npos) << n;
  EXPECT_NE(n.find("Diagnostic-Code: smtp; 451 4.7.1 Greylisted,"), std::string::npos);
  std::size_t longest = 0;
  for (std::size_t i = 0, j; (j = n.find("\r\n", i)) != std::string::npos; i = j + 2) longest = std::max(longest, j - i);
  EXPECT_LE(longest, 78u) << "a long field is folded";
  const std::string err = python_check(n, R"J({
    "host": "mx.example.org", "to": "alice@example.org", "subject": "Delayed Mail (still being retried)",
    "original_subject": "Lunch on Friday",
    "recipients": [
      {"Final-Recipient": "rfc822; bob@example.com", "Action": "delayed", "Status": "4.7.1",
       "Diagnostic-Code": "smtp; 451 4.7.1 Greylisted, please try again in a minute or two, this is a long reply that needs folding because it is longer than a line should be in a header field of a notice",
       "Will-Retry-Until": "*date*"}
    ]})J");
  EXPECT_EQ(err, "");
}

// A remote reply, an address or a host name cannot add a field, a group or
// a MIME part of its own.
TEST(Dsn, OutsideTextStaysInItsField) {
  DsnInput in = failure();
  in.recipients[0].diagnostic = "550 no\r\nAction: delivered\r\n\r\n--=_boxmail_1BCDEFGHJKMNP_1767232800--\r\n";
  in.recipients[0].final_recipient = "bob@example.com\r\nStatus: 2.0.0";
  in.reporting_mta = "mx.example.org\nX-Evil: 1";
  in.to = "alice@example.org>\r\nBcc: <eve@example.net";
  const std::string n = build_dsn(in);
  EXPECT_EQ(n.find("\r\nAction: delivered"), std::string::npos);
  EXPECT_EQ(n.find("\r\nStatus: 2.0.0"), std::string::npos);
  EXPECT_EQ(n.find("\r\nX-Evil"), std::string::npos);
  EXPECT_EQ(n.find("\r\nBcc:"), std::string::npos);
  // The reply holds the first choice of boundary: another one is taken,
  // and only the notice's own delimiter lines start a line.
  const std::string boundary = "=_boxmail_1BCDEFGHJKMNP_1767232800_";
  EXPECT_NE(n.find("boundary=\"" + boundary + "\""), std::string::npos) << n;
  std::size_t delimiters = 0;
  for (std::size_t i = 0; (i = n.find("\r\n--=_boxmail", i)) != std::string::npos; ++i) ++delimiters;
  EXPECT_EQ(delimiters, 4u) << n;
}

TEST(Dsn, TheBoundaryNeverOccursInTheOriginalHeaders) {
  DsnInput in = failure();
  in.original_headers = "Subject: x\nX-Trap: --=_boxmail_1BCDEFGHJKMNP_1767232800\n";
  const std::string n = build_dsn(in);
  EXPECT_NE(n.find("boundary=\"=_boxmail_1BCDEFGHJKMNP_1767232800_\""), std::string::npos) << n;
}

TEST(Dsn, Statuses) {
  EXPECT_EQ(dsn_status("550 5.1.1 no such user", DsnAction::Failed), "5.1.1");
  EXPECT_EQ(dsn_status("552-5.2.2 over quota", DsnAction::Failed), "5.2.2");
  EXPECT_EQ(dsn_status("550 no such user", DsnAction::Failed), "5.0.0");
  EXPECT_EQ(dsn_status("554 4.1.1 confused", DsnAction::Failed), "5.0.0") << "a code of the other class";
  EXPECT_EQ(dsn_status("451 4.3.0 later", DsnAction::Delayed), "4.3.0");
  EXPECT_EQ(dsn_status("421 closing", DsnAction::Delayed), "4.0.0");
  EXPECT_EQ(dsn_status("Connection refused", DsnAction::Delayed), "4.4.1");
  EXPECT_EQ(dsn_status("Connection refused", DsnAction::Failed), "5.0.0");
  EXPECT_EQ(dsn_status("451 4.3.0 later", DsnAction::Failed, true), "5.4.7");
  EXPECT_EQ(dsn_status("550 5.1.1234 x", DsnAction::Failed), "5.0.0") << "not an enhanced code";
}

TEST(Dsn, HeaderSection) {
  EXPECT_EQ(header_section("A: 1\nB: 2\n\nbody\n"), "A: 1\nB: 2\n");
  EXPECT_EQ(header_section("A: 1\r\nB: 2\r\n\r\nbody\r\n"), "A: 1\r\nB: 2\r\n");
  EXPECT_EQ(header_section("A: 1\nB: 2\n"), "A: 1\nB: 2\n") << "no body";
  EXPECT_EQ(header_section("A: 1\nB: 22222\nC: 3\n\n", 12), "A: 1\n") << "cut after the last whole line";
  EXPECT_EQ(header_section(std::string(100, 'x'), 10), std::string(10, 'x')) << "one endless line: bounded";
  EXPECT_EQ(header_section("\nbody"), "");
}

}  // namespace

// queue_envelope_test.cpp - the queue's envelope file: every field read back
// as written, no value can add a line or a field, a cut-off or damaged file
// is refused, and the control socket's one-line description.
#include "store/queue_envelope.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace {

using namespace boxmail::store;

QueueEnvelope sample() {
  QueueEnvelope e;
  e.queue_id = "0ABCDEFGHJKMN";
  e.arrival = 1767225600;
  e.reverse_path = "alice@example.org";
  e.kind = NoticeKind::Normal;
  e.skip = 31;
  e.client = "[192.0.2.1]";
  e.delay_notice_sent = true;
  QueueRecipient a;
  a.forward_path = "bob@example.com";
  a.original = "team@example.org";
  a.state = RecipientState::Pending;
  a.attempts = 2;
  a.next_attempt = 1767226200;
  a.last_attempt = 1767225900;
  a.remote_mta = "mx.example.com";
  a.last_reply = "451 4.3.0 try again later";
  QueueRecipient b;
  b.forward_path = "carol@example.net";
  b.state = RecipientState::Delivered;
  b.attempts = 1;
  QueueRecipient c;
  c.forward_path = "dave@example.net";
  c.state = RecipientState::Failed;
  c.attempts = 1;
  c.last_reply = "550 5.1.1 <dave@example.net>: no such user";
  e.recipients = {a, b, c};
  return e;
}

TEST(QueueEnvelope, RoundTrip) {
  for (NoticeKind kind : {NoticeKind::Normal, NoticeKind::Failure, NoticeKind::Delay, NoticeKind::DoubleBounce}) {
    QueueEnvelope e = sample();
    e.kind = kind;
    e.delay_notice_sent = kind == NoticeKind::Normal;
    if (kind != NoticeKind::Normal) e.reverse_path.clear();   // notices go with <>
    std::string error;
    const auto back = parse_envelope(format_envelope(e), error);
    ASSERT_TRUE(back) << error;
    EXPECT_EQ(*back, e);
  }
}

TEST(QueueEnvelope, TheDocumentedFormat) {
  const std::string text = format_envelope(sample());
  EXPECT_EQ(text,
            "boxmail-queue 1\n"
            "id 0ABCDEFGHJKMN\n"
            "arrival 1767225600\n"
            "sender alice@example.org\n"
            "kind normal\n"
            "skip 31\n"
            "client [192.0.2.1]\n"
            "delay-notice 1\n"
            "rcpt pending 2 1767226200 1767225900 bob@example.com team@example.org mx.example.com "
            "451%204.3.0%20try%20again%20later\n"
            "rcpt delivered 1 0 0 carol@example.net - - -\n"
            "rcpt failed 1 0 0 dave@example.net - - 550%205.1.1%20<dave@example.net>:%20no%20such%20user\n"
            "end\n");
}

// Values with blanks, line ends, '%', '=', "-", empty and 8-bit octets come
// back as they were, and never make a line or a field of their own.
TEST(QueueEnvelope, NoValueCanInjectALineOrAField) {
  const std::string nasty[] = {
      "",
      "-",
      "%",
      "%41",
      "a b",
      "x\nrcpt pending 0 0 0 evil@attacker.example - - -",
      "x\r\nend\r\n",
      "\nend\n",
      "a=b",
      "tab\there",
      std::string("nul\0byte", 8),
      "caf\xc3\xa9@example.org",
      "\x7f\xff",
  };
  for (const std::string& v : nasty) {
    QueueEnvelope e = sample();
    e.reverse_path = v;
    e.client = v;
    e.recipients[0].original = v;
    e.recipients[0].remote_mta = v;
    e.recipients[0].last_reply = v;
    e.recipients[1].last_reply = v + v;
    const std::string text = format_envelope(e);
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 12) << "a value made a line: " << text;
    EXPECT_EQ(text.find('\r'), std::string::npos);
    EXPECT_EQ(text.find('\0'), std::string::npos);
    std::string error;
    const auto back = parse_envelope(text, error);
    ASSERT_TRUE(back) << error << "\n" << text;
    EXPECT_EQ(*back, e);
    EXPECT_EQ(back->recipients.size(), 3u);
  }
}

// A file cut off anywhere (a crash during a write that was not synced) is
// refused: only the whole file with its end line parses.
TEST(QueueEnvelope, EveryCutOffFileIsRefused) {
  const std::string text = format_envelope(sample());
  for (std::size_t n = 0; n < text.size() - 1; ++n) {
    std::string error;
    EXPECT_FALSE(parse_envelope(text.substr(0, n), error)) << "parsed a file cut at " << n;
    EXPECT_FALSE(error.empty());
  }
  std::string error;
  EXPECT_TRUE(parse_envelope(text.substr(0, text.size() - 1), error)) << error;   // only the last LF missing
}

TEST(QueueEnvelope, DamagedFilesAreRefused) {
  const std::string good = format_envelope(sample());
  auto with = [&](const std::string& from, const std::string& to) {
    std::string t = good;
    const auto at = t.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return t.replace(at, from.size(), to);
  };
  const std::string bad[] = {
      with("boxmail-queue 1", "boxmail-queue 2"),
      with("kind normal", "kind urgent"),
      with("arrival 1767225600", "arrival -5"),
      with("arrival 1767225600", "arrival 99999999999999999999999"),
      with("skip 31", "skip x"),
      with("delay-notice 1", "delay-notice 2"),
      with("rcpt pending 2", "rcpt waiting 2"),
      with("rcpt delivered 1 0 0 carol@example.net - - -", "rcpt delivered 1 0 0 carol@example.net - -"),
      with("rcpt delivered 1 0 0 carol@example.net - - -", "rcpt delivered 1 0 0 - - - -"),
      with("451%204.3.0", "451%2"),
      with("451%204.3.0", "451%zz4.3.0"),
      with("sender alice@example.org\n", ""),                          // a line missing
      with("kind normal\n", "kind normal\nkind normal\n"),              // twice
      with("id 0ABCDEFGHJKMN\n", "id -\n"),                             // no id
      good + "rcpt pending 0 0 0 x@y - - -\n",                          // after the end
      with("skip 31\n", "skip 31\nrcpt pending 0 0 0 x@y - - -\n"),     // a rcpt before the heads
  };
  for (const std::string& text : bad) {
    std::string error;
    EXPECT_FALSE(parse_envelope(text, error)) << text;
    EXPECT_FALSE(error.empty());
  }
}

TEST(QueueEnvelope, PendingAndEarliest) {
  QueueEnvelope e = sample();
  EXPECT_TRUE(has_pending(e));
  EXPECT_EQ(earliest_attempt(e), 1767226200);
  e.recipients[2].state = RecipientState::Pending;   // next_attempt 0: now
  EXPECT_EQ(earliest_attempt(e), 0);
  for (auto& r : e.recipients) r.state = RecipientState::Delivered;
  EXPECT_FALSE(has_pending(e));
  EXPECT_FALSE(earliest_attempt(e));
}

TEST(QueueEnvelope, ReturnPathLength) {
  EXPECT_EQ(return_path_length("Return-Path: <a@b>\nReceived: from x\n"), 19u);
  EXPECT_EQ(return_path_length("Return-Path: <>\n"), 16u);
  EXPECT_EQ(return_path_length("Received: from x\n"), 0u);
  EXPECT_EQ(return_path_length("Return-Path: <a@b>"), 0u);   // no line end: not a whole line
}

TEST(QueueEnvelope, DescribeForTheControlSocket) {
  QueueEnvelope e = sample();
  e.recipients[2].state = RecipientState::Pending;
  e.recipients[2].next_attempt = 1767226000;
  e.recipients[2].forward_path = "\"a,b c\"@example.net";
  EXPECT_EQ(describe_queued(e, 1767225700),
            "0ABCDEFGHJKMN age=100 sender=alice@example.org next=300 "
            "rcpt=bob@example.com,\"a%2Cb%20c\"@example.net error=451%204.3.0%20try%20again%20later");
  e.reverse_path.clear();
  for (auto& r : e.recipients) r.last_reply.clear();
  EXPECT_EQ(describe_queued(e, 1767226500),
            "0ABCDEFGHJKMN age=900 sender=- next=0 rcpt=bob@example.com,\"a%2Cb%20c\"@example.net error=-");
}

}  // namespace

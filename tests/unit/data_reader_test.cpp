// data_reader_test.cpp - DATA end-of-data, unstuffing, normalisation, limits;
// every case fed whole and trickled one byte at a time.
#include "smtp/data_reader.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using boxmail::smtp::DataLimits;
using boxmail::smtp::DataReader;
using boxmail::smtp::DataSummary;

namespace {

struct Fed {
  std::string out;
  std::size_t consumed = 0;
  bool done = false;
  DataSummary summary;
};

Fed feed_whole(std::string_view in, DataLimits limits = {}) {
  DataReader r(limits);
  Fed f;
  f.consumed = r.feed(in, f.out);
  f.done = r.done();
  f.summary = r.summary();
  return f;
}

Fed feed_trickle(std::string_view in, DataLimits limits = {}) {
  DataReader r(limits);
  Fed f;
  for (std::size_t i = 0; i < in.size() && !r.done(); ++i) f.consumed += r.feed(in.substr(i, 1), f.out);
  f.done = r.done();
  f.summary = r.summary();
  return f;
}

struct Case {
  const char* name;
  std::string in;
  std::string out;          // expected stored content
  bool done;                // end of data reached
  std::size_t rest;         // octets left after the terminator
};

// Smuggled commands that must end up inside the one message.
const std::string kSmuggle = "MAIL FROM:<evil@x>\r\nRCPT TO:<bob@x>\r\nDATA\r\nsmuggled\r\n";

std::vector<Case> cases() {
  using namespace std::string_literals;
  return {
      {"empty message", ".\r\n", "", true, 0},
      {"one line", "hello\r\n.\r\n", "hello\n", true, 0},
      {"rest after terminator", "a\r\n.\r\nQUIT\r\n", "a\n", true, 6},
      {"dot stuffed", "..hidden\r\n.\r\n", ".hidden\n", true, 0},
      {"double dot only", "..\r\n.\r\n", ".\n", true, 0},
      {"dot mid line", "a.b\r\n.\r\n", "a.b\n", true, 0},
      {"not yet ended", "hello\r\n", "hello\n", false, 0},
      {"bare LF line end", "a\nb\r\n.\r\n", "a\nb\n", true, 0},
      {"bare CR kept", "a\rb\r\n.\r\n", "a\rb\n", true, 0},
      {"CR CR LF", "a\r\r\n.\r\n", "a\r\n", true, 0},
      {"smuggle LF.LF", "x\n.\n" + kSmuggle + ".\r\n", "x\n.\n" + std::string("MAIL FROM:<evil@x>\nRCPT TO:<bob@x>\nDATA\nsmuggled\n"), true, 0},
      {"smuggle LF.CRLF", "x\n.\r\n" + kSmuggle + ".\r\n", "x\n.\nMAIL FROM:<evil@x>\nRCPT TO:<bob@x>\nDATA\nsmuggled\n", true, 0},
      {"smuggle CR.CRLF", "x\r.\r\n" + kSmuggle + ".\r\n", "x\r.\nMAIL FROM:<evil@x>\nRCPT TO:<bob@x>\nDATA\nsmuggled\n", true, 0},
      {"smuggle CRLF.CR", "x\r\n.\r" + kSmuggle + ".\r\n", "x\n\rMAIL FROM:<evil@x>\nRCPT TO:<bob@x>\nDATA\nsmuggled\n", true, 0},
      {"smuggle CRLF.LF", "x\r\n.\n" + kSmuggle + ".\r\n", "x\n.\nMAIL FROM:<evil@x>\nRCPT TO:<bob@x>\nDATA\nsmuggled\n", true, 0},
      {"smuggle NUL", "x\r\n.\0\r\n"s + kSmuggle + ".\r\n", "x\n\0\nMAIL FROM:<evil@x>\nRCPT TO:<bob@x>\nDATA\nsmuggled\n"s, true, 0},
      {"LF.CRLF then real end", "x\n.\r\n.\r\n", "x\n.\n", true, 0},
      {"dot CR CR", "\r\n.\r\r\n.\r\n", "\n\r\n", true, 0},
      {"empty lines", "\r\n\r\n.\r\n", "\n\n", true, 0},
      {"long line", std::string(50000, 'x') + "\r\n.\r\n", std::string(50000, 'x') + "\n", true, 0},
  };
}

}  // namespace

TEST(DataReader, Cases) {
  for (const auto& c : cases()) {
    for (bool trickle : {false, true}) {
      SCOPED_TRACE(std::string(c.name) + (trickle ? " (trickled)" : " (whole)"));
      Fed f = trickle ? feed_trickle(c.in) : feed_whole(c.in);
      EXPECT_EQ(f.out, c.out);
      EXPECT_EQ(f.done, c.done);
      EXPECT_EQ(c.in.size() - f.consumed, c.rest);
    }
  }
}

TEST(DataReader, WholeAndTrickleSummariesAgree) {
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.name);
    Fed a = feed_whole(c.in);
    Fed b = feed_trickle(c.in);
    EXPECT_EQ(a.summary.size, b.summary.size);
    EXPECT_EQ(a.summary.stored, b.summary.stored);
    EXPECT_EQ(a.summary.lines, b.summary.lines);
    EXPECT_EQ(a.summary.bare_lf, b.summary.bare_lf);
    EXPECT_EQ(a.summary.bare_cr, b.summary.bare_cr);
    EXPECT_EQ(a.summary.longest_line, b.summary.longest_line);
    EXPECT_EQ(a.summary.received_headers, b.summary.received_headers);
    EXPECT_EQ(a.summary.stored, a.out.size());
  }
}

TEST(DataReader, CountsBareLineEnds) {
  Fed f = feed_whole("a\nb\rc\r\n.\r\n");
  EXPECT_EQ(f.summary.bare_lf, 1u);
  EXPECT_EQ(f.summary.bare_cr, 1u);
  EXPECT_EQ(f.summary.lines, 2u);
  EXPECT_EQ(f.summary.size, 8u);  // "a" CRLF "b\rc" CRLF: line ends counted as CRLF
}

TEST(DataReader, SizeLimitStopsOutputButReadsToEnd) {
  for (bool trickle : {false, true}) {
    std::string in = std::string(100, 'x') + "\r\n" + std::string(100, 'y') + "\r\n.\r\nNOOP\r\n";
    DataLimits lim;
    lim.max_size = 150;
    Fed f = trickle ? feed_trickle(in, lim) : feed_whole(in, lim);
    EXPECT_TRUE(f.done);
    EXPECT_TRUE(f.summary.too_big);
    EXPECT_LE(f.out.size(), 150u);
    EXPECT_EQ(in.size() - f.consumed, 6u);
  }
}

TEST(DataReader, SizeExactlyAtLimitIsAccepted) {
  DataLimits lim;
  lim.max_size = 5;  // "abc" CRLF = 5 octets
  Fed f = feed_whole("abc\r\n.\r\n", lim);
  EXPECT_FALSE(f.summary.too_big);
  EXPECT_EQ(f.out, "abc\n");
}

TEST(DataReader, LineLimit) {
  DataLimits lim;
  lim.max_line = 1000;
  Fed ok = feed_whole(std::string(1000, 'a') + "\r\n.\r\n", lim);
  EXPECT_FALSE(ok.summary.line_too_long);
  Fed bad = feed_trickle(std::string(1001, 'a') + "\r\n.\r\n", lim);
  EXPECT_TRUE(bad.summary.line_too_long);
  EXPECT_TRUE(bad.done);
}

TEST(DataReader, RefuseBareLfStopsOutput) {
  DataLimits lim;
  lim.refuse_bare_lf = true;
  Fed f = feed_whole("a\r\nb\nc\r\n.\r\n", lim);
  EXPECT_TRUE(f.done);
  EXPECT_EQ(f.summary.bare_lf, 1u);
  EXPECT_EQ(f.out, "a\nb");
}

TEST(DataReader, ReceivedHeadersCountedInHeaderSectionOnly) {
  std::string in =
      "Received: from a\r\n\tby b\r\nreceived: x\r\nRECEIVED:y\r\nX-Received: no\r\nSubject: s\r\n\r\n"
      "Received: in body\r\n.\r\n";
  for (bool trickle : {false, true}) {
    Fed f = trickle ? feed_trickle(in) : feed_whole(in);
    EXPECT_EQ(f.summary.received_headers, 3u);
  }
}

TEST(DataReader, DotStuffingIsTransparentToHeaderCounting) {
  // ".Received:" on the wire is the content line "Received:" once unstuffed.
  Fed f = feed_whole(".Received: x\r\n\r\n.\r\n");
  EXPECT_EQ(f.summary.received_headers, 1u);
  EXPECT_EQ(f.out, "Received: x\n\n");
}

TEST(DataReader, OutputUpToALimitIsTheSameWholeAndTrickled) {
  // Found by fuzz_data_reader: the bulk path must stop appending at the very
  // octet that passes a limit, as the octet-by-octet path does.
  for (auto [max_size, max_line] : {std::pair<std::uint64_t, std::uint32_t>{50, 0}, {0, 30}, {40, 35}}) {
    DataLimits lim;
    lim.max_size = max_size;
    lim.max_line = max_line;
    const std::string in = std::string(20, 'a') + "\r\n" + std::string(60, 'b') + "\r\n.\r\n";
    Fed whole = feed_whole(in, lim);
    Fed trickle = feed_trickle(in, lim);
    EXPECT_EQ(whole.out, trickle.out);
    EXPECT_EQ(whole.summary.stored, trickle.summary.stored);
    EXPECT_TRUE(whole.done);
  }
}

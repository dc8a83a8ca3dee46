// line_reader_test.cpp - command line framing and the line length limit,
// fed whole and trickled one byte at a time.
#include "proto/line_reader.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using boxmail::proto::LineReader;

namespace {
// Runs the reader over `in` in chunks of `step` octets; returns the events
// as strings ("L:<line>" or "TOOLONG").
std::vector<std::string> run(std::string_view in, std::size_t max, std::size_t step) {
  LineReader r(max);
  std::vector<std::string> ev;
  for (std::size_t pos = 0; pos < in.size(); pos += step) {
    std::string_view chunk = in.substr(pos, step);
    while (!chunk.empty()) {
      auto e = r.next(chunk);
      chunk.remove_prefix(e.consumed);
      if (e.kind == LineReader::Kind::Line) ev.push_back("L:" + std::string(e.line));
      if (e.kind == LineReader::Kind::TooLong) ev.push_back("TOOLONG");
    }
  }
  return ev;
}
}  // namespace

TEST(LineReader, Cases) {
  struct Case {
    std::string in;
    std::size_t max;
    std::vector<std::string> events;
  };
  const std::vector<Case> cases = {
      {"NOOP\r\n", 512, {"L:NOOP"}},
      {"NOOP\r\nQUIT\r\n", 512, {"L:NOOP", "L:QUIT"}},
      {"NOOP\n", 512, {"L:NOOP"}},
      {"\r\n", 512, {"L:"}},
      {"A\rB\r\n", 512, {"L:A\rB"}},
      {"NOOP", 512, {}},
      {std::string(10, 'x') + "\r\n", 12, {"L:xxxxxxxxxx"}},          // exactly 12 with CRLF
      {std::string(11, 'x') + "\r\nNOOP\r\n", 12, {"TOOLONG", "L:NOOP"}},  // 13 > 12
      {std::string(100, 'x') + "\r\nNOOP\r\n", 12, {"TOOLONG", "L:NOOP"}},
      {std::string(100, 'x'), 12, {"TOOLONG"}},                         // reported before the line ends
  };
  for (const auto& c : cases) {
    for (std::size_t step : {c.in.size() ? c.in.size() : 1, std::size_t{1}, std::size_t{3}}) {
      SCOPED_TRACE("step " + std::to_string(step) + " input " + c.in.substr(0, 20));
      EXPECT_EQ(run(c.in, c.max, step), c.events);
    }
  }
}

TEST(LineReader, PendingIsBounded) {
  LineReader r(64);
  std::string big(10000, 'x');
  for (std::size_t i = 0; i < big.size(); i += 7) {
    std::string_view chunk = std::string_view(big).substr(i, 7);
    while (!chunk.empty()) chunk.remove_prefix(r.next(chunk).consumed);
    EXPECT_LE(r.pending(), 64u);
  }
}

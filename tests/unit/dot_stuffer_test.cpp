// dot_stuffer_test.cpp - the dot-stuffing encoder (proto/dot_stuffer.hpp).
// POP3 RETR/TOP (LF input): LF -> CRLF, byte-stuffing, terminator, TOP's
// line limit; SMTP DATA (CRLF input): every CRLF, bare CR and bare LF one
// CRLF line end. Each case whole, trickled one octet at a time, and in
// 7-octet pieces. Also the W= size arithmetic.
#include "proto/dot_stuffer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

using boxmail::proto::crlf_size;
using boxmail::proto::DotStuffer;
using boxmail::proto::LineEnds;

namespace {

/// Encodes `in` in pieces of `step` octets (0 = whole); stops when done().
std::string encode(std::string_view in, std::optional<std::uint64_t> top, std::size_t step) {
  DotStuffer ds(top);
  std::string out;
  if (step == 0) step = in.empty() ? 1 : in.size();
  for (std::size_t pos = 0; pos < in.size() && !ds.done(); pos += step) {
    const std::string_view piece = in.substr(pos, step);
    const std::size_t used = ds.encode(piece, out);
    if (!ds.done()) {
      EXPECT_EQ(used, piece.size());
    }
  }
  ds.finish(out);
  return out;
}

struct Case {
  std::string_view name;
  std::string in;
  std::optional<std::uint64_t> top;
  std::string out;
};

const Case kCases[] = {
    {"empty", "", std::nullopt, ".\r\n"},
    {"one line", "a\n", std::nullopt, "a\r\n.\r\n"},
    {"no final LF", "a\nb", std::nullopt, "a\r\nb\r\n.\r\n"},
    {"dot line", "a\n.\nb\n", std::nullopt, "a\r\n..\r\nb\r\n.\r\n"},
    {"dot first", ".x\n", std::nullopt, "..x\r\n.\r\n"},
    {"dots", "..\n...\n", std::nullopt, "...\r\n....\r\n.\r\n"},
    {"dot inside", "a.b\n x.\n", std::nullopt, "a.b\r\n x.\r\n.\r\n"},
    {"dot last no LF", "a\n.", std::nullopt, "a\r\n..\r\n.\r\n"},
    {"empty lines", "\n\n", std::nullopt, "\r\n\r\n.\r\n"},
    {"bare CR kept", "a\rb\n", std::nullopt, "a\rb\r\n.\r\n"},
    {"CR before LF kept", "a\r\n", std::nullopt, "a\r\r\n.\r\n"},
    {"dot after CR", "\r.\n", std::nullopt, "\r.\r\n.\r\n"},
    {"NUL and 8bit", std::string("a\0\xff\n", 4), std::nullopt, std::string("a\0\xff\r\n.\r\n", 8)},
    {"top 0", "H: 1\nH: 2\n\nb1\nb2\n", 0, "H: 1\r\nH: 2\r\n\r\n.\r\n"},
    {"top 1", "H: 1\n\nb1\nb2\n", 1, "H: 1\r\n\r\nb1\r\n.\r\n"},
    {"top 2 dot", "H: 1\n\n.b1\nb2\nb3\n", 2, "H: 1\r\n\r\n..b1\r\nb2\r\n.\r\n"},
    {"top more than body", "H: 1\n\nb1\n", 5, "H: 1\r\n\r\nb1\r\n.\r\n"},
    {"top no body", "H: 1\nH: 2\n", 3, "H: 1\r\nH: 2\r\n.\r\n"},
    {"top no blank, unterminated", "H: 1\nH", 0, "H: 1\r\nH\r\n.\r\n"},
    {"top CR-only blank line", "H: 1\n\r\nb1\nb2\n", 1, "H: 1\r\n\r\r\nb1\r\n.\r\n"},
    {"top empty body line counts", "H\n\n\nb\n", 1, "H\r\n\r\n\r\n.\r\n"},
    {"top header with CR", "H:\r\n\r\nb\n", 0, "H:\r\r\n\r\r\n.\r\n"},
};

TEST(DotStuffer, Cases) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(encode(c.in, c.top, 0), c.out) << "whole";
    EXPECT_EQ(encode(c.in, c.top, 1), c.out) << "trickled";
    EXPECT_EQ(encode(c.in, c.top, 7), c.out) << "7-octet pieces";
  }
}

TEST(DotStuffer, SizeArithmetic) {
  // For RETR the octets sent, without byte-stuffing and terminator, are
  // the W= of the Maildir name: stored size + number of LFs.
  for (const Case& c : kCases) {
    if (c.top || c.in.empty() || c.in.back() != '\n') continue;
    SCOPED_TRACE(c.name);
    const auto lfs = static_cast<std::uint64_t>(std::count(c.in.begin(), c.in.end(), '\n'));
    std::string out = encode(c.in, std::nullopt, 0);
    out.resize(out.size() - 3);   // ".\r\n"
    std::uint64_t stuffed = 0;    // lines that got a "." added
    std::size_t start = 0;
    while (start < c.in.size()) {
      if (c.in[start] == '.') ++stuffed;
      start = c.in.find('\n', start) + 1;
    }
    EXPECT_EQ(out.size(), crlf_size(c.in.size(), lfs) + stuffed);
  }
}

TEST(DotStuffer, StopsConsumingAtTopLimit) {
  DotStuffer ds(1);
  std::string out;
  const std::string in = "H\n\nb1\nb2\nb3\n";
  EXPECT_EQ(ds.encode(in, out), 6u);   // through "b1\n"
  EXPECT_TRUE(ds.done());
  ds.finish(out);
  EXPECT_EQ(out, "H\r\n\r\nb1\r\n.\r\n");
}

TEST(DotStuffer, LargeInputStreams) {
  // 1 MiB of lines, fed in 16 KiB pieces as the server does: output of each
  // piece is bounded by twice its size plus a stuffing dot per line.
  std::string in;
  while (in.size() < (1u << 20)) in += ".line of text\n";
  DotStuffer ds;
  std::string total;
  for (std::size_t pos = 0; pos < in.size(); pos += 16384) {
    std::string out;
    const std::string_view piece = std::string_view(in).substr(pos, 16384);
    ds.encode(piece, out);
    EXPECT_LE(out.size(), 3 * piece.size());
    total += out;
  }
  ds.finish(total);
  EXPECT_EQ(total.size(), in.size() * 16 / 14 + 3);
}

}  // namespace

namespace {

/// SMTP client mode (CRLF input) in pieces of `step` octets (0 = whole).
std::string encode_crlf(std::string_view in, std::size_t step) {
  DotStuffer ds(LineEnds::Crlf);
  std::string out;
  if (step == 0) step = in.empty() ? 1 : in.size();
  for (std::size_t pos = 0; pos < in.size(); pos += step) {
    const std::string_view piece = in.substr(pos, step);
    EXPECT_EQ(ds.encode(piece, out), piece.size());
    EXPECT_FALSE(ds.done());
  }
  ds.finish(out);
  return out;
}

struct CrlfCase {
  std::string_view name;
  std::string in;
  std::string out;
};

const CrlfCase kCrlfCases[] = {
    {"empty", "", ".\r\n"},
    {"one line", "a\r\n", "a\r\n.\r\n"},
    {"unchanged", "H: 1\r\n\r\nbody\r\n", "H: 1\r\n\r\nbody\r\n.\r\n"},
    {"no final CRLF", "a\r\nb", "a\r\nb\r\n.\r\n"},
    {"dot line", "a\r\n.\r\nb\r\n", "a\r\n..\r\nb\r\n.\r\n"},
    {"dot first", ".x\r\n", "..x\r\n.\r\n"},
    {"dot last, no CRLF", "a\r\n.", "a\r\n..\r\n.\r\n"},
    {"bare LF is a line end", "a\nb\r\n", "a\r\nb\r\n.\r\n"},
    {"bare CR is a line end", "a\rb\r\n", "a\r\nb\r\n.\r\n"},
    {"smuggling LF.LF", "a\n.\nb\r\n", "a\r\n..\r\nb\r\n.\r\n"},
    {"smuggling CR.CR", "a\r.\rb\r\n", "a\r\n..\r\nb\r\n.\r\n"},
    {"CR CR LF", "a\r\r\nb\r\n", "a\r\n\r\nb\r\n.\r\n"},
    {"LF CR", "a\n\rb", "a\r\n\r\nb\r\n.\r\n"},
    {"trailing CR", "a\r", "a\r\n.\r\n"},
    {"NUL and 8bit", std::string("a\0\xff\r\n", 5), std::string("a\0\xff\r\n.\r\n", 8)},
};

TEST(DotStufferCrlf, Cases) {
  for (const CrlfCase& c : kCrlfCases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(encode_crlf(c.in, 0), c.out) << "whole";
    EXPECT_EQ(encode_crlf(c.in, 1), c.out) << "trickled";
    EXPECT_EQ(encode_crlf(c.in, 7), c.out) << "7-octet pieces";
  }
}

TEST(DotStufferCrlf, NoBareLineEndsOnTheWire) {
  // Whatever the input, every CR on the wire is followed by LF and every LF
  // preceded by CR (RFC 5321 2.3.8).
  const std::string alphabet = "\r\n.a";
  for (unsigned n = 0; n < 4 * 4 * 4 * 4 * 4; ++n) {
    std::string in;
    for (unsigned v = n, i = 0; i < 5; ++i, v /= 4) in += alphabet[v % 4];
    const std::string out = encode_crlf(in, 1);
    for (std::size_t i = 0; i < out.size(); ++i) {
      if (out[i] == '\r') {
        EXPECT_TRUE(i + 1 < out.size() && out[i + 1] == '\n') << testing::PrintToString(in);
      }
      if (out[i] == '\n') {
        EXPECT_TRUE(i > 0 && out[i - 1] == '\r') << testing::PrintToString(in);
      }
    }
    EXPECT_EQ(out.find("\r\n.\r\n"), out.size() - 5) << testing::PrintToString(in);
  }
}

}  // namespace

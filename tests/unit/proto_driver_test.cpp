// proto_driver_test.cpp - proto::Driver with a scripted Transport: the
// STARTTLS rule (octets read before the handshake never reach the session,
// CVE-2011-0411 / CVE-2021-33515), replies written per batch, Close.
//
// STARTTLS/STLS is not offered by any protocol yet (the TLS issue), so no
// integration test can reach this seam; the fake Transport stands in for
// the TLS one.
#include "proto/driver.hpp"
#include "proto/line_reader.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

namespace {

namespace asio = boost::asio;
using boxmail::proto::Action;
using boxmail::proto::Deadline;
using boxmail::proto::Driver;
using boxmail::proto::Handler;
using boxmail::proto::LineReader;
using boxmail::proto::Output;
using boxmail::proto::Step;
using boxmail::proto::Transport;
using boost::system::error_code;

// Reads come from a script, one chunk per read; then end of file.
class ScriptedTransport final : public Transport {
 public:
  std::deque<std::string> reads;
  std::string written;
  int handshakes = 0;
  bool tls_fails = false;
  bool secure_ = false;

  asio::awaitable<std::pair<error_code, std::size_t>> read_some(asio::mutable_buffer buf) override {
    if (reads.empty()) co_return std::pair{error_code(asio::error::eof), std::size_t{0}};
    std::string chunk = std::move(reads.front());
    reads.pop_front();
    const std::size_t n = asio::buffer_copy(buf, asio::buffer(chunk));
    if (n < chunk.size()) reads.push_front(chunk.substr(n));
    co_return std::pair{error_code{}, n};
  }
  asio::awaitable<error_code> write(asio::const_buffer buf) override {
    written.append(static_cast<const char*>(buf.data()), buf.size());
    co_return error_code{};
  }
  asio::awaitable<error_code> start_tls() override {
    ++handshakes;
    written += "<TLS>";
    if (tls_fails) co_return error_code(asio::error::operation_not_supported);
    secure_ = true;
    co_return error_code{};
  }
  bool secure() const override { return secure_; }
  asio::awaitable<void> shutdown() override { co_return; }
};

// A tiny line protocol: STLS asks for TLS, QUIT closes, anything else is
// echoed as "+OK <line>". Like the real sessions it stops at an action.
class EchoHandler final : public Handler {
 public:
  std::vector<std::string> lines;   // every line the session was fed
  LineReader reader{512};

  void greet(Driver& d) override { d.take(Output{"+OK hello\r\n", {}, Action::None}); }
  asio::awaitable<Step> input(std::string_view in, Driver& d) override {
    Step step;
    while (step.used < in.size()) {
      const auto ev = reader.next(in.substr(step.used));
      step.used += ev.consumed;
      if (ev.kind != LineReader::Kind::Line) continue;
      const std::string line(ev.line);
      lines.push_back(line);
      if (line == "STLS") {
        d.take(Output{"+OK begin TLS\r\n", {}, Action::StartTls});
        co_return step;
      }
      if (line == "QUIT") {
        d.take(Output{"+OK bye\r\n", {}, Action::Close});
        co_return step;
      }
      d.take(Output{"+OK " + line + "\r\n", {}, Action::None});
    }
    co_return step;
  }
  void on_timeout(Driver&, bool) override {}
  bool on_shutdown(Driver&) override { return true; }
  Deadline deadline() const override {
    const auto far = std::chrono::steady_clock::now() + std::chrono::hours(1);
    return {far, far};
  }
};

struct DriverRun {
  asio::io_context io;
  std::shared_ptr<boxmail::net::Connection> conn =
      std::make_shared<boxmail::net::Connection>(asio::ip::tcp::socket(io));
  ScriptedTransport transport;
  EchoHandler handler;
  std::size_t discarded = 0;

  void go(std::size_t read_buffer = 4096) {
    asio::co_spawn(
        io,
        [this, read_buffer]() -> asio::awaitable<void> {
          Driver d(conn, transport, read_buffer);
          co_await d.run(handler);
          discarded = d.discarded();
        },
        asio::detached);
    io.run();
  }
};

TEST(ProtoDriver, CommandsPipelinedAfterStartTlsAreDropped) {
  DriverRun r;
  // The attacker's line arrives in the same segment as STLS (in the clear).
  r.transport.reads = {"CAPA\r\nSTLS\r\nUSER injected\r\n", "USER real\r\nQUIT\r\n"};
  r.go();
  EXPECT_EQ(r.transport.handshakes, 1);
  EXPECT_EQ(r.handler.lines, (std::vector<std::string>{"CAPA", "STLS", "USER real", "QUIT"}));
  EXPECT_EQ(r.discarded, std::string("USER injected\r\n").size());
  // The STLS reply goes out before the handshake, in the clear.
  EXPECT_EQ(r.transport.written, "+OK hello\r\n+OK CAPA\r\n+OK begin TLS\r\n<TLS>+OK USER real\r\n+OK bye\r\n");
}

TEST(ProtoDriver, NothingDroppedWithoutStartTls) {
  DriverRun r;
  r.transport.reads = {"CAPA\r\nNOOP\r\nQUIT\r\nNOOP\r\n"};
  r.go();
  EXPECT_EQ(r.transport.handshakes, 0);
  EXPECT_EQ(r.handler.lines, (std::vector<std::string>{"CAPA", "NOOP", "QUIT"}));
  EXPECT_EQ(r.discarded, 0u);
  EXPECT_EQ(r.transport.written, "+OK hello\r\n+OK CAPA\r\n+OK NOOP\r\n+OK bye\r\n");
}

TEST(ProtoDriver, FailedHandshakeCloses) {
  DriverRun r;
  r.transport.tls_fails = true;
  r.transport.reads = {"STLS\r\nUSER injected\r\n", "USER later\r\n"};
  r.go();
  EXPECT_EQ(r.transport.handshakes, 1);
  EXPECT_EQ(r.handler.lines, (std::vector<std::string>{"STLS"}));
  EXPECT_EQ(r.transport.written, "+OK hello\r\n+OK begin TLS\r\n<TLS>");
}

TEST(ProtoDriver, TrickledInputStillNeverCrossesTheHandshake) {
  // Read one octet at a time: the session sees the STLS line end at the
  // last octet of a read, so nothing is buffered to drop; the next read
  // comes after the handshake (the fake transport's script stands for
  // octets the client sent after it).
  DriverRun r;
  r.transport.reads = {"NOOP\r\nSTLS\r\n", "NOOP\r\nQUIT\r\n"};
  r.go(1);
  EXPECT_EQ(r.handler.lines, (std::vector<std::string>{"NOOP", "STLS", "NOOP", "QUIT"}));
  EXPECT_EQ(r.discarded, 0u);
}

}  // namespace

// boxmail-send.cpp - a test tool (not installed): sends message files with
// relay::deliver (relay/smtp_client.hpp) and prints every recipient's
// result and the transcript. Used by tests/integration/t-39-smtp-client.
//
//   boxmail-send --target HOST,ADDRESS,PORT [--target ...]
//                --from ADDR (empty: <>) --to ADDR [--to ...] --file PATH [--file ...]
//                [--tls none|opportunistic|required] [--implicit-tls]
//                [--auth-user USER --auth-password-file FILE] [--allow-plaintext-auth]
//                [--ca FILE | --pin SHA256] [--ehlo NAME] [--timeout-ms N] [--block N]
//
// Each --file is one message (CRLF lines, not dot-stuffed) with the same
// envelope, all on one connection. Output lines:
//   connected yes|no HOST ADDRESS:PORT
//   tls yes|no [CIPHER]
//   result MESSAGE ADDRESS STATUS CODE ENHANCED STAGE remote|local TEXT
//   transcript LINE
// Exit status: 0 every recipient accepted, 1 some temporary, 2 otherwise
// (some permanent, none temporary), 3 usage or setup error.
#include "relay/smtp_client.hpp"
#include "tls/client_context.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

using namespace boxmail;

namespace {

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "boxmail-send: " << why << "\n";
  std::exit(3);
}

relay::Target parse_target(const std::string& s) {
  const auto a = s.find(',');
  const auto b = s.rfind(',');
  if (a == std::string::npos || a == b) usage("--target wants HOST,ADDRESS,PORT: " + s);
  relay::Target t;
  t.host_name = s.substr(0, a);
  boost::system::error_code ec;
  t.address = boost::asio::ip::make_address(s.substr(a + 1, b - a - 1), ec);
  if (ec) usage("bad address in --target " + s);
  t.port = static_cast<std::uint16_t>(std::stoul(s.substr(b + 1)));
  return t;
}

std::string read_secret(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) usage("cannot read " + path);
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  relay::ClientRequest req;
  req.session.ehlo_name = "boxmail-send.test";
  req.session.tls = relay::TlsPolicy::Opportunistic;
  std::string from;
  std::vector<std::string> to, files;
  std::string user, password_file, ca, pin;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(a + " needs a value");
      return argv[++i];
    };
    if (a == "--target") req.targets.push_back(parse_target(value()));
    else if (a == "--from") from = value();
    else if (a == "--to") to.push_back(value());
    else if (a == "--file") files.push_back(value());
    else if (a == "--tls") {
      const std::string p = value();
      if (p == "none") req.session.tls = relay::TlsPolicy::None;
      else if (p == "opportunistic") req.session.tls = relay::TlsPolicy::Opportunistic;
      else if (p == "required") req.session.tls = relay::TlsPolicy::Required;
      else usage("--tls none|opportunistic|required");
    } else if (a == "--implicit-tls") req.implicit_tls = true;
    else if (a == "--auth-user") user = value();
    else if (a == "--auth-password-file") password_file = value();
    else if (a == "--allow-plaintext-auth") req.session.allow_plaintext_auth = true;
    else if (a == "--ca") ca = value();
    else if (a == "--pin") pin = value();
    else if (a == "--ehlo") req.session.ehlo_name = value();
    else if (a == "--block") req.block_size = std::stoul(value());
    else if (a == "--timeout-ms") {
      const std::chrono::milliseconds t(std::stol(value()));
      req.timeouts = {t, t, t, t, t, t, t, t};
    } else usage("unknown option " + a);
  }
  if (req.targets.empty() || to.empty() || files.empty()) usage("--target, --to and --file are needed");
  if (!user.empty()) req.session.auth = relay::AuthCredentials{user, read_secret(password_file)};
  tls::ClientTlsOptions topt;
  if (!ca.empty()) {
    topt.verify = tls::ClientVerify::Chain;
    topt.ca_file = ca;
  } else if (!pin.empty()) {
    const auto fp = tls::parse_fingerprint(pin);
    if (!fp) usage("bad --pin fingerprint");
    topt.verify = tls::ClientVerify::Pin;
    topt.pins.push_back(*fp);
  }
  try {
    req.tls = tls::ClientContext::create(topt);
  } catch (const std::exception& e) {
    usage(e.what());
  }
  for (const auto& path : files) {
    relay::OutgoingMessage m;
    m.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (m.fd < 0) usage("cannot open " + path + ": " + std::strerror(errno));
    struct stat st {};
    ::fstat(m.fd, &st);
    m.envelope.reverse_path = from;
    m.envelope.recipients = to;
    m.envelope.size = static_cast<std::uint64_t>(st.st_size);
    std::ifstream f(path, std::ios::binary);
    for (std::istreambuf_iterator<char> it(f), end; it != end; ++it) {
      if (static_cast<unsigned char>(*it) >= 0x80) {
        m.envelope.eight_bit = true;
        break;
      }
    }
    req.messages.push_back(m);
  }

  boost::asio::io_context io;
  relay::DeliveryReport report;
  std::exception_ptr failure;
  boost::asio::co_spawn(io, relay::deliver(std::move(req)), [&](std::exception_ptr e, relay::DeliveryReport r) {
    failure = e;
    report = std::move(r);
  });
  io.run();
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      usage(e.what());
    }
  }
  std::cout << "connected " << (report.connected ? "yes " : "no ") << report.host_name << " " << report.address << "\n";
  std::cout << "tls " << (report.tls ? "yes " + report.cipher : std::string("no")) << "\n";
  bool temporary = false, permanent = false;
  for (std::size_t m = 0; m < report.messages.size(); ++m) {
    for (const auto& r : report.messages[m].recipients) {
      std::cout << "result " << m << " " << r.address << " " << relay::status_name(r.status) << " " << r.code << " "
                << (r.enhanced.empty() ? "-" : r.enhanced) << " " << relay::stage_name(r.stage) << " "
                << (r.remote ? "remote" : "local") << " " << r.text << "\n";
      temporary = temporary || r.status == relay::Status::Temporary || r.status == relay::Status::Pending;
      permanent = permanent || r.status == relay::Status::Permanent;
    }
  }
  for (const auto& line : report.transcript) std::cout << "transcript " << line << "\n";
  return temporary ? 1 : permanent ? 2 : 0;
}

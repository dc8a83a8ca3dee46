// fuzz_smtp_client.cpp - the SMTP client session (relay/client_session.hpp)
// fed arbitrary server replies: it never crashes, never sends credentials
// without TLS, never takes more input than given, ends every recipient
// decided once closed, and (fed piecewise, with the actions carried out as
// the glue does) always reaches Close when the input ends with a lost
// connection. The first input byte picks the options (TLS policy, AUTH,
// implicit TLS, plaintext AUTH allowed, 8-bit, one to four messages); the
// second the chunk sizes; after each StartTls one byte says whether the
// handshake worked.
#include "relay/client_session.hpp"
#include "fuzz.hpp"

#include <string>

using namespace boxmail::relay;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const unsigned char opt = in.empty() ? 0 : static_cast<unsigned char>(in.front());
  if (!in.empty()) in.remove_prefix(1);
  const std::size_t step = fuzz_step(in);

  ClientOptions o;
  o.ehlo_name = "box.example";
  o.tls = static_cast<TlsPolicy>(opt % 3);
  if (opt & 0x04) o.auth = AuthCredentials{"alice", "fuzz-secret"};
  o.tls_on_connect = (opt & 0x08) != 0;
  o.allow_plaintext_auth = (opt & 0x10) != 0;
  std::vector<OutgoingEnvelope> msgs(1 + (opt >> 6));
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    msgs[i].reverse_path = i == 0 ? "" : "a@b.example";
    msgs[i].recipients = {"x@y.example", "z@y.example"};
    msgs[i].size = 100 * (i + 1);
    msgs[i].eight_bit = (opt & 0x20) != 0;
  }

  ClientSession s(o, msgs);
  std::string sent_clear;   // everything sent before TLS was up
  auto take = [&](const ClientOutput& out) {
    if (!s.secure()) sent_clear += out.send;
    return out.action;
  };
  ClientAction action = ClientAction::None;
  while (!in.empty() && !s.closed()) {
    if (action == ClientAction::StartTls) {   // one input byte: did the handshake work?
      const bool ok = (in.front() & 1) != 0;
      in.remove_prefix(1);
      action = take(s.tls_started(ok));
      continue;
    }
    if (action == ClientAction::SendBody) {
      action = take(s.body_sent());
      continue;
    }
    const std::string_view piece = in.substr(0, step);
    const ClientOutput out = s.receive(piece);
    FUZZ_CHECK(out.used <= piece.size());
    FUZZ_CHECK(out.action != ClientAction::None || out.used == piece.size());
    in.remove_prefix(out.used);   // (the glue drops the rest after StartTls; here it is fed after the handshake)
    action = take(out);
    if (out.used == 0 && out.action == ClientAction::None) break;
  }
  if (!s.closed()) take(s.connection_lost("end of input", LossCause::Closed));
  FUZZ_CHECK(s.closed());
  FUZZ_CHECK(s.results().size() == msgs.size());
  for (const auto& m : s.results()) {
    for (const auto& r : m.recipients) FUZZ_CHECK(r.status != Status::Pending);
  }
  if (!o.allow_plaintext_auth) {
    FUZZ_CHECK(sent_clear.find("AUTH") == std::string::npos);
    FUZZ_CHECK(sent_clear.find("ZnV6ei1zZWNyZXQ") == std::string::npos);   // base64 of "fuzz-secret"
  }
  for (const auto& line : s.transcript()) FUZZ_CHECK(line.find("fuzz-secret") == std::string::npos);
  return 0;
}

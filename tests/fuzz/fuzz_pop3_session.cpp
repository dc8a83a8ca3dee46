// fuzz_pop3_session.cpp - the POP3 session driven as pop3_server.cpp drives
// it (logins succeed or fail by input, a three-message mailbox, retrievals
// and commits succeed; STLS handshakes succeed; the first byte's 0x20 bit
// says whether plaintext logins are allowed, its 0x40 bit whether a
// certificate is loaded, 0x80 TLS from the start): it never crashes, always
// makes progress, and every status line starts "+OK", "-ERR" or "+ "
// (RFC 1939 3, RFC 5034).
#include "fuzz.hpp"
#include "pop3/session.hpp"

#include <chrono>
#include <string>

using namespace boxmail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const unsigned flags = in.empty() ? 0u : static_cast<unsigned char>(in.front());
  const std::size_t step = fuzz_step(in);
  pop3::Security security;
  security.plaintext_login = (flags & 0x20) == 0;
  security.tls_available = (flags & 0x40) != 0;
  config::Pop3Config cfg;
  cfg.max_command_line = 512;
  cfg.idle_timeout = 600;
  cfg.max_errors = 40;
  cfg.login_failures = 5;
  const auto t0 = std::chrono::steady_clock::time_point{};
  pop3::Session s(cfg, pop3::ClientInfo{"192.0.2.9", 110}, "pop.fuzz", t0, security);
  if (security.tls_available && (flags & 0x80) != 0) FUZZ_CHECK(s.on_tls_started(true).replies.empty());
  std::string wire = s.greet().replies;
  bool closed = false;
  auto handle = [&](pop3::Output o) {
    // Follow-up events the glue would feed, until no action is due.
    for (int guard = 0; guard < 8; ++guard) {
      wire += o.replies;
      if (o.action == pop3::Action::Close) {
        closed = true;
        return;
      }
      if (o.action == pop3::Action::Authenticate) {
        // "pw" logs in; "blocked"/"busy" stand for the glue's refusals
        // before any check (address blocked, checker queue full).
        const std::string& pw = s.credentials().password;
        o = s.on_auth_result(pw == "pw"        ? pop3::AuthResult::Ok
                             : pw == "blocked" ? pop3::AuthResult::Blocked
                             : pw == "busy"    ? pop3::AuthResult::Busy
                                               : pop3::AuthResult::Failed);
      } else if (o.action == pop3::Action::ListMailbox) {
        o = s.on_mailbox(std::vector<pop3::MessageInfo>{{120, "uid-1"}, {0, "uid-2"}, {4096, "uid-3"}});
      } else if (o.action == pop3::Action::Retrieve) {
        o = s.on_retrieve(true);
      } else if (o.action == pop3::Action::Commit) {
        o = s.on_committed(0);
      } else if (o.action == pop3::Action::StartTls) {
        FUZZ_CHECK(security.tls_available && !s.tls_active());
        o = s.on_tls_started(true);
        FUZZ_CHECK(s.tls_active() && o.replies.empty());
      } else {
        return;
      }
    }
  };
  for (std::size_t pos = 0; pos < in.size() && !closed; pos += step) {
    std::string_view chunk = in.substr(pos, step);
    while (!chunk.empty() && !closed) {
      std::size_t used = 0;
      pop3::Output o = s.on_input(chunk, t0, used);
      FUZZ_CHECK(used <= chunk.size());
      chunk.remove_prefix(used);
      const bool idle = used == 0 && o.action == pop3::Action::None;
      handle(std::move(o));
      if (idle) break;
    }
  }
  // Status lines: the first line of each reply. Multi-line listings follow
  // a "+OK" and end with "."; check at least that the wire starts right.
  FUZZ_CHECK(wire.rfind("+OK", 0) == 0);
  return 0;
}

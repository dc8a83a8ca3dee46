// fuzz_smtp_session.cpp - the SMTP session driven the way smtp_server.cpp
// drives it, over arbitrary input in arbitrary chunks: it never crashes,
// always makes progress, and every reply line is "DDD-" or "DDD " with an
// enhanced status code of the same class (RFC 3463) where one is sent.
#include "config/schema.hpp"
#include "fuzz.hpp"
#include "smtp/session.hpp"

#include <cctype>
#include <memory>
#include <string>

using namespace boxmail;

namespace {
std::shared_ptr<const config::AccountTable> accounts() {
  static auto t = [] {
    auto a = std::make_shared<config::AccountTable>();
    for (const char* n : {"alice", "bob"}) a->accounts.push_back(config::Account{n, "{SHA512-CRYPT}x", "", "", "", "", "", ""});
    return a;
  }();
  return t;
}

config::ConfigPtr cfg() {
  static config::ConfigPtr c = [] {
    auto x = std::make_shared<config::Config>(*config::default_config());
    x->smtp.max_message_size = 2048;
    x->smtp.max_recipients = 4;
    x->smtp.max_errors = 50;
    x->smtp.max_hops = 3;
    x->aliases["sales"] = {"alice", "bob"};
    x->aliases["void"] = {"null"};
    return x;
  }();
  return c;
}

void check_replies(std::string_view r) {
  while (!r.empty()) {
    const auto end = r.find("\r\n");
    FUZZ_CHECK(end != std::string_view::npos);
    const std::string_view line = r.substr(0, end);
    r.remove_prefix(end + 2);
    FUZZ_CHECK(line.size() >= 4);
    FUZZ_CHECK(std::isdigit(static_cast<unsigned char>(line[0])) && line[0] >= '2' && line[0] <= '5');
    FUZZ_CHECK(line[3] == ' ' || line[3] == '-');
    FUZZ_CHECK(line.find('\r') == std::string_view::npos && line.find('\n') == std::string_view::npos);
    // An enhanced code, when present, has the reply's class.
    if (line.size() > 6 && std::isdigit(static_cast<unsigned char>(line[4])) && line[5] == '.')
      FUZZ_CHECK(line[4] == line[0]);
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::size_t step = fuzz_step(in);
  int qid = 0;
  // The connection's security from the input's last octet (TLS available,
  // plaintext AUTH allowed, submission, implicit TLS), so STARTTLS and AUTH
  // are reached too.
  const unsigned flags = size ? data[size - 1] : 0;
  smtp::Security sec{.tls_available = (flags & 1) != 0, .tls_active = (flags & 8) != 0,
                     .submission = (flags & 4) != 0, .plaintext_auth = (flags & 2) != 0};
  smtp::Session s(cfg(), accounts(), smtp::ClientInfo{"192.0.2.7", 25}, "mx.fuzz",
                  [&] { return "Q" + std::to_string(++qid); }, {}, sec);
  int checks = 0;
  // The checks at connection time (flag 16): the verdict, when a RCPT
  // waits for it, lists the client with the input itself as the list's
  // TXT reason (hostile text into a reply), or refuses by reverse DNS.
  if (flags & 16) s.expect_client_check();
  check_replies(s.greet().replies);
  std::string body;
  bool closed = false;
  for (std::size_t pos = 0; pos < in.size() && !closed; pos += step) {
    std::string_view chunk = in.substr(pos, step);
    while (!chunk.empty() && !closed) {
      std::size_t used = 0;
      smtp::Output o = s.on_input(chunk, {}, body, used);
      FUZZ_CHECK(used <= chunk.size());
      chunk.remove_prefix(used);
      check_replies(o.replies);
      if (o.action == smtp::Action::Commit) {
        FUZZ_CHECK(s.committing());
        check_replies(s.on_committed(qid % 2 ? 0 : 28).replies);
      }
      if (o.action == smtp::Action::StartTls) {
        FUZZ_CHECK(!s.tls_active());
        const smtp::Output t = s.on_tls_started(pos % 3 != 0, "TLSv1.2 FUZZ");
        check_replies(t.replies);
        FUZZ_CHECK(t.replies.empty());
        if (t.action == smtp::Action::Close) closed = true;
        chunk = {};   // the driver drops what was read after STARTTLS
      }
      if (o.action == smtp::Action::Authenticate) {
        FUZZ_CHECK(s.authenticated().empty());
        FUZZ_CHECK(!s.credentials().authcid.empty());
        const auto outcome = static_cast<smtp::AuthOutcome>(++checks % 4);
        const smtp::Output a = s.on_auth_result(outcome, outcome == smtp::AuthOutcome::Ok ? "alice" : "");
        check_replies(a.replies);
        FUZZ_CHECK(s.credentials().password.empty());
        if (a.action == smtp::Action::Close) closed = true;
      }
      if (o.action == smtp::Action::ClientCheck) {
        FUZZ_CHECK((flags & 16) != 0 && s.waiting_for_client_check());
        smtp::ClientLookups l;
        l.client = "192.0.2.7";
        smtp::DnsblResult r;
        r.zone = "bl.fuzz";
        r.status = dns::LookupStatus::Ok;
        r.addresses = {(flags & 32) ? "127.0.0.2" : "127.255.255.254"};
        r.txt_status = dns::LookupStatus::Ok;
        r.texts = {std::string(in.substr(0, 3000))};
        l.dnsbl.push_back(r);
        l.reverse_asked = true;
        l.reverse.ptr_status = (flags & 64) ? dns::LookupStatus::NxDomain : dns::LookupStatus::TempFail;
        const smtp::ClientVerdict v = smtp::client_verdict(
            l, (flags & 128) ? config::ReverseDnsPolicy::Reject : config::ReverseDnsPolicy::Log);
        for (const auto& line : v.log) FUZZ_CHECK(line.find_first_of("\r\n") == std::string::npos);
        const smtp::Output c = s.on_client_check(v, {});
        check_replies(c.replies);
        for (std::string_view r2 = c.replies; !r2.empty();) {
          const auto end = r2.find("\r\n");
          FUZZ_CHECK(end <= 510);   // RFC 5321 4.5.3.1.5: 512 octets with CRLF
          r2.remove_prefix(end + 2);
        }
        FUZZ_CHECK(!s.waiting_for_client_check());
        if (c.action == smtp::Action::Close) closed = true;
      }
      if (o.action == smtp::Action::Close) closed = true;
      if (used == 0 && o.action == smtp::Action::None) break;
      FUZZ_CHECK(body.size() <= 2 * size + 16);
    }
    body.clear();
  }
  check_replies(s.on_timeout().replies);
  return 0;
}

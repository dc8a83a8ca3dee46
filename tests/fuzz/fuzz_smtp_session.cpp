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
      if (o.action == smtp::Action::Close) closed = true;
      if (used == 0 && o.action == smtp::Action::None) break;
      FUZZ_CHECK(body.size() <= 2 * size + 16);
    }
    body.clear();
  }
  check_replies(s.on_timeout().replies);
  return 0;
}

// test_message.cpp - see test_message.hpp.
#include "relay/test_message.hpp"

#include "address/mailbox.hpp"
#include "address/resolve.hpp"
#include "smtp/session.hpp"

#include <chrono>

namespace boxmail::relay {

namespace {
constexpr char kLocal[] = "that address is delivered on this box; a test message needs an address at another domain";
}  // namespace

TestRecipient check_test_recipient(std::string_view text, const config::Config& config,
                                   const config::AccountTable& accounts) {
  TestRecipient out;
  if (config.relay.route.empty()) {
    out.error = "no outgoing mail route is configured";
    return out;
  }
  const std::string path = text.starts_with('<') ? std::string(text) : "<" + std::string(text) + ">";
  const address::PathResult p = address::parse_forward_path(path);
  if (text.empty() || !p.error.empty() || p.end != path.size()) {
    out.error = "'" + std::string(text) + "' is not an e-mail address" + (p.error.empty() ? "" : ": " + p.error);
    return out;
  }
  if (p.mailbox.domain.empty()) {   // <Postmaster>
    out.error = kLocal;
    return out;
  }
  const address::Resolution r =
      address::resolve_recipient(p.mailbox, config, accounts, address::Sender::RelayClient);
  switch (r.verdict) {
    case address::Verdict::Relay:
      out.address = p.mailbox.to_string();
      return out;
    case address::Verdict::NoRoute:
      out.error = "no outgoing mail route is configured";
      return out;
    case address::Verdict::RelayTrick:
    case address::Verdict::DomainRefused:
      out.error = "that address is never relayed (" + r.detail + ")";
      return out;
    case address::Verdict::Deliver:
    case address::Verdict::UnknownUser:
    case address::Verdict::AliasLoop:
      break;
  }
  out.error = kLocal;
  return out;
}

std::string compose_test_message(const TestMessageInput& in) {
  const std::string date = smtp::rfc5322_date(std::chrono::system_clock::time_point(std::chrono::seconds(in.now)));
  std::string m;
  m += "Date: " + date + "\r\n";
  m += "From: \"boxmail on " + in.hostname + "\" <postmaster@" + in.hostname + ">\r\n";   // quoted: a '.' is no atext
  m += "To: <" + in.to + ">\r\n";
  m += "Message-ID: <" + in.id + ".test@" + in.hostname + ">\r\n";
  m += "Subject: " + std::string(kTestSubject) + "\r\n";
  m += "Auto-Submitted: auto-generated\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: text/plain; charset=us-ascii\r\n";
  m += "\r\n";
  m += "This is a test message from the mail server " + in.hostname + ".\r\n";
  m += "Its administrator sent it to check the way out for mail to other\r\n";
  m += "domains. Nothing needs to be done with it.\r\n";
  return m;
}

}  // namespace boxmail::relay

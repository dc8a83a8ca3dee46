// reply.cpp - the SMTP reply table (see reply.hpp).
#include "smtp/reply.hpp"

#include <array>
#include <cstddef>

namespace boxmail::smtp {
namespace {

struct Row {
  ReplyId id;
  ReplyInfo info;
};

// One row per reply, in ReplyId order (checked by the unit tests).
constexpr std::array kTable{
    Row{ReplyId::Ok, {250, "2.0.0", "Ok", Next::Keep}},
    Row{ReplyId::SenderOk, {250, "2.1.0", "Sender ok", Next::Keep}},
    Row{ReplyId::RecipientOk, {250, "2.1.5", "Recipient ok", Next::Keep}},
    Row{ReplyId::Queued, {250, "2.0.0", "Ok: queued as ", Next::Keep}},
    Row{ReplyId::StartData, {354, "", "End data with <CR><LF>.<CR><LF>", Next::Keep}},
    Row{ReplyId::Bye, {221, "2.0.0", "Bye", Next::Close}},
    Row{ReplyId::Help, {214, "2.0.0", "Commands: EHLO HELO STARTTLS AUTH MAIL RCPT DATA RSET NOOP QUIT HELP VRFY", Next::Keep}},
    Row{ReplyId::CannotVrfy, {252, "2.5.0", "Cannot VRFY user, but will accept message", Next::Keep}},
    Row{ReplyId::VrfyOk, {250, "2.1.5", "", Next::Keep}},
    Row{ReplyId::VrfyUnknown, {550, "5.1.1", "User unknown", Next::Keep}},
    Row{ReplyId::Unrecognized, {500, "5.5.2", "Error: command not recognized", Next::Keep}},
    Row{ReplyId::LineTooLong, {500, "5.5.2", "Error: line too long", Next::Keep}},
    Row{ReplyId::NotImplemented, {502, "5.5.1", "Error: command not implemented", Next::Keep}},
    Row{ReplyId::SyntaxParams, {501, "5.5.4", "Syntax: ", Next::Keep}},
    Row{ReplyId::BadSender, {501, "5.1.7", "Bad sender address syntax: ", Next::Keep}},
    Row{ReplyId::BadRecipient, {501, "5.1.3", "Bad recipient address syntax: ", Next::Keep}},
    Row{ReplyId::UnknownParam, {555, "5.5.4", "Unsupported parameter: ", Next::Keep}},
    Row{ReplyId::NeedHelo, {503, "5.5.1", "Error: send HELO/EHLO first", Next::Keep}},
    Row{ReplyId::NestedMail, {503, "5.5.1", "Error: nested MAIL command", Next::Keep}},
    Row{ReplyId::NeedMail, {503, "5.5.1", "Error: need MAIL command", Next::Keep}},
    Row{ReplyId::NeedRcpt, {503, "5.5.1", "Error: need RCPT command", Next::Keep}},
    Row{ReplyId::NoValidRcpt, {554, "5.5.1", "Error: no valid recipients", Next::Keep}},
    Row{ReplyId::TooBig, {552, "5.3.4", "Message size exceeds fixed limit", Next::Keep}},
    Row{ReplyId::TooManyRcpt, {452, "4.5.3", "Error: too many recipients", Next::Keep}},
    Row{ReplyId::TooManyHops, {554, "5.4.6", "Too many hops (mail loop?)", Next::Keep}},
    Row{ReplyId::UserUnknown, {550, "5.1.1", "Recipient address rejected: User unknown: ", Next::Keep}},
    Row{ReplyId::RelayDenied, {550, "5.7.1", "Relay access denied: ", Next::Keep}},
    Row{ReplyId::RelayTrick, {550, "5.7.1", "Route-like address refused: ", Next::Keep}},
    Row{ReplyId::AliasLoop, {550, "5.4.6", "Alias expansion too deep: ", Next::Keep}},
    Row{ReplyId::BareLfRefused, {550, "5.5.2", "Message refused: bare LF (line feed without carriage return)", Next::Keep}},
    Row{ReplyId::BareCrRefused, {550, "5.5.2", "Message refused: bare CR (carriage return without line feed)", Next::Keep}},
    Row{ReplyId::DataLineTooLong, {554, "5.6.0", "Message refused: line too long; the limit in octets is ", Next::Keep}},
    Row{ReplyId::LocalError, {451, "4.3.0", "Error: local error in processing", Next::Keep}},
    Row{ReplyId::NoStorage, {452, "4.3.1", "Error: insufficient system storage", Next::Keep}},
    Row{ReplyId::TooManyConnections, {421, "4.7.0", "Error: too many connections", Next::Close}},
    Row{ReplyId::TooManyConnectionsFromIp, {421, "4.7.0", "Error: too many connections from your address", Next::Close}},
    Row{ReplyId::TooManyErrors, {421, "4.7.0", "Error: too many errors", Next::Close}},
    Row{ReplyId::Timeout, {421, "4.4.2", "Error: timeout exceeded", Next::Close}},
    Row{ReplyId::ShuttingDown, {421, "4.3.2", "Service shutting down", Next::Close}},
    Row{ReplyId::HttpRefused, {554, "5.7.0", "This is an SMTP server, not HTTP; closing", Next::Close}},
    Row{ReplyId::MailboxFull, {452, "4.2.2", "Recipient address rejected: Mailbox full: ", Next::Keep}},
    Row{ReplyId::OverQuota, {552, "5.2.2", "Recipient address rejected: Message larger than the mailbox's quota: ", Next::Keep}},
    Row{ReplyId::IdleEvicted, {421, "4.4.2", "Error: no progress for too long; closing to make room", Next::Close}},
    Row{ReplyId::NoDescriptors, {421, "4.3.2", "Error: out of resources, try again later", Next::Close}},
    Row{ReplyId::TlsReady, {220, "2.0.0", "Ready to start TLS", Next::Keep}},
    Row{ReplyId::TlsNotAvailable, {454, "4.7.0", "TLS not available due to temporary reason", Next::Keep}},
    Row{ReplyId::TlsActive, {503, "5.5.1", "Error: TLS already active", Next::Keep}},
    Row{ReplyId::AuthChallenge, {334, "", "", Next::Keep}},
    Row{ReplyId::AuthOk, {235, "2.7.0", "Authentication successful", Next::Keep}},
    Row{ReplyId::AuthFailed, {535, "5.7.8", "Error: authentication failed", Next::Keep}},
    Row{ReplyId::AuthCancelled, {501, "5.7.0", "Authentication cancelled", Next::Keep}},
    Row{ReplyId::AuthBadResponse, {501, "5.5.2", "Error: cannot decode the authentication response", Next::Keep}},
    Row{ReplyId::AuthLineTooLong, {500, "5.5.6", "Authentication Exchange line is too long", Next::Keep}},
    Row{ReplyId::AuthMechanism, {504, "5.5.4", "Unrecognized authentication type: ", Next::Keep}},
    Row{ReplyId::AuthAlready, {503, "5.5.1", "Error: already authenticated", Next::Keep}},
    Row{ReplyId::AuthInTransaction, {503, "5.5.1", "Error: AUTH not allowed during a mail transaction", Next::Keep}},
    Row{ReplyId::AuthNeedsTls, {538, "5.7.11", "Encryption required for requested authentication mechanism: send STARTTLS first", Next::Keep}},
    Row{ReplyId::AuthTemporary, {454, "4.7.0", "Temporary authentication failure, try again later", Next::Keep}},
    Row{ReplyId::AuthRequired, {530, "5.7.0", "Authentication required", Next::Keep}},
    Row{ReplyId::SenderNotOwned, {553, "5.7.1", "Sender address rejected: not owned by the logged-in user: ", Next::Keep}},
    Row{ReplyId::NoOutgoingRoute, {550, "5.7.1", "Relay access denied: no outgoing mail route is configured: ", Next::Keep}},
    Row{ReplyId::DnsblListed, {554, "5.7.1", "Service unavailable; Client host ", Next::Keep}},
    Row{ReplyId::ClientHostUnknown, {550, "5.7.25", "Client host rejected: cannot find your hostname, ", Next::Keep}},
    Row{ReplyId::ClientHostMismatch, {550, "5.7.25", "Client host rejected: your hostname does not resolve to your address: ", Next::Keep}},
    Row{ReplyId::ClientHostTempFail, {450, "4.7.25", "Client host rejected: cannot find your hostname (DNS failed; try again later), ", Next::Keep}},
    Row{ReplyId::ClientBanned, {421, "4.7.0", "Error: your address is banned here for a time", Next::Close}},
    Row{ReplyId::NotFeedServer, {554, "5.7.1", "No SMTP service here for client host ", Next::Keep}},
    Row{ReplyId::NoServiceHere, {503, "5.5.1", "Error: no SMTP service here; send QUIT", Next::Keep}},
};

constexpr bool table_in_order() {
  for (std::size_t i = 0; i < kTable.size(); ++i) {
    if (static_cast<std::size_t>(kTable[i].id) != i) return false;
  }
  return true;
}
static_assert(table_in_order(), "reply table rows must follow ReplyId order");

}  // namespace

const ReplyInfo& reply_info(ReplyId id) {
  return kTable[static_cast<std::size_t>(id)].info;
}

std::string format_reply(ReplyId id, std::string_view arg, std::string_view host) {
  const ReplyInfo& r = reply_info(id);
  std::string out;
  out.reserve(16 + r.text.size() + arg.size() + host.size());
  out += std::to_string(r.code);
  out += ' ';
  if (!r.enhanced.empty()) {
    out += r.enhanced;
    out += ' ';
  }
  if (r.code == 421 && !host.empty()) {
    out += host;
    out += ' ';
  }
  out += r.text;
  // Arguments come from the peer (addresses) or config: never let a CR or LF
  // through, so a reply stays one line.
  for (char c : arg) out += (c == '\r' || c == '\n') ? ' ' : c;
  out += "\r\n";
  return out;
}

}  // namespace boxmail::smtp

// reply.cpp - the POP3 reply table (see reply.hpp).
#include "pop3/reply.hpp"

#include <array>
#include <cstddef>

namespace boxmail::pop3 {
namespace {

struct Row {
  ReplyId id;
  ReplyInfo info;
};

// One row per reply, in ReplyId order (checked at compile time below).
constexpr std::array kTable{
    Row{ReplyId::Greeting, {true, "", "<arg> POP3 boxmail ready", Next::Keep}},
    Row{ReplyId::Ok, {true, "", "", Next::Keep}},
    Row{ReplyId::UserOk, {true, "", "Send PASS", Next::Keep}},
    Row{ReplyId::LoggedIn, {true, "", "Logged in: ", Next::Keep}},
    Row{ReplyId::Capabilities, {true, "", "Capability list follows", Next::Keep}},
    Row{ReplyId::Mechanisms, {true, "", "SASL mechanisms follow", Next::Keep}},
    Row{ReplyId::ListFollows, {true, "", "", Next::Keep}},
    Row{ReplyId::Stat, {true, "", "", Next::Keep}},
    Row{ReplyId::Scan, {true, "", "", Next::Keep}},
    Row{ReplyId::MessageFollows, {true, "", "<arg> octets", Next::Keep}},
    Row{ReplyId::Deleted, {true, "", "Message <arg> deleted", Next::Keep}},
    Row{ReplyId::Reset, {true, "", "", Next::Keep}},
    Row{ReplyId::Bye, {true, "", "Logging out", Next::Close}},
    Row{ReplyId::SaslContinue, {true, "", "", Next::Keep}},
    Row{ReplyId::Unknown, {false, "", "Unknown command", Next::Keep}},
    Row{ReplyId::WrongState, {false, "", "Command not valid in this state", Next::Keep}},
    Row{ReplyId::Syntax, {false, "", "Syntax: ", Next::Keep}},
    Row{ReplyId::NoSuchMessage, {false, "", "No such message", Next::Keep}},
    Row{ReplyId::AlreadyDeleted, {false, "", "Message <arg> already deleted", Next::Keep}},
    Row{ReplyId::LineTooLong, {false, "", "Line too long", Next::Keep}},
    Row{ReplyId::NeedUser, {false, "", "Send USER first", Next::Keep}},
    Row{ReplyId::AuthFailed, {false, "AUTH", "Authentication failed", Next::Keep}},
    Row{ReplyId::AuthFailedClose, {false, "AUTH", "Authentication failed; too many failures, closing", Next::Close}},
    Row{ReplyId::Pop3Disabled, {false, "AUTH", "POP3 access is disabled for this mailbox", Next::Keep}},
    Row{ReplyId::InUse, {false, "IN-USE", "Mailbox is in use by another POP3 session", Next::Keep}},
    Row{ReplyId::LoginsBlocked, {false, "SYS/TEMP", "Too many failed logins from your address; try again later", Next::Keep}},
    Row{ReplyId::LoginBusy, {false, "SYS/TEMP", "Too many logins being checked; try again later", Next::Keep}},
    Row{ReplyId::AuthCancelled, {false, "", "Authentication cancelled", Next::Keep}},
    Row{ReplyId::BadMechanism, {false, "", "Unsupported authentication mechanism", Next::Keep}},
    Row{ReplyId::BadBase64, {false, "", "Invalid base64 data", Next::Keep}},
    Row{ReplyId::NoStls, {false, "", "STLS is not available: no TLS certificate is loaded", Next::Keep}},
    Row{ReplyId::StlsReady, {true, "", "Begin TLS negotiation", Next::Keep}},
    Row{ReplyId::StlsActive, {false, "", "TLS is already active", Next::Keep}},
    Row{ReplyId::PlaintextRefused,
        {false, "AUTH", "Plaintext logins are not allowed without TLS: use STLS (or the POP3S port)", Next::Keep}},
    Row{ReplyId::PlaintextNoTls,
        {false, "SYS/PERM", "Plaintext logins are not allowed without TLS, and no TLS certificate is loaded",
         Next::Keep}},
    Row{ReplyId::MailboxError, {false, "SYS/TEMP", "Cannot open the mailbox", Next::Close}},
    Row{ReplyId::MessageGone, {false, "SYS/TEMP", "Message <arg> is no longer available", Next::Keep}},
    Row{ReplyId::CommitError, {false, "SYS/TEMP", "Some changes were not saved: ", Next::Close}},
    Row{ReplyId::TooManyErrors, {false, "", "Too many errors, closing", Next::Close}},
    Row{ReplyId::Timeout, {false, "", "Disconnected for inactivity", Next::Close}},
    Row{ReplyId::ShuttingDown, {false, "SYS/TEMP", "Server shutting down", Next::Close}},
    Row{ReplyId::TooManyConnections, {false, "SYS/TEMP", "Too many connections", Next::Close}},
    Row{ReplyId::TooManyConnectionsFromIp, {false, "SYS/TEMP", "Too many connections from your address", Next::Close}},
    Row{ReplyId::HttpRefused, {false, "", "This is a POP3 server, not HTTP; closing", Next::Close}},
    Row{ReplyId::MessageDamaged, {false, "SYS/TEMP", "Message <arg> cannot be sent: its file does not match its size", Next::Keep}},
    Row{ReplyId::IdleEvicted, {false, "", "Disconnected for inactivity to make room for another client", Next::Close}},
    Row{ReplyId::NoDescriptors, {false, "SYS/TEMP", "Server out of resources, try again later", Next::Close}},
    Row{ReplyId::Banned, {false, "SYS/PERM", "Your address is banned here for a time", Next::Close}},
};

constexpr bool table_in_order() {
  for (std::size_t i = 0; i < kTable.size(); ++i) {
    if (static_cast<std::size_t>(kTable[i].id) != i) return false;
  }
  return true;
}
static_assert(table_in_order(), "reply table rows must follow ReplyId order");

void append_clean(std::string& out, std::string_view s) {
  for (char c : s) out += (c == '\r' || c == '\n' || c == '\0') ? ' ' : c;
}

}  // namespace

const ReplyInfo& reply_info(ReplyId id) { return kTable[static_cast<std::size_t>(id)].info; }

std::string format_reply(ReplyId id, std::string_view arg) {
  const ReplyInfo& r = reply_info(id);
  std::string out;
  out.reserve(16 + r.code.size() + r.text.size() + arg.size());
  if (id == ReplyId::SaslContinue) {
    out = "+ ";
    append_clean(out, arg);
    out += "\r\n";
    return out;
  }
  out += r.ok ? "+OK" : "-ERR";
  if (!r.code.empty()) {
    out += " [";
    out += r.code;
    out += ']';
  }
  std::string_view text = r.text;
  const auto slot = text.find("<arg>");
  std::string body;
  if (slot != std::string_view::npos) {
    body.append(text.substr(0, slot));
    append_clean(body, arg);
    body.append(text.substr(slot + 5));
  } else {
    body.append(text);
    append_clean(body, arg);
  }
  if (!body.empty()) {
    out += ' ';
    out += body;
  }
  out += "\r\n";
  return out;
}

}  // namespace boxmail::pop3

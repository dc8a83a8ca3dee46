// dsn.cpp - see dsn.hpp.
#include "relay/dsn.hpp"

#include "smtp/session.hpp"

#include <algorithm>
#include <chrono>

namespace boxmail::relay {
namespace {

constexpr std::size_t kFoldAt = 76;        // fold a field line after this many octets when it can
constexpr std::size_t kMaxValue = 900;     // octets of outside text kept in one field

/// One line of printable ASCII: controls and line ends become blanks,
/// 8-bit octets '?', runs of blanks one blank, at most kMaxValue octets.
std::string clean(std::string_view s) {
  std::string out;
  out.reserve(std::min(s.size(), kMaxValue));
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    char o = u >= 0x80 ? '?' : (u < 0x20 || u == 0x7f) ? ' ' : c;
    if (o == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += o;
    if (out.size() >= kMaxValue) break;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

/// `value` CRLF, folded at blanks once a line is past kFoldAt octets
/// (RFC 5322 2.2.3); `used`: octets already on the first line.
void folded(std::string& out, std::size_t used, std::string_view value) {
  std::size_t line_len = used;
  bool line_has_word = false;
  std::size_t pos = 0;
  while (pos < value.size()) {
    std::size_t sp = value.find(' ', pos + 1);
    if (sp == std::string_view::npos) sp = value.size();
    const std::string_view word = value.substr(pos, sp - pos);   // with its leading blank, but the first
    if (line_has_word && line_len + word.size() > kFoldAt && word.front() == ' ') {
      out += "\r\n";
      line_len = 0;
    }
    out += word;
    line_len += word.size();
    line_has_word = true;
    pos = sp;
  }
  out += "\r\n";
}

/// "Name: value" CRLF, folded.
void field(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  folded(out, name.size() + 2, value);
}

/// `text` with LF or CRLF line ends as CRLF; a bare CR becomes a blank.
std::string crlf(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 32);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\r') {
      if (i + 1 < text.size() && text[i + 1] == '\n') continue;   // the LF writes the CRLF
      out += ' ';
    } else if (c == '\n') {
      out += "\r\n";
    } else {
      out += c;
    }
  }
  if (!out.empty() && !out.ends_with("\r\n")) out += "\r\n";
  return out;
}

bool three_digits(std::string_view s) {
  return s.size() >= 3 && std::all_of(s.begin(), s.begin() + 3, [](char c) { return c >= '0' && c <= '9'; }) &&
         (s.size() == 3 || s[3] == ' ' || s[3] == '-');
}

/// The enhanced status code after the basic code of `reply`, if any.
std::optional<std::string> enhanced(std::string_view reply) {
  if (!three_digits(reply) || reply.size() < 9) return std::nullopt;
  std::string_view rest = reply.substr(4);
  const auto end = rest.find(' ');
  const std::string_view code = rest.substr(0, end);
  int parts = 0;
  std::size_t digits = 0;
  for (char c : code) {
    if (c == '.') {
      if (digits == 0 || digits > 3) return std::nullopt;
      ++parts;
      digits = 0;
    } else if (c >= '0' && c <= '9') {
      ++digits;
    } else {
      return std::nullopt;
    }
  }
  if (parts != 2 || digits == 0 || digits > 3) return std::nullopt;
  if (code[0] != '2' && code[0] != '4' && code[0] != '5') return std::nullopt;
  return std::string(code);
}

std::string plural(std::size_t n, const char* one, const char* many) { return n == 1 ? one : many; }

}  // namespace

std::string dsn_date(std::int64_t t) {
  return smtp::rfc5322_date(std::chrono::system_clock::time_point(std::chrono::seconds(t)));
}

std::string dsn_status(std::string_view reply, DsnAction action, bool expired) {
  if (expired) return "5.4.7";
  const char want = action == DsnAction::Failed ? '5' : '4';
  if (auto code = enhanced(reply); code && (*code)[0] == want) return *code;
  if (three_digits(reply) && reply[0] == want) return std::string(1, want) + ".0.0";
  return action == DsnAction::Failed ? "5.0.0" : "4.4.1";
}

std::string header_section(std::string_view message, std::size_t limit) {
  std::size_t end = std::string_view::npos;
  for (std::size_t pos = 0; pos < message.size();) {
    const auto nl = message.find('\n', pos);
    if (nl == std::string_view::npos) break;
    const std::string_view line = message.substr(pos, nl - pos);
    if (line.empty() || line == "\r") {
      end = pos;
      break;
    }
    pos = nl + 1;
    if (pos > limit) break;
    end = pos;
  }
  if (end == std::string_view::npos) end = std::min(message.size(), limit);
  return std::string(message.substr(0, end));
}

std::string build_dsn(const DsnInput& in) {
  const bool failure = std::any_of(in.recipients.begin(), in.recipients.end(),
                                   [](const DsnRecipient& r) { return r.action == DsnAction::Failed; });
  const std::string host = clean(in.reporting_mta);
  const std::string headers = crlf(in.original_headers);
  // A boundary that no outside text holds (RFC 2046 5.1.1).
  std::string boundary = "=_boxmail_" + clean(in.notice_id) + "_" + std::to_string(in.now);
  const auto taken = [&](const std::string& b) {
    if (headers.find(b) != std::string::npos || in.to.find(b) != std::string::npos) return true;
    return std::any_of(in.recipients.begin(), in.recipients.end(), [&](const DsnRecipient& r) {
      return r.diagnostic.find(b) != std::string::npos || r.final_recipient.find(b) != std::string::npos ||
             r.original_recipient.find(b) != std::string::npos || r.remote_mta.find(b) != std::string::npos;
    });
  };
  while (taken(boundary)) boundary += "_";

  std::string out;
  out.reserve(2048 + headers.size());
  field(out, "From", "Mail Delivery System <MAILER-DAEMON@" + host + ">");
  field(out, "To", "<" + clean(in.to) + ">");
  field(out, "Subject", failure ? "Undelivered Mail Returned to Sender" : "Delayed Mail (still being retried)");
  field(out, "Date", dsn_date(in.now));
  field(out, "Message-ID", "<" + clean(in.notice_id) + "." + std::to_string(in.now) + "@" + host + ">");
  field(out, "Auto-Submitted", "auto-replied");
  field(out, "MIME-Version", "1.0");
  field(out, "Content-Type",
        "multipart/report; report-type=delivery-status; boundary=\"" + boundary + "\"");
  out += "\r\nThis is a MIME-encapsulated message.\r\n\r\n--" + boundary + "\r\n";

  // 1. For a human.
  field(out, "Content-Description", "Notification");
  field(out, "Content-Type", "text/plain; charset=us-ascii");
  out += "\r\nThis is the mail system at host " + host + ".\r\n\r\n";
  if (failure) {
    out += "I'm sorry to have to inform you that your message could not be\r\n"
           "delivered to " + plural(in.recipients.size(), "its recipient", "one or more recipients") +
           ". It is attached below.\r\n";
  } else {
    out += "Your message could not be delivered yet to the " +
           plural(in.recipients.size(), "recipient", "recipients") + " below.\r\n"
           "The mail system will keep trying; you need not send it again.\r\n";
  }
  out += "\r\n";
  for (const DsnRecipient& r : in.recipients) {
    std::string line = "<" + clean(r.final_recipient) + ">";
    if (!r.original_recipient.empty()) line += " (expanded from <" + clean(r.original_recipient) + ">)";
    line += ": " + (r.diagnostic.empty() ? std::string("no reply") : clean(r.diagnostic));
    if (!r.remote_mta.empty()) line += " (from " + clean(r.remote_mta) + ")";
    if (r.action == DsnAction::Delayed && r.will_retry_until != 0)
      line += "; tried until " + dsn_date(r.will_retry_until);
    folded(out, 0, line);   // one paragraph per recipient
    out += "\r\n";
  }
  out += "Queue id of your message: " + clean(in.queue_id) + "\r\n";

  // 2. For a program: RFC 3464.
  out += "\r\n--" + boundary + "\r\n";
  field(out, "Content-Description", "Delivery report");
  field(out, "Content-Type", "message/delivery-status");
  out += "\r\n";
  field(out, "Reporting-MTA", "dns; " + host);
  field(out, "X-Boxmail-Queue-ID", clean(in.queue_id));
  if (!in.received_from_mta.empty()) field(out, "Received-From-MTA", "dns; " + clean(in.received_from_mta));
  if (in.arrival != 0) field(out, "Arrival-Date", dsn_date(in.arrival));
  for (const DsnRecipient& r : in.recipients) {
    out += "\r\n";
    if (!r.original_recipient.empty()) field(out, "Original-Recipient", "rfc822; " + clean(r.original_recipient));
    field(out, "Final-Recipient", "rfc822; " + clean(r.final_recipient));
    field(out, "Action", r.action == DsnAction::Failed ? "failed" : "delayed");
    field(out, "Status", r.status.empty() ? dsn_status(r.diagnostic, r.action) : clean(r.status));
    if (!r.remote_mta.empty()) field(out, "Remote-MTA", "dns; " + clean(r.remote_mta));
    if (!r.diagnostic.empty()) {
      field(out, "Diagnostic-Code", (three_digits(r.diagnostic) ? "smtp; " : "X-Boxmail; ") + clean(r.diagnostic));
    }
    if (r.last_attempt != 0) field(out, "Last-Attempt-Date", dsn_date(r.last_attempt));
    if (r.action == DsnAction::Delayed && r.will_retry_until != 0)
      field(out, "Will-Retry-Until", dsn_date(r.will_retry_until));
  }

  // 3. The original's header section.
  out += "\r\n--" + boundary + "\r\n";
  field(out, "Content-Description", "Undelivered Message Headers");
  field(out, "Content-Type", "text/rfc822-headers");
  const bool eight_bit = std::any_of(headers.begin(), headers.end(),
                                     [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
  if (eight_bit) field(out, "Content-Transfer-Encoding", "8bit");
  out += "\r\n" + headers;
  out += "\r\n--" + boundary + "--\r\n";
  return out;
}

}  // namespace boxmail::relay

// request.cpp - see request.hpp.
#include "firewall/request.hpp"

#include "text/number.hpp"

namespace boxmail::firewall {
namespace {

/// Up to 40 octets of `s` for an error message, non-printable octets as '?'.
std::string shown(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 40)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (s.size() > 40) out += "...";
  return "'" + out + "'";
}

/// `s` split at `sep`; nullopt when an item is empty (two separators
/// meet, or one begins or ends the text).
std::optional<std::vector<std::string_view>> split_at(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const auto at = s.find(sep, start);
    const std::string_view item = s.substr(start, at == std::string_view::npos ? at : at - start);
    if (item.empty()) return std::nullopt;
    out.push_back(item);
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

/// A decimal number in canonical form (no leading zero) within [min, max].
std::optional<std::uint32_t> canonical_number(std::string_view s, std::uint32_t min, std::uint32_t max) {
  const auto n = text::parse_unsigned<std::uint32_t>(s, max);
  if (!n || n.value < min || std::to_string(n.value) != s) return std::nullopt;
  return n.value;
}

/// A "NAME=P,P,..." field of an apply into `out`; "" or the error.
std::string parse_port_list(std::string_view field, std::string_view name, std::vector<std::uint16_t>& out) {
  const std::string head = std::string(name) + "=";
  if (!field.starts_with(head)) return "apply: expected " + head + "P,P,...";
  const auto items = split_at(field.substr(head.size()), ',');
  if (!items) return "apply: the " + std::string(name) + " are a comma-separated list without empty items";
  if (items->size() > kMaxPorts) return "apply: more than " + std::to_string(kMaxPorts) + " " + std::string(name);
  for (std::string_view item : *items) {
    const auto p = canonical_number(item, 1, 65535);
    if (!p) return "apply: " + shown(item) + " is not a port (1..65535, no leading zero)";
    if (!out.empty() && *p <= out.back()) return "apply: the ports must be ascending and each given once";
    out.push_back(static_cast<std::uint16_t>(*p));
  }
  return {};
}

/// A "NAME=N,N,..." or "NAME=-" field of an apply into `out` (at most
/// `max`); "" or the error.
std::string parse_network_list(std::string_view field, std::string_view name, std::size_t max,
                               std::vector<net::IpNetwork>& out) {
  const std::string head = std::string(name) + "=";
  if (!field.starts_with(head)) return "apply: expected " + head + "N,N,... or " + head + "-";
  const std::string_view list = field.substr(head.size());
  if (list == "-") return {};
  const auto items = split_at(list, ',');
  if (!items) return "apply: the networks of " + head + " are a comma-separated list without empty items (or -)";
  if (items->size() > max) return "apply: more than " + std::to_string(max) + " networks in " + head;
  for (std::string_view item : *items) {
    std::string why;
    const bool plain = item.find_first_not_of("0123456789abcdef.:/") == std::string_view::npos;
    const auto n = plain ? net::parse_network(item, why) : std::nullopt;
    if (!n || n->to_string() != item) return "apply: " + shown(item) + " is not a network in canonical form";
    if (n->prefix == 0) return "apply: " + shown(item) + " holds every address";
    out.push_back(*n);
  }
  return {};
}

std::string networks_text(const std::vector<net::IpNetwork>& networks) {
  if (networks.empty()) return "-";
  std::string out;
  for (std::size_t i = 0; i < networks.size(); ++i) out += (i ? "," : "") + networks[i].to_string();
  return out;
}

std::string ports_text(const std::vector<std::uint16_t>& ports) {
  std::string out;
  for (std::size_t i = 0; i < ports.size(); ++i) out += (i ? "," : "") + std::to_string(ports[i]);
  return out;
}

/// `text` with every octet outside printable ASCII replaced by '?'.
std::string printable(std::string_view text) {
  std::string out;
  for (char c : text) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

}  // namespace

std::string reason_error(std::string_view reason) {
  if (reason.empty() || reason.size() > kMaxReasonLength)
    return "the reason must be 1.." + std::to_string(kMaxReasonLength) + " characters";
  if (reason.front() < 'a' || reason.front() > 'z') return "the reason must start with a letter a-z";
  for (char c : reason) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
      return "the reason may hold only a-z, 0-9 and '-'";
  }
  return {};
}

std::optional<net::IpNetwork> parse_canonical_address(std::string_view text) {
  // Only the characters of inet_ntop's output: no wildcard, no prefix.
  if (text.empty() || text.find_first_not_of("0123456789abcdef.:") != std::string_view::npos) return std::nullopt;
  std::string why;
  const auto n = net::parse_network(text, why);
  if (!n || n->prefix != (n->v6 ? 128 : 32) || n->to_string() != text) return std::nullopt;
  return n;
}

RequestParse parse_request(std::string_view d) {
  RequestParse out;
  if (d.size() > kMaxRequest) {
    out.error = "request of " + std::to_string(d.size()) + " octets (at most " + std::to_string(kMaxRequest) + ")";
    return out;
  }
  for (char c : d) {
    if (c < 0x20 || c >= 0x7f) {
      out.error = "request holds a control or non-ASCII octet: " + shown(d);
      return out;
    }
  }
  const auto words = split_at(d, ' ');
  if (!words) {
    out.error = "request is empty or not separated by single spaces: " + shown(d);
    return out;
  }
  const std::vector<std::string_view>& w = *words;
  if (w[0] != kVersion) {
    out.error = "request of an unknown protocol version: " + shown(d);
    return out;
  }
  if (w.size() < 2) {
    out.error = "request without a verb";
    return out;
  }
  const std::string_view verb = w[1];
  Request r;
  auto want = [&](std::size_t n, const char* usage) {
    if (w.size() == n) return true;
    out.error = std::string("usage: ") + usage;
    return false;
  };
  auto address = [&](std::string_view text) {
    const auto a = parse_canonical_address(text);
    if (!a) out.error = std::string(verb) + ": " + shown(text) + " is not one address in canonical form";
    return a;
  };
  if (verb == "ban") {
    if (!want(5, "1 ban ADDRESS SECONDS REASON")) return out;
    r.verb = Verb::Ban;
    const auto a = address(w[2]);
    if (!a) return out;
    r.address = *a;
    const auto s = canonical_number(w[3], kMinBanSeconds, kMaxBanSeconds);
    if (!s) {
      out.error = "ban: " + shown(w[3]) + " is not a number of seconds in " + std::to_string(kMinBanSeconds) + ".." +
                  std::to_string(kMaxBanSeconds);
      return out;
    }
    r.seconds = *s;
    if (const std::string why = reason_error(w[4]); !why.empty()) {
      out.error = "ban: " + shown(w[4]) + ": " + why;
      return out;
    }
    r.reason = std::string(w[4]);
  } else if (verb == "unban") {
    if (!want(3, "1 unban ADDRESS")) return out;
    r.verb = Verb::Unban;
    const auto a = address(w[2]);
    if (!a) return out;
    r.address = *a;
  } else if (verb == "list" || verb == "stop") {
    if (!want(2, verb == "list" ? "1 list" : "1 stop")) return out;
    r.verb = verb == "list" ? Verb::List : Verb::Stop;
  } else if (verb == "apply") {
    if (w.size() != 4 && !want(6, "1 apply ports=P,P,... allow=N,N,...|- [feed=P,P,... from=N,N,...|-]")) return out;
    r.verb = Verb::Apply;
    std::string e = parse_port_list(w[2], "ports", r.ports);
    if (e.empty()) e = parse_network_list(w[3], "allow", kMaxAllow, r.allow);
    if (e.empty() && w.size() == 6) e = parse_port_list(w[4], "feed", r.feed_ports);
    if (e.empty() && w.size() == 6) e = parse_network_list(w[5], "from", kMaxFeed, r.feed);
    if (!e.empty()) {
      out.error = std::move(e);
      return out;
    }
  } else {
    out.error = "unknown request " + shown(verb) + " (ban, unban, list, apply, stop)";
    return out;
  }
  out.request = std::move(r);
  return out;
}

std::string format_request(const Request& r) {
  std::string out(kVersion);
  switch (r.verb) {
    case Verb::Ban:
      return out + " ban " + r.address.to_string() + " " + std::to_string(r.seconds) + " " + r.reason;
    case Verb::Unban:
      return out + " unban " + r.address.to_string();
    case Verb::List:
      return out + " list";
    case Verb::Stop:
      return out + " stop";
    case Verb::Apply:
      out += " apply ports=" + ports_text(r.ports) + " allow=" + networks_text(r.allow);
      if (!r.feed_ports.empty()) out += " feed=" + ports_text(r.feed_ports) + " from=" + networks_text(r.feed);
      return out;
  }
  return out;
}

std::string format_reply(const Reply& reply) {
  std::string out = std::string(kVersion) + (reply.ok ? " ok " : " error ") + printable(reply.text.substr(0, 1000));
  std::size_t listed = 0;
  for (const ListedBan& b : reply.bans) {
    std::string line = "\n" + printable(b.address) + " " + std::to_string(b.seconds_left) + " " + printable(b.reason);
    if (out.size() + line.size() > kMaxReply || listed == kMaxListed) break;
    out += line;
    ++listed;
  }
  return out;
}

std::string list_head_text(std::size_t banned, std::optional<std::uint64_t> drops) {
  return std::to_string(banned) + " banned" + (drops ? " drops=" + std::to_string(*drops) : std::string());
}

std::optional<std::uint64_t> listed_drops(std::string_view text) {
  const auto sp = text.find(" banned drops=");
  if (sp == std::string_view::npos || !text::parse_unsigned<std::uint64_t>(text.substr(0, sp))) return std::nullopt;
  const auto n = text::parse_unsigned<std::uint64_t>(text.substr(sp + 14));
  if (!n) return std::nullopt;
  return n.value;
}

ReplyParse parse_reply_head(std::string_view d) {
  ReplyParse out;
  if (d.size() > kMaxReply) {
    out.error = "reply of " + std::to_string(d.size()) + " octets";
    return out;
  }
  const std::string_view head = d.substr(0, d.find('\n'));
  Reply r;
  const std::string ok_prefix = std::string(kVersion) + " ok ";
  const std::string error_prefix = std::string(kVersion) + " error ";
  if (head.starts_with(ok_prefix)) {
    r.ok = true;
    r.text = printable(head.substr(ok_prefix.size()));
  } else if (head.starts_with(error_prefix)) {
    r.text = printable(head.substr(error_prefix.size()));
  } else {
    out.error = "malformed reply " + shown(head);
    return out;
  }
  out.reply = std::move(r);
  return out;
}

ReplyParse parse_reply(std::string_view d) {
  ReplyParse out = parse_reply_head(d);
  if (!out.reply) return out;
  Reply r = std::move(*out.reply);
  out.reply.reset();
  const auto nl = d.find('\n');
  std::string_view rest = nl == std::string_view::npos ? std::string_view() : d.substr(nl + 1);
  while (nl != std::string_view::npos) {
    const auto end = rest.find('\n');
    const std::string_view line = rest.substr(0, end);
    const auto w = split_at(line, ' ');
    if (!w || w->size() != 3 || !parse_canonical_address((*w)[0])) {
      out.error = "malformed ban line " + shown(line);
      return out;
    }
    const auto left = text::parse_unsigned<std::uint64_t>((*w)[1]);
    if (!left || ((*w)[2] != "-" && !reason_error((*w)[2]).empty())) {
      out.error = "malformed ban line " + shown(line);
      return out;
    }
    r.bans.push_back(ListedBan{std::string((*w)[0]), left.value, std::string((*w)[2])});
    if (end == std::string_view::npos) break;
    rest = rest.substr(end + 1);
  }
  out.reply = std::move(r);
  return out;
}

}  // namespace boxmail::firewall

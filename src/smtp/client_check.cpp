// client_check.cpp - see client_check.hpp.
#include "smtp/client_check.hpp"

#include "dns/dnsbl.hpp"
#include "net/ip_network.hpp"

#include <algorithm>

namespace boxmail::smtp {

namespace {

/// "tempfail", or "no answer within N s" for a lookup the deadline ended.
std::string outcome(dns::LookupStatus s, bool timed_out, std::uint32_t seconds) {
  if (s == dns::LookupStatus::Cancelled && timed_out) return "no answer within " + std::to_string(seconds) + " s";
  return std::string(dns::to_string(s));
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
  return out;
}

/// The list's reason: its first TXT record, sanitized; "" without one.
std::string reason_of(const DnsblResult& r) {
  if (r.txt_status != dns::LookupStatus::Ok || r.texts.empty()) return {};
  return dns::sanitize_dns_text(r.texts.front());
}

bool same_address(std::string_view a, std::string_view b) {
  const auto x = net::parse_address(a);
  const auto y = net::parse_address(b);
  return x && y && x->v6 == y->v6 && x->address == y->address;
}

}  // namespace

bool client_checked(const config::Config& config, std::string_view address, bool feed_port) {
  const config::SmtpConfig& smtp = config.smtp;
  if (!feed_port) return false;
  if (smtp.dnsbl_zones.empty() && smtp.reverse_dns == config::ReverseDnsPolicy::Off) return false;
  // A restricted feed port serves only feed servers (smtp/feed_list.hpp): none is checked.
  if (!smtp.feed_servers.empty()) return false;
  if (net::in_networks(config.relay.relay_networks, address)) return false;
  return true;
}

ClientVerdict client_verdict(const ClientLookups& l, config::ReverseDnsPolicy policy) {
  ClientVerdict v;
  const std::string who = "client=" + l.client;
  const std::string bracketed = "[" + l.client + "]";

  // 1. Block lists, in the configured order; every zone's outcome is logged.
  for (const DnsblResult& r : l.dnsbl) {
    std::string line = who + " dnsbl=" + r.zone + " ";
    if (r.status != dns::LookupStatus::Ok) {
      if (r.status == dns::LookupStatus::NxDomain || r.status == dns::LookupStatus::NoData) {
        line += "not listed";
      } else {
        line += outcome(r.status, r.timed_out, l.timeout_seconds) + ": not checked, client let through";
      }
      v.log.push_back(std::move(line));
      continue;
    }
    const dns::DnsblAnswer a = dns::classify_dnsbl_answer(r.addresses);
    line += std::string(dns::to_string(a)) + " answer=" + joined(r.addresses);
    if (a == dns::DnsblAnswer::Refused) line += ": the list refuses our queries, client let through";
    if (a == dns::DnsblAnswer::Unexpected) line += ": not a listing code, client let through";
    if (a == dns::DnsblAnswer::Listed) {
      const std::string txt = reason_of(r);
      line += " txt=\"" + txt + "\"";
      if (r.txt_status != dns::LookupStatus::Ok) line += " (TXT " + outcome(r.txt_status, r.timed_out, l.timeout_seconds) + ")";
      if (v.blocked == BlockedBy::None) {
        v.blocked = BlockedBy::Dnsbl;
        v.reply = ReplyId::DnsblListed;
        v.reply_arg = bracketed + " blocked using " + r.zone + (txt.empty() ? "" : "; " + txt);
        v.reason = "listed by " + r.zone;
      }
    }
    v.log.push_back(std::move(line));
  }

  // 2. Forward-confirmed reverse DNS.
  if (!l.reverse_asked || policy == config::ReverseDnsPolicy::Off) return v;
  const ReverseDnsResult& rd = l.reverse;
  enum class Rdns { Confirmed, NoPtr, Mismatch, TempFail } result = Rdns::TempFail;
  std::string detail;
  std::string confirmed_name;
  std::string first_name;
  if (rd.ptr_status == dns::LookupStatus::NxDomain || rd.ptr_status == dns::LookupStatus::NoData) {
    result = Rdns::NoPtr;
    detail = "no PTR (" + std::string(dns::to_string(rd.ptr_status)) + ")";
  } else if (rd.ptr_status != dns::LookupStatus::Ok) {
    result = Rdns::TempFail;
    detail = "PTR lookup " + outcome(rd.ptr_status, rd.timed_out, l.timeout_seconds);
  } else {
    bool failed = false;
    for (const ForwardResult& f : rd.forward) {
      if (first_name.empty()) first_name = f.name;
      if (f.status == dns::LookupStatus::Ok) {
        const bool match = std::any_of(f.addresses.begin(), f.addresses.end(),
                                       [&](const std::string& a) { return same_address(a, l.client); });
        if (match) {
          confirmed_name = f.name;
          break;
        }
      } else if (f.status != dns::LookupStatus::NxDomain && f.status != dns::LookupStatus::NoData) {
        failed = true;
        detail += (detail.empty() ? "" : ", ") + f.name + " " + outcome(f.status, rd.timed_out, l.timeout_seconds);
      }
    }
    if (!confirmed_name.empty()) {
      result = Rdns::Confirmed;
      detail = "confirmed " + confirmed_name;
    } else if (failed) {
      result = Rdns::TempFail;
      detail = "PTR " + joined(rd.names) + " not confirmed, lookup failed: " + detail;
    } else {
      result = Rdns::Mismatch;
      detail = "PTR " + joined(rd.names) + " does not resolve to the client";
    }
  }
  std::string line = who + " reverse_dns=" + (result == Rdns::Confirmed ? "pass" : result == Rdns::TempFail ? "tempfail" : "fail") +
                     " " + detail;
  if (result != Rdns::Confirmed) {
    if (policy == config::ReverseDnsPolicy::Log) {
      line += " (reverse_dns = log: not refused)";
    } else if (v.blocked == BlockedBy::None) {
      v.blocked = BlockedBy::ReverseDns;
      switch (result) {
        case Rdns::NoPtr:
          v.reply = ReplyId::ClientHostUnknown;
          v.reply_arg = bracketed;
          v.reason = "no reverse DNS";
          break;
        case Rdns::Mismatch:
          v.reply = ReplyId::ClientHostMismatch;
          v.reply_arg = first_name + " " + bracketed;
          v.reason = "reverse DNS not confirmed";
          break;
        default:
          v.reply = ReplyId::ClientHostTempFail;
          v.reply_arg = bracketed;
          v.reason = "reverse DNS lookup failed";
          break;
      }
    }
  }
  v.log.push_back(std::move(line));
  return v;
}

}  // namespace boxmail::smtp

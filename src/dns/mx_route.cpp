// mx_route.cpp - see mx_route.hpp.
#include "dns/mx_route.hpp"

#include "dns/domain_name.hpp"

#include <algorithm>
#include <optional>

namespace boxmail::dns {
namespace {

MxRoute failure(MxRoute::Kind kind, std::string text, std::string status) {
  MxRoute r;
  r.kind = kind;
  r.text = std::move(text);
  r.enhanced_status = std::move(status);
  return r;
}

bool is_root(std::string_view exchange) { return exchange.empty() || exchange == "."; }

}  // namespace

std::string_view to_string(LookupStatus s) {
  switch (s) {
    case LookupStatus::Ok: return "ok";
    case LookupStatus::NxDomain: return "nxdomain";
    case LookupStatus::NoData: return "nodata";
    case LookupStatus::TempFail: return "tempfail";
    case LookupStatus::BadName: return "badname";
    case LookupStatus::Cancelled: return "cancelled";
  }
  return "tempfail";
}

MxRoute mx_route(std::string_view domain, const MxAnswer& answer, const RandomIndex& random,
                 const MxRouteOptions& options) {
  const std::optional<std::string> name = normalize_name(domain);
  if (!name || answer.status == LookupStatus::BadName) {
    return failure(MxRoute::Kind::Permanent, "'" + std::string(domain) + "' is not a valid domain name", "5.1.2");
  }
  switch (answer.status) {
    case LookupStatus::Ok:
      if (!answer.records.empty()) break;
      [[fallthrough]];   // Ok without records: as NODATA
    case LookupStatus::NoData: {
      MxRoute r;
      r.kind = MxRoute::Kind::Hosts;
      r.hosts.push_back(*name);
      r.implicit = true;
      return r;
    }
    case LookupStatus::NxDomain:
      return failure(MxRoute::Kind::Permanent, *name + " does not exist (NXDOMAIN)", "5.1.2");
    case LookupStatus::TempFail:
    case LookupStatus::Cancelled:
    case LookupStatus::BadName:
      return failure(MxRoute::Kind::Temporary,
                     "the MX lookup of " + *name + " failed temporarily (server failure or no answer)", "4.4.3");
  }

  // RFC 7505 3: one MX, exchange ".", is a null MX.
  if (answer.records.size() == 1 && is_root(answer.records.front().exchange)) {
    return failure(MxRoute::Kind::Permanent, *name + " has a null MX (RFC 7505): it accepts no mail", "5.1.10");
  }

  // Valid exchanges, normalized; the root next to real exchanges and
  // garbage are dropped.
  struct Entry {
    std::uint16_t preference;
    std::string host;
  };
  std::vector<Entry> entries;
  for (const MxRecord& rec : answer.records) {
    if (is_root(rec.exchange)) continue;
    auto host = normalize_name(rec.exchange);
    if (!host) continue;
    entries.push_back({rec.preference, std::move(*host)});
  }
  if (entries.empty()) {
    return failure(MxRoute::Kind::Temporary, *name + " has no MX record with a valid host name", "4.4.3");
  }

  // Lowest preference first; shuffle within each preference (Fisher-Yates
  // with the caller's random source), then drop repeats of a host.
  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) { return a.preference < b.preference; });
  for (std::size_t begin = 0; begin < entries.size();) {
    std::size_t end = begin + 1;
    while (end < entries.size() && entries[end].preference == entries[begin].preference) ++end;
    for (std::size_t i = end - begin; i > 1; --i) {
      const std::size_t j = random(i);
      std::swap(entries[begin + i - 1], entries[begin + std::min(j, i - 1)]);
    }
    begin = end;
  }
  std::vector<Entry> unique;
  for (Entry& e : entries) {
    const bool seen = std::any_of(unique.begin(), unique.end(), [&](const Entry& u) { return u.host == e.host; });
    if (!seen) unique.push_back(std::move(e));
  }

  // RFC 5321 5.1: this host among the exchanges -> only better ones.
  std::optional<std::uint16_t> own;
  for (const Entry& e : unique) {
    const bool mine = std::any_of(options.own_names.begin(), options.own_names.end(),
                                  [&](const std::string& n) { return normalize_name(n) == e.host; });
    if (mine && (!own || e.preference < *own)) own = e.preference;
  }
  MxRoute r;
  r.kind = MxRoute::Kind::Hosts;
  for (Entry& e : unique) {
    if (own && e.preference >= *own) continue;
    r.hosts.push_back(std::move(e.host));
  }
  if (r.hosts.empty()) {
    return failure(MxRoute::Kind::Permanent,
                   "mail for " + *name + " loops back to this host (it is the best MX)", "5.4.6");
  }
  return r;
}

}  // namespace boxmail::dns

// feed_list.cpp - see feed_list.hpp.
#include "smtp/feed_list.hpp"

#include <algorithm>
#include <tuple>

namespace boxmail::smtp {

namespace {
bool in(const std::vector<net::IpNetwork>& networks, const net::IpNetwork& host) {
  return std::any_of(networks.begin(), networks.end(),
                     [&](const net::IpNetwork& n) { return net::network_contains(n, host); });
}
}  // namespace

void FeedList::configure(const std::vector<std::string>& feed_servers, const std::vector<net::IpNetwork>& always) {
  active_ = !feed_servers.empty();
  fixed_.clear();
  std::vector<Name> names;
  for (const std::string& item : feed_servers) {
    std::string why;
    if (const auto n = net::parse_network(item, why)) {
      fixed_.push_back(*n);
      continue;
    }
    if (item.find_first_of("/:") != std::string::npos) continue;   // a malformed network, not a name
    if (std::any_of(names.begin(), names.end(), [&](const Name& x) { return x.name == item; })) continue;
    const auto old = std::find_if(names_.begin(), names_.end(), [&](const Name& x) { return x.name == item; });
    names.push_back(old != names_.end() ? *old : Name{item, {}, false});
  }
  names_ = std::move(names);
  if (active_) fixed_.insert(fixed_.end(), always.begin(), always.end());
}

bool FeedList::admits(std::string_view address) const {
  if (!active_) return true;
  const auto host = net::parse_address(address);
  if (!host) return false;
  if (in(fixed_, *host)) return true;
  return std::any_of(names_.begin(), names_.end(), [&](const Name& n) { return in(n.addresses, *host); });
}

bool FeedList::resolved(std::string_view name, std::vector<net::IpNetwork> addresses) {
  const auto it = std::find_if(names_.begin(), names_.end(), [&](const Name& x) { return x.name == name; });
  if (it == names_.end() || addresses.empty()) return false;
  std::sort(addresses.begin(), addresses.end(), [](const net::IpNetwork& a, const net::IpNetwork& b) {
    return std::tie(a.v6, a.address, a.prefix) < std::tie(b.v6, b.address, b.prefix);
  });
  addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
  it->resolved = true;
  if (it->addresses == addresses) return false;
  it->addresses = std::move(addresses);
  return true;
}

std::vector<net::IpNetwork> FeedList::networks() const {
  std::vector<net::IpNetwork> out;
  auto add = [&](const net::IpNetwork& n) {
    if (!in(out, n)) out.push_back(n);
  };
  for (const net::IpNetwork& n : fixed_) add(n);
  for (const Name& name : names_) {
    for (const net::IpNetwork& n : name.addresses) add(n);
  }
  return out;
}

}  // namespace boxmail::smtp

// ban_list.cpp - see ban_list.hpp.
#include "firewall/ban_list.hpp"

#include "firewall/ruleset.hpp"
#include "net/log.hpp"
#include "store/spool_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

namespace boxmail::firewall {

namespace {
constexpr std::size_t kMaxStateFile = 1 << 20;   // 4096 bans of at most ~90 octets fit
}  // namespace

BanList::BanList(std::string state_path, Client* client)
    : now([] { return static_cast<std::int64_t>(std::time(nullptr)); }), path_(std::move(state_path)), client_(client) {}

std::vector<std::string> BanList::load() {
  std::vector<std::string> notes;
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno != ENOENT) notes.push_back("firewall: cannot read " + path_ + ": " + std::strerror(errno));
    return notes;
  }
  std::string text;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > kMaxStateFile) break;
  }
  ::close(fd);
  const StateParse p = parse_state(text, now());
  for (const std::string& n : p.notes) notes.push_back("firewall: " + path_ + ": " + n);
  table_ = BanTable();
  for (const Ban& b : p.bans) table_.ban(b.address, b.expires, b.reason);
  notes.push_back("firewall: " + std::to_string(table_.bans().size()) + " ban(s) still running in " + path_);
  return notes;
}

namespace {
/// `ports` ascending, each once, no 0, at most kMaxPorts (a handful: no std::sort).
std::vector<std::uint16_t> port_list(const std::vector<std::uint16_t>& ports, const char* what) {
  std::vector<std::uint16_t> out;
  for (const std::uint16_t p : ports) {
    auto at = out.begin();
    while (at != out.end() && *at < p) ++at;
    if (p != 0 && (at == out.end() || *at != p)) out.insert(at, p);
  }
  if (out.size() > kMaxPorts) {
    net::log_warning(std::string("firewall: more than ") + std::to_string(kMaxPorts) + " " + what + " ports; only the first are guarded");
    out.resize(kMaxPorts);
  }
  return out;
}
}  // namespace

void BanList::apply(const std::vector<std::uint16_t>& ports) {
  if (client_ == nullptr) return;
  ports_ = port_list(ports, "mail");
  if (ports_.empty()) return;
  send_apply();
  const std::int64_t t = now();
  table_.expire(t);
  for (const Ban& b : table_.bans()) send_ban(b, t);
}

void BanList::set_feed(std::vector<std::uint16_t> ports, std::vector<net::IpNetwork> from) {
  feed_ports_ = port_list(ports, "feed");
  feed_ = std::move(from);
  if (feed_.size() > kMaxFeed) {
    net::log_warning("firewall: more than " + std::to_string(kMaxFeed) + " feed server networks; only the first are sent");
    feed_.resize(kMaxFeed);
  }
  if (client_ != nullptr && !ports_.empty()) send_apply();
}

void BanList::send_apply() {
  Request a;
  a.verb = Verb::Apply;
  a.ports = ports_;
  a.allow = allow_;
  if (a.allow.size() > kMaxAllow) {   // INI lines cannot hold that many; never seen
    net::log_warning("firewall: more than " + std::to_string(kMaxAllow) + " allowed networks; only the first are sent");
    a.allow.resize(kMaxAllow);
  }
  a.feed_ports = feed_ports_;
  if (!a.feed_ports.empty()) a.feed = feed_;
  client_->send(a, [](const Reply& r) {
    if (r.ok) net::log_info("firewall: " + r.text);
  });
}

void BanList::send_ban(const Ban& b, std::int64_t at) {
  if (client_ == nullptr) return;
  Request r;
  r.verb = Verb::Ban;
  r.address = *parse_canonical_address(b.address);
  r.seconds = static_cast<std::uint32_t>(std::clamp<std::int64_t>(b.expires - at, kMinBanSeconds, kMaxBanSeconds));
  r.reason = b.reason;
  client_->send(r);
}

bool BanList::is_allowed_address(std::string_view address) const {
  const auto host = parse_host(address);
  return host && is_allowed(allow_, *host);
}

BanList::Result BanList::ban(std::string_view address, std::uint32_t seconds, std::string_view reason) {
  const auto host = parse_host(address);
  if (!host) return {false, "'" + std::string(address.substr(0, 64)) + "' is not one IP address"};
  const std::string a = host->to_string();
  if (seconds < kMinBanSeconds || seconds > kMaxBanSeconds) {
    return {false, "a ban lasts " + std::to_string(kMinBanSeconds) + ".." + std::to_string(kMaxBanSeconds) +
                       " seconds (30 days)"};
  }
  if (const std::string why = reason_error(reason); !why.empty()) return {false, why};
  if (is_allowed(allow_, *host)) {
    return {false, a + " is allow-listed ([firewall] allow or [relay] relay_networks) and is never banned"};
  }
  const std::int64_t t = now();
  table_.expire(t);
  if (!table_.ban(a, t + seconds, std::string(reason))) {
    return {false, "already " + std::to_string(kMaxBans) + " addresses banned; " + a + " is not"};
  }
  const std::string saved = save();
  send_ban(*table_.find(a), t);
  net::log_info("firewall: banned " + a + " for " + std::to_string(seconds) + " s (" + std::string(reason) + ")");
  std::string message = "banned " + a + " for " + std::to_string(seconds) + " s (" + std::string(reason) + ")";
  if (!saved.empty()) message += "; not saved, so a restart forgets it (" + saved + ")";
  if (client_ == nullptr || !client_->running()) message += "; the firewall helper is not running";
  return {true, message};
}

BanList::Result BanList::unban(std::string_view address) {
  const auto host = parse_host(address);
  if (!host) return {false, "'" + std::string(address.substr(0, 64)) + "' is not one IP address"};
  const std::string a = host->to_string();
  table_.expire(now());
  if (!table_.unban(a)) return {false, a + " is not banned"};
  const std::string saved = save();
  if (client_ != nullptr) {
    Request r;
    r.verb = Verb::Unban;
    r.address = *host;
    client_->send(r);
  }
  net::log_info("firewall: unbanned " + a);
  return {true, "unbanned " + a + (saved.empty() ? "" : "; not saved (" + saved + ")")};
}

std::vector<Ban> BanList::list() {
  if (table_.expire(now()) > 0) save();
  return table_.bans();
}

std::string BanList::save() {
  std::string error = store::write_file_atomic(path_, format_state(table_.bans()), 0600);
  if (!error.empty()) net::log_error("firewall: the bans are not saved: " + error);
  return error;
}

}  // namespace boxmail::firewall

// config_schema_test.cpp - the schema table, INI parsing over it, and the
// shipped files generated from or checked against it (boxmail.ini(5), the
// appliance's /etc/boxmail/boxmail.ini).
#include "config/schema.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <unistd.h>

namespace {

using namespace boxmail::config;

// ---- helpers ---------------------------------------------------------------

std::string join_listen(const std::vector<ListenAddress>& v) {
  std::string out;
  for (const auto& a : v) {
    if (!out.empty()) out += ' ';
    out += a.host.find(':') != std::string::npos ? "[" + a.host + "]" : a.host;
    out += ":" + std::to_string(a.port);
  }
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
  return out;
}

/// One field of a Config as text, by key name (and section, for [pop3]'s
/// keys that share a name with [smtp]'s).
std::string show(const Config& c, std::string_view key, std::string_view section = "smtp") {
  const SmtpConfig& s = c.smtp;
  if (section == "pop3") {
    const Pop3Config& p = c.pop3;
    if (key == "enabled") return p.enabled ? "true" : "false";
    if (key == "listen") return join_listen(p.listen);
    if (key == "pop3s_listen") return join_listen(p.pop3s_listen);
    if (key == "max_command_line") return std::to_string(p.max_command_line);
    if (key == "idle_timeout") return std::to_string(p.idle_timeout);
    if (key == "max_errors") return std::to_string(p.max_errors);
    if (key == "max_connections") return std::to_string(p.max_connections);
    if (key == "max_connections_per_ip") return std::to_string(p.max_connections_per_ip);
    if (key == "login_failures") return std::to_string(p.login_failures);
    if (key == "login_delay") return std::to_string(p.login_delay);
    if (key == "evict_idle") return std::to_string(p.evict_idle);
  }
  if (section == "relay") {
    if (key == "relay_networks") {
      std::string out;
      for (const auto& n : c.relay.relay_networks) out += (out.empty() ? "" : " ") + n.to_string();
      return out;
    }
    if (key == "local_domains") return join(c.relay.local_domains);
    const RelayConfig& r = c.relay;
    if (key == "route") {
      std::string out;
      for (RouteMethod m : r.route) {
        out += out.empty() ? "" : " ";
        out += m == RouteMethod::Mx ? "mx" : m == RouteMethod::Direct ? "direct" : "smarthost";
      }
      return out.empty() ? "none" : out;
    }
    if (key == "smarthost") return r.smarthost;
    if (key == "smarthost_tls") {
      return r.smarthost_tls == SmarthostTls::Implicit        ? "implicit"
             : r.smarthost_tls == SmarthostTls::Opportunistic ? "opportunistic"
             : r.smarthost_tls == SmarthostTls::None          ? "none"
                                                              : "starttls";
    }
    if (key == "smarthost_fingerprint") return r.smarthost_fingerprint;
    if (key == "smarthost_credentials") return r.smarthost_credentials;
    if (key == "mx_starttls") return r.mx_starttls ? "true" : "false";
    if (key == "retry_min") return std::to_string(r.retry_min);
    if (key == "retry_max") return std::to_string(r.retry_max);
    if (key == "max_lifetime") return std::to_string(r.max_lifetime);
    if (key == "delay_notice_after") return std::to_string(r.delay_notice_after);
    if (key == "max_deliveries") return std::to_string(r.max_deliveries);
    if (key == "max_deliveries_per_destination") return std::to_string(r.max_deliveries_per_destination);
    if (key == "connect_timeout") return std::to_string(r.connect_timeout);
  }
  if (section == "firewall") {
    if (key == "enabled") return c.firewall.enabled ? "true" : "false";
    if (key == "allow") {
      std::string out;
      for (const auto& n : c.firewall.allow) out += (out.empty() ? "" : " ") + n.to_string();
      return out;
    }
    if (key == "program") return c.firewall.program;
    if (key == "ban_after_login_failures") return std::to_string(c.firewall.ban_after_login_failures);
    if (key == "ban_after_protocol_errors") return std::to_string(c.firewall.ban_after_protocol_errors);
    if (key == "ban_after_relay_attempts") return std::to_string(c.firewall.ban_after_relay_attempts);
    if (key == "ban_after_unknown_recipients") return std::to_string(c.firewall.ban_after_unknown_recipients);
    if (key == "ban_window") return std::to_string(c.firewall.ban_window);
    if (key == "ban_time") return std::to_string(c.firewall.ban_time);
    if (key == "ban_time_max") return std::to_string(c.firewall.ban_time_max);
  }
  if (section == "dns") {
    if (key == "servers") return join_listen(c.dns.servers);
    if (key == "timeout") return std::to_string(c.dns.timeout);
    if (key == "attempts") return std::to_string(c.dns.attempts);
  }
  if (key == "hostname") return c.server.hostname;
  if (key == "passwd_file") return c.server.passwd_file;
  if (key == "log") return c.server.log;
  if (key == "control_socket") return c.server.control_socket;
  if (key == "user") return c.server.user;
  if (key == "login_failures_per_address") return std::to_string(c.server.login_failures_per_address);
  if (key == "login_failure_window") return std::to_string(c.server.login_failure_window);
  if (key == "login_check_queue") return std::to_string(c.server.login_check_queue);
  if (key == "plaintext_login_networks") {
    std::string out;
    for (const auto& n : c.server.plaintext_login_networks) out += (out.empty() ? "" : " ") + n.to_string();
    return out;
  }
  if (key == "certificate") return c.tls.certificate;
  if (key == "key") return c.tls.key;
  if (key == "submission_listen") return join_listen(s.submission_listen);
  if (key == "submissions_listen") return join_listen(s.submissions_listen);
  if (key == "feed_servers") return join(s.feed_servers);
  if (key == "listen") return join_listen(s.listen);
  if (key == "banner") return s.banner;
  if (key == "accept_domains") return join(s.accept_domains);
  if (key == "catch_all") return s.catch_all;
  if (key == "vrfy") return s.vrfy ? "true" : "false";
  if (key == "max_message_size") return std::to_string(s.max_message_size);
  if (key == "max_recipients") return std::to_string(s.max_recipients);
  if (key == "max_command_line") return std::to_string(s.max_command_line);
  if (key == "max_text_line") return std::to_string(s.max_text_line);
  if (key == "max_connections") return std::to_string(s.max_connections);
  if (key == "max_connections_per_ip") return std::to_string(s.max_connections_per_ip);
  if (key == "idle_timeout") return std::to_string(s.idle_timeout);
  if (key == "session_timeout") return std::to_string(s.session_timeout);
  if (key == "max_errors") return std::to_string(s.max_errors);
  if (key == "max_hops") return std::to_string(s.max_hops);
  if (key == "max_alias_depth") return std::to_string(s.max_alias_depth);
  if (key == "bare_lf") return s.bare_lf == BareLf::Reject ? "reject" : "normalize";
  if (key == "bare_cr") return s.bare_cr == BareCr::Reject ? "reject" : "keep";
  if (key == "min_data_rate") return std::to_string(s.min_data_rate);
  if (key == "evict_idle") return std::to_string(s.evict_idle);
  if (key == "dnsbl_zones") return join(s.dnsbl_zones);
  if (key == "reverse_dns") {
    return s.reverse_dns == ReverseDnsPolicy::Reject ? "reject" : s.reverse_dns == ReverseDnsPolicy::Log ? "log" : "off";
  }
  if (key == "client_check_timeout") return std::to_string(s.client_check_timeout);
  if (key == "feed_refresh") return std::to_string(s.feed_refresh);
  if (key == "mail_dir") return c.store.mail_dir;
  if (key == "spool_dir") return c.store.spool_dir;
  if (key == "sync") return c.store.sync == SyncMode::Fsync ? "fsync" : "syncfs";
  if (key == "min_free_space") return std::to_string(c.store.min_free_space);
  ADD_FAILURE() << "show(): no field for key " << key;
  return {};
}

/// Every field, for whole-config comparisons.
std::string show_all(const Config& c) {
  std::string out;
  for (const KeyInfo& k : schema()) {
    out += std::string(k.section) + "." + std::string(k.key) + "=" + show(c, k.key, k.section) + "\n";
  }
  for (const auto& [name, targets] : c.aliases) out += "alias " + name + "=" + join(targets) + "\n";
  return out;
}

std::string errors_text(const ParseResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e.to_string() + "\n";
  return out;
}

/// The source tree, found from this file's own path (absolute in CMake
/// builds); nullopt when the tree is not there.
std::optional<std::filesystem::path> source_root() {
  // The build names the source tree (tests/CMakeLists.txt); __FILE__ may be
  // relative (ccache's base_dir, -ffile-prefix-map) and is no guide.
  std::filesystem::path root(BOXMAIL_SOURCE_DIR);
  if (!std::filesystem::exists(root / "src/config/schema.hpp")) return std::nullopt;
  return root;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ---- the table and the defaults ------------------------------------------------

TEST(ConfigSchema, EveryRowIsComplete) {
  ASSERT_FALSE(schema().empty());
  for (const KeyInfo& k : schema()) {
    SCOPED_TRACE(std::string(k.section) + "." + std::string(k.key));
    EXPECT_FALSE(k.doc.empty());
    EXPECT_EQ(find_key(k.section, k.key), &k);
    if (k.type == KeyType::Uint || k.type == KeyType::Size || k.type == KeyType::Seconds) {
      EXPECT_LT(k.min, k.max);
    }
    if (k.type == KeyType::Enum) {
      EXPECT_NE(k.choices.find(k.default_value), std::string_view::npos);
    }
    // The default, written into a file, parses and changes nothing.
    const std::string text = "[" + std::string(k.section) + "]\n" + std::string(k.key) + " = " +
                             std::string(k.default_value) + "\n";
    const ParseResult r = parse_config(text, "d.ini");
    ASSERT_TRUE(r.errors.empty()) << errors_text(r);
    EXPECT_EQ(show_all(*r.config), show_all(*default_config()));
  }
  EXPECT_EQ(find_key("smtp", "nope"), nullptr);
  EXPECT_EQ(find_key("store", "listen"), nullptr);
}

TEST(ConfigSchema, EmbeddedDefaultIsTheSchemaDefault) {
  const ConfigPtr d = default_config();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->source, "<embedded default>");
  const ParseResult empty = parse_config("", "empty.ini");
  ASSERT_TRUE(empty.errors.empty());
  EXPECT_EQ(empty.config->source, "empty.ini");
  EXPECT_EQ(show_all(*empty.config), show_all(*d));

  struct Case { std::string_view key, value; } cases[] = {
      {"hostname", ""}, {"passwd_file", "./var/passwd"}, {"log", "stderr"},
      {"control_socket", "./var/run/boxmaild.sock"}, {"user", "boxmail"}, {"feed_servers", ""},
      {"login_failures_per_address", "10"}, {"login_failure_window", "900"}, {"login_check_queue", "16"},
      {"listen", "127.0.0.1:2525"}, {"banner", ""}, {"accept_domains", "*"}, {"catch_all", ""},
      {"vrfy", "false"}, {"max_message_size", "26214400"}, {"max_recipients", "100"},
      {"max_command_line", "2048"}, {"max_text_line", "1048576"}, {"max_connections", "100"},
      {"max_connections_per_ip", "20"}, {"idle_timeout", "300"}, {"session_timeout", "3600"},
      {"max_errors", "10"}, {"max_hops", "100"}, {"max_alias_depth", "8"}, {"bare_lf", "normalize"},
      {"bare_cr", "keep"}, {"mail_dir", "./var/mail"}, {"spool_dir", "./var/spool"}, {"sync", "syncfs"},
      {"min_free_space", "16777216"},
      {"min_data_rate", "500"}, {"evict_idle", "30"}, {"plaintext_login_networks", ""},
      {"dnsbl_zones", ""}, {"reverse_dns", "off"}, {"client_check_timeout", "10"},
      {"feed_refresh", "3600"},
      {"submission_listen", "127.0.0.1:5587"}, {"submissions_listen", "127.0.0.1:4465"},
      {"certificate", "./var/tls/cert.pem"}, {"key", "./var/tls/key.pem"},
  };
  for (const auto& c : cases) EXPECT_EQ(show(*d, c.key), c.value) << c.key;
  const Case pop3_cases[] = {
      {"enabled", "true"}, {"listen", "127.0.0.1:1100"}, {"max_command_line", "512"}, {"idle_timeout", "600"},
      {"max_errors", "10"}, {"max_connections", "50"}, {"max_connections_per_ip", "10"},
      {"login_failures", "3"}, {"login_delay", "2"}, {"evict_idle", "30"}, {"pop3s_listen", "127.0.0.1:1995"},
  };
  for (const auto& c : pop3_cases) EXPECT_EQ(show(*d, c.key, "pop3"), c.value) << "pop3." << c.key;
  const Case relay_cases[] = {
      {"relay_networks", ""}, {"local_domains", ""}, {"route", "none"}, {"smarthost", ""},
      {"smarthost_tls", "starttls"}, {"smarthost_fingerprint", ""},
      {"smarthost_credentials", "./var/relay/smarthost-login"}, {"mx_starttls", "true"}, {"retry_min", "300"},
      {"retry_max", "14400"}, {"max_lifetime", "432000"}, {"delay_notice_after", "14400"},
      {"max_deliveries", "10"}, {"max_deliveries_per_destination", "2"}, {"connect_timeout", "30"},
  };
  for (const auto& c : relay_cases) EXPECT_EQ(show(*d, c.key, "relay"), c.value) << "relay." << c.key;
  const Case dns_cases[] = {{"servers", ""}, {"timeout", "5"}, {"attempts", "3"}};
  for (const auto& c : dns_cases) EXPECT_EQ(show(*d, c.key, "dns"), c.value) << "dns." << c.key;
  // Off by default: a workstation running boxmail never touches its firewall.
  const Case firewall_cases[] = {{"enabled", "false"}, {"allow", "127.0.0.1 ::1"}, {"program", "/usr/sbin/boxmail-fw"},
                                 {"ban_after_login_failures", "10"}, {"ban_after_protocol_errors", "5"},
                                 {"ban_after_relay_attempts", "5"}, {"ban_after_unknown_recipients", "20"},
                                 {"ban_window", "600"}, {"ban_time", "3600"}, {"ban_time_max", "604800"}};
  for (const auto& c : firewall_cases) EXPECT_EQ(show(*d, c.key, "firewall"), c.value) << "firewall." << c.key;
  EXPECT_EQ(std::size(cases) + std::size(pop3_cases) + std::size(relay_cases) + std::size(dns_cases) +
                std::size(firewall_cases),
            schema().size());
  EXPECT_TRUE(d->aliases.empty());
}

// ---- values by type -------------------------------------------------------------

struct ValueCase {
  std::string_view section, key, value;
  std::string_view expect;   ///< the field as show() prints it, or a part of the error
  bool ok;
};

// clang-format off
const ValueCase kValueCases[] = {
    // Bool
    {"smtp", "vrfy", "yes", "true", true},     {"smtp", "vrfy", "no", "false", true},
    {"smtp", "vrfy", "true", "true", true},    {"smtp", "vrfy", "false", "false", true},
    {"smtp", "vrfy", "on", "true", true},      {"smtp", "vrfy", "off", "false", true},
    {"smtp", "vrfy", "1", "true", true},       {"smtp", "vrfy", "0", "false", true},
    {"smtp", "vrfy", "YES", "true", true},     {"smtp", "vrfy", "Off", "false", true},
    {"smtp", "vrfy", "maybe", "value 'maybe' is not a boolean (expected yes/no, true/false, on/off or 1/0)", false},
    {"smtp", "vrfy", "", "is not a boolean", false},
    {"smtp", "vrfy", "2", "is not a boolean", false},
    // Uint, at and past the limits
    {"smtp", "max_recipients", "1", "1", true},
    {"smtp", "max_recipients", "10000", "10000", true},
    {"smtp", "max_recipients", "0", "value '0' is out of range (1..10000)", false},
    {"smtp", "max_recipients", "10001", "value '10001' is out of range (1..10000)", false},
    {"smtp", "max_recipients", "007", "7", true},
    {"smtp", "max_recipients", "1k", "value '1k' is not a whole number", false},
    {"smtp", "max_recipients", "-1", "is not a whole number", false},
    {"smtp", "max_recipients", "+5", "is not a whole number", false},
    {"smtp", "max_recipients", "5 0", "is not a whole number", false},
    {"smtp", "max_recipients", "", "is not a whole number", false},
    {"smtp", "max_recipients", "99999999999999999999999", "is too large (at most 10000)", false},
    {"smtp", "max_command_line", "512", "512", true},
    {"smtp", "max_command_line", "511", "out of range (512..65536)", false},
    {"smtp", "max_command_line", "65536", "65536", true},
    {"smtp", "max_command_line", "65537", "out of range", false},
    {"smtp", "max_connections", "100000", "100000", true},
    {"smtp", "max_connections", "100001", "out of range", false},
    {"smtp", "max_connections_per_ip", "1", "1", true},
    {"smtp", "max_connections_per_ip", "100", "100", true},
    {"smtp", "max_connections_per_ip", "0", "out of range (1..100000)", false},
    {"smtp", "max_connections_per_ip", "100001", "out of range (1..100000)", false},
    {"smtp", "max_errors", "1000", "1000", true},
    {"smtp", "max_errors", "1001", "out of range (1..1000)", false},
    {"smtp", "max_hops", "1", "1", true},
    {"smtp", "max_hops", "0", "out of range (1..1000)", false},
    {"smtp", "max_alias_depth", "64", "64", true},
    {"smtp", "max_alias_depth", "65", "out of range (1..64)", false},
    // Size: 1024-based suffixes, either case
    {"smtp", "max_message_size", "1k", "1024", true},
    {"smtp", "max_message_size", "1024", "1024", true},
    {"smtp", "max_message_size", "1023", "value '1023' is out of range (1k..2G)", false},
    {"smtp", "max_message_size", "2G", "2147483648", true},
    {"smtp", "max_message_size", "2g", "2147483648", true},
    {"smtp", "max_message_size", "2048M", "2147483648", true},
    {"smtp", "max_message_size", "2049M", "out of range (1k..2G)", false},
    {"smtp", "max_message_size", "2147483649", "out of range", false},
    {"smtp", "max_message_size", "25M", "26214400", true},
    {"smtp", "max_message_size", "25m", "26214400", true},
    {"smtp", "max_message_size", "10K", "10240", true},
    {"smtp", "max_message_size", "abc", "value 'abc' is not a size (expected a number with optional k, M or G)", false},
    {"smtp", "max_message_size", "25MB", "is not a size", false},
    {"smtp", "max_message_size", "M", "is not a size", false},
    {"smtp", "max_message_size", "", "is not a size", false},
    {"smtp", "max_message_size", "2.5M", "is not a size", false},
    {"smtp", "max_message_size", "0x10", "is not a size", false},
    {"smtp", "max_message_size", "-1k", "is not a size", false},
    {"smtp", "max_message_size", "17179869184G", "is too large (at most 2G)", false},
    {"smtp", "max_message_size", "18446744073709551616", "is too large", false},
    {"smtp", "max_message_size", "99999999999G", "is too large (at most 2G)", false},
    {"smtp", "max_message_size", "18446744073709551615", "out of range", false},
    {"smtp", "max_recipients", "18446744073709551616", "is too large (at most 10000)", false},
    {"smtp", "max_recipients", "18446744073709551615", "out of range (1..10000)", false},
    {"smtp", "max_text_line", "1000", "1000", true},
    {"smtp", "max_text_line", "999", "out of range (1000..16M)", false},
    {"smtp", "max_text_line", "16M", "16777216", true},
    {"smtp", "max_text_line", "16385k", "out of range", false},
    // Seconds: s, m, h suffixes
    {"smtp", "idle_timeout", "10", "10", true},
    {"smtp", "idle_timeout", "9", "value '9' is out of range (10s..24h)", false},
    {"smtp", "idle_timeout", "10s", "10", true},
    {"smtp", "idle_timeout", "10S", "10", true},
    {"smtp", "idle_timeout", "5m", "300", true},
    {"smtp", "idle_timeout", "1h", "3600", true},
    {"smtp", "idle_timeout", "25h", "out of range (10s..24h)", false},
    {"smtp", "idle_timeout", "1d", "value '1d' is not a duration (expected seconds, or a number with s, m or h)", false},
    {"smtp", "idle_timeout", "m", "is not a duration", false},
    {"smtp", "session_timeout", "300", "300", true},
    {"smtp", "session_timeout", "59", "out of range (1m..24h)", false},
    {"smtp", "session_timeout", "24h", "86400", true},
    {"smtp", "session_timeout", "86401", "out of range", false},
    {"smtp", "session_timeout", "1440m", "86400", true},
    // Enum
    {"smtp", "bare_lf", "normalize", "normalize", true},
    {"smtp", "bare_lf", "reject", "reject", true},
    {"smtp", "bare_lf", "REJECT", "reject", true},
    {"smtp", "bare_lf", "strip", "value 'strip' is not one of: normalize, reject", false},
    {"smtp", "bare_cr", "keep", "keep", true},
    {"smtp", "bare_cr", "reject", "reject", true},
    {"smtp", "bare_cr", "", "is not one of: keep, reject", false},
    {"smtp", "min_data_rate", "0", "0", true},
    {"smtp", "min_data_rate", "1000000000", "1000000000", true},
    {"smtp", "min_data_rate", "1000000001", "out of range", false},
    {"smtp", "evict_idle", "1", "1", true},
    {"smtp", "evict_idle", "1m", "60", true},
    {"smtp", "evict_idle", "0", "out of range (1s..1h)", false},
    {"server", "log", "syslog", "syslog", true},
    {"server", "log", "stderr", "stderr", true},
    {"server", "log", "file", "is not one of: stderr, syslog", false},
    {"store", "sync", "fsync", "fsync", true},
    {"store", "sync", "syncfs", "syncfs", true},
    {"store", "sync", "none", "is not one of: syncfs, fsync", false},
    {"store", "min_free_space", "0", "0", true},
    {"store", "min_free_space", "200M", "209715200", true},
    {"store", "min_free_space", "2T", "is not a size", false},
    {"store", "min_free_space", "1025G", "out of range", false},
    // String
    {"smtp", "banner", "Welcome to Example Ltd", "Welcome to Example Ltd", true},
    {"smtp", "banner", "a;b", "a;b", true},
    {"smtp", "banner", "", "", true},
    // feed_servers: host names, addresses or networks
    {"smtp", "feed_servers", "mx1.isp.example, 192.0.2.10 2001:db8::/32", "mx1.isp.example 192.0.2.10 2001:db8::/32", true},
    {"smtp", "feed_servers", "MX.ISP.Example", "mx.isp.example", true},
    {"smtp", "feed_servers", "", "", true},
    {"smtp", "feed_servers", "bad_host!", "'bad_host!' is not a host name or IP address", false},
    // the checks at connection time: zones are host names that leave room for an IPv6 query
    {"smtp", "dnsbl_zones", "zen.spamhaus.org, BL.Example.NET bl.example.net", "zen.spamhaus.org bl.example.net", true},
    {"smtp", "dnsbl_zones", "", "", true},
    {"smtp", "dnsbl_zones", "bl_example.net", "'bl_example.net' is not a DNS zone name: it has a character", false},
    {"smtp", "dnsbl_zones", "bl.example.net.", "write the zone without the trailing dot", false},
    {"smtp", "dnsbl_zones", "localhost", "'localhost' is not a DNS zone name (e.g. zen.spamhaus.org)", false},
    {"smtp", "dnsbl_zones", "a..b", "has an empty label", false},
    {"smtp", "dnsbl_zones", "a.b c.d e.f g.h i.j k.l m.n o.p q.r", "at most 8 zones", false},
    {"smtp", "reverse_dns", "LOG", "log", true},
    {"smtp", "reverse_dns", "reject", "reject", true},
    {"smtp", "reverse_dns", "warn", "value 'warn' is not one of: off, log, reject", false},
    {"smtp", "client_check_timeout", "30s", "30", true},
    {"smtp", "client_check_timeout", "0", "out of range (1s..1m)", false},
    {"smtp", "client_check_timeout", "61", "out of range", false},
    {"smtp", "feed_refresh", "1h", "3600", true},
    {"smtp", "feed_refresh", "2", "2", true},
    {"smtp", "feed_refresh", "0", "out of range", false},
    {"smtp", "feed_refresh", "86401", "out of range", false},
    // control_socket
    {"server", "control_socket", "/run/boxmail/control.sock", "/run/boxmail/control.sock", true},
    {"server", "control_socket", "", "a path is required", false},
    {"server", "login_failures_per_address", "1", "1", true},
    {"server", "login_failures_per_address", "0", "out of range (1..1000)", false},
    {"server", "login_failure_window", "15m", "900", true},
    {"server", "login_failure_window", "0", "out of range (1s..24h)", false},
    {"server", "login_check_queue", "1", "1", true},
    {"server", "login_check_queue", "10001", "out of range (1..10000)", false},
    {"smtp", "banner", "bell\x07", "control character", false},
    // user: a system account name, never root
    {"server", "user", "boxmail", "boxmail", true},
    {"server", "user", "_mail-2", "_mail-2", true},
    {"server", "user", "root", "does not serve the network as root", false},
    {"server", "user", "", "is not a user name", false},
    {"server", "user", "Boxmail", "is not a user name", false},
    {"server", "user", "mail:x", "is not a user name", false},
    {"server", "user", "0wner", "is not a user name", false},
    {"server", "user", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "is not a user name", false},   // 33 octets
    {"server", "hostname", "mail.example.com", "mail.example.com", true},
    {"server", "hostname", "Mail.Example.COM", "mail.example.com", true},
    {"server", "hostname", "", "", true},
    {"server", "hostname", "mail example", "is not a host name", false},
    {"server", "hostname", "mail_host", "is not a host name", false},
    // Path
    {"server", "passwd_file", "/etc/boxmail/passwd", "/etc/boxmail/passwd", true},
    {"server", "passwd_file", "", "a path is required", false},
    {"store", "mail_dir", "/var/mail", "/var/mail", true},
    {"store", "spool_dir", "/var/spool/boxmail", "/var/spool/boxmail", true},
    // Mailbox
    {"smtp", "catch_all", "postmaster", "postmaster", true},
    {"smtp", "catch_all", "Postmaster", "postmaster", true},
    {"smtp", "catch_all", "", "", true},
    {"smtp", "catch_all", "../x", "mailbox name", false},
    {"smtp", "catch_all", "a/b", "contains '/'", false},
    {"smtp", "catch_all", "null", "reserved", false},
    // ListenList: numeric only, port 1..65535
    {"smtp", "listen", "127.0.0.1:25", "127.0.0.1:25", true},
    {"smtp", "listen", "[::1]:25", "[::1]:25", true},
    {"smtp", "listen", "0.0.0.0:25", "0.0.0.0:25", true},
    {"smtp", "listen", "[::]:2525", "[::]:2525", true},
    {"smtp", "listen", "0.0.0.0:25,[::]:25", "0.0.0.0:25 [::]:25", true},
    {"smtp", "listen", "0.0.0.0:25 , [::]:25  127.0.0.1:2525", "0.0.0.0:25 [::]:25 127.0.0.1:2525", true},
    {"smtp", "listen", "[0:0::1]:25", "[::1]:25", true},
    {"smtp", "listen", "127.0.0.1:65535", "127.0.0.1:65535", true},
    {"smtp", "listen", "localhost:25", "listen addresses must be numeric", false},
    {"smtp", "listen", "mail.example.com:25", "listen addresses must be numeric", false},
    {"smtp", "listen", "[localhost]:25", "listen addresses must be numeric", false},
    {"smtp", "listen", "1.2.3.4.5:25", "'1.2.3.4.5' is not an IPv4 address", false},
    {"smtp", "listen", "[::1::2]:25", "'::1::2' is not an IPv6 address", false},
    {"smtp", "listen", "127.0.0.1", "has no port", false},
    {"smtp", "listen", "[::1]", "has no port", false},
    {"smtp", "listen", "[::1", "lacks ']'", false},
    {"smtp", "listen", "::1:25", "IPv6 addresses go in brackets", false},
    {"smtp", "listen", "127.0.0.1:0", "port '0' is not 1..65535", false},
    {"smtp", "listen", "127.0.0.1:65536", "port '65536' is not 1..65535", false},
    {"smtp", "listen", "127.0.0.1:", "is not 1..65535", false},
    {"smtp", "listen", "127.0.0.1:smtp", "is not 1..65535", false},
    {"smtp", "listen", "256.1.1.1:25", "'256.1.1.1' is not an IPv4 address", false},
    {"smtp", "listen", "127.1:25", "is not an IPv4 address", false},
    {"smtp", "listen", "[fe80::1%eth0]:25", "is not an IPv6 address", false},
    {"smtp", "listen", "127.0.0.1:25 127.0.0.1:25", "is listed twice", false},
    {"smtp", "listen", "", "no listen address given", false},
    // DomainList
    {"smtp", "accept_domains", "*", "*", true},
    {"smtp", "accept_domains", "example.com", "example.com", true},
    {"smtp", "accept_domains", "Example.COM", "example.com", true},
    {"smtp", "accept_domains", "*.example.org, example.com", "*.example.org example.com", true},
    {"smtp", "accept_domains", "exa mple", "exa mple", true},
    {"smtp", "accept_domains", "a.example, a.example", "a.example", true},
    {"smtp", "accept_domains", "xn--bcher-kva.example", "xn--bcher-kva.example", true},
    {"smtp", "accept_domains", "* example.com", "'*' must stand alone", false},
    {"smtp", "accept_domains", "ex@mple.com", "'ex@mple.com' is not a domain pattern", false},
    {"smtp", "accept_domains", "*example.com", "is not a domain pattern", false},
    {"smtp", "accept_domains", "*.*.example.com", "is not a domain pattern", false},
    {"smtp", "accept_domains", "example..com", "is not a domain pattern", false},
    {"smtp", "accept_domains", "-ex.com", "is not a domain pattern", false},
    {"smtp", "accept_domains", "example.com.", "is not a domain pattern", false},
    {"smtp", "accept_domains", "[127.0.0.1]", "is not a domain pattern", false},
    {"smtp", "accept_domains", "", "no domain given", false},
    // [pop3]
    {"pop3", "enabled", "no", "false", true},
    {"pop3", "enabled", "maybe", "is not a boolean", false},
    {"pop3", "listen", "0.0.0.0:110 [::]:110", "0.0.0.0:110 [::]:110", true},
    {"pop3", "listen", "pop.example:110", "listen addresses must be numeric", false},
    {"pop3", "max_command_line", "255", "255", true},
    {"pop3", "max_command_line", "254", "out of range (255..8192)", false},
    {"pop3", "max_command_line", "8193", "out of range (255..8192)", false},
    {"pop3", "idle_timeout", "10m", "600", true},
    {"pop3", "idle_timeout", "1h", "3600", true},
    {"pop3", "idle_timeout", "599", "out of range (10m..24h)", false},
    {"pop3", "max_errors", "1", "1", true},
    {"pop3", "max_errors", "0", "out of range (1..1000)", false},
    {"pop3", "max_connections", "10", "10", true},
    {"pop3", "max_connections", "100001", "out of range", false},
    {"pop3", "max_connections_per_ip", "1", "1", true},
    {"pop3", "max_connections_per_ip", "0", "out of range (1..100000)", false},
    {"pop3", "login_failures", "1", "1", true},
    {"pop3", "login_failures", "101", "out of range (1..100)", false},
    {"pop3", "login_delay", "0", "0", true},
    {"pop3", "login_delay", "30s", "30", true},
    {"pop3", "login_delay", "31", "out of range (0s..30s)", false},
    {"pop3", "evict_idle", "3", "3", true},
    {"pop3", "evict_idle", "2h", "out of range (1s..1h)", false},
    {"pop3", "pop3s_listen", "0.0.0.0:995 [::]:995", "0.0.0.0:995 [::]:995", true},
    {"pop3", "pop3s_listen", "", "", true},   // off
    {"pop3", "pop3s_listen", "0.0.0.0", "has no port", false},
    // ListenList that may be empty (a service turned off)
    {"smtp", "submission_listen", "0.0.0.0:587", "0.0.0.0:587", true},
    {"smtp", "submission_listen", "", "", true},
    {"smtp", "submission_listen", "0.0.0.0:0", "is not 1..65535", false},
    {"smtp", "submissions_listen", "[::]:465", "[::]:465", true},
    {"smtp", "submissions_listen", "", "", true},
    {"smtp", "submissions_listen", "mail.example:465", "listen addresses must be numeric", false},
    // NetworkList
    {"server", "plaintext_login_networks", "", "", true},
    {"server", "plaintext_login_networks", "127.0.0.0/8, ::1", "127.0.0.0/8 ::1", true},
    {"server", "plaintext_login_networks", "192.168.1.0/24 192.168.1.0/24 fd00::/8", "192.168.1.0/24 fd00::/8", true},
    {"server", "plaintext_login_networks", "0.0.0.0/0", "0.0.0.0/0", true},
    {"server", "plaintext_login_networks", "192.168.1.1/24", "has host bits set (did you mean 192.168.1.0/24?)", false},
    {"server", "plaintext_login_networks", "192.168.1.0/33", "the prefix length must be 0..32", false},
    {"server", "plaintext_login_networks", "192.168.*", "192.168.0.0/16", true},
    {"server", "plaintext_login_networks", "192.*.1.*", "wildcard replaces whole trailing octets", false},
    {"server", "plaintext_login_networks", "lan.example", "is not a network", false},
    {"server", "plaintext_login_networks", "::ffff:10.0.0.0/104", "write IPv4 networks in IPv4 form", false},
    {"server", "plaintext_login_networks", "10.0.0.0/", "the prefix length must be", false},
    // [relay]
    {"relay", "relay_networks", "", "", true},
    {"relay", "relay_networks", "192.168.* 10.1.2.*, fd00::/8", "192.168.0.0/16 10.1.2.0/24 fd00::/8", true},
    {"relay", "relay_networks", "0.0.0.0/0", "holds every address: the box would be an open relay", false},
    {"relay", "relay_networks", "::/0", "holds every address", false},
    {"relay", "relay_networks", "*", "matches every IPv4 address", false},
    {"relay", "relay_networks", "*.lan.example", "host names and IPv6 patterns are not supported", false},
    {"relay", "local_domains", "", "", true},
    {"relay", "local_domains", "Own.Test, *.own.test own.test", "own.test *.own.test", true},
    {"relay", "local_domains", "*", "'*' is not allowed here", false},
    {"relay", "local_domains", "own..test", "is not a domain pattern", false},
    {"relay", "route", "none", "none", true},
    {"relay", "route", "MX, Direct", "mx direct", true},
    {"relay", "route", "direct", "direct", true},
    {"relay", "route", "", "no route given", false},
    {"relay", "route", "mx mx", "'mx' is listed twice", false},
    {"relay", "route", "none mx", "'none' must stand alone", false},
    {"relay", "route", "uucp", "'uucp' is not a route", false},
    {"relay", "smarthost", "", "", true},
    {"relay", "smarthost", "SMTP.isp.example:587", "smtp.isp.example:587", true},
    {"relay", "smarthost", "smtp.isp.example", "smtp.isp.example", true},
    {"relay", "smarthost", "[2001:db8::1]:465", "[2001:db8::1]:465", true},
    {"relay", "smarthost", "192.0.2.1:25", "192.0.2.1:25", true},
    {"relay", "smarthost", "smtp.isp.example:0", "is not 1..65535", false},
    {"relay", "smarthost", "smtp.isp.example:99999999999999999999", "is not 1..65535", false},
    {"relay", "smarthost", "smtp isp", "is not host[:port]", false},
    {"relay", "smarthost", "[2001:db8::1", "lacks ']'", false},
    {"relay", "smarthost_tls", "implicit", "implicit", true},
    {"relay", "smarthost_tls", "Opportunistic", "opportunistic", true},
    {"relay", "smarthost_tls", "none", "none", true},
    {"relay", "smarthost_tls", "required", "is not one of: starttls, implicit, opportunistic, none", false},
    {"relay", "smarthost_fingerprint", "", "", true},
    {"relay", "smarthost_fingerprint",
     "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89",
     "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789", true},
    {"relay", "smarthost_fingerprint", "abcd", "is not a SHA-256 fingerprint", false},
    {"relay", "smarthost_fingerprint", std::string_view("zz" "00000000000000000000000000000000000000000000000000000000000000"),
     "is not a SHA-256 fingerprint", false},
    {"relay", "smarthost_credentials", "/etc/boxmail/relay/smarthost-login", "/etc/boxmail/relay/smarthost-login", true},
    {"relay", "mx_starttls", "no", "false", true},
    {"relay", "mx_starttls", "sometimes", "is not a boolean", false},
    {"relay", "retry_min", "1", "1", true},
    {"relay", "retry_min", "0", "is out of range", false},
    {"relay", "retry_max", "24h", "86400", true},
    {"relay", "retry_max", "25h", "is out of range", false},
    {"relay", "max_lifetime", "5m", "300", true},
    {"relay", "max_lifetime", "59", "is out of range", false},
    {"relay", "delay_notice_after", "0", "0", true},
    {"relay", "delay_notice_after", "721h", "is out of range", false},
    {"relay", "max_deliveries", "2", "2", true},
    {"relay", "max_deliveries", "1001", "is out of range", false},
    {"relay", "max_deliveries_per_destination", "1", "1", true},
    {"relay", "max_deliveries_per_destination", "0", "is out of range", false},
    {"relay", "connect_timeout", "2m", "120", true},
    {"relay", "connect_timeout", "0", "is out of range", false},
    // [dns]
    {"dns", "servers", "", "", true},
    {"dns", "servers", "127.0.0.1:5353 [::1]:53", "127.0.0.1:5353 [::1]:53", true},
    {"dns", "servers", "ns.isp.example:53", "listen addresses must be numeric", false},
    {"dns", "timeout", "1", "1", true},
    {"dns", "timeout", "61", "is out of range", false},
    {"dns", "attempts", "10", "10", true},
    {"dns", "attempts", "11", "is out of range", false},
    // [firewall]
    {"firewall", "enabled", "yes", "true", true},
    {"firewall", "enabled", "maybe", "is not a boolean", false},
    {"firewall", "allow", "", "", true},
    {"firewall", "allow", "192.168.1.10 10.0.0.0/8 fd00::/8", "192.168.1.10 10.0.0.0/8 fd00::/8", true},
    {"firewall", "allow", "0.0.0.0/0", "holds every address: nothing could be banned", false},
    {"firewall", "allow", "::/0", "holds every address", false},
    {"firewall", "allow", "mail.example.org", "is not a network", false},
    {"firewall", "program", "/opt/boxmail/sbin/boxmail-fw", "/opt/boxmail/sbin/boxmail-fw", true},
    {"firewall", "ban_after_login_failures", "0", "0", true},
    {"firewall", "ban_after_login_failures", "1001", "out of range", false},
    {"firewall", "ban_after_protocol_errors", "3", "3", true},
    {"firewall", "ban_after_protocol_errors", "-1", "", false},
    {"firewall", "ban_after_relay_attempts", "2", "2", true},
    {"firewall", "ban_after_relay_attempts", "many", "", false},
    {"firewall", "ban_after_unknown_recipients", "50", "50", true},
    {"firewall", "ban_after_unknown_recipients", "10001", "out of range", false},
    {"firewall", "ban_window", "30m", "1800", true},
    {"firewall", "ban_window", "0", "out of range", false},
    {"firewall", "ban_time", "2h", "7200", true},
    {"firewall", "ban_time", "0", "out of range", false},
    {"firewall", "ban_time_max", "48h", "172800", true},
    {"firewall", "ban_time_max", "721h", "out of range", false},
    // [tls]
    {"tls", "certificate", "/etc/boxmail/tls/cert.pem", "/etc/boxmail/tls/cert.pem", true},
    {"tls", "key", "/etc/boxmail/tls/key.pem", "/etc/boxmail/tls/key.pem", true},
    {"tls", "key", "", "a path is required", false},
};
// clang-format on

TEST(ConfigSchema, ValuesByType) {
  for (const ValueCase& c : kValueCases) {
    SCOPED_TRACE("[" + std::string(c.section) + "] " + std::string(c.key) + " = '" + std::string(c.value) + "'");
    const std::string text = "[" + std::string(c.section) + "]\n" + std::string(c.key) + " = " +
                             std::string(c.value) + "\n";
    const ParseResult r = parse_config(text, "v.ini");
    if (c.ok) {
      ASSERT_TRUE(r.errors.empty()) << errors_text(r);
      ASSERT_TRUE(r.config);
      EXPECT_EQ(show(*r.config, c.key, c.section), c.expect);
    } else {
      EXPECT_FALSE(r.config);
      ASSERT_EQ(r.errors.size(), 1u) << errors_text(r);
      const ConfigError& e = r.errors[0];
      EXPECT_EQ(e.file, "v.ini");
      EXPECT_EQ(e.line, 2);
      EXPECT_EQ(e.section, c.section);
      EXPECT_EQ(e.key, c.key);
      EXPECT_NE(e.message.find(c.expect), std::string::npos) << e.message;
    }
  }
}

TEST(ConfigSchema, EveryKeyTypeIsCovered) {
  for (const KeyInfo& k : schema()) {
    bool good = false, bad = false;
    for (const ValueCase& c : kValueCases) {
      if (c.section == k.section && c.key == k.key) (c.ok ? good : bad) = true;
    }
    EXPECT_TRUE(good) << k.key << " has no good-value case";
    if (k.type != KeyType::String || k.key == "hostname" || k.key == "user") {
      EXPECT_TRUE(bad || k.type == KeyType::Path) << k.key << " has no bad-value case";
    }
  }
}

// ---- file structure: sections, keys, lines ------------------------------------------

struct SyntaxCase {
  std::string_view name;
  std::string text;
  std::string_view error;   ///< ConfigError::to_string() of the one error; empty = no error
};

const std::string kLong197 = "banner = " + std::string(197 - 9, 'x');
const std::string kLong198 = "banner = " + std::string(198 - 9, 'x');

const SyntaxCase kSyntaxCases[] = {
    {"unknown section", "[server]\n\n[bogus]\nx = 1\n",
     "f.ini:4: [bogus] x: unknown section (known: [server], [smtp], [pop3], [tls], [store], [relay], [dns], [firewall], [aliases])"},
    {"empty unknown section", "[server]\n\n[Bogus]\n; nothing\n[smtp]\n",
     "f.ini:3: [bogus]: unknown section (known: [server], [smtp], [pop3], [tls], [store], [relay], [dns], [firewall], [aliases])"},
    {"empty unknown section at the end", "[server]\n\n[bogus]\n",
     "f.ini:3: [bogus]: unknown section (known: [server], [smtp], [pop3], [tls], [store], [relay], [dns], [firewall], [aliases])"},
    {"unknown key", "[smtp]\n; comment\nmax_hopz = 3\n",
     "f.ini:3: [smtp] max_hopz: unknown key (did you mean 'max_hops'?)"},
    {"key in the wrong section", "[smtp]\nmail_dir = /x\n",
     "f.ini:2: [smtp] mail_dir: unknown key (it belongs in [store])"},
    {"unknown key, no hint", "[store]\ncompression = on\n", "f.ini:2: [store] compression: unknown key"},
    {"key outside any section", "max_hops = 3\n",
     "f.ini:1: max_hops: key outside any section (start with e.g. [smtp])"},
    {"duplicate key", "[smtp]\nmax_hops = 3\nmax_errors = 4\nmax_hops = 5\n",
     "f.ini:4: [smtp] max_hops: duplicate key (first set on line 2)"},
    {"duplicate key over two headers", "[smtp]\nvrfy = yes\n[store]\n[SMTP]\nVRFY = no\n",
     "f.ini:5: [smtp] vrfy: duplicate key (first set on line 2)"},
    {"duplicate alias", "[aliases]\ninfo = alice\nInfo = bob\n",
     "f.ini:3: [aliases] info: duplicate key (first set on line 2)"},
    {"overlong line", "[smtp]\n" + kLong198 + "\nmax_hops = 3\n",
     "f.ini:2: line is 198 octets long (at most 197)"},
    {"overlong line with CRLF", "[smtp]\r\n" + kLong198 + "\r\n", "f.ini:2: line is 198 octets long (at most 197)"},
    {"longest line", "[smtp]\n" + kLong197 + "\n", ""},
    {"long comment line", "[smtp]\n; " + std::string(1000, 'c') + "\nmax_hops = 3\n", ""},
    {"no '='", "[smtp]\nmax_hops 3\n", "f.ini:2: [smtp]: expected 'key = value'"},
    {"':' instead of '='", "[smtp]\nlisten: [::1]:25\n", "f.ini:2: [smtp]: expected 'key = value'"},
    {"no key", "[smtp]\n= 3\n", "f.ini:2: [smtp]: missing key before '='"},
    {"header without ']'", "[smtp\nmax_hops = 3\n", "f.ini:1: section header lacks ']'"},
    {"text after header", "[smtp] x\n", "f.ini:1: text after the section header"},
    {"comment after header", "[smtp] ; the feed\nmax_hops = 3\n", ""},
    {"empty section name", "[ ]\n", "f.ini:1: empty section name"},
    {"NUL octet", std::string("[smtp]\nbanner = a\0b\n", 20), "f.ini:2: line contains a NUL octet"},
    {"case-insensitive names", "[SMTP]\nMax_Hops = 5\n[Server]\nLOG = syslog\n", ""},
    {"indented keys are keys, not continuations", "[smtp]\nmax_hops = 5\n    max_errors = 7\n\tvrfy = yes\n", ""},
    {"a continuation line is an error", "[aliases]\nstaff = alice,\n  bob\n",
     "f.ini:3: [aliases]: expected 'key = value'"},
    {"CRLF line ends", "[smtp]\r\nmax_hops = 5\r\n", ""},
    {"UTF-8 BOM", "\xEF\xBB\xBF[smtp]\nmax_hops = 5\n", ""},
    {"no final newline", "[smtp]\nmax_hops = 5", ""},
    {"inline comment", "[smtp]\nmax_hops = 5 ; five\n", ""},
    {"hash comment", "# boxmail\n[smtp]\n  # indented\nmax_hops = 5\n", ""},
};

TEST(ConfigSchema, FileStructure) {
  for (const SyntaxCase& c : kSyntaxCases) {
    SCOPED_TRACE(std::string(c.name));
    const ParseResult r = parse_config(c.text, "f.ini");
    if (c.error.empty()) {
      EXPECT_TRUE(r.errors.empty()) << errors_text(r);
      EXPECT_TRUE(r.config);
    } else {
      EXPECT_FALSE(r.config);
      ASSERT_EQ(r.errors.size(), 1u) << errors_text(r);
      EXPECT_EQ(r.errors[0].to_string(), c.error);
    }
  }
}

TEST(ConfigSchema, ValuesAroundStructureCases) {
  // The lines after an overlong one are still read, with their own numbers.
  ParseResult r = parse_config("[smtp]\n" + kLong198 + "\nmax_hops = 0\n", "f.ini");
  ASSERT_EQ(r.errors.size(), 2u) << errors_text(r);
  EXPECT_EQ(r.errors[1].line, 3);
  EXPECT_EQ(r.errors[1].key, "max_hops");

  r = parse_config("[smtp]\n" + kLong197 + "\n", "f.ini");
  ASSERT_TRUE(r.config);
  EXPECT_EQ(r.config->smtp.banner, std::string(197 - 9, 'x'));

  r = parse_config("[SMTP]\nMax_Hops = 5\n    max_errors = 7\n\tvrfy = yes ; comment\nbanner = a;b ; c\n", "f.ini");
  ASSERT_TRUE(r.config) << errors_text(r);
  EXPECT_EQ(r.config->smtp.max_hops, 5u);
  EXPECT_EQ(r.config->smtp.max_errors, 7u);
  EXPECT_TRUE(r.config->smtp.vrfy);
  EXPECT_EQ(r.config->smtp.banner, "a;b");

  r = parse_config("\xEF\xBB\xBF[smtp]\r\nmax_hops = 5\r\nbanner = hi there\r\n", "f.ini");
  ASSERT_TRUE(r.config) << errors_text(r);
  EXPECT_EQ(r.config->smtp.max_hops, 5u);
  EXPECT_EQ(r.config->smtp.banner, "hi there");
}

TEST(ConfigSchema, UnknownSectionIsReportedOnEachKey) {
  // Each key of an unknown section names its own line; keys under a broken
  // header are not reported one by one (the header is).
  const ParseResult r = parse_config("[bogus]\na = 1\nb = 2\n[smtp\nc = 3\n[smtp]\nmax_hops = 2\n", "f.ini");
  ASSERT_EQ(r.errors.size(), 3u) << errors_text(r);
  EXPECT_EQ(r.errors[0].to_string(), "f.ini:2: [bogus] a: unknown section (known: [server], [smtp], [pop3], [tls], [store], [relay], [dns], [firewall], [aliases])");
  EXPECT_EQ(r.errors[1].line, 3);
  EXPECT_EQ(r.errors[1].key, "b");
  EXPECT_EQ(r.errors[2].to_string(), "f.ini:4: section header lacks ']'");
  ASSERT_FALSE(r.config);
}

TEST(ConfigSchema, AllErrorsAreReportedInLineOrder) {
  const ParseResult r = parse_config(
      "[smtp]\nmax_hops = x\nvrfy = maybe\n[store]\nsync = none\n[smtp]\nmax_connections_per_ip = 200\n",
      "f.ini");
  ASSERT_EQ(r.errors.size(), 4u) << errors_text(r);
  EXPECT_EQ(r.errors[0].line, 2);
  EXPECT_EQ(r.errors[1].line, 3);
  EXPECT_EQ(r.errors[2].line, 5);
  EXPECT_EQ(r.errors[3].line, 7);
  EXPECT_FALSE(r.config);
}

TEST(ConfigSchema, ErrorText) {
  const ParseResult r = parse_config("[server]\nlog = stderr\n\n[smtp]\n\n\nmax_message_size = abc\n", "/etc/boxmail/boxmail.ini");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].to_string(),
            "/etc/boxmail/boxmail.ini:7: [smtp] max_message_size: value 'abc' is not a size "
            "(expected a number with optional k, M or G)");
  EXPECT_EQ((ConfigError{"f.ini", 0, "smtp", "listen", "no listen address"}).to_string(),
            "f.ini: [smtp] listen: no listen address");
  EXPECT_EQ((ConfigError{"f.ini", 3, "", "", "section header lacks ']'"}).to_string(),
            "f.ini:3: section header lacks ']'");
  EXPECT_EQ((ConfigError{"f.ini", 3, "x", "", "unknown section"}).to_string(), "f.ini:3: [x]: unknown section");
}

// ---- [aliases] ---------------------------------------------------------------------------

struct AliasCase {
  std::string_view line;
  std::string_view expect;   ///< "name=targets" or a part of the error
  bool ok;
};

const AliasCase kAliasCases[] = {
    {"info = alice, bob", "info=alice bob", true},
    {"Info = Alice Bob", "info=alice bob", true},
    {"staff = a,,b  c,d", "staff=a b c d", true},
    {"noreply = null", "noreply=null", true},
    {"dup = a a, A", "dup=a", true},
    {"sales.team = info", "sales.team=info", true},
    {"x =", "alias has no targets (use 'null' to discard)", false},
    {"x = , ,", "alias has no targets", false},
    {"../x = a", "bad alias name: mailbox name contains '/'", false},
    {"a/b = a", "bad alias name: mailbox name contains '/'", false},
    {".x = a", "bad alias name", false},
    {"null = a", "bad alias name: 'null' is reserved", false},
    {"x = ../y", "target '../y'", false},
    {"x = a@b", "forwards to a@b but [relay] route is none", false},
    {"x = a@[192.0.2.1]", "forwarding to an address literal is not supported", false},
    {"x = a%b@example.net", "the local-part must be a plain dot-atom", false},
    {"x = a@", "is not an address", false},
    {"loop = Loop", "alias lists itself as a target", false},
};

TEST(ConfigSchema, ForwardingAliases) {
  // A target user@domain needs a route; the domain is kept in lower case,
  // the local-part as written.
  const ParseResult r = parse_config("[aliases]\nbob = Bob@Example.NET, alice\n[relay]\nroute = mx\n", "f.ini");
  ASSERT_TRUE(r.config) << errors_text(r);
  EXPECT_EQ(join(r.config->aliases.at("bob")), "Bob@example.net alice");
}

TEST(ConfigSchema, Aliases) {
  for (const AliasCase& c : kAliasCases) {
    SCOPED_TRACE(std::string(c.line));
    const ParseResult r = parse_config("[aliases]\n" + std::string(c.line) + "\n", "a.ini");
    if (c.ok) {
      ASSERT_TRUE(r.config) << errors_text(r);
      ASSERT_EQ(r.config->aliases.size(), 1u);
      const auto& [name, targets] = *r.config->aliases.begin();
      EXPECT_EQ(name + "=" + join(targets), c.expect);
    } else {
      ASSERT_EQ(r.errors.size(), 1u) << errors_text(r);
      EXPECT_EQ(r.errors[0].line, 2);
      EXPECT_EQ(r.errors[0].section, "aliases");
      EXPECT_NE(r.errors[0].message.find(c.expect), std::string::npos) << r.errors[0].message;
    }
  }
}

TEST(ConfigSchema, ManyAliases) {
  const ParseResult r = parse_config("[aliases]\ninfo = alice\nsales = info, bob\nabuse = null\n", "a.ini");
  ASSERT_TRUE(r.config) << errors_text(r);
  EXPECT_EQ(r.config->aliases.size(), 3u);
  EXPECT_EQ(join(r.config->aliases.at("sales")), "info bob");
  EXPECT_TRUE(r.config->aliases.contains(std::string_view("abuse")));
}

// ---- cross-key checks ----------------------------------------------------------------------

TEST(ConfigSchema, CrossKeyChecks) {
  struct Case {
    std::string text;
    std::string_view error;   // empty = none
  } cases[] = {
      {"[smtp]\nmax_connections_per_ip = 100\n", ""},
      {"[smtp]\nmax_connections_per_ip = 101\n",
       "c.ini:2: [smtp] max_connections_per_ip: max_connections_per_ip (101) is larger than max_connections (100)"},
      {"[smtp]\nmax_connections = 10\n",
       "c.ini:2: [smtp] max_connections_per_ip: max_connections_per_ip (20) is larger than max_connections (10)"},
      {"[pop3]\nmax_connections_per_ip = 60\n",
       "c.ini:2: [pop3] max_connections_per_ip: max_connections_per_ip (60) is larger than max_connections (50)"},
      {"[pop3]\nlisten = 127.0.0.1:2525\n",
       "c.ini:2: [pop3] listen: port 2525 on 127.0.0.1 is also in [smtp] listen"},
      {"[pop3]\nenabled = no\nlisten = 127.0.0.1:2525\n", ""},
      {"[smtp]\nmax_connections = 10\nmax_connections_per_ip = 10\n", ""},
      {"[smtp]\nidle_timeout = 1h\n", ""},
      {"[smtp]\nidle_timeout = 2h\n",
       "c.ini:2: [smtp] idle_timeout: idle_timeout (7200s) is longer than session_timeout (3600s)"},
      {"[smtp]\nsession_timeout = 2m\n",
       "c.ini:2: [smtp] idle_timeout: idle_timeout (300s) is longer than session_timeout (120s)"},
      {"[smtp]\nidle_timeout = 2h\nsession_timeout = 2h\n", ""},
      {"[smtp]\nidle_timeout = 10\nsession_timeout = 60\n", ""},   // both at their minimum
      {"[relay]\nretry_min = 5h\n",
       "c.ini:2: [relay] retry_min: retry_min (18000s) is longer than retry_max (14400s)"},
      {"[relay]\nmax_deliveries = 1\n",
       "c.ini:2: [relay] max_deliveries_per_destination: max_deliveries_per_destination (2) is larger than "
       "max_deliveries (1)"},
      {"[relay]\nroute = mx smarthost\n",
       "c.ini:2: [relay] smarthost: route names smarthost but no smarthost is set"},
      {"[relay]\nroute = mx smarthost\nsmarthost = smtp.isp.example\n", ""},
      // A bad value is reported once, not again by the cross-key check.
      {"[smtp]\nmax_connections = 0\n", "c.ini:2: [smtp] max_connections: value '0' is out of range (1..100000)"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const ParseResult r = parse_config(c.text, "c.ini");
    if (c.error.empty()) {
      EXPECT_TRUE(r.errors.empty()) << errors_text(r);
    } else {
      ASSERT_EQ(r.errors.size(), 1u) << errors_text(r);
      EXPECT_EQ(r.errors[0].to_string(), c.error);
    }
  }
}

// ---- files ---------------------------------------------------------------------------------

TEST(ConfigSchema, LoadConfigFile) {
  const std::string dir = ::testing::TempDir();
  const std::string path = dir + "/boxmail-config-test-" + std::to_string(::getpid()) + ".ini";
  {
    std::ofstream out(path, std::ios::binary);
    out << "[smtp]\nmax_hops = 7\n";
  }
  ParseResult r = load_config_file(path);
  ASSERT_TRUE(r.config) << errors_text(r);
  EXPECT_EQ(r.config->source, path);
  EXPECT_EQ(r.config->smtp.max_hops, 7u);
  {
    std::ofstream out(path, std::ios::binary);
    out << "[smtp]\nmax_hops = -7\n";
  }
  r = load_config_file(path);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].file, path);
  EXPECT_EQ(r.errors[0].line, 2);
  std::remove(path.c_str());

  r = load_config_file(path);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_FALSE(r.config);
  EXPECT_EQ(r.errors[0].to_string(), path + ": cannot open: No such file or directory");

  r = load_config_file(dir);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("not a regular file"), std::string::npos);
}

TEST(ConfigSchema, ManPageListsEveryKey) {
  const std::string man = schema_man_page();
  EXPECT_EQ(man.rfind(".\\\" boxmail.ini(5)", 0), 0u);
  EXPECT_NE(man.find(".TH BOXMAIL.INI 5"), std::string::npos);
  for (const char* s : {"SECTION [server]", "SECTION [smtp]", "SECTION [store]", "SECTION [aliases]"}) {
    EXPECT_NE(man.find(s), std::string::npos) << s;
  }
  for (const KeyInfo& k : schema()) {
    std::string key;
    for (char c : k.key) key += c == '-' ? std::string("\\-") : std::string(1, c);
    EXPECT_NE(man.find("\\fB" + key + "\\fR = "), std::string::npos) << k.key;
  }
  EXPECT_NE(man.find("(1k..\\:2G; default: \\fB25M\\fR)"), std::string::npos);
  // Every line starting with '.' or '\'' is a request roff knows: no text
  // line is taken for one by accident.
  const std::set<std::string> requests = {".\\\"", ".TH", ".SH", ".SS", ".TP", ".PP", ".B", ".BR", ".I",
                                          ".IR", ".BI", ".RS", ".RE", ".nf", ".fi", ".nh", ".ad", ".br"};
  std::istringstream lines(man);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || (line[0] != '.' && line[0] != '\'')) continue;
    EXPECT_TRUE(requests.contains(line.substr(0, line.find(' ')))) << line;
  }
}

TEST(ConfigSchema, ShippedManPageIsGenerated) {
  const auto root = source_root();
  if (!root || !std::filesystem::exists(*root / "docs/boxmail.ini.5")) GTEST_SKIP() << "no source tree";
  EXPECT_EQ(read_file(*root / "docs/boxmail.ini.5"), schema_man_page())
      << "regenerate docs/boxmail.ini.5 from schema_man_page() (boxmaild --print-schema)";
}

TEST(ConfigSchema, ApplianceConfigParsesAndDocumentsEveryKey) {
  const auto root = source_root();
  const auto path = root ? *root / "rootfs-overlay/etc/boxmail/boxmail.ini" : std::filesystem::path();
  if (!root || !std::filesystem::exists(path)) GTEST_SKIP() << "no source tree";
  const std::string text = read_file(path);
  const ParseResult r = parse_config(text, path.string());
  ASSERT_TRUE(r.config) << errors_text(r);
  const Config& c = *r.config;
  EXPECT_EQ(join_listen(c.smtp.listen), "0.0.0.0:25 [::]:25");
  EXPECT_EQ(c.server.passwd_file, "/etc/boxmail/passwd");
  EXPECT_EQ(c.server.log, "syslog");
  EXPECT_EQ(c.store.mail_dir, "/var/mail");
  EXPECT_EQ(c.store.spool_dir, "/var/spool/boxmail");
  // Every other key is there, commented out, with its default.
  for (const KeyInfo& k : schema()) {
    const std::string set = "\n" + std::string(k.key) + " = ";
    const std::string commented = "\n;" + std::string(k.key) + " = " + std::string(k.default_value) + "\n";
    const std::string commented_empty = "\n;" + std::string(k.key) + " =\n";
    const bool documented = text.find(set) != std::string::npos || text.find(commented) != std::string::npos ||
                            (k.default_value.empty() && text.find(commented_empty) != std::string::npos);
    EXPECT_TRUE(documented) << k.key;
  }
}

}  // namespace

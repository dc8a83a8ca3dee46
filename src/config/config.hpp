// config.hpp - the typed, validated configuration snapshot of boxmaild.
//
// A Config is immutable once built: boxmaild parses the INI file (or takes the
// embedded default) into a new Config, validates it whole, and swaps a
// std::shared_ptr<const Config>; running sessions keep the snapshot they began
// with (SIGHUP reload). Every field here is one key of the schema table in
// schema.hpp, which gives its section, key, type, range, default and doc; the
// embedded default (default_config()) is exactly the schema's defaults.
//
// Units: sizes in octets, times in seconds.
#pragma once

#include "net/ip_network.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace boxmail::config {

/// How DATA treats a bare LF (an LF not preceded by CR).
/// Normalize: take it as a line end (Postfix "normalize"); Reject: read the
/// message to its real CRLF.CRLF end, then refuse it with 550 5.5.2.
enum class BareLf { Normalize, Reject };

/// How DATA treats a bare CR (a CR not followed by LF).
/// Keep: store it as a data byte; Reject: refuse the message (550 5.5.2).
enum class BareCr { Keep, Reject };

/// What a feed client's reverse DNS must show (smtp/client_check.hpp).
/// Off: not looked up; Log: looked up and logged, never refused; Reject:
/// no PTR, or a PTR name whose addresses do not include the client, gets
/// 550 5.7.25, a DNS failure 450 4.7.25 (RFC 7372 3.3).
enum class ReverseDnsPolicy { Off, Log, Reject };

/// How the store makes a batch of deliveries durable.
/// Syncfs: one syncfs(2) for the data of a whole batch and one for its
/// directory entries (group commit across sessions). Fsync: fsync(2) of each
/// file and each touched directory, still batched.
enum class SyncMode { Syncfs, Fsync };

/// A numeric listening address: an IPv4 or IPv6 literal (never a name: the
/// daemon resolves nothing to bind) and a port.
struct ListenAddress {
  std::string host;   ///< "127.0.0.1", "::1", "0.0.0.0", "::"
  std::uint16_t port = 0;
  bool operator==(const ListenAddress&) const = default;
};

/// [server]
struct ServerConfig {
  std::string hostname;        ///< name in greeting and Received:; empty = gethostname()
  std::string passwd_file;     ///< Dovecot-compatible passwd-file of mailboxes
  std::string log;             ///< "stderr" or "syslog"
  std::string control_socket;  ///< UNIX socket of the control protocol (status, reload, log; control/)
  std::string user;            ///< account to run as after binding, when started as root (process/privilege.hpp)
  std::uint32_t login_failures_per_address = 0;   ///< failed logins from one address before it is refused (every protocol)
  std::uint32_t login_failure_window = 0;         ///< seconds failures are remembered and a blocked address waits
  std::uint32_t login_check_queue = 0;            ///< password checks waiting for the hashing thread; more get a temporary error
  /// Clients that may log in without TLS (POP3 USER/PASS, AUTH; SMTP AUTH); empty: none
  std::vector<net::IpNetwork> plaintext_login_networks;
};

/// [smtp] - the SMTP feed listener and its limits (RFC 5321 4.5.3).
struct SmtpConfig {
  std::vector<ListenAddress> listen;          ///< where the feed listens (STARTTLS offered, RFC 3207)
  std::vector<ListenAddress> submission_listen;   ///< message submission, STARTTLS then AUTH (RFC 6409, port 587); empty: off
  std::vector<ListenAddress> submissions_listen;  ///< submission over implicit TLS (RFC 8314 3.3, port 465); empty: off
  std::string banner;                         ///< text after "220 <hostname> ESMTP"
  std::vector<std::string> accept_domains;    ///< "*" (any) or patterns like "*.example.org", lower case
  std::vector<std::string> feed_servers;      ///< the only servers the feed port serves (with [firewall] allow); empty: anyone (smtp/feed_list.hpp)
  std::uint32_t feed_refresh = 0;             ///< seconds between lookups of feed_servers' host names
  std::string catch_all;                      ///< mailbox for unknown local-parts; empty = none
  bool vrfy = false;                          ///< VRFY answers (else 252 2.5.0 always)
  std::uint64_t max_message_size = 0;         ///< octets, SIZE= and actual (552 5.3.4)
  std::uint32_t max_recipients = 0;           ///< per message (452 4.5.3)
  std::uint32_t max_command_line = 0;         ///< octets incl. CRLF (500 5.5.2)
  std::uint32_t max_text_line = 0;            ///< octets of one DATA line excl. CRLF (554 5.6.0)
  std::uint32_t max_connections = 0;          ///< total simultaneous sessions (421 4.7.0)
  std::uint32_t max_connections_per_ip = 0;   ///< simultaneous sessions per client address (421 4.7.0)
  std::uint32_t idle_timeout = 0;             ///< seconds without a complete command or data (421 4.4.2)
  std::uint32_t session_timeout = 0;          ///< seconds for the whole session (421 4.4.2)
  std::uint32_t max_errors = 0;               ///< protocol-error budget (421 4.7.0 and close)
  std::uint32_t max_hops = 0;                 ///< Received: headers before 554 5.4.6
  std::uint32_t max_alias_depth = 0;          ///< nesting of [aliases]
  BareLf bare_lf = BareLf::Normalize;
  BareCr bare_cr = BareCr::Keep;
  std::uint32_t min_data_rate = 0;            ///< octets/s of DATA that count as progress (0: any)
  std::uint32_t evict_idle = 0;               ///< seconds without progress before a session may be evicted when full
  // Checks at connection time (smtp/client_check.hpp, docs/abuse.md)
  std::vector<std::string> dnsbl_zones;       ///< DNS block lists asked for feed clients (RFC 5782), lower case; empty: none
  ReverseDnsPolicy reverse_dns = ReverseDnsPolicy::Off;   ///< the forward-confirmed reverse DNS rule for feed clients
  std::uint32_t client_check_timeout = 0;     ///< seconds from accept the checks may take; unanswered lookups count as failed
};

/// [pop3] - the POP3 server for LAN users (RFC 1939) and its limits.
struct Pop3Config {
  bool enabled = true;                        ///< run the POP3 server at all
  std::vector<ListenAddress> listen;          ///< where POP3 listens (STLS offered, RFC 2595)
  std::vector<ListenAddress> pop3s_listen;    ///< POP3 over implicit TLS (RFC 8314 3.3, port 995); empty: off
  std::uint32_t max_command_line = 0;         ///< octets incl. CRLF (-ERR Line too long)
  std::uint32_t idle_timeout = 0;             ///< seconds without a command (RFC 1939 3: at least 600)
  std::uint32_t max_errors = 0;               ///< protocol-error budget (-ERR and close)
  std::uint32_t max_connections = 0;          ///< total simultaneous sessions (-ERR [SYS/TEMP])
  std::uint32_t max_connections_per_ip = 0;   ///< simultaneous sessions per client address
  std::uint32_t login_failures = 0;           ///< failed logins in one session before it is closed
  std::uint32_t login_delay = 0;              ///< seconds before a failed login is answered
  std::uint32_t evict_idle = 0;               ///< seconds without progress before a session may be evicted when full
};

/// [tls] - the server's certificate chain and key (tls/certificate.hpp).
struct TlsConfig {
  std::string certificate;   ///< PEM chain, leaf first; made self-signed on first start when missing
  std::string key;           ///< PEM private key of the leaf (mode 0600, the daemon's user)
};

/// [store]
struct StoreConfig {
  std::string mail_dir;     ///< Maildirs live in mail_dir/<mailbox>/{tmp,new,cur}
  std::string spool_dir;    ///< spool_dir/tmp holds messages being received
  SyncMode sync = SyncMode::Syncfs;
  std::uint64_t min_free_space = 0;   ///< octets kept free on mail_dir's file system: below it new mail gets 452 4.3.1
};

/// One way out for mail to other domains, tried in the order configured.
/// Mx: the recipient domain's MX hosts (RFC 5321 5.1, implicit MX when it
/// has none); Direct: the domain's own A/AAAA address, no MX lookup;
/// Smarthost: the ISP's relay server ([relay] smarthost).
enum class RouteMethod { Mx, Direct, Smarthost };

/// TLS towards the smarthost. Starttls: STARTTLS required (RFC 3207; no
/// TLS is a temporary failure); Implicit: TLS from the first octet (RFC
/// 8314 3.3, port 465); Opportunistic: STARTTLS when offered; None: never.
enum class SmarthostTls { Starttls, Implicit, Opportunistic, None };

/// [relay] - who may send mail to other domains through the box, what is
/// the box's own (address/resolve.hpp, RFC 5321 3.6 and 7.1), and how the
/// outgoing queue delivers (relay/).
struct RelayConfig {
  std::vector<net::IpNetwork> relay_networks;   ///< clients that may relay without logging in; empty: none
  std::vector<std::string> local_domains;       ///< the box's own domain patterns, lower case; empty: accept_domains
  std::vector<RouteMethod> route;               ///< ways out in order; empty: none configured (remote recipients refused)
  std::string smarthost;                        ///< "host", "host:port", "[v6]:port"; empty: none
  SmarthostTls smarthost_tls = SmarthostTls::Starttls;
  std::string smarthost_fingerprint;            ///< SHA-256 of the smarthost's certificate, lower-case hex; empty: no pin
  std::string smarthost_credentials;            ///< file "user:password" for AUTH at the smarthost (0600, the daemon's)
  bool mx_starttls = true;                      ///< STARTTLS to MX hosts when offered (opportunistic, unverified)
  std::uint32_t retry_min = 0;                  ///< seconds before the first retry; doubles per attempt
  std::uint32_t retry_max = 0;                  ///< seconds: the longest wait between attempts
  std::uint32_t max_lifetime = 0;               ///< seconds in the queue before a failure notice
  std::uint32_t delay_notice_after = 0;         ///< seconds before a delay notice; 0: none
  std::uint32_t max_deliveries = 0;             ///< outgoing connections at once
  std::uint32_t max_deliveries_per_destination = 0;   ///< outgoing connections to one destination at once
  std::uint32_t connect_timeout = 0;            ///< seconds to wait for a TCP connection
};

/// [dns] - the resolver of the outgoing queue (dns/resolver.hpp).
struct DnsConfig {
  std::vector<ListenAddress> servers;   ///< DNS servers (address:port); empty: /etc/resolv.conf
  std::uint32_t timeout = 0;            ///< seconds per try
  std::uint32_t attempts = 0;           ///< tries per server
};

/// [firewall] - boxmail's own nftables table through the boxmail-fw
/// helper (firewall/; docs/firewall.md).
struct FirewallConfig {
  bool enabled = false;                  ///< start boxmail-fw and keep the table (read at start)
  std::vector<net::IpNetwork> allow;     ///< never banned (besides [relay] relay_networks)
  std::string program;                   ///< the helper's path, run as root (fixed at install)
  // The auto-ban (net/abuse_score.hpp): offences of each kind that alone
  // earn a ban within ban_window (0: not counted), and the ban's length.
  std::uint32_t ban_after_login_failures = 10;
  std::uint32_t ban_after_protocol_errors = 5;
  std::uint32_t ban_after_relay_attempts = 5;
  std::uint32_t ban_after_unknown_recipients = 20;
  std::uint32_t ban_window = 600;        ///< seconds: offences closer than this add up
  std::uint32_t ban_time = 3600;         ///< seconds: the first ban
  std::uint32_t ban_time_max = 604800;   ///< seconds: the longest (repeat offenders double up to it)
};

/// [aliases]: lower-case alias name -> its targets (mailboxes, other aliases,
/// or the single target "null", which discards).
using Aliases = std::map<std::string, std::vector<std::string>, std::less<>>;

/// One whole, validated configuration snapshot.
struct Config {
  std::string source;   ///< file it came from, or "<embedded default>"
  ServerConfig server;
  SmtpConfig smtp;
  Pop3Config pop3;
  TlsConfig tls;
  StoreConfig store;
  RelayConfig relay;
  DnsConfig dns;
  FirewallConfig firewall;
  Aliases aliases;
};

using ConfigPtr = std::shared_ptr<const Config>;

}  // namespace boxmail::config

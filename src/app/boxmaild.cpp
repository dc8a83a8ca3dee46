// boxmaild - the boxmail mail daemon: wiring only.
//
// boxmaild [-c FILE] [--check-config] [--print-schema]
//
// Without -c it runs on the embedded default configuration (SMTP on
// 127.0.0.1:2525, data under ./var) and, on first start, creates two demo
// mailboxes whose passwords it prints once. SIGHUP reloads the configuration
// and the passwd-file; SIGTERM/SIGINT stop accepting, let sessions finish the
// message at hand (at most 30 s) and exit 0.
//
// A role of the multi-call program boxmail (app/roles.hpp): boxmaild_main
// runs when it is started as boxmaild.
#include "app/roles.hpp"
#include "config/passwd_file.hpp"
#include "config/passwd_watcher.hpp"
#include "config/reload_rule.hpp"
#include "config/password.hpp"
#include "config/schema.hpp"
#include "control/control_server.hpp"
#include "control/smarthost_login.hpp"
#include "control/tls_commands.hpp"
#include "firewall/ban_list.hpp"
#include "firewall/client.hpp"
#include "net/abuse_score.hpp"
#include "net/log.hpp"
#include "pop3/pop3_server.hpp"
#include "process/privilege.hpp"
#include "proto/login.hpp"
#include "relay/queue_runner.hpp"
#include "smtp/smtp_server.hpp"
#include "store/queue.hpp"
#include "store/spool_file.hpp"
#include "tls/certificate.hpp"
#include "tls/server_context.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <malloc.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace {

using namespace boxmail;
namespace asio = boost::asio;

constexpr const char* kUsage =
    "usage: boxmaild [-c FILE] [--check-config] [--print-schema]\n"
    "  -c FILE          read the configuration from FILE (INI, see boxmail.ini(5));\n"
    "                   without it the embedded default is used (SMTP on 127.0.0.1:2525,\n"
    "                   POP3 on 127.0.0.1:1100, data in ./var)\n"
    "  --check-config   validate the configuration and exit (0 valid, 2 errors)\n"
    "  --print-schema   print boxmail.ini(5) generated from the schema and exit\n";

std::string host_name(const config::Config& c) {
  if (!c.server.hostname.empty()) return c.server.hostname;
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

/// First start on the embedded default: two demo mailboxes with printed passwords.
void create_demo_mailboxes(const config::Config& c) {
  if (::access(c.server.passwd_file.c_str(), F_OK) == 0) return;
  config::AccountTable table;
  std::printf("boxmaild: first start: created demo mailboxes (passwords shown only now):\n");
  for (const char* name : {"alice", "bob"}) {
    config::Account a;
    a.name = name;
    const std::string pw = config::random_password(12);
    a.password = config::hash_password(pw);
    table.accounts.push_back(std::move(a));
    store::make_dirs(c.store.mail_dir + "/" + name + "/new", 0700);
    store::make_dirs(c.store.mail_dir + "/" + name + "/cur", 0700);
    store::make_dirs(c.store.mail_dir + "/" + name + "/tmp", 0700);
    std::printf("  %s  password: %s\n", name, pw.c_str());
  }
  std::fflush(stdout);
  if (auto err = config::save_passwd_file(c.server.passwd_file, table); !err.empty()) {
    net::log_error("cannot write " + c.server.passwd_file + ": " + err);
  }
}

/// The mail ports the firewall guards: every port boxmaild listens on
/// for SMTP, submission and POP3 (as bound at start).
std::vector<std::uint16_t> mail_ports(const config::Config& c) {
  std::vector<std::uint16_t> out;
  for (const auto* list : {&c.smtp.listen, &c.smtp.submission_listen, &c.smtp.submissions_listen}) {
    for (const auto& a : *list) out.push_back(a.port);
  }
  if (c.pop3.enabled) {
    for (const auto* list : {&c.pop3.listen, &c.pop3.pop3s_listen}) {
      for (const auto& a : *list) out.push_back(a.port);
    }
  }
  return out;
}

/// The networks never banned: [firewall] allow and [relay] relay_networks.
std::vector<net::IpNetwork> never_banned(const config::Config& c) {
  std::vector<net::IpNetwork> out = c.firewall.allow;
  out.insert(out.end(), c.relay.relay_networks.begin(), c.relay.relay_networks.end());
  return out;
}

}  // namespace

int boxmail::app::boxmaild_main(int argc, char** argv) {
  std::string config_path;
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-c" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (a == "--check-config") {
      check_only = true;
    } else if (a == "--print-schema") {
      std::fputs(config::schema_man_page().c_str(), stdout);
      return 0;
    } else if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else {
      std::fprintf(stderr, "boxmaild: unknown argument '%s'\n%s", a.c_str(), kUsage);
      return 2;
    }
  }

  auto load = [&]() -> config::ParseResult {
    return config_path.empty() ? config::ParseResult{config::default_config(), {}}
                               : config::load_config_file(config_path);
  };
  auto parsed = load();
  if (!parsed.errors.empty()) {
    for (const auto& e : parsed.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
    return 2;
  }
  if (check_only) {
    // The passwd-file too: boxmaild would not start with a broken one (a
    // missing one is fine: the first boot creates it after this check).
    auto p = config::PasswdWatcher(parsed.config->server.passwd_file).first_load();
    for (const auto& e : p.errors) std::fprintf(stderr, "%s\n", e.c_str());
    if (!p.table) return 2;
    std::printf("config OK: %s\n", parsed.config->source.c_str());
    return 0;
  }
  config::ConfigPtr cfg = parsed.config;
  net::log_open(cfg->server.log, "boxmaild");
  std::signal(SIGPIPE, SIG_IGN);

  // Started as root: the account to drop to, looked up now; the store
  // directories boxmaild would make are made for it (store/spool_file.hpp).
  std::optional<process::RunAs> run_as;
  if (::geteuid() == 0) {
    std::string why;
    run_as = process::find_run_as(cfg->server.user, why);
    if (!run_as) {
      net::log_error(why + "; not starting as root");
      return 2;
    }
    const store::DirOwner store_owner{run_as->account.uid, run_as->account.gid};
    // Only directories that do not exist yet are made (and handed over):
    // root never chowns a path it read from the INI file.
    std::vector<std::string> dirs{cfg->store.mail_dir, cfg->store.spool_dir};
    if (config_path.empty()) dirs.push_back(config::parent_directory(cfg->server.passwd_file));
    for (const auto& d : dirs) {
      if (int e = store::make_dirs(d, 0750, store_owner); e != 0) {
        net::log_error("cannot create " + d + " for " + cfg->server.user + ": " + std::strerror(e));
        return 1;
      }
    }
    // The certificate's directory holds the private key, the smarthost
    // login's its password: the daemon's user only.
    for (const auto& d : {config::parent_directory(cfg->tls.certificate), config::parent_directory(cfg->tls.key),
                          config::parent_directory(cfg->relay.smarthost_credentials)}) {
      if (int e = store::make_dirs(d, 0700, store_owner); e != 0) {
        net::log_error("cannot create " + d + " for " + cfg->server.user + ": " + std::strerror(e));
        return 1;
      }
    }
  }

  // The account table: replaced only by a passwd-file at least as good
  // (config/passwd_watcher.hpp); one that cannot be read or has errors at
  // start is refused like a bad configuration. Read after the drop.
  config::PasswdWatcher accounts(cfg->server.passwd_file);
  auto log_poll = [](const config::PasswdPoll& p) {
    for (const auto& e : p.errors) net::log_error(e);
    for (const auto& w : p.warnings) net::log_warning(w);
    for (const auto& n : p.notes) net::log_info(n);
  };
  std::shared_ptr<const config::AccountTable> table = std::make_shared<const config::AccountTable>();

  asio::io_context io(1);
  // Mailbox usage for quotas and the status page, counted off the loop by
  // its own thread: made after the drop.
  std::shared_ptr<store::UsageTable> usage;
  // One password check for every login (POP3, SMTP AUTH) and the
  // certificate every TLS session starts with (read after the drop).
  proto::LoginService logins(cfg);
  tls::ServerContextSlot tls_slot(cfg->tls.certificate, cfg->tls.key);
  auto tls_context = [&tls_slot] { return tls_slot.current(); };
  smtp::SmtpServer server(io, cfg, table, host_name(*cfg), logins, tls_context);
  // The outgoing queue's scheduler (relay/queue_runner.hpp), made after the drop.
  std::unique_ptr<relay::QueueRunner> runner;
  // The firewall ([firewall] enabled): the helper, started before the
  // drop, and the bans (firewall/ban_list.hpp), read after it.
  std::unique_ptr<firewall::Client> fw_client;
  std::unique_ptr<firewall::BanList> ban_list;
  // POP3 for the LAN users, when enabled (pop3.enabled is read at start only).
  std::unique_ptr<pop3::Pop3Server> pop3_server;
  if (cfg->pop3.enabled)
    pop3_server = std::make_unique<pop3::Pop3Server>(io, cfg, table, host_name(*cfg), logins, tls_context);
  // Both servers share one account table, re-read when the passwd-file changes.
  auto poll_accounts = [&](bool force) {
    auto p = accounts.poll(force);
    log_poll(p);
    if (auto t = p.table) {
      for (const auto& a : t->accounts) usage->scan(cfg->store.mail_dir + "/" + a.name);   // new ones get counted
      table = t;
      server.set_accounts(t);
      if (pop3_server) pop3_server->set_accounts(std::move(t));
    }
  };
  server.set_before_accept([&] { poll_accounts(false); });
  if (pop3_server) pop3_server->set_before_accept([&] { poll_accounts(false); });
  if (auto e = server.listen(); !e.empty()) {
    net::log_error(e);
    return 1;
  }
  if (pop3_server) {
    if (auto e = pop3_server->listen(); !e.empty()) {
      net::log_error(e);
      return 1;
    }
  }

  // SIGHUP and the control socket's `reload`: a config with errors is
  // never taken; the errors come back (and are logged).
  const config::ConfigPtr start_cfg = cfg;   // the listeners were bound from this one
  std::vector<std::string> restart_notes;    // "needs a restart" since the last reload
  auto reload = [&]() -> std::vector<std::string> {
    auto p = load();
    std::vector<std::string> errors;
    if (!p.errors.empty()) {
      for (const auto& e : p.errors) {
        net::log_error(e.to_string());
        errors.push_back(e.to_string());
      }
      net::log_error("reload failed; keeping the running configuration");
      return errors;
    }
    // Store paths change only at a restart, and must still be there
    // (config/reload_rule.hpp).
    const auto refusals = config::reload_refusals(*cfg, *p.config, [](const std::string& dir) {
      struct stat st {};
      return ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    });
    if (!refusals.empty()) {
      for (const auto& e : refusals) {
        net::log_error(e.to_string());
        errors.push_back(e.to_string());
      }
      net::log_error("reload refused; keeping the running configuration");
      return errors;
    }
    cfg = p.config;
    net::log_open(cfg->server.log, "boxmaild");
    logins.set_config(cfg);
    control::reload_certificate(tls_slot, host_name(*cfg), std::time(nullptr));   // same paths: fixed at install
    server.set_config(cfg, host_name(*cfg));
    if (pop3_server) pop3_server->set_config(cfg, host_name(*cfg));
    if (runner) runner->reconfigure();
    if (ban_list) {   // new allowed networks; the mail ports are the ones bound at start
      ban_list->set_allow(never_banned(*cfg));
      ban_list->apply(mail_ports(*start_cfg));
    }
    poll_accounts(true);
    net::log_info("reloaded " + cfg->source);
    // Keys read at start only (the ports, bound as root): reported until a
    // restart takes them.
    restart_notes.clear();
    for (const auto& r : config::restart_needed(*start_cfg, *cfg)) {
      net::log_warning(r.to_string());
      restart_notes.push_back(r.to_string());
    }
    return errors;
  };

  // The control socket (control/): status, reload, recent log lines, stats
  // for the web panel. Its path is read at start only.
  const auto started = std::chrono::steady_clock::now();
  const auto listen_text = config::format_listen_list;
  control::ControlServer::Handlers handlers;
  handlers.status = [&]() {
    control::StatusReply s;
    const auto up = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started);
    s.uptime = static_cast<std::uint64_t>(up.count());
    s.config = cfg->source;
    s.services.push_back({"smtp", true, listen_text(start_cfg->smtp.listen), server.sessions()});
    if (pop3_server) {
      s.services.push_back({"pop3", true, listen_text(start_cfg->pop3.listen), pop3_server->sessions()});
    } else {
      s.services.push_back({"pop3", false, "", 0});
    }
    s.restart_needed = restart_notes;
    poll_accounts(false);
    control::fill_mail_store(s, cfg->store.mail_dir, *table, *usage, cfg->store.min_free_space);
    control::RelayStatus relay;
    for (const config::RouteMethod m : cfg->relay.route) {
      relay.route.push_back(m == config::RouteMethod::Mx ? "mx" : m == config::RouteMethod::Direct ? "direct" : "smarthost");
    }
    relay.queued = runner ? runner->stats().queued : 0;
    relay.login_user = control::smarthost_login_user(cfg->relay.smarthost_credentials);
    s.relay = std::move(relay);
    return s;
  };
  handlers.reload = [&]() {
    control::ReloadReply r;
    r.errors = reload();
    r.taken = r.errors.empty();
    r.message = r.taken ? "reloaded" : "configuration refused; the running one is kept";
    if (r.taken) r.restart_needed = restart_notes;   // taken, but these keys wait for a restart
    return r;
  };
  // The certificate page: the panel never touches the key; boxmaild
  // validates and installs (control/tls_commands.hpp).
  handlers.tls = [&] { return control::tls_status(tls_slot); };
  handlers.tls_install = [&](const control::TlsUpload& u) {
    return control::tls_install(tls_slot, u, std::time(nullptr));
  };
  handlers.tls_regenerate = [&] { return control::tls_regenerate(tls_slot, host_name(*cfg), std::time(nullptr)); };
  handlers.queue = [&runner](const control::Request& req) {
    if (!runner) return control::Reply{false, "the queue is not running yet", {}};
    relay::QueueCommandResult r;
    switch (req.queue_action) {
      case control::QueueAction::List: r = runner->list(); break;
      case control::QueueAction::Show: r = runner->show(req.queue_id); break;
      case control::QueueAction::Delete: r = runner->remove(req.queue_id); break;
      case control::QueueAction::Retry: r = runner->retry(req.queue_id); break;
      case control::QueueAction::Flush: r = runner->flush(); break;
    }
    return control::Reply{r.ok, r.text, r.lines};
  };
  // The auto-ban's reporter (set once the score exists, after the drop).
  std::function<void(const std::string&, net::Offence)> report_offence;
  // Bans: the administrator's (boxmailctl, the panel) through the same
  // BanList the abuse scoring uses.
  handlers.firewall = [&ban_list, &report_offence](const control::Request& req) -> control::Reply {
    if (req.verb == control::Verb::LoginFailed) {   // the panel's failed logins, for the auto-ban
      if (!net::parse_address(req.address)) return control::Reply{false, "not an address: " + req.address, {}};
      if (report_offence) report_offence(req.address, net::Offence::LoginFailure);
      return control::Reply{true, "counted", {}};
    }
    if (!ban_list) return control::Reply{false, "the firewall is off ([firewall] enabled = no)", {}};
    if (req.verb == control::Verb::Ban) {
      const auto r = ban_list->ban(req.address, req.seconds, req.reason);
      return control::Reply{r.ok, r.message, {}};
    }
    if (req.verb == control::Verb::Unban) {
      const auto r = ban_list->unban(req.address);
      return control::Reply{r.ok, r.message, {}};
    }
    control::BansReply out;
    const std::int64_t now = std::time(nullptr);
    for (const firewall::Ban& b : ban_list->list()) {
      out.bans.push_back(control::BanEntry{b.address, static_cast<std::uint64_t>(std::max<std::int64_t>(b.expires - now, 0)),
                                           b.reason});
    }
    return control::encode(out);
  };
  // `stats`: the firewall's dropped packets (nft counter banned_drops),
  // asked of the helper with `list` (its head says drops=P); at most 3 s.
  handlers.firewall_drops = [&io, &fw_client]() -> asio::awaitable<std::optional<std::uint64_t>> {
    if (!fw_client || !fw_client->running()) co_return std::nullopt;
    auto timer = std::make_shared<asio::steady_timer>(io, std::chrono::seconds(3));
    auto drops = std::make_shared<std::optional<std::uint64_t>>();
    firewall::Request list;
    list.verb = firewall::Verb::List;
    fw_client->send(list, [timer, drops](const firewall::Reply& r) {
      if (r.ok) *drops = firewall::listed_drops(r.text);
      timer->cancel();
    });
    auto wait = timer->async_wait(asio::as_tuple(asio::use_awaitable));
    co_await std::move(wait);
    co_return *drops;
  };
  // The smarthost login: written by boxmaild only (0600 in a 0700
  // directory); replies name the user, never the password.
  handlers.smarthost_login = [&](const control::SmarthostLogin& l) {
    return control::store_smarthost_login(cfg->relay.smarthost_credentials, l);
  };
  handlers.smarthost_login_clear = [&] { return control::clear_smarthost_login(cfg->relay.smarthost_credentials); };
  // A test message through the route, now (relay/queue_runner.hpp send_test).
  handlers.relay_test = [&runner](std::string address,
                                  std::string sender) -> boost::asio::awaitable<control::RelayTestReply> {
    if (!runner) {
      co_return control::RelayTestReply{control::RelayTestReply::Result::Refused, "the queue is not running yet", {},
                                        {}};
    }
    boost::asio::awaitable<control::RelayTestReply> test = runner->send_test(address, sender);
    co_return co_await std::move(test);
  };
  control::ControlServer control_server(io, cfg->server.control_socket, std::move(handlers));
  if (auto e = control_server.listen(); !e.empty()) {
    net::log_error(e);
    return 1;
  }

  // Privileged helpers start here, before the drop, each over a socketpair:
  // the firewall helper (firewall/client.hpp), which keeps CAP_NET_ADMIN.
  if (cfg->firewall.enabled) {
    if (!run_as) {
      net::log_warning("firewall: [firewall] enabled, but boxmaild was not started as root: "
                       "no firewall (mail is served as usual)");
    } else {
      std::string why;
      fw_client = firewall::Client::spawn(io, cfg->firewall.program, why);
      if (!fw_client) net::log_error("firewall: cannot start " + cfg->firewall.program + ": " + why + "; no firewall");
      else net::log_info("firewall: started " + cfg->firewall.program + " (pid " + std::to_string(fw_client->pid()) + ")");
    }
  }

  // ---- root ends here (process/privilege.hpp) ----
  const process::DropResult dropped = run_as ? process::drop_privileges(*run_as) : process::stay_unprivileged();
  if (!dropped.error.empty()) {
    net::log_error("cannot drop privileges: " + dropped.error + "; not serving as root");
    return 2;
  }
  net::log_info(dropped.summary);

  // ---- the store, as the mail user ----
  int err = 0;
  const int stale = store::clean_spool(cfg->store.spool_dir + "/tmp", err);
  if (stale < 0) {
    net::log_error("cannot prepare spool " + cfg->store.spool_dir + "/tmp: " + std::strerror(err));
    return 1;
  }
  if (stale > 0) net::log_info("removed " + std::to_string(stale) + " unfinished message(s) from the spool");
  if (int e = store::make_dirs(cfg->store.mail_dir, 0755); e != 0) {
    net::log_error("cannot create mail_dir " + cfg->store.mail_dir + ": " + std::strerror(e));
    return 1;
  }
  if (config_path.empty()) create_demo_mailboxes(*cfg);
  auto first = accounts.first_load();
  log_poll(first);
  if (!first.table) return 2;
  table = first.table;
  usage = std::make_shared<store::UsageTable>();
  server.set_usage(usage);
  if (pop3_server) pop3_server->set_usage(usage);
  for (const auto& a : table->accounts) usage->scan(cfg->store.mail_dir + "/" + a.name);
  server.set_accounts(table);
  if (pop3_server) pop3_server->set_accounts(table);
  logins.start();
  // TLS: an interrupted certificate install finished or undone, a
  // self-signed certificate on first start, then the files as they are.
  for (const auto& d : {config::parent_directory(cfg->tls.certificate), config::parent_directory(cfg->tls.key),
                        config::parent_directory(cfg->relay.smarthost_credentials)}) {
    if (int e = store::make_dirs(d, 0700); e != 0) net::log_error("cannot create " + d + ": " + std::strerror(e));
  }
  control::start_certificate(tls_slot, host_name(*cfg), std::time(nullptr));
  // The outgoing queue (store/queue.hpp): scanned before mail flows; its
  // new entries are made durable by the SMTP server's Committer batch.
  std::shared_ptr<store::Queue> queue(store::Queue::open(cfg->store.spool_dir, err));
  if (!queue) {
    net::log_error("cannot open the outgoing queue in " + cfg->store.spool_dir + ": " + std::strerror(err));
    return 1;
  }
  store::QueueIndex queue_index;
  {
    const store::QueueScan scan = queue->scan(queue_index);
    for (const auto& e : scan.errors) net::log_error("queue: " + e);
    for (const auto& n : scan.notes) net::log_info("queue: " + n);
    if (scan.queued > 0) net::log_info("queue: " + std::to_string(scan.queued) + " message(s) waiting");
  }
  // The scan read every envelope and freed it between the index's
  // allocations: give the freed pages back before serving (idle memory).
  ::malloc_trim(0);
  // The bans (the spool directory is the mail user's): read, then the
  // table applied and every running ban requested again.
  if (cfg->firewall.enabled) {
    ban_list = std::make_unique<firewall::BanList>(cfg->store.spool_dir + "/firewall-bans", fw_client.get());
    for (const std::string& n : ban_list->load()) net::log_info(n);
    ban_list->set_allow(never_banned(*cfg));
    ban_list->apply(mail_ports(*start_cfg));
    // The daemon refuses banned clients itself too (a dead helper, a
    // table deleted by hand): a hash lookup per accepted connection.
    auto banned = [&ban_list](const std::string& address) { return ban_list->banned(address); };
    server.set_ban_check(banned);
    if (pop3_server) pop3_server->set_ban_check(banned);
    // [smtp] feed_servers into the table's feed sets, as resolved.
    server.set_feed_sink([&ban_list](std::vector<std::uint16_t> ports, std::vector<net::IpNetwork> from) {
      ban_list->set_feed(std::move(ports), std::move(from));
    });
  }
  // The auto-ban (net/abuse_score.hpp): the sessions' offences and every
  // failed login, scored per client address with the [firewall] ban_*
  // limits of the current configuration; a ban goes to the ban list (only
  // with the firewall on; allowed addresses are never scored).
  net::AbuseScore abuse;
  auto offence = [&](const std::string& address, net::Offence o) {
    if (!ban_list || ban_list->is_allowed_address(address)) return;
    const config::FirewallConfig& f = cfg->firewall;
    net::AbuseLimits limits;
    limits.limit = {f.ban_after_login_failures, f.ban_after_protocol_errors, f.ban_after_relay_attempts,
                    f.ban_after_unknown_recipients};
    limits.window = std::chrono::seconds(f.ban_window);
    limits.ban_time = std::chrono::seconds(f.ban_time);
    limits.ban_time_max = std::chrono::seconds(f.ban_time_max);
    const auto d = abuse.report(address, o, std::chrono::steady_clock::now(), limits);
    if (!d) return;
    const std::string reason = net::offence_name(d->reason);
    const auto r = ban_list->ban(address, static_cast<std::uint32_t>(d->length.count()), reason);
    if (r.ok) control_server.count(net::MessageEvent::Banned);
    net::log_warning("auto-ban: client=" + address + " reason=" + reason + " for " +
                     std::to_string(d->length.count()) + " s" +
                     (d->repeat > 0 ? " (earlier bans: " + std::to_string(d->repeat) + ")" : "") + ": " +
                     r.message);
  };
  logins.set_failure_hook([&](const std::string& address) { offence(address, net::Offence::LoginFailure); });
  report_offence = offence;
  server.set_offence_sink(offence);
  if (pop3_server) pop3_server->set_offence_sink(offence);
  smtp::SmtpServer::Relay relay_hooks;
  relay_hooks.queue = queue;
  relay_hooks.remote = [](const smtp::Envelope& env) {
    std::vector<store::QueueRecipient> out;
    for (std::size_t i = 0; i < env.remote.size(); ++i) {
      store::QueueRecipient r;
      r.forward_path = env.remote[i];
      if (i < env.remote_original.size()) r.original = env.remote_original[i];
      out.push_back(std::move(r));
    }
    return out;
  };
  relay_hooks.queued = [&runner](const store::QueueEnvelope& e) {
    if (runner) runner->queued(e);
  };
  server.set_relay(std::move(relay_hooks));
  server.start();
  {
    relay::RunnerSources sources;
    sources.config = [&cfg] { return cfg; };
    sources.accounts = [&table] { return table; };
    sources.hostname = host_name(*cfg);
    sources.spool_tmp = cfg->store.spool_dir + "/tmp";
    sources.committer = server.committer();
    runner = std::make_unique<relay::QueueRunner>(io, queue, std::move(queue_index), std::move(sources));
    runner->start();
  }
  if (config_path.empty()) {
    net::log_info("embedded default configuration; send mail with e.g. "
                  "`swaks --server 127.0.0.1:2525 --to alice@example.com`; it lands in " +
                  cfg->store.mail_dir + "/alice/new/");
    if (pop3_server && !cfg->pop3.listen.empty()) {
      net::log_info("read it over POP3 on " + cfg->pop3.listen.front().host + ":" +
                    std::to_string(cfg->pop3.listen.front().port) +
                    " (STLS; the certificate is self-signed), e.g. `curl --ssl-reqd -k -u alice:PASSWORD pop3://" +
                    cfg->pop3.listen.front().host + ":" + std::to_string(cfg->pop3.listen.front().port) + "/1`");
    }
  }
  net::log_info("started (" + cfg->source + ", " + std::to_string(table->accounts.size()) + " mailboxes)");
  // The counters of `stats` and the status page: typed events from the
  // SMTP sessions, counted as they happen (never parsed from log text).
  server.set_event_sink([&control_server](const smtp::Event& e) {
    switch (e.kind) {
      case smtp::EventKind::MessageAccepted:
        control_server.count(net::MessageEvent::Accepted);
        return;
      case smtp::EventKind::MessageRefused:
      case smtp::EventKind::RecipientRefused:
      case smtp::EventKind::SenderRefused:
      case smtp::EventKind::ConnectionRefused:
        control_server.count(net::MessageEvent::Refused);
        return;
      case smtp::EventKind::ClientBlocked:
        control_server.count(e.blocked == smtp::BlockedBy::Dnsbl ? net::MessageEvent::BlockedDnsbl
                                                                  : net::MessageEvent::BlockedReverseDns);
        return;
      case smtp::EventKind::MessageDeferred:
        return;   // the client retries; neither received nor refused
    }
  });

  asio::signal_set signals(io, SIGHUP, SIGTERM, SIGINT);
  int servers_left = 0;   // servers still draining after SIGTERM
  asio::steady_timer drain_deadline(io);
  std::function<void()> wait_signal;
  wait_signal = [&] {
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        reload();
        wait_signal();
        return;
      }
      net::log_info("stopping (signal " + std::to_string(sig) + ")");
      signals.cancel();
      // The loop stops once both servers have no session left and the
      // queue runner's connections have ended with their results on disk.
      servers_left = (pop3_server ? 2 : 1) + (runner ? 1 : 0);
      if (runner) {
        runner->shutdown([&] {
          if (--servers_left == 0) io.stop();
        });
      }
      server.shutdown([&] {
        if (--servers_left == 0) io.stop();
      });
      if (pop3_server) {
        pop3_server->shutdown([&] {
          if (--servers_left == 0) io.stop();
        });
      }
      drain_deadline.expires_after(std::chrono::seconds(30));
      drain_deadline.async_wait([&](const boost::system::error_code& e) {
        if (!e) {
          net::log_warning("sessions still open after 30 s; exiting");
          io.stop();
        }
      });
    });
  };
  wait_signal();
  // Once a day: renew the self-signed certificate before it expires.
  asio::steady_timer renew_timer(io);
  std::function<void()> renew_daily;
  renew_daily = [&] {
    renew_timer.expires_after(std::chrono::hours(24));
    renew_timer.async_wait([&](const boost::system::error_code& e) {
      if (e) return;
      control::renew_self_signed(tls_slot, host_name(*cfg), std::time(nullptr));
      renew_daily();
    });
  };
  renew_daily();
  io.run();
  if (fw_client && fw_client->running()) {
    // The table goes before boxmaild does (a new boxmaild's helper must
    // not find the old one's delete on its table).
    net::log_info("firewall: " + fw_client->stop_now(3000));
  }
  server.set_event_sink(nullptr);   // the control server goes first
  server.set_offence_sink(nullptr);   // the score and the ban list too
  if (pop3_server) pop3_server->set_offence_sink(nullptr);
  logins.set_failure_hook(nullptr);
  report_offence = nullptr;
  const auto st = server.commit_stats();
  net::log_info("stopped; " + std::to_string(st.deliveries) + " deliveries in " + std::to_string(st.batches) +
                " commit batches, " + std::to_string(st.syncs) + " syncs");
  return 0;
}

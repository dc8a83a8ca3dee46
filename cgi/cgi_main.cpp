// cgi_main.cpp - boxmail.cgi, the web panel: the edges only.
//
// Reads the CGI environment (RFC 3875: REQUEST_METHOD, PATH_INFO,
// QUERY_STRING, CONTENT_TYPE, CONTENT_LENGTH, HTTP_COOKIE, REMOTE_ADDR,
// HTTPS, SCRIPT_NAME) and at most the capped body from stdin; loads the
// INI file, the passwd-file, the admin file and the session file; asks
// boxmaild over the control socket; hands all of it to the pure pages
// (pages.hpp) and writes what they decide. Never opens a Maildir file, never
// runs a shell or another program.
//
// Files (environment variable, then the compiled default):
//   BOXMAIL_CONFIG       the INI file            /etc/boxmail/boxmail.ini
//   BOXMAIL_ADMIN        the admin credentials   <dir of the INI>/admin
//   BOXMAIL_CONFFILES    the list of the box's settings, what a backup
//                        holds and a restore takes (conffiles.hpp)
//                                                /usr/share/boxmail/conffiles
//   BOXMAIL_PANEL_STATE  session files (0600), the panel's secret (login
//                        tokens, session stamps), the failed-login record
//                        and the login slot locks      /run/boxmail/panel
// The control socket and the passwd-file are the ones the INI names.
// The Firmware page (docs/firmware.md, "The Firmware page"):
//   BOXMAIL_FIRMWARE_DIR     the staging directory   /var/spool/boxmail-firmware
//   BOXMAIL_FIRMWARE_KEY     the firmware public key /usr/share/boxmail/firmware-key.pem
//   BOXMAIL_RELEASE          what this image is      /usr/share/boxmail/release
//   BOXMAIL_FIRMWARE_STATUS  the boot's slot status  /run/boxmail/firmware
//   BOXMAIL_FIRMWARE_RESULT  the last request's outcome, written by root's
//                            watcher (/etc/init.d/firmware)
//                                                    /run/boxmail/firmware-result
// POST /firmware is the one body read in chunks (FirmwareUpload, up to
// kMaxFirmwareBody): a firmware file never sits in memory.
//
// Writes: the passwd-file via config::save_passwd_file, the admin file (a
// restore only) and the INI file via tmp + fsync + link as .bak + rename +
// fsync of the directory; then `reload`. They change together or not at
// all: when a write fails or boxmaild refuses the reload, all are put back
// (apply). The Firmware
// page writes only in its staging directory (firmware_upload.hpp). Paths fixed at
// install time are never changed by the panel (pages.hpp post_page). Edits
// are serialized with flock(2) on the INI's directory (as boxmailctl does on
// the passwd-file's).
//
// A role of the multi-call program boxmail (app/roles.hpp):
// boxmail_cgi_main runs when it is started as boxmail.cgi.
#include "app/roles.hpp"
#include "cgi/archive.hpp"
#include "cgi/conffiles.hpp"
#include "cgi/firmware_panel.hpp"
#include "cgi/firmware_upload.hpp"
#include "cgi/form.hpp"
#include "cgi/html.hpp"
#include "cgi/login_throttle.hpp"
#include "cgi/pages.hpp"
#include "cgi/session.hpp"
#include "config/passwd_file.hpp"
#include "config/password.hpp"
#include "process/os_random.hpp"
#include "text/number.hpp"
#include "control/control_client.hpp"
#include "tls/digest.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

namespace boxmail::cgi {
extern const char kStyleCss[];   // generated from cgi/style.css (CMake)
}

namespace {

using namespace boxmail;
using namespace boxmail::cgi;

constexpr int kLoginFailureDelay = 2;   // seconds before a failed login is answered

std::string env(const char* name, const char* fallback = "") {
  const char* v = std::getenv(name);
  return v ? v : fallback;
}

std::string dir_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

bool read_file(const std::string& path, std::string& out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out.clear();
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return true;
}

/// tmp + fsync + (old file linked as PATH.bak) + rename + fsync(dir).
std::string write_file_atomic(const std::string& path, const std::string& text, mode_t mode, bool keep_bak) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) return "cannot create " + tmp + ": " + std::strerror(errno);
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string e = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return "cannot write " + tmp + ": " + e;
    }
    done += static_cast<std::size_t>(n);
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    // The old file's mode and, where this process may, its owner.
    (void)::fchmod(fd, st.st_mode & 07777);
    [[maybe_unused]] const int rc = ::fchown(fd, st.st_uid, st.st_gid);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return "cannot sync " + tmp + ": " + std::strerror(errno);
  }
  if (keep_bak) {
    const std::string bak = path + ".bak";
    ::unlink(bak.c_str());
    (void)::link(path.c_str(), bak.c_str());
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string e = std::strerror(errno);
    ::unlink(tmp.c_str());
    return "cannot replace " + path + ": " + e;
  }
  const int dfd = ::open(dir_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

void log_line(int prio, const std::string& text) {
  std::fprintf(stderr, "boxmail.cgi: %s\n", text.c_str());
  ::openlog("boxmail.cgi", LOG_PID, LOG_AUTH);
  ::syslog(prio, "%s", text.c_str());
  ::closelog();
}

struct Response {
  int status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::vector<std::string> headers;
  std::string body;
};

const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 303: return "See Other";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    case 429: return "Too Many Requests";
    default: return "Internal Server Error";
  }
}

void send(const Response& r) {
  // "Status:" first: busybox httpd only honours it as the first header line.
  std::string out = "Status: " + std::to_string(r.status) + " " + reason(r.status) + "\r\n";
  out += "Content-Type: " + r.content_type + "\r\n";
  out += "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\n"
         "Referrer-Policy: same-origin\r\n"
         "Content-Security-Policy: default-src 'none'; style-src 'self'; img-src 'self' data:; "
         "form-action 'self'; frame-ancestors 'none'; base-uri 'none'\r\n";
  for (const auto& h : r.headers) out += h + "\r\n";
  // busybox httpd serves one request per connection but passes a CGI's
  // headers through as they are: without "Connection: close" an HTTP/1.1
  // client that sees a Content-Length keeps the socket for its next request
  // and finds it closed (ECONNRESET; clients that do not retry lose it).
  // Servers that keep connections themselves (lighttpd on the appliance)
  // would close theirs on seeing it: a new TLS handshake for every page.
  if (env("SERVER_SOFTWARE").rfind("busybox", 0) == 0) out += "Connection: close\r\n";
  out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n\r\n";
  out += r.body;
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
}

Response redirect(const std::string& location) {
  Response r;
  r.status = 303;
  r.headers.push_back("Location: " + location);
  r.body = (Html::trusted("<!DOCTYPE html><title>moved</title><a") + attr("href", location) +
            Html::trusted(">continue</a>\n"))
               .str();
  return r;
}

Response error_page(int status, const std::string& script, const std::string& text) {
  Response r;
  r.status = status;
  r.body = layout(script, reason(status), {}, "", "", notice(false, text)).str();
  return r;
}

Random128 random128() {
  Random128 b{};
  process::os_random_bytes(b.data(), b.size());
  return b;
}

struct Paths {
  std::string ini, admin, state, conffiles;
};

// ---- the state directory: secret, failed logins, login slots ---------------------------

/// Opens (creating) STATE/NAME for reading and writing, never through a
/// symbolic link. -1 on error.
int open_state_file(const Paths& p, const char* name) {
  ::mkdir(p.state.c_str(), 0700);
  return ::open((p.state + "/" + name).c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
}

/// The panel's secret: 32 random octets (as hex) in STATE/secret, made once.
/// It keys the login tokens and the sessions' admin stamps; losing it (a
/// reboot clears /run) only ends the open sessions and forms.
std::string panel_secret(const Paths& p) {
  const int fd = open_state_file(p, "secret");
  if (fd < 0) throw std::runtime_error("cannot open the panel's secret in " + p.state + ": " + std::strerror(errno));
  ::flock(fd, LOCK_EX);
  std::string text;
  char buf[128];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
  if (text.size() != 64) {
    text = hex128(random128()) + hex128(random128());
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()) ||
        ::fsync(fd) != 0) {
      ::close(fd);
      throw std::runtime_error("cannot write the panel's secret: " + std::string(std::strerror(errno)));
    }
  }
  ::close(fd);
  return text;
}

/// The failed-login record (login_throttle.hpp), read and changed under an
/// exclusive flock(2) held for the life of this object.
class FailureRecord {
 public:
  explicit FailureRecord(const Paths& p) : fd_(open_state_file(p, "login-failures")) {
    if (fd_ < 0) return;
    ::flock(fd_, LOCK_EX);
    std::string text;
    char buf[4096];
    ssize_t n;
    while (text.size() < 64 * 1024 && (n = ::read(fd_, buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
    record = parse_login_failures(text);
  }
  ~FailureRecord() {
    if (fd_ >= 0) ::close(fd_);
  }
  FailureRecord(const FailureRecord&) = delete;
  FailureRecord& operator=(const FailureRecord&) = delete;
  void save() {
    if (fd_ < 0) return;
    const std::string text = format_login_failures(record);
    if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()))
      log_line(LOG_ERR, std::string("cannot write the failed-login record: ") + std::strerror(errno));
  }
  LoginFailures record;

 private:
  int fd_;
};

/// One of kMaxConcurrentLogins slots (STATE/login-slot-N, flock'ed without
/// waiting); -1 when all are taken. Released when the process exits.
int take_login_slot(const Paths& p) {
  for (unsigned i = 0; i < kMaxConcurrentLogins; ++i) {
    const std::string name = "login-slot-" + std::to_string(i);
    const int fd = open_state_file(p, name.c_str());
    if (fd < 0) return -1;
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return fd;
    ::close(fd);
  }
  return -1;
}

// ---- sessions -----------------------------------------------------------------

/// The administrator's stored password hash ("" when `user` is no
/// administrator or the admin file cannot be read).
std::string admin_hash(const Paths& p, const std::string& user) {
  std::string text;
  if (!read_file(p.admin, text)) return {};
  const auto parsed = config::parse_passwd(text);
  const config::Account* a = parsed.table.find(user);
  return a ? a->password : std::string();
}

/// The stamp a session carries of the password hash it was opened with: a
/// new password (boxmailctl admin passwd) ends every open session.
std::string admin_stamp(const std::string& secret, const std::string& hash) {
  return tls::hex(tls::hmac_sha256(secret, "boxmail-admin\n" + hash), 16);
}

struct Session {
  std::string id;
  SessionRecord record;
};

std::optional<Session> load_session(const Paths& p, std::int64_t now) {
  const auto id = cookie(env("HTTP_COOKIE"), kCookieName);
  if (!id || !valid_token(*id)) return std::nullopt;
  const std::string file = p.state + "/" + *id;
  std::string text;
  if (!read_file(file, text)) return std::nullopt;
  auto rec = parse_session(text);
  const bool revoked = rec && !csrf_ok(admin_stamp(panel_secret(p), admin_hash(p, rec->user)), &rec->admin_stamp);
  if (!rec || revoked || session_expired(*rec, now)) {
    ::unlink(file.c_str());
    return std::nullopt;
  }
  if (session_needs_touch(*rec, now)) {
    rec->last = now;
    (void)write_file_atomic(file, format_session(*rec), 0600, false);
  }
  return Session{*id, *rec};
}

/// Removes expired session files (at each login; the directory stays small).
void sweep_sessions(const Paths& p, std::int64_t now) {
  DIR* d = ::opendir(p.state.c_str());
  if (!d) return;
  while (dirent* e = ::readdir(d)) {
    if (!valid_token(e->d_name)) continue;
    const std::string f = p.state + "/" + e->d_name;
    std::string text;
    if (!read_file(f, text)) continue;
    auto rec = parse_session(text);
    if (!rec || session_expired(*rec, now)) ::unlink(f.c_str());
  }
  ::closedir(d);
}


// ---- model and changes ------------------------------------------------------------

/// Tells boxmaild of a failed admin login from `address` (the control
/// verb login-failed) so that it counts toward the auto-ban like a failed
/// POP3 or SMTP login (net/abuse_score.hpp). Best effort: a daemon that
/// cannot be reached, or an address that is not one, changes nothing.
void report_failed_login(const Paths& p, const std::string& address) {
  std::string text;
  if (!read_file(p.ini, text)) return;
  const auto parsed = config::parse_config(text, p.ini);
  if (!parsed.config || address == "unknown") return;
  control::control_request(parsed.config->server.control_socket, "login-failed " + address, 2000);
}

Model load_model(const Paths& p) {
  Model m;
  m.ini_path = p.ini;
  if (!read_file(p.ini, m.ini_text)) {
    m.config_errors.push_back(config::ConfigError{p.ini, 0, "", "", std::string("cannot read: ") + std::strerror(errno)});
  } else if (config::is_empty_config(m.ini_text)) {
    // Not "all defaults": the panel would write mailboxes under ./var.
    m.config_errors.push_back(config::ConfigError{p.ini, 0, "", "", std::string(config::kEmptyConfigError)});
  } else {
    auto parsed = config::parse_config(m.ini_text, p.ini);
    m.config = parsed.config;
    m.config_errors = std::move(parsed.errors);
  }
  if (m.config) {
    auto loaded = config::load_passwd_file(m.config->server.passwd_file, true);
    m.accounts = std::move(loaded.table);
    m.account_errors = std::move(loaded.errors);
  }
  m.hash_password = [](std::string_view pw) { return config::hash_password(pw); };
  return m;
}

void ask_daemon(Model& m, bool full) {
  if (!m.config) {
    m.daemon.error = "the configuration file has errors";
    return;
  }
  const std::string& sock = m.config->server.control_socket;
  auto st = control::control_request(sock, "status", 5000);
  if (!st.reached) {
    m.daemon.error = st.error;
    return;
  }
  auto status = control::decode_status(st.reply);
  if (!status) {
    m.daemon.error = "its reply is malformed (" + status.error + ")";
    return;
  }
  m.daemon.reached = true;
  m.daemon.status = std::move(*status.value);
  if (!full) return;
  if (auto s = control::control_request(sock, "stats", 5000); s.reached) {
    if (auto d = control::decode_stats(s.reply)) m.daemon.stats = std::move(*d.value);
  }
  if (auto l = control::control_request(sock, "log 15", 5000); l.reached) {
    if (auto d = control::decode_log(l.reply)) m.daemon.log = std::move(*d.value);
  }
}

/// The certificate page's view of boxmaild: `tls` (the certificate files
/// are boxmaild's; the panel only asks).
void ask_tls(Model& m) {
  if (!m.config) {
    m.daemon.tls_error = "the configuration file has errors";
    return;
  }
  const auto r = control::control_request(m.config->server.control_socket, "tls", 5000);
  if (!r.reached) {
    m.daemon.tls_error = r.error;
    return;
  }
  auto t = control::decode_tls(r.reply);
  if (!t) {
    m.daemon.tls_error = "its reply is malformed (" + t.error + ")";
    return;
  }
  m.daemon.tls = std::move(*t.value);
}

/// Sends a certificate change to boxmaild (tls-install with the chain and
/// key as its payload, or tls-regenerate) and turns its reply into the
/// page's outcome. The panel never opens the certificate files.
Outcome send_tls_change(const Model& m, const TlsChange& c) {
  if (!m.config) return certificate_outcome(false, "the configuration file has errors", control::Reply{});
  const std::string& sock = m.config->server.control_socket;
  const auto r = c.regenerate ? control::control_request(sock, "tls-regenerate", 20000)
                              : control::control_request(sock, control::tls_install_line(c.chain.size(), c.key.size()),
                                                         20000, c.chain + c.key);
  return certificate_outcome(r.reached, r.error, r.reply);
}

/// The Outgoing mail page's view of boxmaild: `status` (the route, the
/// stored login's user) and `queue list`.
void ask_outgoing(Model& m) {
  ask_daemon(m, false);
  if (!m.config) {
    m.daemon.queue_error = "the configuration file has errors";
    return;
  }
  const auto r = control::control_request(m.config->server.control_socket, "queue list", 10000);
  if (!r.reached) {
    m.daemon.queue_error = r.error;
    return;
  }
  auto q = control::decode_queue_list(r.reply);
  if (!q) {
    m.daemon.queue_error = q.error;
    return;
  }
  m.daemon.queue = std::move(*q.value);
}

/// The Security page's view of boxmaild: `bans` (the ban list is
/// boxmaild's; with the firewall off its error says so).
void ask_security(Model& m) {
  if (!m.config) {
    m.daemon.bans_error = "the configuration file has errors";
    return;
  }
  const auto r = control::control_request(m.config->server.control_socket, "bans", 5000);
  if (!r.reached) {
    m.daemon.bans_error = "boxmaild does not answer on its control socket (" + r.error + ")";
    return;
  }
  auto b = control::decode_bans(r.reply);
  if (!b) {
    m.daemon.bans_error = b.error;
    return;
  }
  m.daemon.bans = std::move(*b.value);
}

/// Sends a queue action, the smarthost login or a test message to boxmaild
/// (the queue and the login file are its own) and turns its reply into the
/// page's outcome. The payload (a password) goes only into the socket.
Outcome send_daemon_change(const Model& m, const DaemonChange& c) {
  if (!m.config) return daemon_change_outcome(c, false, "the configuration file has errors", control::Reply{});
  // A test message may take boxmaild up to control::kRelayTestSeconds.
  const int wait_ms = c.line.starts_with("relay-test ") ? control::kRelayTestWaitMs : 20000;
  const auto r = control::control_request(m.config->server.control_socket, c.line, wait_ms, c.payload);
  return daemon_change_outcome(c, r.reached, r.error, r.reply);
}

/// The Backup page's view: the conffiles list read (at most 64 KiB, it is
/// a short text) and the files it names looked at; into `members` when
/// given (the download).
BackupView load_backup(const Paths& p, const Model& m, std::vector<TarMember>* members) {
  std::string text;
  ConfList list;
  if (!read_file(p.conffiles, text)) {
    list.error = std::strerror(errno);
  } else if (text.size() > 64 * 1024) {
    list.error = "it is larger than 64 KiB";
  } else {
    list = parse_conffiles(text);
  }
  const BackupSources src{p.ini, m.config ? m.config->server.passwd_file : std::string(), p.admin};
  return collect_backup(list, p.conffiles, src, members);
}

/// A file as it was before a change, to be put back when boxmaild refuses
/// the change (or a later step fails).
struct Kept {
  std::string path;
  bool existed = false;
  std::string text;
  std::string error;   ///< non-empty: the file exists but cannot be read (nothing may be changed)
};

Kept keep(const std::string& path) {
  Kept k;
  k.path = path;
  if (read_file(path, k.text)) {
    k.existed = true;
  } else if (errno != ENOENT) {
    k.error = "cannot read " + path + " to keep a copy: " + std::strerror(errno);
  }
  return k;
}

/// Puts a kept file back (tmp + fsync + rename, as it was written), or
/// removes the file when there was none. "" or what failed.
std::string put_back(const Kept& k, mode_t mode = 0640) {
  if (k.existed) return write_file_atomic(k.path, k.text, mode, false);
  if (::unlink(k.path.c_str()) != 0 && errno != ENOENT) return "cannot remove " + k.path + ": " + std::strerror(errno);
  return {};
}

/// Writes a page's change; returns the notice and whether all went well.
///
/// The INI file, the passwd-file and (a restore) the admin file change
/// together or not at all: all are read (kept) under the lock first; the
/// passwd-file is written, then the admin file, then the INI file, then
/// boxmaild is asked to reload. When a write fails or boxmaild refuses the
/// reload, every file already written is put back.
/// (boxmaild rereads the passwd-file before each connection, so it may see
/// the new accounts for the moment between the write and the put-back.)
std::pair<std::string, bool> apply(const Paths& p, const Model& m, const Change& c) {
  const int lock = ::open(dir_of(p.ini).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (lock >= 0) ::flock(lock, LOCK_EX);
  auto done = [lock](std::string msg, bool ok) {
    if (lock >= 0) ::close(lock);
    return std::pair<std::string, bool>{std::move(msg), ok};
  };
  // The files the running INI names; when that file has errors (a restore
  // repairing it), the ones the new INI names, which post_page has held to
  // the installed paths.
  config::ConfigPtr named = m.config;
  if (!named && c.ini) named = config::parse_config(*c.ini, p.ini).config;
  const std::string passwd_path = named ? named->server.passwd_file : std::string();
  const bool write_accounts = c.accounts && !passwd_path.empty();
  const Kept old_passwd = write_accounts ? keep(passwd_path) : Kept{};
  const Kept old_ini = c.ini ? keep(p.ini) : Kept{};
  const Kept old_admin = c.admin ? keep(p.admin) : Kept{};
  if (!old_passwd.error.empty()) return done("Nothing saved: " + old_passwd.error, false);
  if (!old_ini.error.empty()) return done("Nothing saved: " + old_ini.error, false);
  if (!old_admin.error.empty()) return done("Nothing saved: " + old_admin.error, false);
  bool admin_written = false;
  // Puts back what was written; the text says what could not be.
  auto roll_back = [&](bool ini_written) {
    std::string failed;
    if (ini_written) {
      if (auto e = put_back(old_ini); !e.empty()) failed += " Putting back the configuration failed: " + e + ".";
    }
    if (admin_written) {
      if (auto e = put_back(old_admin, 0600); !e.empty())
        failed += " Putting back the administrator password failed: " + e + ".";
    }
    if (write_accounts) {
      if (auto e = put_back(old_passwd); !e.empty()) failed += " Putting back the mailbox accounts failed: " + e + ".";
    }
    if (!failed.empty()) log_line(LOG_ERR, failed);
    return failed;
  };
  std::string msg = c.done;
  if (write_accounts) {
    if (auto e = config::save_passwd_file(passwd_path, *c.accounts); !e.empty())
      return done("Nothing saved: " + e, false);
  }
  if (c.admin) {
    if (auto e = write_file_atomic(p.admin, *c.admin, 0600, true); !e.empty())
      return done("Nothing saved: " + e + "." + roll_back(false), false);
    admin_written = true;
  }
  if (!c.ini) {
    if (c.accounts) msg += " boxmaild reads the accounts at the next connection.";
    return done(msg, true);
  }
  if (auto e = write_file_atomic(p.ini, *c.ini, 0640, true); !e.empty())
    return done("Nothing saved: " + e + "." + roll_back(false), false);
  const std::string sock = named ? named->server.control_socket : std::string();
  const auto r = control::control_request(sock, "reload", 10000);
  if (!r.reached) {
    return done(msg + " Saved, but boxmaild could not be asked to reload (" + r.error +
                    "); it takes effect when boxmaild starts.",
                false);
  }
  const auto reload = control::decode_reload(r.reply);
  if (!reload.taken) {
    const std::string failed = roll_back(true);
    return done("boxmaild refused the new configuration (" +
                    (reload.errors.empty() ? reload.message : reload.errors.front()) + "); the previous " +
                    (write_accounts ? (admin_written ? "configuration, mailbox accounts and administrator password were"
                                                     : "configuration and mailbox accounts were")
                                    : "configuration was") +
                    " put back." + failed,
                false);
  }
  if (!reload.restart_needed.empty()) {
    std::string waits;
    for (const std::string& n : reload.restart_needed) waits += " " + n + ".";
    return done(msg + " boxmaild reloaded the configuration, but it needs a restart for:" + waits, true);
  }
  return done(msg + " boxmaild reloaded the configuration.", true);
}

// ---- the Firmware page ------------------------------------------------------------------

struct FirmwarePaths {
  std::string staging, key, release, status, result;
};

FirmwarePaths firmware_paths() {
  return FirmwarePaths{env("BOXMAIL_FIRMWARE_DIR", "/var/spool/boxmail-firmware"),
                       env("BOXMAIL_FIRMWARE_KEY", "/usr/share/boxmail/firmware-key.pem"),
                       env("BOXMAIL_RELEASE", "/usr/share/boxmail/release"),
                       env("BOXMAIL_FIRMWARE_STATUS", "/run/boxmail/firmware"),
                       env("BOXMAIL_FIRMWARE_RESULT", "/run/boxmail/firmware-result")};
}

/// The first line of `path` (at most 512 octets read), cleaned; its mtime
/// in `*time`. nullopt when it cannot be opened.
std::optional<std::string> first_line(const std::string& path, std::int64_t* time) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return std::nullopt;
  char buf[512];
  const ssize_t n = ::read(fd, buf, sizeof buf);
  struct stat st {};
  if (::fstat(fd, &st) == 0 && time) *time = st.st_mtime;
  ::close(fd);
  std::string_view text(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
  return clean_text(text.substr(0, text.find('\n')), 400);
}

FirmwareView load_firmware_view(const FirmwarePaths& f) {
  FirmwareView v;
  v.status_path = f.status;
  std::string text;
  if (read_file(f.status, text)) v.status = parse_firmware_status(std::string_view(text).substr(0, 16384));
  if (read_file(f.release, text)) v.release = parse_release(std::string_view(text).substr(0, 16384));
  if (auto r = first_line(f.result, &v.result_time)) v.result = r->empty() ? "(no reason given)" : *r;
  v.pending = pending_request(f.staging, &v.pending_time);
  return v;
}

/// The Firmware page, whole, with `view` (an upload's or a reset's outcome).
Response firmware_page(const Paths& p, const std::string& csrf, const Request& req, std::int64_t now,
                       const View& view, int status = 200) {
  Model model = load_model(p);
  model.csrf = csrf;
  model.now = now;
  model.firmware = load_firmware_view(firmware_paths());
  const PageInfo* page = find_page("/firmware");
  Response r;
  r.status = status;
  r.body = layout(req.script, page->title, menu(), page->path, model.csrf, page->render(req, model, view)).str();
  return r;
}

/// Reads and drops up to `len` octets of the request body (so that the web
/// server never resets the connection over an unread body).
void drain_body(std::uint64_t len) {
  char buf[65536];
  while (len > 0) {
    const std::size_t n = std::fread(buf, 1, static_cast<std::size_t>(std::min<std::uint64_t>(len, sizeof buf)), stdin);
    if (n == 0) break;
    len -= n;
  }
}

/// POST /firmware: the body streamed through MultipartReader into
/// FirmwareUpload (firmware_upload.hpp), 64 KiB at a time. Without a
/// session the body is drained, not parsed (403).
Response firmware_upload(const Paths& p, const std::optional<Session>& session, const Request& req,
                         std::int64_t now, const std::string& remote) {
  const auto length = text::parse_unsigned<std::uint64_t>(env("CONTENT_LENGTH", "0"));
  if (!length && (length.error == text::NumberError::Empty || length.error == text::NumberError::NotANumber))
    return error_page(400, req.script, "Bad Content-Length.");
  if (!session) {
    if (length && length.value <= kMaxFirmwareBody) drain_body(length.value);
    return error_page(403, req.script, "Not logged in.");
  }
  const std::string who = "admin '" + session->record.user + "' from " + remote;
  if (!length || length.value > kMaxFirmwareBody) {
    log_line(LOG_WARNING, who + ": firmware upload refused: the body is over the limit (" +
                              env("CONTENT_LENGTH") + " octets)");
    Outcome o;
    o.errors["firmware"] = "the upload is larger than 128 MiB (too big); nothing was stored";
    View v;
    v.outcome = &o;
    return firmware_page(p, session->record.csrf, req, now, v, 413);
  }
  const auto boundary = multipart_boundary(env("CONTENT_TYPE"));
  if (!boundary) {
    drain_body(length.value);
    return error_page(400, req.script, "The firmware form is sent as multipart/form-data.");
  }
  const FirmwarePaths fp = firmware_paths();
  UploadSettings s;
  s.staging = fp.staging;
  s.key_path = fp.key;
  std::string text;
  if (read_file(fp.key, text) && text.size() < 16384) s.public_key = text;
  s.release_path = fp.release;
  if (read_file(fp.release, text)) s.release = parse_release(std::string_view(text).substr(0, 16384));
  s.csrf = session->record.csrf;
  FirmwareUpload sink(std::move(s));
  const Limits limits;
  MultipartReader reader(*boundary, limits, sink);
  std::string reader_error;
  std::uint64_t left = length.value;
  std::vector<char> buf(65536);
  while (left > 0) {
    const std::size_t n = std::fread(buf.data(), 1, static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size())), stdin);
    if (n == 0) break;
    left -= n;
    if (reader_error.empty()) reader_error = reader.feed(std::string_view(buf.data(), n));
  }
  if (reader_error.empty()) {
    reader_error = left > 0 ? "the connection ended after " + std::to_string(length.value - left) + " of " +
                                  std::to_string(length.value) + " octets"
                            : reader.finish();
  }
  const UploadResult r = sink.finish(reader_error);
  if (r.kind == UploadResult::Kind::Forbidden) {
    log_line(LOG_WARNING, "POST /firmware without a valid CSRF token from " + remote + " (" + r.message + ")");
    return error_page(403, req.script,
                      "Forbidden: the form's security token is missing or wrong. Nothing was changed.");
  }
  Outcome o;
  const std::string what = r.header ? "firmware " + r.header->version + " (board " + r.header->board + ", " +
                                          std::to_string(r.octets) + " octets)"
                                    : "a file of " + std::to_string(r.octets) + " octets";
  if (r.kind == UploadResult::Kind::Refused) {
    log_line(LOG_WARNING, who + ": firmware upload refused: " + what + ": " + r.message);
    o.errors["firmware"] = r.message;
  } else {
    log_line(LOG_NOTICE, who + ": " + what + " accepted; install requested");
    o.info = "Firmware " + r.header->version + " (board " + r.header->board +
             ") is signed by this box's key and complete. The box installs it into the other slot and restarts; "
             "that takes about " + std::to_string(kInstallMinutes) + " minutes. Mail and settings are kept.";
  }
  View v;
  v.outcome = &o;
  return firmware_page(p, session->record.csrf, req, now, v);
}

/// POST /firmware/reset (session and CSRF token already checked): the
/// choice, then the administrator's password (throttled and counted like a
/// login), then STAGING/request = "factory-reset WORD".
Response factory_reset(const Paths& p, const Session& session, const Request& req, std::int64_t now,
                       const std::string& remote) {
  Outcome o;
  View v;
  v.form = &req.form;
  v.outcome = &o;
  const std::string who = "admin '" + session.record.user + "' from " + remote;
  const FirmwarePaths fp = firmware_paths();
  const int lock = lock_staging(fp.staging);   // held until this process exits
  if (lock < 0) {
    o.error = "Nothing was changed: a firmware upload or another reset is going on (or " + fp.staging +
              " cannot be opened).";
    return firmware_page(p, session.record.csrf, req, now, v);
  }
  if (const std::string pending = pending_request(fp.staging); !pending.empty()) {
    o.error = "Nothing was changed: the box is already asked to " + pending + ".";
    return firmware_page(p, session.record.csrf, req, now, v);
  }
  const auto word = reset_choice(req.form.value("choice"));
  if (!word) {
    o.errors["choice"] = "choose whether the mail is kept or wiped";
    return firmware_page(p, session.record.csrf, req, now, v);
  }
  const std::string address = valid_client_address(remote) ? remote : "unknown";
  const int slot = take_login_slot(p);
  if (slot < 0) {
    o.errors["password"] = "the box is checking other passwords right now; try again in a moment";
    return firmware_page(p, session.record.csrf, req, now, v, 429);
  }
  {
    FailureRecord failures(p);
    const LoginVerdict verdict = check_login(failures.record, address, now);
    if (!verdict.allowed) {
      ::close(slot);
      log_line(LOG_WARNING, who + ": factory reset refused without a check: too many failed passwords");
      o.errors["password"] = "too many wrong passwords from your address: wait " +
                             std::to_string(verdict.retry_after) + " seconds";
      return firmware_page(p, session.record.csrf, req, now, v, 429);
    }
    record_attempt(failures.record, address, now);
    failures.save();
  }
  const std::string hash = admin_hash(p, session.record.user);
  const bool right = !hash.empty() && config::verify_password(req.form.value("password"), hash);
  ::close(slot);
  if (!right) {
    log_line(LOG_WARNING, who + ": factory reset refused: wrong password");
    report_failed_login(p, address);
    ::sleep(kLoginFailureDelay);
    o.errors["password"] = "wrong password; nothing was changed";
    return firmware_page(p, session.record.csrf, req, now, v);
  }
  {
    FailureRecord failures(p);
    record_success(failures.record, address);
    failures.save();
  }
  if (const std::string e = write_staging_request(fp.staging, reset_request(*word)); !e.empty()) {
    log_line(LOG_ERR, who + ": factory reset (" + *word + ") not asked: " + e);
    o.error = "Nothing was changed: " + e + ".";
    return firmware_page(p, session.record.csrf, req, now, v);
  }
  log_line(LOG_NOTICE, who + ": factory reset (" + *word + ") requested");
  o.info = "Factory reset (" + *word + ") asked: the box restarts with its factory settings" +
           (*word == "wipe" ? std::string(" and without any mail") : std::string(", the mail kept")) +
           ". A new administrator password is printed on its console, as on the first boot.";
  v.form = nullptr;
  return firmware_page(p, session.record.csrf, req, now, v);
}

// ---- the request ---------------------------------------------------------------------

Response handle() {
  const std::int64_t now = std::time(nullptr);
  Paths paths;
  paths.ini = env("BOXMAIL_CONFIG", "/etc/boxmail/boxmail.ini");
  paths.admin = env("BOXMAIL_ADMIN");
  if (paths.admin.empty()) paths.admin = dir_of(paths.ini) + "/admin";
  paths.state = env("BOXMAIL_PANEL_STATE", "/run/boxmail/panel");
  paths.conffiles = env("BOXMAIL_CONFFILES", "/usr/share/boxmail/conffiles");
  // Secure cookies under TLS, from the server's variable only (session.hpp).
  const bool secure = served_over_https(std::getenv("HTTPS"));
  const std::string remote = env("REMOTE_ADDR", "-");

  Request req;
  req.method = env("REQUEST_METHOD", "GET");
  req.path = env("PATH_INFO");
  req.script = env("SCRIPT_NAME", "/cgi-bin/boxmail.cgi");
  req.query = parse_urlencoded(env("QUERY_STRING"));
  if (req.path == "/style.css") {
    Response r;
    r.content_type = "text/css; charset=utf-8";
    r.body = kStyleCss;
    return r;
  }
  if (req.method != "GET" && req.method != "POST" && req.method != "HEAD")
    return error_page(405, req.script, "Only GET and POST are used here.");
  // The session is checked before a request body is parsed: without one,
  // only the login form's body is ever looked at.
  auto session = load_session(paths, now);
  const bool login = req.path == "/login";
  if (req.method == "POST" && req.path == "/firmware") return firmware_upload(paths, session, req, now, remote);
  if (req.method == "POST") {
    const Limits limits;
    const std::string type = env("CONTENT_TYPE");
    const bool multipart = type.rfind("multipart/", 0) == 0;
    const std::size_t cap = (multipart && !login) ? limits.max_upload : limits.max_body;
    const auto length = text::parse_unsigned<std::uint64_t>(env("CONTENT_LENGTH", "0"));
    if (length.error == text::NumberError::Empty || length.error == text::NumberError::NotANumber)
      return error_page(400, req.script, "Bad Content-Length.");
    if (!length || length.value > cap) return error_page(413, req.script, "The request is too large.");
    const std::size_t len = static_cast<std::size_t>(length.value);
    std::string body(len, '\0');
    std::size_t got = 0;
    while (got < len) {
      const std::size_t n = std::fread(body.data() + got, 1, len - got, stdin);
      if (n == 0) break;
      got += n;
    }
    body.resize(got);
    // Read whole (so the web server never resets the connection over an
    // unread body), parsed only with a session or for the login form.
    if (!session && !login) return error_page(403, req.script, "Not logged in.");
    req.form = parse_body(type, body, limits);
    if (!req.form.error.empty()) return error_page(400, req.script, "Bad form data: " + req.form.error + ".");
  }

  if (login) {
    // The form's token is issued here (session.hpp): a nonce in a
    // double-submit cookie, the time, and a MAC under the panel's secret.
    const std::string secret = panel_secret(paths);
    auto mac_of = [&](std::string_view nonce, std::int64_t issued) {
      return tls::hex(tls::hmac_sha256(secret, login_token_data(nonce, issued)), 16);
    };
    auto login_form = [&](std::string_view error, int status = 200) {
      LoginToken t{hex128(random128()), now, {}};
      t.mac = mac_of(t.nonce, t.issued);
      Response r;
      r.status = status;
      r.body = login_page(req.script, error, format_login_token(t)).str();
      r.headers.push_back("Set-Cookie: " + login_cookie(t.nonce, secure));
      return r;
    };
    if (req.method != "POST") {
      if (session) return redirect(req.script + "/status");
      return login_form("");
    }
    const auto nonce = cookie(env("HTTP_COOKIE"), kLoginCookieName);
    const std::string* field = req.form.get("csrf");
    const auto token = field ? parse_login_token(*field) : std::nullopt;
    const std::string expected_mac = token ? mac_of(token->nonce, token->issued) : std::string();
    if (!nonce || !token || !csrf_ok(token->nonce, &*nonce) || !csrf_ok(expected_mac, &token->mac) ||
        !login_token_fresh(token->issued, now)) {
      log_line(LOG_WARNING, "POST /login without a valid login token from " + remote);
      return error_page(403, req.script, "The login form has expired or did not come from this box; reload it.");
    }
    const std::string address = valid_client_address(remote) ? remote : "unknown";
    // The slot first: a login refused for want of one is not an attempt
    // and is not counted against the address.
    const int slot = take_login_slot(paths);
    if (slot < 0) {
      log_line(LOG_WARNING, "login from " + address + " refused: " + std::to_string(kMaxConcurrentLogins) +
                                " logins are being checked already");
      Response r = login_form("The box is checking other logins right now; try again in a moment.", 429);
      r.headers.push_back("Retry-After: 2");
      return r;
    }
    {
      FailureRecord failures(paths);
      const LoginVerdict v = check_login(failures.record, address, now);
      if (!v.allowed) {
        log_line(LOG_WARNING, std::string("login from ") + address + " refused without a check: " +
                                  (v.locked_out ? "locked out" : "too soon after failed logins") + " (" +
                                  std::to_string(v.retry_after) + " s left)");
        Response r = login_form(v.locked_out
                                    ? "Too many failed logins from your address: logins from it are locked for " +
                                          std::to_string((v.retry_after + 59) / 60) + " more minute(s)."
                                    : "Too many failed logins from your address: wait " +
                                          std::to_string(v.retry_after) + " seconds before the next try.",
                                429);
        r.headers.push_back("Retry-After: " + std::to_string(v.retry_after));
        ::close(slot);
        return r;
      }
      // Counted as a failure until it proves right (login_throttle.hpp).
      record_attempt(failures.record, address, now);
      failures.save();
    }
    const std::string user = req.form.value("user");
    const std::string hash = admin_hash(paths, user);
    const bool right = !hash.empty() && config::verify_password(req.form.value("password"), hash);
    ::close(slot);
    if (!right) {
      std::string safe_user;
      for (char c : user.substr(0, 64)) safe_user += (c >= 0x21 && c < 0x7f) ? c : '?';
      log_line(LOG_WARNING, "login failed for user '" + safe_user + "' from " + address);
      report_failed_login(paths, address);
      ::sleep(kLoginFailureDelay);
      return login_form("Wrong user name or password.");   // 200: the page is fine, the login is not
    }
    {
      FailureRecord failures(paths);
      record_success(failures.record, address);
      failures.save();
    }
    ::mkdir(paths.state.c_str(), 0700);
    sweep_sessions(paths, now);
    const std::string id = hex128(random128());
    SessionRecord rec{user, hex128(random128()), admin_stamp(secret, hash), now, now};
    if (auto e = write_file_atomic(paths.state + "/" + id, format_session(rec), 0600, false); !e.empty())
      return error_page(500, req.script, "Cannot store the session: " + e);
    log_line(LOG_INFO, "admin '" + user + "' logged in from " + address);
    Response r = redirect(req.script + "/status");
    r.headers.push_back("Set-Cookie: " + session_cookie(id, secure));
    r.headers.push_back("Set-Cookie: " + clear_login_cookie(secure));
    return r;
  }

  if (!session) {
    if (req.method == "POST") return error_page(403, req.script, "Not logged in.");
    return redirect(req.script + "/login");
  }
  if (req.method == "POST" && !csrf_ok(session->record.csrf, req.form.get("csrf"))) {
    log_line(LOG_WARNING, "POST " + req.path + " without a valid CSRF token from " + remote);
    return error_page(403, req.script, "Forbidden: the form's security token is missing or wrong. Nothing was changed.");
  }
  if (req.path == "/firmware/reset") {
    if (req.method != "POST") return redirect(req.script + "/firmware");
    return factory_reset(paths, *session, req, now, remote);
  }
  if (req.path == "/logout") {
    if (req.method != "POST") return redirect(req.script + "/status");
    ::unlink((paths.state + "/" + session->id).c_str());
    Response r = redirect(req.script + "/login");
    r.headers.push_back("Set-Cookie: " + clear_session_cookie(secure));
    return r;
  }

  Model model = load_model(paths);
  model.csrf = session->record.csrf;
  model.now = now;

  if (req.path == "/backup/download") {
    // What the conffiles list names, as the Backup page shows it; no list,
    // no backup (one that looks complete and is not is worse than none).
    std::vector<TarMember> members;
    const BackupView b = load_backup(paths, model, &members);
    if (!b.list_error.empty())
      return error_page(500, req.script,
                        "No backup was made: the list of the box's settings (" + b.list_path +
                            ") cannot be read: " + b.list_error + ".");
    Response r;
    r.content_type = "application/x-tar";
    char day[32];
    const std::time_t t = static_cast<std::time_t>(now);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    std::strftime(day, sizeof day, "%Y%m%d-%H%M%S", &tm);
    r.headers.push_back(std::string("Content-Disposition: attachment; filename=\"boxmail-backup-") + day + ".tar\"");
    r.body = make_tar(members, now);
    return r;
  }

  const PageInfo* page = find_page(req.path);
  if (!page) return error_page(404, req.script, "No such page.");
  View view;
  Outcome outcome;
  if (page->path == "/backup") model.backup = load_backup(paths, model, nullptr);
  if (req.method == "POST") {
    if (!page->post) return error_page(405, req.script, "This page takes no form.");
    outcome = post_page(*page, req, model);
    if (outcome.change && outcome.change->tls) {
      // boxmaild validates and installs; a refusal is shown next to its field.
      outcome = send_tls_change(model, *outcome.change->tls);
      std::string what = outcome.info + outcome.error;
      for (const auto& [field, e] : outcome.errors) what += "refused (" + field + "): " + e;
      log_line(LOG_INFO, "admin '" + session->record.user + "' from " + remote + ": certificate: " + what);
      view.form = &req.form;
      view.outcome = &outcome;
    } else if (outcome.change && outcome.change->daemon) {
      // The queue, the smarthost login and the bans are boxmaild's; what is logged
      // names the action (and a login's user), never the payload.
      const std::string what = outcome.change->daemon->what;
      outcome = send_daemon_change(model, *outcome.change->daemon);
      log_line(LOG_INFO, "admin '" + session->record.user + "' from " + remote + ": " + what + ": " + outcome.info +
                             outcome.error);
      view.form = &req.form;
      view.outcome = &outcome;
    } else if (outcome.change) {
      auto [msg, ok] = apply(paths, model, *outcome.change);
      log_line(LOG_INFO, "admin '" + session->record.user + "' from " + remote + ": " + msg);
      model = load_model(paths);
      model.csrf = session->record.csrf;
      model.now = now;
      if (page->path == "/backup") model.backup = load_backup(paths, model, nullptr);
      view.notice = msg;
      view.notice_ok = ok;
    } else {
      view.form = &req.form;
      view.outcome = &outcome;
    }
  }
  if (page->path == "/status" || page->path == "/mailboxes") ask_daemon(model, page->path == "/status");
  if (page->path == "/certificate") ask_tls(model);
  if (page->path == "/outgoing") ask_outgoing(model);
  if (page->path == "/security") ask_security(model);
  if (page->path == "/firmware") model.firmware = load_firmware_view(firmware_paths());
  Response r;
  r.body = layout(req.script, page->title, menu(), page->path, model.csrf, page->render(req, model, view)).str();
  return r;
}

}  // namespace

int boxmail::app::boxmail_cgi_main(int, char**) {
  try {
    send(handle());
  } catch (const std::exception& e) {
    log_line(LOG_ERR, std::string("internal error: ") + e.what());
    send(error_page(500, env("SCRIPT_NAME", "/cgi-bin/boxmail.cgi"), "Internal error."));
  }
  return 0;
}

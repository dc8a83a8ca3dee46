// pages.hpp - the panel's pages (pure): model in, Html or a change out.
//
// The glue (cgi_main.cpp) loads a Model (the INI text and its parse, the
// accounts, what the daemon said over the control socket), checks the
// session and the CSRF token, then calls a page:
//   - render: GET, or a POST that had errors (View carries the submitted
//     form, the field errors and the notice);
//   - post: validates the submitted form against the schema (the whole new
//     INI text goes through config::parse_config) and returns either field
//     errors or a Change for the glue to write.
// Pages never touch files, sockets or the clock.
//
// Adding a page (TLS, relay, firewall, queue ...) is one row of pages():
// path, menu title, render function, post function.
#pragma once

#include "cgi/conffiles.hpp"
#include "cgi/firmware_panel.hpp"
#include "cgi/form.hpp"
#include "cgi/html.hpp"
#include "config/account.hpp"
#include "config/schema.hpp"
#include "control/control_replies.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace boxmail::cgi {

struct Request {
  std::string method;   ///< "GET" or "POST"
  std::string path;     ///< PATH_INFO ("/status"); "" and "/" mean the start page
  Form query;           ///< QUERY_STRING
  Form form;            ///< the POST body
  std::string script;   ///< SCRIPT_NAME, base of every link
};

/// What the daemon answered over the control socket, decoded
/// (control_replies.hpp); pages read these fields, never reply text.
struct DaemonView {
  bool reached = false;
  std::string error;              ///< why not reached (or why `status` could not be decoded)
  control::StatusReply status;    ///< `status`
  control::StatsReply stats;      ///< `stats` (zeros when it was not asked or failed)
  control::LogReply log;          ///< `log N` (empty when it was not asked or failed)
  /// `tls` (the Certificate page only); nullopt when not asked or it
  /// failed, then `tls_error` says why.
  std::optional<control::TlsReply> tls;
  std::string tls_error;
  /// `queue list` (the Outgoing mail page only); nullopt when not asked or
  /// it failed, then `queue_error` says why.
  std::optional<control::QueueListReply> queue;
  std::string queue_error;
  /// `bans` (the Security page only); nullopt when not asked or it
  /// failed, then `bans_error` says why (boxmaild's text, e.g. the
  /// firewall is off).
  std::optional<control::BansReply> bans;
  std::string bans_error;
};

struct Model {
  std::string ini_path;
  std::string ini_text;
  config::ConfigPtr config;                      ///< null when ini_text has errors
  std::vector<config::ConfigError> config_errors;
  config::AccountTable accounts;
  std::vector<std::string> account_errors;
  std::string csrf;                              ///< of the logged-in session
  DaemonView daemon;
  std::int64_t now = 0;                          ///< Unix seconds of the request (certificate expiry)
  FirmwareView firmware;                         ///< the Firmware page's files (read for that page only)
  /// The Backup page's list (conffiles.hpp): what a backup holds and leaves
  /// out, and the member names a restore takes. Read for that page only;
  /// not `loaded` (a model without it): a restore takes boxmail.ini and
  /// passwd only.
  BackupView backup;
  /// Hashes a new mailbox password ("{SHA512-CRYPT}..."); injected so pages stay pure.
  std::function<std::string(std::string_view)> hash_password;
};

/// A certificate change the glue asks boxmaild for (`tls-install` or
/// `tls-regenerate`); the panel never writes the certificate files itself.
struct TlsChange {
  bool regenerate = false;   ///< a new self-signed certificate; else install `chain` and `key`
  std::string chain;         ///< PEM chain, leaf first
  std::string key;           ///< PEM private key
};

/// A request the glue sends to boxmaild for the Outgoing mail page (the
/// queue's retry/delete/flush, the smarthost login): the queue and the
/// login file are boxmaild's, the panel only asks.
struct DaemonChange {
  std::string line;      ///< the request line: "queue retry QID", "smarthost-login 5 8", "relay-test ADDR", ...
  std::string payload;   ///< octets after the line (smarthost-login: user and password); never logged
  std::string what;      ///< for the log and the notice: "retry 0123456789ABC"
};

/// What a successful POST asks the glue to write.
struct Change {
  std::optional<std::string> ini;                     ///< new INI text, already validated
  std::optional<config::AccountTable> accounts;       ///< new passwd-file content
  std::string done;                                   ///< "Mailbox bob added."
  std::optional<TlsChange> tls = std::nullopt;        ///< a certificate change (the files are boxmaild's)
  std::optional<DaemonChange> daemon = std::nullopt;  ///< a queue or smarthost-login request to boxmaild
  /// New admin file content (a restore), already validated with
  /// config::parse_passwd; written with the INI file and the passwd-file,
  /// put back with them.
  std::optional<std::string> admin = std::nullopt;
};

struct Outcome {
  std::map<std::string, std::string> errors;   ///< field name -> message
  std::string error;                           ///< a message for the whole form
  std::optional<Change> change;                ///< set when valid and something changed
  std::string info;                            ///< e.g. "Nothing changed."
  /// The Outgoing mail page's test message: boxmaild's answer (shown with
  /// its transcript, every byte escaped: the remote server's replies).
  std::optional<control::RelayTestReply> relay_test = std::nullopt;
};

struct View {
  const Form* form = nullptr;         ///< submitted values to show again (after errors)
  const Outcome* outcome = nullptr;   ///< field errors
  std::string notice;                 ///< after a write: what happened
  bool notice_ok = true;
};

using RenderFn = Html (*)(const Request&, const Model&, const View&);
using PostFn = Outcome (*)(const Request&, const Model&);

struct PageInfo {
  std::string_view path;
  std::string_view title;
  RenderFn render;
  PostFn post;   ///< nullptr: the page takes no POST
};

/// The menu pages in menu order (status first: the start page).
const std::vector<PageInfo>& pages();
const PageInfo* find_page(std::string_view path);
std::vector<MenuItem> menu();

/// A page's POST as the glue runs it: `page.post` behind the panel's rule
/// for paths. Keys fixed at install time (schema rows with
/// fixed_at_install: mail_dir, spool_dir, passwd_file, control_socket, ...)
/// are not the panel's to set: a form that carries one ("store.mail_dir")
/// is refused before the page sees it, and a Change whose INI text would
/// give one another value than the installed one (config::fixed_key_changes;
/// a restored backup, or any page) is dropped. Either way the Outcome's
/// error names each key ("[store] mail_dir") and nothing is written. The
/// installed value is the running file's; when that file has errors, the
/// value as written in it (or the default).
Outcome post_page(const PageInfo& page, const Request& r, const Model& m);

/// The Certificate page's result of a TlsChange: boxmaild's reply to
/// tls-install/tls-regenerate (`reached` false: it could not be asked,
/// `error` says why). A refusal of the chain or the key becomes that
/// field's error ("chain", "key"), any other one the form's error; an
/// install becomes `info` naming the new certificate.
Outcome certificate_outcome(bool reached, std::string_view error, const control::Reply& reply);

/// The Outgoing mail page's result of a DaemonChange: boxmaild's reply
/// (`reached` false: it could not be asked, `error` says why). "ok" becomes
/// `info` (the reply's text; for the login "A login is stored for USER."),
/// "error" the form's error with "Nothing was changed"; a relay-test's
/// reply becomes `relay_test` (a malformed one the error). Never holds the
/// password: boxmaild's replies do not (control/smarthost_login.hpp).
Outcome daemon_change_outcome(const DaemonChange& change, bool reached, std::string_view error,
                              const control::Reply& reply);

/// The login page, whole (`error` shown above the form, escaped).
Html login_page(std::string_view script, std::string_view error, std::string_view csrf);

/// The value a schema key has in `text`: as set there, else its default.
std::string effective_value(std::string_view text, const config::KeyInfo& key);

/// A quota as typed ("", "0", "500M", "2G", "1048576") in octets; nullopt
/// when not a size or larger than 64 bits can hold (text::parse_scaled;
/// no wrap-around). Same suffixes as the schema's sizes (1024-based).
std::optional<std::uint64_t> parse_quota(std::string_view text);
/// Octets for people: "1.5 MiB".
std::string human_size(std::uint64_t octets);

/// The SVG chart of messages per hour (one bar per hour of `stats`,
/// accepted and refused); pure markup, no script.
Html hourly_chart(const control::StatsReply& stats);

}  // namespace boxmail::cgi

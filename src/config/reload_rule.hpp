// reload_rule.hpp - may a newly parsed configuration replace the running one?
// (pure; the file system is asked through a callback).
//
// boxmaild's reload (SIGHUP, control `reload`) first parses the file
// (schema.hpp: any error keeps the running snapshot), then asks
// reload_refusals. A valid file is still refused when
//   - it would move the store: [store] mail_dir, [store] spool_dir,
//     [server] passwd_file or [server] control_socket differs from the
//     running value (a cut-off or emptied file falls back to the defaults
//     under ./var, which would silently switch to an empty store). These
//     change only at a restart;
//   - it would change the account boxmaild runs as ([server] user, also
//     fixed at install time);
//   - a directory the running store needs is gone: mail_dir, spool_dir, the
//     directory of passwd_file, the directory of control_socket (a disk not
//     mounted, a directory removed).
// Each refusal is a ConfigError naming the file and the key; the caller
// keeps the running configuration and reports them (log and control reply).
//
// A valid file that changes a key read at start only (the listen addresses,
// pop3.enabled: the ports are bound as root before the privilege drop) is
// taken; restart_needed lists those keys so boxmaild can say "needs a
// restart" in its log and to the panel.
//
// Which keys are "store paths" is a property of the key: the schema row's
// fixed_at_install flag (schema.hpp). fixed_key_changes is that rule on its
// own; the web panel uses it to refuse a form or a restored backup that
// would change such a key (cgi/pages.hpp), so boxmaild and the panel share
// one list.
#pragma once

#include "config/config.hpp"
#include "config/schema.hpp"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace boxmail::config {

/// True when PATH names an existing directory (relative paths: to the
/// daemon's working directory).
using DirectoryExists = std::function<bool(const std::string& path)>;

/// Why `next` may not replace `running` (empty: it may). Errors name
/// next.source and the key (line 0: the rule is about values, not lines).
std::vector<ConfigError> reload_refusals(const Config& running, const Config& next,
                                         const DirectoryExists& directory_exists);

/// One key fixed at install time whose value differs.
struct FixedKeyChange {
  std::string section;
  std::string key;
  std::string from;   ///< the installed (running) value
  std::string to;     ///< the value asked for
};

/// The value a fixed key has where it is installed (e.g. read from a
/// configuration file that has errors elsewhere).
using InstalledValue = std::function<std::string(const KeyInfo& key)>;

/// The keys fixed at install time (schema rows with fixed_at_install) whose
/// value in `next` differs from `installed`, in schema order. Pure.
std::vector<FixedKeyChange> fixed_key_changes(const Config& installed, const Config& next);
std::vector<FixedKeyChange> fixed_key_changes(const InstalledValue& installed, const Config& next);

/// The value of a fixed key in `c`; nullptr for a key that is not fixed
/// (or that this rule does not know how to read: a unit test keeps every
/// fixed key known).
const std::string* fixed_key_value(const Config& c, std::string_view section, std::string_view key);

/// A key read at start only (schema rows with read_at_start: the listen
/// addresses, pop3.enabled) whose value in a reloaded file differs from the
/// one the process started with. The reload takes the rest of the file; the
/// running process keeps serving `running` until it is restarted.
struct RestartNeeded {
  std::string section;
  std::string key;
  std::string running;   ///< the value the process started with
  std::string asked;     ///< the value in the file now
  /// "[smtp] listen changes from 'A' to 'B': needs a restart (still serving 'A')"
  std::string to_string() const;
};

/// The read-at-start keys whose value in `next` differs from `started` (the
/// configuration the process was started with), in schema order. Pure.
std::vector<RestartNeeded> restart_needed(const Config& started, const Config& next);

/// The value of a read-at-start key in `c` as text (stored in `storage`);
/// nullptr for any other key (a unit test keeps every such key known).
const std::string* start_key_value(const Config& c, std::string_view section, std::string_view key,
                                   std::string& storage);

/// Listen addresses as written in the INI file: "127.0.0.1:25,[::1]:25".
std::string format_listen_list(const std::vector<ListenAddress>& list);

/// The directory part of a file path ("a/b" -> "a", "b" -> ".", "/b" -> "/").
std::string parent_directory(const std::string& path);

}  // namespace boxmail::config

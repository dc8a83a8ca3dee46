// reload_rule.cpp - see reload_rule.hpp. Pure: no I/O here.
#include "config/reload_rule.hpp"

namespace boxmail::config {
namespace {

/// Where each key fixed at install time lives in a Config, and which
/// directory must exist for a reload to keep it. Which keys are fixed is
/// the schema's flag; this table only knows how to read them.
enum class MustExist { Directory, ParentDirectory, Nothing };

struct StorePath {
  const char* section;
  const char* key;
  const std::string& (*value)(const Config&);
  MustExist must_exist;
};

constexpr StorePath kStorePaths[] = {
    {"server", "passwd_file", [](const Config& c) -> const std::string& { return c.server.passwd_file; },
     MustExist::ParentDirectory},
    {"server", "control_socket", [](const Config& c) -> const std::string& { return c.server.control_socket; },
     MustExist::ParentDirectory},
    {"server", "user", [](const Config& c) -> const std::string& { return c.server.user; }, MustExist::Nothing},
    {"store", "mail_dir", [](const Config& c) -> const std::string& { return c.store.mail_dir; },
     MustExist::Directory},
    {"store", "spool_dir", [](const Config& c) -> const std::string& { return c.store.spool_dir; },
     MustExist::Directory},
    {"tls", "certificate", [](const Config& c) -> const std::string& { return c.tls.certificate; },
     MustExist::ParentDirectory},
    {"tls", "key", [](const Config& c) -> const std::string& { return c.tls.key; }, MustExist::ParentDirectory},
    // Missing means "no smarthost login"; boxmaild makes its directory.
    {"relay", "smarthost_credentials",
     [](const Config& c) -> const std::string& { return c.relay.smarthost_credentials; }, MustExist::Nothing},
    // The firewall helper, run as root: a program, not a directory of ours.
    {"firewall", "program", [](const Config& c) -> const std::string& { return c.firewall.program; },
     MustExist::Nothing},
};

/// The keys read at start only (schema rows with read_at_start), as text.
struct StartKey {
  const char* section;
  const char* key;
  std::string (*value)(const Config&);
};

const StartKey kStartKeys[] = {
    {"smtp", "listen", [](const Config& c) { return format_listen_list(c.smtp.listen); }},
    {"smtp", "submission_listen", [](const Config& c) { return format_listen_list(c.smtp.submission_listen); }},
    {"smtp", "submissions_listen", [](const Config& c) { return format_listen_list(c.smtp.submissions_listen); }},
    {"pop3", "enabled", [](const Config& c) { return std::string(c.pop3.enabled ? "yes" : "no"); }},
    {"pop3", "listen", [](const Config& c) { return format_listen_list(c.pop3.listen); }},
    {"pop3", "pop3s_listen", [](const Config& c) { return format_listen_list(c.pop3.pop3s_listen); }},
    {"firewall", "enabled", [](const Config& c) { return std::string(c.firewall.enabled ? "yes" : "no"); }},
};

const StorePath* find_store_path(std::string_view section, std::string_view key) {
  for (const StorePath& p : kStorePaths) {
    if (p.section == section && p.key == key) return &p;
  }
  return nullptr;
}

}  // namespace

std::string format_listen_list(const std::vector<ListenAddress>& list) {
  std::string out;
  for (const ListenAddress& a : list) {
    if (!out.empty()) out += ',';
    out += a.host.find(':') != std::string::npos ? "[" + a.host + "]:" + std::to_string(a.port)
                                                 : a.host + ":" + std::to_string(a.port);
  }
  return out;
}

const std::string* start_key_value(const Config& c, std::string_view section, std::string_view key,
                                   std::string& storage) {
  const KeyInfo* k = find_key(section, key);
  if (k == nullptr || !k->read_at_start) return nullptr;
  for (const StartKey& s : kStartKeys) {
    if (s.section == section && s.key == key) {
      storage = s.value(c);
      return &storage;
    }
  }
  return nullptr;
}

std::vector<RestartNeeded> restart_needed(const Config& started, const Config& next) {
  std::vector<RestartNeeded> out;
  for (const KeyInfo& k : schema()) {
    if (!k.read_at_start) continue;
    std::string was_text, now_text;
    const std::string* was = start_key_value(started, k.section, k.key, was_text);
    const std::string* now = start_key_value(next, k.section, k.key, now_text);
    if (was == nullptr || now == nullptr || *was != *now) {
      out.push_back(RestartNeeded{std::string(k.section), std::string(k.key), was ? *was : "(unknown)",
                                  now ? *now : "(unknown)"});
    }
  }
  return out;
}

std::string RestartNeeded::to_string() const {
  return "[" + section + "] " + key + " changes from '" + running + "' to '" + asked +
         "': needs a restart (still serving '" + running + "')";
}

std::string parent_directory(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

const std::string* fixed_key_value(const Config& c, std::string_view section, std::string_view key) {
  const KeyInfo* k = find_key(section, key);
  const StorePath* p = find_store_path(section, key);
  if (k == nullptr || !k->fixed_at_install || p == nullptr) return nullptr;
  return &p->value(c);
}

std::vector<FixedKeyChange> fixed_key_changes(const InstalledValue& installed, const Config& next) {
  std::vector<FixedKeyChange> out;
  for (const KeyInfo& k : schema()) {
    if (!k.fixed_at_install) continue;
    const std::string was = installed(k);
    const std::string* now = fixed_key_value(next, k.section, k.key);
    // A fixed key the rule cannot read is refused rather than let through.
    if (now == nullptr || was != *now) {
      out.push_back(FixedKeyChange{std::string(k.section), std::string(k.key), was,
                                   now ? *now : std::string("(unknown)")});
    }
  }
  return out;
}

std::vector<FixedKeyChange> fixed_key_changes(const Config& installed, const Config& next) {
  return fixed_key_changes(
      [&installed](const KeyInfo& k) {
        const std::string* v = fixed_key_value(installed, k.section, k.key);
        return v ? *v : std::string("(unknown)");
      },
      next);
}

std::vector<ConfigError> reload_refusals(const Config& running, const Config& next,
                                         const DirectoryExists& directory_exists) {
  std::vector<ConfigError> out;
  const auto changes = fixed_key_changes(running, next);
  for (const FixedKeyChange& c : changes) {
    out.push_back(ConfigError{next.source, 0, c.section, c.key,
                              "changes from '" + c.from + "' to '" + c.to +
                                  "'; it is fixed at install time and changes only at a restart (restart boxmaild to use it)"});
  }
  for (const StorePath& p : kStorePaths) {
    bool changed = false;
    for (const FixedKeyChange& c : changes) changed = changed || (c.section == p.section && c.key == p.key);
    if (changed) continue;
    if (p.must_exist == MustExist::Nothing) continue;
    const std::string& now = p.value(next);
    const std::string dir = p.must_exist == MustExist::Directory ? now : parent_directory(now);
    if (!directory_exists(dir)) {
      out.push_back(ConfigError{next.source, 0, p.section, p.key,
                                "directory '" + dir + "' does not exist (removed, or a disk not mounted?)"});
    }
  }
  return out;
}

}  // namespace boxmail::config

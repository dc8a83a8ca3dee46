// reload_rule.cpp - see reload_rule.hpp. Pure: no I/O here.
#include "config/reload_rule.hpp"

namespace boxmail::config {
namespace {

/// One store path: where it is in the INI file and how to find it in a Config.
struct StorePath {
  const char* section;
  const char* key;
  const std::string& (*value)(const Config&);
  bool is_directory;   ///< the path itself must be a directory, else its parent
};

constexpr StorePath kStorePaths[] = {
    {"server", "passwd_file", [](const Config& c) -> const std::string& { return c.server.passwd_file; }, false},
    {"server", "control_socket", [](const Config& c) -> const std::string& { return c.server.control_socket; },
     false},
    {"store", "mail_dir", [](const Config& c) -> const std::string& { return c.store.mail_dir; }, true},
    {"store", "spool_dir", [](const Config& c) -> const std::string& { return c.store.spool_dir; }, true},
};

}  // namespace

std::string parent_directory(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::vector<ConfigError> reload_refusals(const Config& running, const Config& next,
                                         const DirectoryExists& directory_exists) {
  std::vector<ConfigError> out;
  for (const StorePath& p : kStorePaths) {
    const std::string& was = p.value(running);
    const std::string& now = p.value(next);
    if (was != now) {
      out.push_back(ConfigError{next.source, 0, p.section, p.key,
                                "changes from '" + was + "' to '" + now +
                                    "'; store paths change only at a restart (restart boxmaild to use it)"});
      continue;
    }
    const std::string dir = p.is_directory ? now : parent_directory(now);
    if (!directory_exists(dir)) {
      out.push_back(ConfigError{next.source, 0, p.section, p.key,
                                "directory '" + dir + "' does not exist (removed, or a disk not mounted?)"});
    }
  }
  return out;
}

}  // namespace boxmail::config

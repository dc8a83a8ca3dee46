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
//   - a directory the running store needs is gone: mail_dir, spool_dir, the
//     directory of passwd_file, the directory of control_socket (a disk not
//     mounted, a directory removed).
// Each refusal is a ConfigError naming the file and the key; the caller
// keeps the running configuration and reports them (log and control reply).
#pragma once

#include "config/config.hpp"
#include "config/schema.hpp"

#include <functional>
#include <string>
#include <vector>

namespace boxmail::config {

/// True when PATH names an existing directory (relative paths: to the
/// daemon's working directory).
using DirectoryExists = std::function<bool(const std::string& path)>;

/// Why `next` may not replace `running` (empty: it may). Errors name
/// next.source and the key (line 0: the rule is about values, not lines).
std::vector<ConfigError> reload_refusals(const Config& running, const Config& next,
                                         const DirectoryExists& directory_exists);

/// The directory part of a file path ("a/b" -> "a", "b" -> ".", "/b" -> "/").
std::string parent_directory(const std::string& path);

}  // namespace boxmail::config

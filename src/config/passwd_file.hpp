// passwd_file.hpp - reading and atomically rewriting the passwd-file.
//
// save_passwd_file writes PATH.tmp, fsyncs it, keeps the previous file as
// PATH.bak (hard link), renames the new one over PATH and fsyncs the
// directory; mode 0640. The owner and group of an existing PATH are kept (a
// new file takes its directory's group) where the caller may set them; the
// parent directory is created when missing. Errors are returned as text,
// never thrown. Callers serialize concurrent edits themselves (boxmailctl
// holds a flock(2) on the directory).
#pragma once

#include "config/account.hpp"

#include <string>

namespace boxmail::config {

/// Loads PATH. A missing file is an empty table and no error when
/// `missing_ok`; an unreadable file or bad lines are errors ("PATH:LINE: msg").
struct PasswdLoad {
  AccountTable table;
  std::vector<std::string> errors;
};
PasswdLoad load_passwd_file(const std::string& path, bool missing_ok);

/// Atomically replaces PATH with `table`. Returns an error message or "".
std::string save_passwd_file(const std::string& path, const AccountTable& table);

}  // namespace boxmail::config

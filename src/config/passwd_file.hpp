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

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <vector>

namespace boxmail::config {

/// The identity of a file as stat(2) gives it: a different stamp means the
/// file was replaced or written. `exists` false: there is no file.
struct FileStamp {
  bool exists = false;
  std::uint64_t dev = 0, ino = 0;
  std::int64_t size = 0, mtime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};

/// Loads PATH. A missing file is an empty table and no error when
/// `missing_ok`; an unreadable file or bad lines are errors ("PATH:LINE: msg").
struct PasswdLoad {
  AccountTable table;
  std::vector<std::string> errors;
  bool missing = false;             ///< PATH does not exist
  bool unreadable = false;          ///< open(2) or read(2) failed (EMFILE, EACCES, EIO...): errors[0] says why
  bool says_no_mailboxes = false;   ///< the file holds the kNoMailboxes line (account.hpp)
  FileStamp stamp;                  ///< fstat(2) of the file that was read
};
PasswdLoad load_passwd_file(const std::string& path, bool missing_ok);

/// The stamp of a file from its stat(2) result.
FileStamp stamp_of(const struct stat& st);

/// Atomically replaces PATH with `table`. Returns an error message or "".
std::string save_passwd_file(const std::string& path, const AccountTable& table);

}  // namespace boxmail::config

// passwd_watcher.hpp - keeps boxmaild's account table in step with the
// passwd-file, and never swaps in a worse one (I/O: stat(2), open(2)).
//
// boxmaild calls poll() before each accepted connection, for the control
// socket's `status`, and with force=true on a reload (SIGHUP, control
// `reload`). poll() stats the file; when its stamp (device, inode, size,
// mtime) differs from the one of the last good load it reads the file whole
// and parses it (passwd_file.hpp, account.hpp). The new table replaces the
// running one only when it is at least as good:
//   - the file could be opened and read (not EMFILE, EACCES, EIO...);
//   - it exists (a deleted passwd-file is a fault, not "no mailboxes");
//   - no line has an error (one bad line would bounce that mailbox's mail
//     with 550 5.1.1);
//   - it holds at least one mailbox, or the line kNoMailboxes (what
//     format_passwd writes for an empty table: `boxmailctl user del` of the
//     last mailbox).
// Otherwise the running table stays, the result carries the errors (file,
// line, cause) for the log, and the stamp is not recorded, so the next poll
// tries again: a passing fault (descriptors exhausted) heals by itself, a
// damaged file is taken once it is fixed. A damaged file is read and
// reported once per version (stamp); a passing fault is tried at every poll
// but reported again only when its text changes; a forced poll always
// reports.
//
// At start (first_load) there is no running table to protect: a missing
// file is an empty table with a warning (boxmailctl user add creates it), a
// file without mailboxes too; a file that cannot be read or has an error is
// refused (boxmaild does not start; the feed's sender keeps the mail and
// retries, instead of getting 550 for the mailboxes it lost).
#pragma once

#include "config/account.hpp"
#include "config/passwd_file.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace boxmail::config {

/// What a load or poll found: a table to install (null: keep the running
/// one), error lines, warnings and notes to log ("PATH:LINE: cause").
struct PasswdPoll {
  std::shared_ptr<const AccountTable> table;
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
  std::vector<std::string> notes;   ///< info: the file is good again after a fault
};

/// Watches one passwd-file; see the file comment. Not thread-safe (one
/// io_context thread).
class PasswdWatcher {
 public:
  explicit PasswdWatcher(std::string path) : path_(std::move(path)) {}

  /// The load at start. `table` is null exactly when the file cannot be
  /// read or has an error (the caller refuses to start).
  PasswdPoll first_load();

  /// Re-reads the file when its stamp changed since the last good load, or
  /// always when `force`; `table` is set only when the new file may replace
  /// the running table.
  PasswdPoll poll(bool force);

  const std::string& path() const { return path_; }

 private:
  /// Reads and judges the file; on success records its stamp.
  PasswdPoll load(bool at_start, bool force);

  std::string path_;
  FileStamp good_;                      ///< stamp of the file the running table came from
  std::optional<FileStamp> failed_;     ///< stamp of a file already found damaged (not re-read until it changes)
  std::string reported_;                ///< the last fault reported (not repeated while it lasts)
  std::size_t running_size_ = 0;        ///< mailboxes in the running table (for the messages)
};

}  // namespace boxmail::config

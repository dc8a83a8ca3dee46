// maildir.hpp - reading a Maildir for POP3: list, open, and apply the
// changes of a session (I/O; blocking file system calls on the caller's
// thread, all short).
//
// list_maildir reads the names in new/ and cur/ (never the files when the
// name carries W=): each message's POP3 size is W= from its name (the size
// with CRLF line ends, see maildir_name.hpp). A file without W= (a foreign
// delivery) is read once to count its LFs (size = octets + LFs, the
// arithmetic of the DotStuffer). The unique-id is the base name, the name up
// to the first ':' (the same in new/ and cur/, so stable across sessions,
// restarts and the new/ -> cur/ move); a base name that is no valid POP3
// unique-id (over 70 octets, or octets outside 0x21..0x7E, RFC 1939 7) is
// replaced by "H" and 16 hex digits of its FNV-1a hash, just as stable.
// Messages are ordered by delivery time (the <sec>.M<usec> prefix), then name.
//
// apply_changes, at the end of a POP3 session (UPDATE state), removes the
// deleted messages and moves every other listed message of new/ to cur/ as
// Dovecot does ("NAME:2,<flags>"), adding the flag S (seen) to retrieved
// ones, in new/ or cur/. A message already gone counts as done. The cur/ and
// new/ directories are fsync'ed after the changes. Returns the number of
// changes that failed.
//
// No symbolic link below mail_dir is followed (the mailbox, new/, cur/, a
// message file; safe_path.hpp): such a Maildir fails to list (error ELOOP,
// error_text names the path), a linked message file fails to open (RETR)
// and is itself unlinked or renamed, never its target.
//
// Source: https://cr.yp.to/proto/maildir.html (info "2,<flags>", flags in
// ASCII order); Dovecot's maildir-storage behaviour.
#pragma once

#include "store/quota.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace boxmail::store {

/// One message file.
struct MaildirMessage {
  std::string sub;          ///< "new" or "cur"
  std::string name;         ///< file name, with any ":2,<flags>" info
  std::string uid;          ///< POP3 unique-id (see above)
  std::uint64_t size = 0;   ///< octets as POP3 sends them (CRLF line ends)
  std::uint64_t octets = 0; ///< octets on disk when listed: S= of the name, else the file's size
};

/// A listing of a Maildir.
struct MaildirListing {
  std::vector<MaildirMessage> messages;
  int error = 0;                 ///< errno when new/ or cur/ cannot be read (a missing Maildir is empty, not an error)
  std::string error_text;        ///< with `error`: the path that failed and why (safe_path.hpp path_error)
  std::uint64_t files_read = 0;  ///< files opened to compute a size (no W= in the name)
};

/// Lists ROOT/new and ROOT/cur (names starting with '.' are skipped).
MaildirListing list_maildir(const std::string& root);

/// Opens a listed message for reading (O_RDONLY|O_CLOEXEC). Returns the fd
/// or -1 (errno set).
int open_message(const std::string& root, const MaildirMessage& m);

/// The POP3 unique-id of a base name (see above; pure).
std::string pop3_uid(std::string_view base_name);

/// The name with flag `flag` added to its ":2,<flags>" info (created when
/// missing), flags kept sorted and unique (pure).
std::string with_flag(std::string_view name, char flag);

/// The changes of a session, as pointers into its listing.
struct MaildirChanges {
  std::vector<const MaildirMessage*> deleted;
  std::vector<const MaildirMessage*> seen;      ///< retrieved and not deleted
  std::vector<const MaildirMessage*> unseen;    ///< the other listed messages (moved out of new/)
};

/// Applies `changes` to ROOT (see above). Returns how many failed; each
/// failure is described in `errors`. When `removed` is given it receives
/// the usage (MaildirMessage::octets) of the deleted messages that are gone.
std::size_t apply_changes(const std::string& root, const MaildirChanges& changes, std::vector<std::string>& errors,
                          MaildirUsage* removed = nullptr);

/// The usage of the Maildir at ROOT (quota.hpp): the S= sizes of the names
/// in new/ and cur/ (names starting with '.' skipped), stat(2) only for a
/// name without S=. A missing Maildir or sub-directory is empty. `error` is
/// the errno when a directory cannot be read (the usage is then unknown).
struct UsageScan {
  MaildirUsage usage;
  int error = 0;
  std::string error_text;   ///< with `error`: the path that failed and why (safe_path.hpp path_error)
};
UsageScan scan_usage(const std::string& root);

}  // namespace boxmail::store

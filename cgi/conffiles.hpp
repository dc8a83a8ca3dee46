// conffiles.hpp - the box's settings as the conffiles list names them, for
// the panel's backup and restore.
//
// /usr/share/boxmail/conffiles (BOXMAIL_CONFFILES) lists once the files
// that are the box's settings (OpenWrt's conffiles): one absolute path a
// line, a path ending in '/' is that directory and all it holds, '#'
// starts a comment line, blank lines are skipped. The factory reset and the
// firmware upgrade use the same list (docs/firmware.md, "Storage").
//
// In a backup archive a listed file is named by its path under the
// settings directory, the INI file's ("/etc/boxmail/tls/cert.pem" ->
// "tls/cert.pem"); the INI file itself is always "boxmail.ini", the
// passwd-file the INI names always "passwd" and the admin file
// (BOXMAIL_ADMIN) always "admin", wherever they are. "boxmail.ini" and
// "passwd" are always part of a backup (older backups hold just these two).
//
// parse_conffiles, listed_names, name_listed and left_out_reason are pure;
// collect_backup reads the files (the glue's, and the unit tests').
#pragma once

#include "cgi/archive.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace boxmail::cgi {

/// One line of the list.
struct ConfEntry {
  std::string path;   ///< absolute, without the trailing '/' of a directory
  bool dir = false;   ///< the line ended in '/': the directory and all under it
};

/// The parsed list, or why it was refused (`error`, then no entries).
struct ConfList {
  std::vector<ConfEntry> entries;
  std::string error;   ///< "line 3: not an absolute path"
};

/// Parses the list strictly: each line is a comment ('#' first), blank
/// (only blanks and tabs), or an absolute path of printable ASCII without
/// blanks, no empty, "." or ".." component, at most 255 octets, each path
/// once. Anything else refuses the whole list (a list that is misread would
/// give a backup that looks complete and is not).
ConfList parse_conffiles(std::string_view text);

/// Where the backup's files are: the INI file, the passwd-file it names,
/// the admin file. The settings directory is the INI file's.
struct BackupSources {
  std::string ini;
  std::string passwd;
  std::string admin;
};

/// The member names the list allows in an archive: "boxmail.ini" and
/// "passwd" always; "admin" when the list names the admin file; a listed
/// file under the settings directory by its relative name, a listed
/// directory as "NAME/". Entries outside the settings directory have no
/// name (collect_backup reports them).
std::vector<std::string> listed_names(const ConfList& list, const BackupSources& src);

/// True when `member` (a valid_member_name) is one of `listed` or under one
/// of its directories ("tls/cert.pem" under "tls/").
bool name_listed(const std::vector<std::string>& listed, std::string_view member);

/// Why a listed file is not in the backup.
enum class LeftOut {
  Absent,        ///< not on this box (nothing to keep)
  Private,       ///< another user's file or directory, readable by its owner only
  Unreadable,    ///< open(2) failed otherwise (`detail` holds strerror)
  NotPlain,      ///< a symbolic link, a device, a socket...: never followed
  TooLarge,      ///< over kMaxBackupFile octets (or the archive would pass kMaxBackupTotal)
  Outside,       ///< not under the settings directory
  LongName,      ///< its name in the archive would not fit (valid_member_name)
};

/// The reason shown on the Backup page for `name` ("tls/key.pem",
/// "relay/"), with what to do after a restore where that is known:
/// boxmaild's private key and the smarthost password (relay/) are
/// boxmaild's and have their own pages.
std::string left_out_reason(std::string_view name, LeftOut why, std::string_view detail = {});

constexpr std::uint64_t kMaxBackupFile = 512 * 1024;      ///< octets of one file in a backup (read_tar's max_size)
constexpr std::uint64_t kMaxBackupTotal = 900 * 1024;     ///< octets of all files: the restore upload is 1 MiB
constexpr std::size_t kMaxBackupFiles = 64;               ///< files in a backup (read_tar's max_files)

/// A file in the backup, by name and size.
struct BackupRow {
  std::string name;
  std::uint64_t size = 0;
};

/// A listed file or directory left out, and why (left_out_reason).
struct BackupLeftOutRow {
  std::string name;
  std::string reason;
};

/// What the Backup page shows and the download holds.
struct BackupView {
  bool loaded = false;             ///< the glue read (or tried to read) the list for this request
  std::string list_path;
  std::string list_error;          ///< non-empty: the list cannot be read or parsed; no backup is made
  std::vector<std::string> listed; ///< listed_names (restore accepts these)
  std::vector<BackupRow> held;     ///< in the archive, in list order
  std::vector<BackupLeftOutRow> left_out;
};

/// Reads what the list names into `members` (may be null: the page only
/// needs the rows) and tells what is held and what is left out. The INI
/// file and the passwd-file first, then each entry in list order; a
/// directory is walked (sorted by name, at most 4 levels). Every file is
/// opened component by component from the settings directory with
/// O_NOFOLLOW: a symbolic link is never followed, also not one in the
/// middle of a path. Only regular files; a file or directory owned by
/// another user and readable by its owner only (mode without group and
/// other read, like boxmaild's key and relay/ on the box) is left out even
/// when this process could read it (root), so that a backup holds the same
/// files wherever it is made. `list_error` set: nothing is read.
BackupView collect_backup(const ConfList& list, const std::string& list_path, const BackupSources& src,
                          std::vector<TarMember>* members);

}  // namespace boxmail::cgi

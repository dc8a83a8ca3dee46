// system_account.hpp - the account a daemon runs as, looked up in the
// system's /etc/passwd and /etc/group text (pure).
//
// boxmaild (and later every boxmail process that starts as root) is linked
// statically for the board, and a static glibc has no NSS: getpwnam() there
// needs the shared libnss_files at run time, which the board does not have.
// So the two files are parsed here, as passwd(5) and group(5) describe them:
//   passwd: name:password:UID:GID:gecos:home:shell
//   group:  name:password:GID:member,member...
// Lines starting with '#', blank lines and NIS "+"/"-" entries are skipped;
// a line with another number of fields, or a UID/GID that is not a decimal
// number below 2^32-1, is skipped too (it names nobody we would run as). The
// first line with a name wins, as in glibc's files backend.
//
// Errors: find_system_account returns an error text naming the file and the
// account (no such user; its primary group is not in /etc/group is fine: the
// GID from passwd is used).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace boxmail::process {

/// A user to run as: name, UID and primary GID (from passwd(5)).
struct SystemAccount {
  std::string name;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::string home;
};

/// A group from group(5).
struct SystemGroup {
  std::string name;
  std::uint32_t gid = 0;
};

/// The first passwd(5) line of `passwd_text` for `name`; nullopt when none.
std::optional<SystemAccount> find_user(std::string_view passwd_text, std::string_view name);

/// The first group(5) line of `group_text` for `name`; nullopt when none.
std::optional<SystemGroup> find_group(std::string_view group_text, std::string_view name);

}  // namespace boxmail::process

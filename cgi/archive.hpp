// archive.hpp - the backup archive: a POSIX ustar file (pure).
//
// The panel's backup is a tar archive (readable with `tar tf` anywhere)
// holding regular files only: the box's settings as the conffiles list
// names them, by their path under the settings directory ("boxmail.ini",
// "passwd", "admin", "tls/cert.pem"; cgi/conffiles.hpp).
// make_tar writes ustar headers (POSIX.1-1988, name <= 99 octets, mode
// 0600, uid/gid 0, the given mtime) and two zero blocks at the end; no
// directory entries (a member's name carries its directories).
// read_tar accepts only what make_tar writes: regular files with valid
// header checksums, no ustar name prefix, names that valid_member_name
// takes, each name once, at most `max_files` members and `max_size`
// octets each; anything else (a link, a directory, "../x", "/etc/passwd",
// a duplicate) is an error message and no members.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace boxmail::cgi {

struct TarMember {
  std::string name;
  std::string data;
};

/// A relative member name as make_tar writes and read_tar takes: 1..99
/// octets of printable ASCII without blanks ('!'..'~'), '/' only between
/// components, no empty, "." or ".." component, no leading or trailing '/'.
bool valid_member_name(std::string_view name);

/// The archive of `members` (names valid_member_name takes, data of any
/// size), each with mode 0600, owner root and `mtime` (Unix seconds).
std::string make_tar(const std::vector<TarMember>& members, std::int64_t mtime);

/// read_tar's result: the members in archive order, or an error message
/// (then no members).
struct TarRead {
  std::vector<TarMember> members;
  std::string error;
};
/// Reads an archive as make_tar writes it (see the file comment).
TarRead read_tar(std::string_view archive, std::size_t max_files = 8, std::size_t max_size = 512 * 1024);

}  // namespace boxmail::cgi

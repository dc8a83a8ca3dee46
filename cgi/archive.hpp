// archive.hpp - the backup archive: a POSIX ustar file (pure).
//
// The panel's backup is a tar archive (readable with `tar tf` anywhere)
// holding regular files only: boxmail.ini, passwd and, when present, admin.
// make_tar writes ustar headers (POSIX.1-1988, name <= 99 octets, mode
// 0600, uid/gid 0, the given mtime) and two zero blocks at the end.
// read_tar accepts only what make_tar writes: regular files with valid
// header checksums, names of 1..99 octets without '/', at most `max_files`
// members and `max_size` octets each; anything else is an error message.
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

std::string make_tar(const std::vector<TarMember>& members, std::int64_t mtime);

struct TarRead {
  std::vector<TarMember> members;
  std::string error;
};
TarRead read_tar(std::string_view archive, std::size_t max_files = 8, std::size_t max_size = 512 * 1024);

}  // namespace boxmail::cgi

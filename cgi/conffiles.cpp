// conffiles.cpp - see conffiles.hpp.
#include "cgi/conffiles.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

namespace boxmail::cgi {
namespace {

std::string dir_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

/// `path` under `base` ("/etc/boxmail"): the rest without the '/', "" when
/// `path` is `base`, nullopt when outside.
std::optional<std::string> under(std::string_view path, std::string_view base) {
  if (path == base) return std::string();
  const std::string prefix = base == "/" ? std::string("/") : std::string(base) + "/";
  if (path.substr(0, prefix.size()) != prefix) return std::nullopt;
  return std::string(path.substr(prefix.size()));
}

/// The archive name of a list entry (see conffiles.hpp); "" when it has none.
std::string name_of(const ConfEntry& e, const BackupSources& src) {
  if (!e.dir) {
    if (e.path == src.ini) return "boxmail.ini";
    if (e.path == src.passwd) return "passwd";
    if (!src.admin.empty() && e.path == src.admin) return "admin";
  }
  const auto rel = under(e.path, dir_of(src.ini));
  if (!rel || rel->empty()) return {};
  return e.dir ? *rel + "/" : *rel;
}

/// Readable by its owner only, and the owner is someone else.
bool private_to_other(const struct stat& st) {
  return st.st_uid != ::geteuid() && (st.st_mode & (S_ISDIR(st.st_mode) ? 0055 : 0044)) == 0;
}

/// Reads a whole file from `fd` (at most `cap` + 1 octets); false on a read error.
bool read_fd(int fd, std::string& out, std::uint64_t cap) {
  out.clear();
  char buf[8192];
  while (out.size() <= cap) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return true;
}

class Collector {
 public:
  Collector(BackupView& v, std::vector<TarMember>* members) : v_(v), members_(members) {}

  /// Adds a file read by the caller (the INI file, the passwd-file).
  void add(const std::string& name, std::string data) {
    if (has(name)) return;
    v_.held.push_back(BackupRow{name, data.size()});
    total_ += data.size();
    if (members_) members_->push_back(TarMember{name, std::move(data)});
  }

  /// Opens `rel` (components under the directory `base_fd`) without
  /// following any link; the fd, or -1 with errno (ELOOP/ENOTDIR for a
  /// link, as O_NOFOLLOW gives it).
  static int open_under(int base_fd, const std::string& rel, int last_flags) {
    int fd = ::dup(base_fd);
    if (fd < 0) return -1;
    std::size_t start = 0;
    for (;;) {
      const std::size_t slash = rel.find('/', start);
      const bool last = slash == std::string::npos;
      const std::string part = rel.substr(start, last ? slash : slash - start);
      const int flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | (last ? last_flags : O_DIRECTORY);
      const int next = ::openat(fd, part.c_str(), flags);
      const int e = errno;
      ::close(fd);
      if (next < 0) {
        errno = e;
        return -1;
      }
      fd = next;
      if (last) return fd;
      start = slash + 1;
    }
  }

  /// A listed file or directory named `name` ("tls/", "admin") at `rel`
  /// under the settings directory `base_fd`.
  void entry(int base_fd, const std::string& name, const std::string& rel, bool dir, int depth = 0) {
    if (!dir && has(name)) return;   // listed twice: as a file and in its directory
    const int fd = open_under(base_fd, rel, (dir ? O_DIRECTORY : 0) | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
      const int e = errno;
      if (e == ENOENT) return leave(name, LeftOut::Absent);
      if (e == ELOOP || e == ENOTDIR) return leave(name, LeftOut::NotPlain);
      if (e == EACCES || e == EPERM) return leave(name, LeftOut::Private);
      return leave(name, LeftOut::Unreadable, std::strerror(e));
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      const int e = errno;
      ::close(fd);
      return leave(name, LeftOut::Unreadable, std::strerror(e));
    }
    if (private_to_other(st)) {
      ::close(fd);
      return leave(name, LeftOut::Private);
    }
    if (dir) return walk(fd, name, rel, depth);   // walk closes fd
    if (!S_ISREG(st.st_mode)) {
      ::close(fd);
      return leave(name, LeftOut::NotPlain);
    }
    if (!valid_member_name(name)) {
      ::close(fd);
      return leave(name, LeftOut::LongName);
    }
    std::string data;
    const bool ok = read_fd(fd, data, kMaxBackupFile);
    const int e = errno;
    ::close(fd);
    if (!ok) return leave(name, LeftOut::Unreadable, std::strerror(e));
    if (data.size() > kMaxBackupFile || total_ + data.size() > kMaxBackupTotal ||
        v_.held.size() >= kMaxBackupFiles)
      return leave(name, LeftOut::TooLarge);
    add(name, std::move(data));
  }

  void leave(const std::string& name, LeftOut why, std::string_view detail = {}) {
    v_.left_out.push_back(BackupLeftOutRow{name, left_out_reason(name, why, detail)});
  }

 private:
  bool has(const std::string& name) const {
    return std::any_of(v_.held.begin(), v_.held.end(), [&](const BackupRow& r) { return r.name == name; });
  }

  /// The directory `name` ("tls/") open as `fd`: each entry, sorted; closes fd.
  void walk(int fd, const std::string& name, const std::string& rel, int depth) {
    DIR* d = ::fdopendir(fd);
    if (!d) {
      const int e = errno;
      ::close(fd);
      return leave(name, LeftOut::Unreadable, std::strerror(e));
    }
    std::vector<std::pair<std::string, bool>> items;   // name, is a directory
    while (const dirent* de = ::readdir(d)) {
      const std::string n = de->d_name;
      if (n == "." || n == "..") continue;
      struct stat st {};
      if (::fstatat(::dirfd(d), n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      items.emplace_back(n, S_ISDIR(st.st_mode));
    }
    ::closedir(d);
    std::sort(items.begin(), items.end());
    const int base = ::open(base_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (base < 0) return leave(name, LeftOut::Unreadable, std::strerror(errno));
    for (const auto& [n, is_dir] : items) {
      if (is_dir && depth >= 3) {
        leave(name + n + "/", LeftOut::TooLarge);
        continue;
      }
      entry(base, name + n + (is_dir ? "/" : ""), rel + "/" + n, is_dir, depth + 1);
    }
    ::close(base);
  }

 public:
  std::string base_;

 private:
  BackupView& v_;
  std::vector<TarMember>* members_;
  std::uint64_t total_ = 0;
};

bool bad_path_char(char c) { return c < '!' || c > '~'; }

}  // namespace

ConfList parse_conffiles(std::string_view text) {
  ConfList list;
  auto fail = [&list](std::size_t line, const std::string& why) {
    list.entries.clear();
    list.error = "line " + std::to_string(line) + ": " + why;
    return list;
  };
  std::size_t line = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    ++line;
    const std::size_t end = text.find('\n', pos);
    const std::string_view l = text.substr(pos, end == std::string_view::npos ? end : end - pos);
    pos = end == std::string_view::npos ? text.size() : end + 1;
    if (l.empty() || l.front() == '#') continue;
    if (l.find_first_not_of(" \t") == std::string_view::npos) continue;
    if (l.front() != '/') return fail(line, "not an absolute path");
    if (l.size() > 255) return fail(line, "the path is longer than 255 octets");
    if (std::any_of(l.begin(), l.end(), bad_path_char))
      return fail(line, "a blank or a control character in the path");
    ConfEntry e;
    e.dir = l.size() > 1 && l.back() == '/';
    e.path = std::string(e.dir ? l.substr(0, l.size() - 1) : l);
    if (e.path == "/") return fail(line, "the root directory is not a setting");
    std::size_t start = 1;
    for (;;) {
      const std::size_t slash = e.path.find('/', start);
      const std::string_view part =
          std::string_view(e.path).substr(start, slash == std::string::npos ? slash : slash - start);
      if (part.empty() || part == "." || part == "..") return fail(line, "an empty, '.' or '..' path component");
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
    for (const ConfEntry& seen : list.entries)
      if (seen.path == e.path) return fail(line, e.path + " is listed twice");
    list.entries.push_back(std::move(e));
  }
  return list;
}

std::vector<std::string> listed_names(const ConfList& list, const BackupSources& src) {
  std::vector<std::string> names{"boxmail.ini", "passwd"};
  for (const ConfEntry& e : list.entries) {
    std::string n = name_of(e, src);
    if (!n.empty() && std::find(names.begin(), names.end(), n) == names.end()) names.push_back(std::move(n));
  }
  return names;
}

bool name_listed(const std::vector<std::string>& listed, std::string_view member) {
  for (const std::string& n : listed) {
    if (n == member) return true;
    if (!n.empty() && n.back() == '/' && member.size() > n.size() && member.substr(0, n.size()) == n) return true;
  }
  return false;
}

std::string left_out_reason(std::string_view name, LeftOut why, std::string_view detail) {
  const bool relay = name == "relay/" || name.substr(0, 6) == "relay/";
  switch (why) {
    case LeftOut::Absent:
      return relay ? "not on this box (no smarthost login is stored)" : "not on this box";
    case LeftOut::Private:
      if (name == "tls/key.pem")
        return "boxmaild's private key, not readable by the panel: the restored box keeps its own certificate; "
               "upload yours again on the Certificate page";
      if (name == "tls/")
        return "boxmaild's certificate and private key, not readable by the panel: the restored box keeps its "
               "own certificate; upload yours again on the Certificate page";
      if (relay) return "the smarthost password, boxmaild's, not readable by the panel: enter it again on the "
                        "Outgoing mail page";
      return "another user's file, not readable by the panel";
    case LeftOut::Unreadable:
      return "cannot be read (" + std::string(detail) + ")";
    case LeftOut::NotPlain:
      return "not a plain file (a symbolic link, a device or a socket): never followed";
    case LeftOut::TooLarge:
      return "too large for a backup (at most " + std::to_string(kMaxBackupFile / 1024) + " KiB a file, " +
             std::to_string(kMaxBackupTotal / 1024) + " KiB and " + std::to_string(kMaxBackupFiles) +
             " files in all, 4 directory levels)";
    case LeftOut::Outside:
      return "outside the settings directory (" + std::string(detail) + "): a backup holds only what is there";
    case LeftOut::LongName:
      return "its name is too long for the archive (99 octets) or holds a character a backup never does";
  }
  return {};
}

BackupView collect_backup(const ConfList& list, const std::string& list_path, const BackupSources& src,
                          std::vector<TarMember>* members) {
  BackupView v;
  v.loaded = true;
  v.list_path = list_path;
  v.list_error = list.error;
  if (!list.error.empty()) return v;
  v.listed = listed_names(list, src);
  Collector c(v, members);
  const std::string base = dir_of(src.ini);
  c.base_ = base;
  for (const auto& [name, path] : {std::pair<const char*, const std::string&>{"boxmail.ini", src.ini},
                                   std::pair<const char*, const std::string&>{"passwd", src.passwd}}) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    std::string data;
    const bool ok = fd >= 0 && read_fd(fd, data, kMaxBackupFile);
    const int e = errno;
    if (fd >= 0) ::close(fd);
    if (ok) {
      c.add(name, std::move(data));
    } else {
      c.leave(name, e == ENOENT ? LeftOut::Absent : LeftOut::Unreadable, std::strerror(e));
    }
  }
  const int base_fd = ::open(base.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  for (const ConfEntry& e : list.entries) {
    const std::string name = name_of(e, src);
    if (name == "boxmail.ini" || name == "passwd") continue;
    if (name.empty()) {
      c.leave(e.path + (e.dir ? "/" : ""), LeftOut::Outside, base);
      continue;
    }
    if (name == "admin") {
      // The admin file (BOXMAIL_ADMIN) may be elsewhere than the settings directory.
      const std::string admin_dir = dir_of(src.admin);
      const int dfd = ::open(admin_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dfd < 0) {
        c.leave(name, errno == ENOENT ? LeftOut::Absent : LeftOut::Unreadable, std::strerror(errno));
        continue;
      }
      c.entry(dfd, name, src.admin.substr(src.admin.rfind('/') + 1), false);
      ::close(dfd);
      continue;
    }
    if (base_fd < 0) {
      c.leave(name, LeftOut::Unreadable, std::strerror(errno));
      continue;
    }
    c.entry(base_fd, name, e.dir ? name.substr(0, name.size() - 1) : name, e.dir);
  }
  if (base_fd >= 0) ::close(base_fd);
  return v;
}

}  // namespace boxmail::cgi

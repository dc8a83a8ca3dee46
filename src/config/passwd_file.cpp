// passwd_file.cpp - reading and atomically rewriting the passwd-file (see
// passwd_file.hpp). The text format itself is parsed by account.cpp.
//
// Replacement: PATH.tmp (0640; same owner and group as the old PATH, or the
// directory's group for a new file, when the caller may set them) -> fsync -> PATH.bak = hard link of the old PATH ->
// rename PATH.tmp over PATH -> fsync the directory. A crash at any point
// leaves either the old or the new file at PATH, never a partial one.
#include "config/passwd_file.hpp"

#include "config/reload_rule.hpp"
#include "store/spool_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

namespace boxmail::config {
namespace {

constexpr std::size_t kMaxFileSize = 16u << 20;   // far beyond any appliance's mailbox count

std::string errno_text(int err) { return std::strerror(err); }

/// Closes a descriptor on scope exit.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int release() {
    const int f = fd;
    fd = -1;
    return f;
  }
};

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

FileStamp stamp_of(const struct stat& st) {
  FileStamp s;
  s.exists = true;
  s.dev = static_cast<std::uint64_t>(st.st_dev);
  s.ino = static_cast<std::uint64_t>(st.st_ino);
  s.size = static_cast<std::int64_t>(st.st_size);
  s.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return s;
}

PasswdLoad load_passwd_file(const std::string& path, bool missing_ok) {
  PasswdLoad out;
  Fd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (f.fd < 0) {
    const int err = errno;
    out.missing = err == ENOENT;
    out.unreadable = !out.missing;
    if (out.missing && missing_ok) return out;
    out.errors.push_back(path + ": cannot open: " + errno_text(err));
    return out;
  }
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) {
    out.unreadable = true;
    out.errors.push_back(path + ": cannot read: " + errno_text(errno));
    return out;
  }
  out.stamp = stamp_of(st);
  std::string text;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(f.fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      out.unreadable = true;
      out.errors.push_back(path + ": cannot read: " + errno_text(errno));
      return out;
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > kMaxFileSize) {
      out.errors.push_back(path + ": file is larger than " + std::to_string(kMaxFileSize >> 20) +
                           " MiB");
      return out;
    }
  }
  AccountParse parsed = parse_passwd(text);
  out.table = std::move(parsed.table);
  out.says_no_mailboxes = parsed.says_no_mailboxes;
  for (const AccountError& e : parsed.errors) {
    out.errors.push_back(path + ":" + std::to_string(e.line) + ": " + e.message);
  }
  return out;
}

std::string save_passwd_file(const std::string& path, const AccountTable& table) {
  // (No std::filesystem here: it costs the static daemon tens of KB.)
  const std::string dir = parent_directory(path);
  if (const int e = store::make_dirs(dir, 0755); e != 0) return dir + ": cannot create directory: " + errno_text(e);

  const std::string tmp = path + ".tmp";
  const std::string bak = path + ".bak";
  struct stat old {};
  const bool have_old = ::stat(path.c_str(), &old) == 0;

  {
    Fd f(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640));
    if (f.fd < 0) return tmp + ": cannot create: " + errno_text(errno);
    // Keep the old file's owner and group (e.g. root:boxmail, so that the
    // daemon's user can read it); a new file takes its directory's group.
    // Changing them needs the right to; without it the defaults stay.
    struct stat dir_st {};
    if (have_old) {
      [[maybe_unused]] const int rc = ::fchown(f.fd, old.st_uid, old.st_gid);
    } else if (::stat(dir.c_str(), &dir_st) == 0) {
      [[maybe_unused]] const int rc = ::fchown(f.fd, static_cast<uid_t>(-1), dir_st.st_gid);
    }
    if (::fchmod(f.fd, 0640) != 0 || !write_all(f.fd, format_passwd(table)) || ::fsync(f.fd) != 0) {
      const std::string msg = tmp + ": cannot write: " + errno_text(errno);
      ::unlink(tmp.c_str());
      return msg;
    }
    if (::close(f.release()) != 0) {
      const std::string msg = tmp + ": cannot write: " + errno_text(errno);
      ::unlink(tmp.c_str());
      return msg;
    }
  }

  if (have_old) {
    if (::unlink(bak.c_str()) != 0 && errno != ENOENT) {
      const std::string msg = bak + ": cannot remove: " + errno_text(errno);
      ::unlink(tmp.c_str());
      return msg;
    }
    if (::link(path.c_str(), bak.c_str()) != 0 && errno != ENOENT) {
      const std::string msg = bak + ": cannot link to " + path + ": " + errno_text(errno);
      ::unlink(tmp.c_str());
      return msg;
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string msg = path + ": cannot replace: " + errno_text(errno);
    ::unlink(tmp.c_str());
    return msg;
  }
  Fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d.fd < 0 || ::fsync(d.fd) != 0) {
    return dir + ": cannot sync directory: " + errno_text(errno);
  }
  return {};
}

}  // namespace boxmail::config

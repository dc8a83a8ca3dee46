// maildir.cpp - see maildir.hpp.
#include "store/maildir.hpp"

#include "store/maildir_name.hpp"
#include "store/safe_path.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>

namespace boxmail::store {
namespace {

/// Octets plus LFs of file NAME in DIR_FD (not followed); -1 on error.
std::int64_t crlf_size_of(int dir_fd, const std::string& name) {
  const int fd = ::openat(dir_fd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return -1;
  char buf[65536];
  std::int64_t total = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return -1;
    }
    if (n == 0) break;
    total += n + std::count(buf, buf + n, '\n');
  }
  ::close(fd);
  return total;
}

/// The delivery time of a name "<sec>.M<usec>...": (sec, usec), or (max, 0)
/// for names of another shape (sorted last, by name).
std::pair<std::uint64_t, std::uint64_t> delivery_time(std::string_view name) {
  std::uint64_t sec = 0;
  std::uint64_t usec = 0;
  auto [p, ec] = std::from_chars(name.data(), name.data() + name.size(), sec);
  if (ec != std::errc{} || p == name.data()) return {~0ULL, 0};
  const std::string_view rest(p, static_cast<std::size_t>(name.data() + name.size() - p));
  if (rest.starts_with(".M")) std::from_chars(rest.data() + 2, rest.data() + rest.size(), usec);
  return {sec, usec};
}

/// Calls f(dir_fd, name) for each message name in the directory PATH of
/// the Maildir ROOT (names starting with '.' skipped; no symbolic link
/// followed, safe_path.hpp). Returns 0 or the errno of the open/readdir;
/// `failed` receives the path that failed.
template <class F>
int each_name(const std::string& root, const std::string& path, std::string& failed, F&& f) {
  const int fd = open_maildir_dir(root, path, &failed);
  if (fd < 0) return errno;
  DIR* d = ::fdopendir(fd);
  if (d == nullptr) {
    const int err = errno;
    ::close(fd);
    failed = path;
    return err;
  }
  for (;;) {
    errno = 0;
    const dirent* e = ::readdir(d);
    if (e == nullptr) break;
    const std::string_view name = e->d_name;
    if (name.empty() || name.front() == '.') continue;
    f(::dirfd(d), name);
  }
  const int err = errno;
  ::closedir(d);
  if (err != 0) failed = path;
  return err;
}

/// The octets of a file on disk: S= of its name, else stat(2); nullopt when it is gone.
std::optional<std::uint64_t> octets_of(int dir_fd, std::string_view name) {
  if (auto s = stored_octets(name)) return s;
  struct stat st {};
  if (::fstatat(dir_fd, std::string(name).c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return std::nullopt;
  return static_cast<std::uint64_t>(st.st_size);
}

int list_dir(const std::string& root, const char* sub, MaildirListing& out) {
  const std::string dir = root + "/" + sub;
  std::string failed;
  const int err = each_name(root, dir, failed, [&](int dir_fd, std::string_view name) {
    MaildirMessage m;
    m.sub = sub;
    m.name = std::string(name);
    const std::string_view base = name.substr(0, name.find(':'));
    m.uid = pop3_uid(base);
    const MaildirSizes sizes = parse_maildir_sizes(name);
    if (sizes.vsize) {
      m.size = *sizes.vsize;
    } else {
      const std::int64_t s = crlf_size_of(dir_fd, m.name);
      ++out.files_read;
      if (s < 0) return;   // vanished or unreadable: not listed
      m.size = static_cast<std::uint64_t>(s);
    }
    const auto octets = octets_of(dir_fd, name);
    if (!octets) return;   // vanished: not listed
    m.octets = *octets;
    out.messages.push_back(std::move(m));
  });
  if (err != 0 && err != ENOENT) out.error_text = path_error(failed, err);
  return err == ENOENT ? 0 : err;
}

}  // namespace

std::string pop3_uid(std::string_view base) {
  bool ok = !base.empty() && base.size() <= 70;
  for (char c : base) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7e) ok = false;
  }
  if (ok) return std::string(base);
  std::uint64_t h = 0xcbf29ce484222325ULL;   // FNV-1a 64
  for (char c : base) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string r = "H";
  for (int i = 60; i >= 0; i -= 4) r += kHex[(h >> i) & 15];
  return r;
}

std::string with_flag(std::string_view name, char flag) {
  const auto colon = name.find(':');
  std::string base(name.substr(0, colon));
  std::string flags;
  if (colon != std::string_view::npos) {
    const std::string_view info = name.substr(colon + 1);
    if (info.starts_with("2,")) {
      flags = std::string(info.substr(2));
    } else {
      // An info of another version: keep it as it is.
      return std::string(name);
    }
  }
  if (flags.find(flag) == std::string::npos) flags += flag;
  std::sort(flags.begin(), flags.end());
  return base + ":2," + flags;
}

MaildirListing list_maildir(const std::string& root) {
  MaildirListing out;
  for (const char* sub : {"new", "cur"}) {
    if (int err = list_dir(root, sub, out); err != 0) {
      out.error = err;
      out.messages.clear();
      return out;
    }
  }
  std::sort(out.messages.begin(), out.messages.end(), [](const MaildirMessage& a, const MaildirMessage& b) {
    const auto ta = delivery_time(a.name);
    const auto tb = delivery_time(b.name);
    if (ta != tb) return ta < tb;
    return a.name < b.name;
  });
  return out;
}

int open_message(const std::string& root, const MaildirMessage& m) {
  const int dir_fd = open_maildir_dir(root, root + "/" + m.sub);
  if (dir_fd < 0) return -1;
  const int fd = ::openat(dir_fd, m.name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  const int err = errno;
  ::close(dir_fd);
  errno = err;
  return fd;
}

std::size_t apply_changes(const std::string& root, const MaildirChanges& changes, std::vector<std::string>& errors,
                          MaildirUsage* removed) {
  std::size_t failures = 0;
  bool touched_new = false;
  bool touched_cur = false;
  auto fail = [&](const std::string& what, const std::string& path, int err) {
    ++failures;
    errors.push_back(what + " " + path_error(path, err));
  };
  // The directories, each opened once, no symbolic link followed; a
  // missing one (-1, ENOENT) holds no message (a message already gone
  // counts as done).
  struct Dir {
    int fd = -1;
    int err = 0;
    std::string failed;
  };
  auto open_sub = [&](const char* sub) {
    Dir d;
    d.fd = open_maildir_dir(root, root + "/" + sub, &d.failed);
    if (d.fd < 0) d.err = errno;
    return d;
  };
  if (!changes.seen.empty() || !changes.unseen.empty()) {   // a foreign Maildir may lack cur/
    if (const int root_fd = open_maildir_dir(root, root); root_fd >= 0) {
      ::mkdirat(root_fd, "cur", 0700);
      ::close(root_fd);
    }
  }
  Dir dir_new = open_sub("new");
  Dir dir_cur = open_sub("cur");
  auto dir_of = [&](const MaildirMessage* m) -> Dir& { return m->sub == "new" ? dir_new : dir_cur; };
  for (const MaildirMessage* m : changes.deleted) {
    const std::string path = root + "/" + m->sub + "/" + m->name;
    const Dir& d = dir_of(m);
    if (d.fd < 0) {
      if (d.err != ENOENT) {
        fail("unlink", d.failed, d.err);
        continue;
      }
    } else if (::unlinkat(d.fd, m->name.c_str(), 0) != 0 && errno != ENOENT) {
      fail("unlink", path, errno);
      continue;
    }
    if (removed != nullptr) add_message(*removed, m->octets);
    (m->sub == "new" ? touched_new : touched_cur) = true;
  }
  auto move = [&](const MaildirMessage* m, bool seen) {
    std::string target = m->name;
    if (seen) {
      target = with_flag(m->name, 'S');
    } else if (m->sub == "new" && target.find(':') == std::string::npos) {
      target += ":2,";
    }
    if (m->sub == "cur" && target == m->name) return;
    const std::string from = root + "/" + m->sub + "/" + m->name;
    Dir& d = dir_of(m);
    for (const Dir* x : {&d, &dir_cur}) {
      if (x->fd < 0) {
        if (x->err != ENOENT) fail("rename", x->failed, x->err);
        return;
      }
    }
    if (::renameat(d.fd, m->name.c_str(), dir_cur.fd, target.c_str()) != 0) {
      if (errno != ENOENT) fail("rename", from, errno);
      return;
    }
    (m->sub == "new" ? touched_new : touched_cur) = true;
    touched_cur = true;
  };
  for (const MaildirMessage* m : changes.seen) move(m, true);
  for (const MaildirMessage* m : changes.unseen) move(m, false);
  if (touched_cur && dir_cur.fd >= 0 && ::fsync(dir_cur.fd) != 0) fail("fsync", root + "/cur", errno);
  if (touched_new && dir_new.fd >= 0 && ::fsync(dir_new.fd) != 0) fail("fsync", root + "/new", errno);
  for (const Dir* x : {&dir_new, &dir_cur}) {
    if (x->fd >= 0) ::close(x->fd);
  }
  return failures;
}

UsageScan scan_usage(const std::string& root) {
  UsageScan out;
  for (const char* sub : {"new", "cur"}) {
    std::string failed;
    const int err = each_name(root, root + "/" + sub, failed, [&](int dir_fd, std::string_view name) {
      if (const auto octets = octets_of(dir_fd, name)) add_message(out.usage, *octets);   // else gone meanwhile
    });
    if (err != 0 && err != ENOENT) {
      out.error = err;
      out.error_text = path_error(failed, err);
      return out;
    }
  }
  return out;
}

}  // namespace boxmail::store

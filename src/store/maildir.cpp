// maildir.cpp - see maildir.hpp.
#include "store/maildir.hpp"

#include "store/maildir_name.hpp"

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

/// Octets plus LFs of the file at `path`; -1 on error.
std::int64_t crlf_size_of(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
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

int fsync_dir(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  const int rc = ::fsync(fd) == 0 ? 0 : errno;
  ::close(fd);
  return rc;
}

/// Calls f(dir_fd, name) for each message name in DIR (names starting
/// with '.' skipped). Returns 0 or the errno of opendir/readdir.
template <class F>
int each_name(const std::string& dir, F&& f) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return errno;
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
  const int err = each_name(dir, [&](int dir_fd, std::string_view name) {
    MaildirMessage m;
    m.sub = sub;
    m.name = std::string(name);
    const std::string_view base = name.substr(0, name.find(':'));
    m.uid = pop3_uid(base);
    const MaildirSizes sizes = parse_maildir_sizes(name);
    if (sizes.vsize) {
      m.size = *sizes.vsize;
    } else {
      const std::int64_t s = crlf_size_of(dir + "/" + m.name);
      ++out.files_read;
      if (s < 0) return;   // vanished or unreadable: not listed
      m.size = static_cast<std::uint64_t>(s);
    }
    const auto octets = octets_of(dir_fd, name);
    if (!octets) return;   // vanished: not listed
    m.octets = *octets;
    out.messages.push_back(std::move(m));
  });
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
  return ::open((root + "/" + m.sub + "/" + m.name).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
}

std::size_t apply_changes(const std::string& root, const MaildirChanges& changes, std::vector<std::string>& errors,
                          MaildirUsage* removed) {
  std::size_t failures = 0;
  bool touched_new = false;
  bool touched_cur = false;
  auto fail = [&](const std::string& what, int err) {
    ++failures;
    errors.push_back(what + ": " + std::strerror(err));
  };
  for (const MaildirMessage* m : changes.deleted) {
    const std::string path = root + "/" + m->sub + "/" + m->name;
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      fail("unlink " + path, errno);
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
    const std::string to = root + "/cur/" + target;
    if (::rename(from.c_str(), to.c_str()) != 0) {
      if (errno != ENOENT) fail("rename " + from, errno);
      return;
    }
    (m->sub == "new" ? touched_new : touched_cur) = true;
    touched_cur = true;
  };
  if (!changes.seen.empty() || !changes.unseen.empty()) ::mkdir((root + "/cur").c_str(), 0700);   // a foreign Maildir may lack it
  for (const MaildirMessage* m : changes.seen) move(m, true);
  for (const MaildirMessage* m : changes.unseen) move(m, false);
  if (touched_cur) {
    if (int e = fsync_dir(root + "/cur"); e != 0) fail("fsync " + root + "/cur", e);
  }
  if (touched_new) {
    if (int e = fsync_dir(root + "/new"); e != 0) fail("fsync " + root + "/new", e);
  }
  return failures;
}

UsageScan scan_usage(const std::string& root) {
  UsageScan out;
  for (const char* sub : {"new", "cur"}) {
    const int err = each_name(root + "/" + sub, [&](int dir_fd, std::string_view name) {
      if (const auto octets = octets_of(dir_fd, name)) add_message(out.usage, *octets);   // else gone meanwhile
    });
    if (err != 0 && err != ENOENT) {
      out.error = err;
      return out;
    }
  }
  return out;
}

}  // namespace boxmail::store

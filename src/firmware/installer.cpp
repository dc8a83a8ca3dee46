// installer.cpp - see installer.hpp.
#include "firmware/installer.hpp"

#include "firmware/update_file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace boxmail::firmware {

namespace {

constexpr std::size_t kChunk = 64 * 1024;
constexpr std::size_t kMaxRelease = 4096;
constexpr std::size_t kMaxVersionFile = 256;

std::string error_text(int e) { return std::strerror(e); }

/// A descriptor, closed when the owner goes.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  /// Closes and returns close(2)'s errno (0 when it succeeded).
  int close_checked() {
    const int rc = ::close(std::exchange(fd_, -1));
    return rc == 0 ? 0 : errno;
  }

 private:
  int fd_ = -1;
};

/// read(2) retried on EINTR.
ssize_t read_some(int fd, char* buf, std::size_t n) {
  for (;;) {
    const ssize_t got = ::read(fd, buf, n);
    if (got >= 0 || errno != EINTR) return got;
  }
}

/// Writes all of `data`; 0, or the errno.
int write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return EIO;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return 0;
}

std::string join(const std::string& dir, std::string_view name) {
  return dir + (dir.empty() || dir.back() == '/' ? "" : "/") + std::string(name);
}

off_t sector_offset(const BootPaths& paths) { return static_cast<off_t>(paths.state_sector * 512); }

/// Opens the disk; the sector must lie within it (a block device or a file).
Fd open_disk(const BootPaths& paths, int flags, std::string* error) {
  Fd fd(::open(paths.disk.c_str(), flags | O_CLOEXEC));
  if (!fd.ok()) {
    *error = paths.disk + ": " + error_text(errno);
    return fd;
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    *error = paths.disk + ": " + error_text(errno);
    return Fd();
  }
  if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode)) {
    *error = paths.disk + ": not a disk (neither a block device nor a file)";
    return Fd();
  }
  if (paths.state_sector > kMaxStateSector) {
    *error = "the boot-state sector " + std::to_string(paths.state_sector) + " is out of range";
    return Fd();
  }
  return fd;
}

/// Reads the sector from `fd` into a BootStateRead.
BootStateRead read_sector(int fd, const BootPaths& paths) {
  BootStateRead r;
  std::string sector(kBootStateSize, '\0');
  std::size_t have = 0;
  while (have < sector.size()) {
    const ssize_t n = ::pread(fd, sector.data() + have, sector.size() - have, sector_offset(paths) + have);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      r.error = paths.disk + ": cannot read the boot-state sector: " + error_text(errno);
      return r;
    }
    if (n == 0) {
      r.error = paths.disk + ": too short to hold the boot-state sector " + std::to_string(paths.state_sector);
      return r;
    }
    have += static_cast<std::size_t>(n);
  }
  const BootStateParse p = parse_boot_state(sector);
  r.read = true;
  r.state = p.state;
  if (!p.error.empty()) r.error = paths.disk + ": sector " + std::to_string(paths.state_sector) + ": " + p.error;
  return r;
}

/// Writes and syncs the sector through `fd`.
std::string write_sector(int fd, const BootPaths& paths, const BootState& state) {
  const std::string sector = format_boot_state(state);
  std::size_t done = 0;
  while (done < sector.size()) {
    const ssize_t n = ::pwrite(fd, sector.data() + done, sector.size() - done, sector_offset(paths) + done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return paths.disk + ": cannot write the boot-state sector: " + error_text(n < 0 ? errno : EIO);
    done += static_cast<std::size_t>(n);
  }
  if (::fdatasync(fd) != 0 || ::fsync(fd) != 0) {
    return paths.disk + ": cannot sync the boot-state sector: " + error_text(errno);
  }
  return {};
}

/// The names of `parts`, blank-separated (for messages).
std::string list(const std::vector<std::string>& parts) {
  std::string s;
  for (const std::string& p : parts) s += (s.empty() ? "" : " ") + p;
  return s;
}

/// One install: the state it builds up, and the clean-up of what it left
/// half done (the destructor removes the .new files not yet renamed).
class Install {
 public:
  explicit Install(const InstallRequest& rq)
      : rq_(rq), target_(other_slot(rq.running)), slot_dir_(join(rq.paths.boot_dir, std::string(1, target_))) {}
  ~Install() {
    for (const std::string& name : pending_) ::unlinkat(slot_.get(), name.c_str(), 0);
  }
  Install(const Install&) = delete;
  Install& operator=(const Install&) = delete;

  std::string run() {
    std::string e;
    if (e = open_file(); !e.empty()) return e;
    if (e = read_header(); !e.empty()) return e;
    if (e = check_header(); !e.empty()) return e;
    if (e = lock_boot_dir(); !e.empty()) return e;
    if (e = check_boot_state(); !e.empty()) return e;
    if (e = open_slot(); !e.empty()) return e;
    if (e = stream_parts(); !e.empty()) return e;
    return commit();
  }

  const std::string& version() const { return header_.version; }

 private:
  const InstallRequest& rq_;
  const Slot target_;
  const std::string slot_dir_;
  Fd file_;
  std::string head_;             // the file's first octets: the header and maybe payload
  UpdateHeader header_;
  Fd boot_;                      // the boot directory, locked
  Fd disk_;
  Fd slot_;
  bool slot_created_ = false;
  std::vector<Fd> part_fds_;     // PART.new, in the header's order
  std::vector<std::string> pending_;   // names in the slot to remove when not committed

  std::string open_file() {
    const std::string& path = rq_.file;
    // O_NONBLOCK: a FIFO put in the file's place must not block the open.
    file_ = Fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (!file_.ok()) {
      if (errno == ELOOP) return path + " is a symbolic link: refused (the update file must be a regular file)";
      return path + ": " + error_text(errno);
    }
    struct stat st {};
    if (::fstat(file_.get(), &st) != 0) return path + ": " + error_text(errno);
    if (!S_ISREG(st.st_mode)) return path + " is not a regular file: refused";
    const int flags = ::fcntl(file_.get(), F_GETFL);
    if (flags < 0 || ::fcntl(file_.get(), F_SETFL, flags & ~O_NONBLOCK) != 0) return path + ": " + error_text(errno);
    return {};
  }

  std::string read_header() {
    head_.resize(kMaxHeader);
    std::size_t have = 0;
    while (have < kMaxHeader) {
      const ssize_t n = read_some(file_.get(), head_.data() + have, kMaxHeader - have);
      if (n < 0) return rq_.file + ": " + error_text(errno);
      if (n == 0) break;
      have += static_cast<std::size_t>(n);
    }
    head_.resize(have);
    return {};
  }

  std::string check_header() {
    HeaderParse p = parse_header(head_);
    if (!p.header) return p.error;
    header_ = std::move(*p.header);
    if (std::string e = verify_signature(head_, header_, rq_.public_key); !e.empty()) return e;
    const Release& release = rq_.release;
    if (header_.board != release.board) {
      return "this firmware is for the board '" + header_.board + "', this box is '" + release.board + "'";
    }
    for (const Part& part : header_.parts) {
      if (std::find(release.parts.begin(), release.parts.end(), part.name) == release.parts.end()) {
        return "the file carries the part '" + part.name + "', which this box's slots do not take (they take: " +
               list(release.parts) + ")";
      }
    }
    for (const std::string& name : release.parts) {
      const auto has = [&](const Part& part) { return part.name == name; };
      if (std::none_of(header_.parts.begin(), header_.parts.end(), has)) {
        return "the file lacks the part '" + name + "' (this box's slots take: " + list(release.parts) + ")";
      }
    }
    return {};
  }

  std::string lock_boot_dir() {
    const std::string& dir = rq_.paths.boot_dir;
    boot_ = Fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!boot_.ok()) return dir + ": " + error_text(errno);
    while (::flock(boot_.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK) return "another firmware install is running (" + dir + " is locked)";
      if (errno != EINTR) return dir + ": cannot lock: " + error_text(errno);
    }
    return {};
  }

  std::string check_boot_state() {
    std::string e;
    disk_ = open_disk(rq_.paths, O_RDWR, &e);
    if (!disk_.ok()) return e;
    const BootStateRead now = read_sector(disk_.get(), rq_.paths);
    if (!now.read) return now.error;
    if (now.state.trial == rq_.running) {
      return "the running firmware is still on trial; it is confirmed once boxmaild answers";
    }
    // The slot about to be written must not be what the next boot takes
    // (a pending trial, or the active slot) while it is half written; a
    // sector with errors may mean something else to u-boot: made clean too.
    if (now.state.trial == target_ || now.state.active == target_ || !now.error.empty()) {
      BootState safe;
      safe.active = rq_.running;
      safe.failed = now.state.failed;
      if (e = write_sector(disk_.get(), rq_.paths, safe); !e.empty()) return e;
    }
    return {};
  }

  std::string open_slot() {
    const std::string name(1, target_);
    slot_created_ = ::mkdirat(boot_.get(), name.c_str(), 0755) == 0;
    if (!slot_created_ && errno != EEXIST) return slot_dir_ + ": cannot create: " + error_text(errno);
    slot_ = Fd(::openat(boot_.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!slot_.ok()) {
      return slot_dir_ + (errno == ELOOP ? " is a symbolic link: refused" : ": " + error_text(errno));
    }
    for (const Part& part : header_.parts) {
      Fd fd = create_new(part.name + ".new");
      if (!fd.ok()) return join(slot_dir_, part.name + ".new") + ": " + error_text(errno);
      part_fds_.push_back(std::move(fd));
    }
    return {};
  }

  /// Creates NAME in the slot afresh (a leftover of a crash removed first);
  /// remembered for the clean-up.
  Fd create_new(const std::string& name) {
    if (::unlinkat(slot_.get(), name.c_str(), 0) != 0 && errno != ENOENT) return Fd();
    Fd fd(::openat(slot_.get(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (fd.ok()) pending_.push_back(name);
    return fd;
  }

  std::string stream_parts() {
    PayloadCheck check(header_);
    std::size_t part = 0;
    std::uint64_t in_part = 0;
    // Checks `data` and writes what belongs to the parts; octets past the
    // last part are only checked (and refused).
    auto take = [&](std::string_view data) -> std::string {
      if (std::string e = check.feed(data); !e.empty()) return e;
      while (!data.empty() && part < header_.parts.size()) {
        const std::size_t n =
            static_cast<std::size_t>(std::min<std::uint64_t>(header_.parts[part].size - in_part, data.size()));
        if (const int err = write_all(part_fds_[part].get(), data.substr(0, n)); err != 0) {
          return join(slot_dir_, header_.parts[part].name + ".new") + ": " + error_text(err);
        }
        data.remove_prefix(n);
        in_part += n;
        if (in_part == header_.parts[part].size) {
          ++part;
          in_part = 0;
        }
      }
      return {};
    };
    if (std::string e = take(std::string_view(head_).substr(header_.header_size)); !e.empty()) return e;
    std::string buf(kChunk, '\0');
    for (;;) {
      const ssize_t n = read_some(file_.get(), buf.data(), buf.size());
      if (n < 0) return rq_.file + ": " + error_text(errno);
      if (n == 0) break;
      if (std::string e = take(std::string_view(buf.data(), static_cast<std::size_t>(n))); !e.empty()) return e;
    }
    return check.finish();
  }

  /// Syncs and closes `fd` (NAME in the slot), then renames it over FINAL.
  std::string put_in_place(Fd& fd, const std::string& name, const std::string& final_name) {
    int err = ::fsync(fd.get()) == 0 ? 0 : errno;
    const int close_err = fd.close_checked();
    if (err == 0) err = close_err;
    if (err != 0) return join(slot_dir_, name) + ": " + error_text(err);
    if (::renameat(slot_.get(), name.c_str(), slot_.get(), final_name.c_str()) != 0) {
      return join(slot_dir_, final_name) + ": cannot rename " + name + " over it: " + error_text(errno);
    }
    pending_.erase(std::find(pending_.begin(), pending_.end(), name));
    return {};
  }

  std::string commit() {
    // Every .new on the medium before the first rename: a crash between
    // renames leaves a slot of old and new files that nothing boots.
    for (Fd& fd : part_fds_) {
      if (::fsync(fd.get()) != 0) return slot_dir_ + ": cannot sync a new part: " + error_text(errno);
    }
    for (std::size_t i = 0; i < header_.parts.size(); ++i) {
      const std::string& name = header_.parts[i].name;
      if (std::string e = put_in_place(part_fds_[i], name + ".new", name); !e.empty()) return e;
    }
    Fd version = create_new("version.new");
    if (!version.ok()) return join(slot_dir_, "version.new") + ": " + error_text(errno);
    if (const int err = write_all(version.get(), header_.version + "\n"); err != 0) {
      return join(slot_dir_, "version.new") + ": " + error_text(err);
    }
    if (std::string e = put_in_place(version, "version.new", "version"); !e.empty()) return e;
    if (::fsync(slot_.get()) != 0) return slot_dir_ + ": cannot sync: " + error_text(errno);
    if (slot_created_ && ::fsync(boot_.get()) != 0) return rq_.paths.boot_dir + ": cannot sync: " + error_text(errno);
    if (std::string e = write_sector(disk_.get(), rq_.paths, start_trial(rq_.running)); !e.empty()) {
      return "slot " + std::string(1, target_) + " was written but not put on trial: " + e;
    }
    return {};
  }
};

/// The version in a slot's version file: "" with no error when the file
/// does not exist (a slot never written).
std::string slot_version(const std::string& boot_dir, Slot slot, std::string* error) {
  const std::string path = join(join(boot_dir, std::string(1, slot)), "version");
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 && errno == ENOENT) return {};
  std::string text;
  if (std::string e = read_small_file(path, kMaxVersionFile, &text); !e.empty()) {
    if (error->empty()) *error = e;
    return {};
  }
  if (text.ends_with('\n')) text.pop_back();
  if (!is_update_version(text)) {
    if (error->empty()) *error = path + ": not a version";
    return {};
  }
  return text;
}

}  // namespace

ReleaseParse parse_release(std::string_view text) {
  ReleaseParse r;
  Release rel;
  bool seen_board = false, seen_version = false, seen_parts = false;
  std::size_t line_no = 0;
  auto fail = [&](std::string why) {
    r.error = "release file line " + std::to_string(line_no) + ": " + why;
    return r;
  };
  while (!text.empty()) {
    ++line_no;
    const std::size_t lf = text.find('\n');
    const std::string_view line = text.substr(0, lf);
    text.remove_prefix(lf == std::string_view::npos ? text.size() : lf + 1);
    if (line.empty() || line.front() == '#') continue;
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) return fail("not 'name=value'");
    const std::string_view name = line.substr(0, eq);
    const std::string_view value = line.substr(eq + 1);
    if (name == "board") {
      if (std::exchange(seen_board, true)) return fail("board given twice");
      if (!is_update_name(value)) return fail("board is not a name (a-z, 0-9, -)");
      rel.board = value;
    } else if (name == "version") {
      if (std::exchange(seen_version, true)) return fail("version given twice");
      if (!is_update_version(value)) return fail("version is not a version (letters, digits and .+~_-)");
      rel.version = value;
    } else if (name == "parts") {
      if (std::exchange(seen_parts, true)) return fail("parts given twice");
      std::string_view rest = value;
      for (;;) {
        const std::size_t sp = rest.find(' ');
        const std::string_view part = rest.substr(0, sp);
        if (!is_update_name(part) || part == "version") return fail("parts is not a list of part names");
        if (std::find(rel.parts.begin(), rel.parts.end(), part) != rel.parts.end()) {
          return fail("the part '" + std::string(part) + "' is listed twice");
        }
        if (rel.parts.size() == kMaxParts) return fail("more than " + std::to_string(kMaxParts) + " parts");
        rel.parts.emplace_back(part);
        if (sp == std::string_view::npos) break;
        rest.remove_prefix(sp + 1);
      }
    }
  }
  if (!seen_board) r.error = "the release file has no board= line";
  else if (!seen_parts) r.error = "the release file has no parts= line";
  else r.release = std::move(rel);
  return r;
}

std::string read_small_file(const std::string& path, std::size_t max, std::string* out) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) return path + ": " + error_text(errno);
  out->assign(max + 1, '\0');
  std::size_t have = 0;
  while (have <= max) {
    const ssize_t n = read_some(fd.get(), out->data() + have, max + 1 - have);
    if (n < 0) return path + ": " + error_text(errno);
    if (n == 0) break;
    have += static_cast<std::size_t>(n);
  }
  if (have > max) return path + ": larger than " + std::to_string(max) + " octets";
  out->resize(have);
  return {};
}

ReleaseParse load_release(const std::string& path) {
  std::string text;
  if (std::string e = read_small_file(path, kMaxRelease, &text); !e.empty()) return {std::nullopt, e};
  ReleaseParse r = parse_release(text);
  if (!r.error.empty()) r.error = path + ": " + r.error;
  return r;
}

std::optional<Slot> slot_from_cmdline(std::string_view cmdline) {
  constexpr std::string_view kKey = "boxmail.slot=";
  Slot slot = 'a';
  bool valid = true;   // (an optional<char> here trips g++ 12's -Wmaybe-uninitialized)
  std::size_t pos = 0;
  while (pos < cmdline.size()) {
    const std::size_t end = std::min(cmdline.find_first_of(" \t\n", pos), cmdline.size());
    const std::string_view word = cmdline.substr(pos, end - pos);
    pos = end + 1;
    if (!word.starts_with(kKey)) continue;
    const std::string_view value = word.substr(kKey.size());
    valid = value.size() == 1 && is_slot(value[0]);
    if (valid) slot = value[0];
  }
  if (!valid) return std::nullopt;
  return slot;
}

BootStateRead read_boot_state(const BootPaths& paths) {
  std::string e;
  const Fd fd = open_disk(paths, O_RDONLY, &e);
  if (!fd.ok()) {
    BootStateRead r;
    r.error = e;
    return r;
  }
  return read_sector(fd.get(), paths);
}

std::string write_boot_state(const BootPaths& paths, const BootState& state) {
  std::string e;
  const Fd fd = open_disk(paths, O_RDWR, &e);
  return fd.ok() ? write_sector(fd.get(), paths, state) : e;
}

InstallResult install_update(const InstallRequest& request) {
  InstallResult r;
  r.slot = other_slot(request.running);
  Install install(request);
  r.error = install.run();
  if (r.error.empty()) r.version = install.version();
  return r;
}

ConfirmResult confirm_running(const BootPaths& paths, Slot running) {
  ConfirmResult r;
  std::string e;
  const Fd fd = open_disk(paths, O_RDWR, &e);
  if (!fd.ok()) {
    r.error = e;
    return r;
  }
  const BootStateRead now = read_sector(fd.get(), paths);
  if (!now.read) {
    r.error = now.error;
    return r;
  }
  const std::optional<BootState> next = confirm_healthy(now.state, running);
  if (!next) return r;
  r.error = write_sector(fd.get(), paths, *next);
  r.changed = r.error.empty();
  return r;
}

std::string status_report(const StatusRequest& rq) {
  std::string error = rq.running_error;
  const BootStateRead state = read_boot_state(rq.paths);
  if (error.empty()) error = state.error;
  const ReleaseParse release = load_release(rq.release_path);
  if (error.empty()) error = release.error;
  std::string boot_error;
  const std::string version_a = slot_version(rq.paths.boot_dir, 'a', &boot_error);
  const std::string version_b = slot_version(rq.paths.boot_dir, 'b', &boot_error);
  if (boot_error.empty() && ::access(rq.paths.boot_dir.c_str(), R_OK | X_OK) != 0) {
    boot_error = rq.paths.boot_dir + ": " + error_text(errno);
  }
  if (error.empty()) error = boot_error;

  auto slot = [](std::optional<Slot> s) { return s ? std::string(1, *s) : std::string(); };
  std::string out;
  out += "running=" + slot(rq.running) + "\n";
  out += "active=" + (state.read ? slot(state.state.active) : "") + "\n";
  out += "trial=" + (state.read ? slot(state.state.trial) : "") + "\n";
  out += "tries=" + (state.read ? std::to_string(state.state.tries) : "") + "\n";
  out += "failed=" + (state.read ? slot(state.state.failed) : "") + "\n";
  out += "board=" + (release.release ? release.release->board : "") + "\n";
  out += "version=" + (release.release ? release.release->version : "") + "\n";
  out += "version.a=" + version_a + "\n";
  out += "version.b=" + version_b + "\n";
  if (!error.empty()) {
    for (char& c : error) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    out += "error=" + error + "\n";
  }
  return out;
}

}  // namespace boxmail::firmware

// privilege.cpp - see privilege.hpp. I/O (credentials, prctl).
#include "process/privilege.hpp"

#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace boxmail::process {
namespace {

std::string errno_text(int e) { return std::strerror(e); }

/// Reads a (small, /proc) file whole. POSIX calls, not std::ifstream:
/// iostreams would pull the locale machinery into the static daemon.
bool read_whole(const char* path, std::string& out) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out.clear();
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return n == 0;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
}

/// True when the effective, permitted and inheritable sets are all empty.
bool no_capabilities_left(std::string& why) {
  __user_cap_header_struct header{};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  header.pid = 0;
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (::syscall(SYS_capget, &header, data) != 0) {
    why = "capget: " + errno_text(errno);
    return false;
  }
  for (const auto& d : data) {
    if (d.effective != 0 || d.permitted != 0 || d.inheritable != 0) {
      why = "capabilities are left after the drop";
      return false;
    }
  }
  return true;
}

/// Threads of this process (/proc/self/task); 1 when /proc cannot tell.
int thread_count() {
  DIR* d = ::opendir("/proc/self/task");
  if (d == nullptr) return 1;
  int n = 0;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n > 0 ? n : 1;
}

/// Step 5: no new privileges by exec, no core dumps.
std::string seal() {
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return "prctl(PR_SET_NO_NEW_PRIVS): " + errno_text(errno);
  const rlimit no_core{0, 0};
  if (::setrlimit(RLIMIT_CORE, &no_core) != 0) return "setrlimit(RLIMIT_CORE): " + errno_text(errno);
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return "prctl(PR_SET_DUMPABLE): " + errno_text(errno);
  return {};
}

}  // namespace

std::optional<RunAs> find_run_as(const std::string& user, std::string& error) {
  std::string passwd;
  if (!read_whole("/etc/passwd", passwd)) {
    error = "[server] user '" + user + "': cannot read /etc/passwd: " + errno_text(errno);
    return std::nullopt;
  }
  const auto account = find_user(passwd, user);
  if (!account) {
    error = "[server] user '" + user + "': no such user in /etc/passwd";
    return std::nullopt;
  }
  if (account->uid == 0) {
    error = "[server] user '" + user + "' has uid 0: boxmaild does not serve the network as root";
    return std::nullopt;
  }
  RunAs r{*account, std::to_string(account->gid)};
  // The group's name only for the log line: the GID comes from /etc/passwd.
  if (std::string groups; read_whole("/etc/group", groups)) {
    if (auto g = find_group(groups, user); g && g->gid == account->gid) r.group_name = g->name;
  }
  return r;
}

DropResult stay_unprivileged() {
  DropResult r;
  r.error = seal();
  r.summary = "not started as root: running as uid " + std::to_string(::getuid()) + ", gid " +
              std::to_string(::getgid()) + " ([server] user is used only when started as root)";
  return r;
}

DropResult drop_privileges(const RunAs& to) {
  DropResult r;
  const std::string& user = to.account.name;
  const std::string& group_name = to.group_name;
  const uid_t uid = to.account.uid;
  const gid_t gid = to.account.gid;

  // The bounding set and NO_NEW_PRIVS are per thread: a thread started
  // before this call would keep root's. The caller starts its threads after.
  if (const int n = thread_count(); n > 1) {
    r.error = std::to_string(n) + " threads run already; the drop must come before any thread starts";
    return r;
  }

  // Capabilities: none may survive the UID change, none may come back.
  if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) {
    r.error = "prctl(PR_SET_KEEPCAPS): " + errno_text(errno);
    return r;
  }
  for (unsigned long cap = 0; cap <= 63; ++cap) {
    const int in_set = ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    if (in_set < 0) break;       // EINVAL: past the kernel's last capability
    if (in_set == 0) continue;   // not in the bounding set already
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      r.error = "prctl(PR_CAPBSET_DROP, " + std::to_string(cap) + "): " + errno_text(errno);
      return r;
    }
  }
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    r.error = "prctl(PR_CAP_AMBIENT_CLEAR_ALL): " + errno_text(errno);
    return r;
  }
  if (::setgroups(1, &gid) != 0) {
    r.error = "setgroups(" + std::to_string(gid) + "): " + errno_text(errno);
    return r;
  }
  if (::setresgid(gid, gid, gid) != 0) {
    r.error = "setresgid(" + std::to_string(gid) + "): " + errno_text(errno);
    return r;
  }
  if (::setresuid(uid, uid, uid) != 0) {
    r.error = "setresuid(" + std::to_string(uid) + "): " + errno_text(errno);
    return r;
  }

  // Verify, as if the calls above could have lied.
  uid_t ru = 0, eu = 0, su = 0;
  gid_t rg = 0, eg = 0, sg = 0;
  if (::getresuid(&ru, &eu, &su) != 0 || ::getresgid(&rg, &eg, &sg) != 0 || ru != uid || eu != uid ||
      su != uid || rg != gid || eg != gid || sg != gid) {
    r.error = "the user and group IDs are not " + std::to_string(uid) + "/" + std::to_string(gid) + " after the drop";
    return r;
  }
  if (::setuid(0) == 0 || ::seteuid(0) == 0 || ::setgid(0) == 0) {
    r.error = "root could be regained after the drop";
    return r;
  }
  if (std::string why; !no_capabilities_left(why)) {
    r.error = why;
    return r;
  }
  r.error = seal();
  r.summary = "dropped root: running as " + user + " (uid " + std::to_string(uid) + "), group " + group_name +
              " (gid " + std::to_string(gid) + "); setuid(0) refused, no capabilities, no new privileges, "
              "no core dumps";
  return r;
}

}  // namespace boxmail::process

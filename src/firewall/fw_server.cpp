// fw_server.cpp - see fw_server.hpp.
#include "firewall/fw_server.hpp"

#include "firewall/nft_backend.hpp"
#include "firewall/request.hpp"
#include "firewall/ruleset.hpp"

#include <cerrno>
#include <cstddef>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <cstdio>
#include <cstring>
#include <grp.h>
#include <linux/capability.h>
#include <optional>
#include <string>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace boxmail::firewall {
namespace {

constexpr uid_t kHelperId = 65534;        // the overflow id: owns no file
constexpr std::size_t kMaxBatch = 64;     // requests taken into one transaction
constexpr unsigned kChildSeconds = 20;    // an nft child older than this is killed

volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_stop_signal(int) { g_stop = 1; }

void say(const std::string& text) { std::fprintf(stderr, "boxmail-fw: %s\n", text.c_str()); }

std::string errno_text(int e) { return std::strerror(e); }

constexpr unsigned kClaimWaitMs = 10'000;   // how long a new helper waits for the one before it
constexpr unsigned kClaimStepMs = 20;

/// Waits until this helper is the only one in its network namespace that
/// owns table inet boxmail, and returns the descriptor that holds that
/// claim (kept open for the helper's life; -1 when it could not be had).
/// A helper whose boxmaild was killed deletes the table at EOF; a boxmaild
/// restarted at once starts a new helper that applies it. Without an order
/// the old helper's delete could come after the new apply and leave the
/// box without its table. The claim is a bound abstract unix socket name:
/// abstract names belong to the network namespace (as the table does), need
/// no file and no privilege, and are released by the kernel when the
/// holder exits, after its cleanup. Waits at most kClaimWaitMs, then goes
/// on without the claim (logged): a helper that hangs must not keep the
/// firewall away for good.
int claim_table() {
  const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    say("cannot claim the table: socket: " + errno_text(errno) + "; going on without the claim");
    return -1;
  }
  static constexpr char kName[] = "\0boxmail-fw: table inet boxmail";
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, kName, sizeof kName - 1);
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + sizeof kName - 1);
  for (unsigned waited = 0;; waited += kClaimStepMs) {
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&a), len) == 0) {
      if (waited > 0) say("waited " + std::to_string(waited) + " ms for the helper before this one to clean up");
      return fd;
    }
    if (errno != EADDRINUSE || waited >= kClaimWaitMs || g_stop) break;
    ::usleep(kClaimStepMs * 1000);
  }
  say("cannot claim the table: " + errno_text(errno) + " (another helper in this network namespace still "
      "holds it); going on without the claim");
  ::close(fd);
  return -1;
}

/// Capability sets as capget/capset use them (version 3: two 32-bit words).
struct Caps {
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
};

bool get_caps(Caps& c) {
  __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, 0};
  return ::syscall(SYS_capget, &h, c.data) == 0;
}

/// See the file comment of fw_server.hpp; "" or what failed.
std::string narrow_privileges() {
  if (::geteuid() != 0) return {};   // nothing to give up; nft will say what is missing
  for (unsigned long cap = 0; cap <= 63; ++cap) {
    if (cap == CAP_NET_ADMIN) continue;
    const int in_set = ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    if (in_set < 0) break;   // past the kernel's last capability
    if (in_set == 1 && ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0)
      return "prctl(PR_CAPBSET_DROP, " + std::to_string(cap) + "): " + errno_text(errno);
  }
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return "prctl(PR_SET_KEEPCAPS): " + errno_text(errno);
  if (::setgroups(0, nullptr) != 0) return "setgroups: " + errno_text(errno);
  if (::setresgid(kHelperId, kHelperId, kHelperId) != 0) return "setresgid: " + errno_text(errno);
  if (::setresuid(kHelperId, kHelperId, kHelperId) != 0) return "setresuid: " + errno_text(errno);
  Caps c;
  const unsigned word = CAP_TO_INDEX(CAP_NET_ADMIN);
  c.data[word].effective = c.data[word].permitted = CAP_TO_MASK(CAP_NET_ADMIN);
  __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, 0};
  if (::syscall(SYS_capset, &h, c.data) != 0) return "capset: " + errno_text(errno);
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    return "prctl(PR_CAP_AMBIENT_CLEAR_ALL): " + errno_text(errno);
  if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) return "prctl(PR_SET_KEEPCAPS, 0): " + errno_text(errno);
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return "prctl(PR_SET_NO_NEW_PRIVS): " + errno_text(errno);
  const rlimit none{0, 0};
  if (::setrlimit(RLIMIT_CORE, &none) != 0) return "setrlimit(RLIMIT_CORE): " + errno_text(errno);
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return "prctl(PR_SET_DUMPABLE): " + errno_text(errno);
  // Verify: no way back to root, and CAP_NET_ADMIN is all that is left.
  if (::setuid(0) == 0 || ::seteuid(0) == 0) return "setuid(0) still works";
  Caps now;
  if (!get_caps(now)) return "capget: " + errno_text(errno);
  for (unsigned i = 0; i < _LINUX_CAPABILITY_U32S_3; ++i) {
    const std::uint32_t want = i == word ? CAP_TO_MASK(CAP_NET_ADMIN) : 0;
    if (now.data[i].permitted != want || now.data[i].effective != want || now.data[i].inheritable != 0)
      return "capabilities other than CAP_NET_ADMIN are left";
  }
  return {};
}

/// Runs one nft script: in a short-lived child (the default), or here
/// with the kept context. The child sends "0"/"1", its output and its
/// error back through a pipe.
RunResult run(const std::string& script, bool keep_context) {
  if (keep_context) return run_script(script, true);
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return {false, "", "pipe: " + errno_text(errno)};
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(p[0]);
    ::close(p[1]);
    return {false, "", "fork: " + errno_text(errno)};
  }
  if (pid == 0) {
    ::close(p[0]);
    ::alarm(kChildSeconds);
    const RunResult r = run_script(script, false);
    std::string out = (r.ok ? "1" : "0") + std::to_string(r.output.size()) + "\n" + r.output + r.error;
    for (std::size_t done = 0; done < out.size();) {
      const ssize_t n = ::write(p[1], out.data() + done, out.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    ::_exit(0);
  }
  ::close(p[1]);
  std::string in;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(p[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    in.append(buf, static_cast<std::size_t>(n));
  }
  ::close(p[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const auto nl = in.find('\n');
  if (in.size() < 2 || nl == std::string::npos) {
    return {false, "", WIFSIGNALED(status) ? "the nft child died of signal " + std::to_string(WTERMSIG(status))
                                           : "the nft child exited with " + std::to_string(WEXITSTATUS(status)) +
                                                 " without a result"};
  }
  RunResult r;
  r.ok = in[0] == '1';
  const std::size_t out_size = std::strtoul(in.c_str() + 1, nullptr, 10);
  r.output = in.substr(nl + 1, out_size);
  if (nl + 1 + out_size < in.size()) r.error = in.substr(nl + 1 + out_size);
  return r;
}

/// The helper's state between batches.
struct State {
  bool keep_context = false;
  std::optional<std::vector<net::IpNetwork>> allow;   ///< the applied allow list; none before the first apply
};

/// One request of a batch and its answer.
struct Item {
  std::string datagram;
  std::optional<Request> request;
  Reply reply;
  bool done = false;   ///< answered already (refused)
};

/// Why `r` may not be applied in `allow`'s state ("" when it may).
std::string refusal(const Request& r, const std::optional<std::vector<net::IpNetwork>>& allow) {
  if ((r.verb == Verb::Ban || r.verb == Verb::Unban) && !allow) return "no ruleset applied yet (send apply first)";
  if (r.verb == Verb::Ban && is_allowed(*allow, r.address))
    return r.address.to_string() + " is in the allowed networks: never banned";
  return {};
}

std::string script_of(const Request& r) {
  switch (r.verb) {
    case Verb::Apply: return apply_script(r);
    case Verb::Ban: return ban_script(r);
    case Verb::Unban: return unban_script(r);
    case Verb::List: return list_script();
    case Verb::Stop: return delete_script();
  }
  return {};
}

std::string done_text(const Request& r) {
  switch (r.verb) {
    case Verb::Apply:
      return "applied: " + std::to_string(r.ports.size()) + " ports, " + std::to_string(r.allow.size()) +
             " allowed networks" +
             (r.feed_ports.empty() ? std::string()
                                   : ", feed ports only from " + std::to_string(r.feed.size()) + " networks");
    case Verb::Ban: return "banned " + r.address.to_string() + " for " + std::to_string(r.seconds) + " s";
    case Verb::Unban: return "unbanned " + r.address.to_string();
    case Verb::List: return "listed";
    case Verb::Stop: return "stopped: table deleted";
  }
  return {};
}

/// Runs the changes items[from, to) (apply, ban, unban; validated) as one
/// transaction, or one by one when that fails; answers each.
void run_changes(std::vector<Item>& items, std::size_t from, std::size_t to, State& st) {
  std::string script;
  auto allow = st.allow;
  std::size_t count = 0;
  for (std::size_t i = from; i < to; ++i) {
    Item& it = items[i];
    if (it.done) continue;
    if (std::string why = refusal(*it.request, allow); !why.empty()) {
      it.reply = Reply{false, why, {}};
      it.done = true;
      say("refused '" + it.datagram + "': " + why);
      continue;
    }
    if (it.request->verb == Verb::Apply) allow = it.request->allow;
    script += script_of(*it.request);
    ++count;
  }
  if (count == 0) return;
  const RunResult all = run(script, st.keep_context);
  for (std::size_t i = from; i < to; ++i) {
    Item& it = items[i];
    if (it.done) continue;
    if (all.ok) {
      if (it.request->verb == Verb::Apply) st.allow = it.request->allow;
      it.reply = Reply{true, done_text(*it.request), {}};
    } else if (count == 1) {
      it.reply = Reply{false, "nft: " + all.error, {}};
      say("'" + it.datagram + "' failed: nft: " + all.error);
    } else {   // one by one, against the state as it becomes
      if (std::string why = refusal(*it.request, st.allow); !why.empty()) {
        it.reply = Reply{false, why, {}};
        say("refused '" + it.datagram + "': " + why);
      } else if (const RunResult one = run(script_of(*it.request), st.keep_context); one.ok) {
        if (it.request->verb == Verb::Apply) st.allow = it.request->allow;
        it.reply = Reply{true, done_text(*it.request), {}};
      } else {
        it.reply = Reply{false, "nft: " + one.error, {}};
        say("'" + it.datagram + "' failed: nft: " + one.error);
      }
    }
    it.done = true;
  }
}

bool send_reply(int fd, const Reply& r) {
  const std::string d = format_reply(r);
  for (;;) {
    if (::send(fd, d.data(), d.size(), MSG_NOSIGNAL) >= 0) return true;
    if (errno != EINTR) return false;
  }
}

/// Deletes the table (ignoring "no such table": nothing to remove).
void delete_table(State& st) {
  if (!st.allow) return;   // nothing applied by this helper
  const RunResult r = run(delete_script(), st.keep_context);
  if (r.ok) say("table inet boxmail deleted");
  st.allow.reset();
}

/// Reads one datagram; "" with `eof` at EOF, nullopt on EAGAIN (nonblocking) or an error (`err`).
std::optional<std::string> receive(int fd, bool wait, bool& eof, int& err) {
  std::string buf(kMaxRequest + 1, '\0');
  for (;;) {
    if (wait && g_stop) {   // a signal that came while a batch ran
      err = EINTR;
      return std::nullopt;
    }
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), (wait ? 0 : MSG_DONTWAIT) | MSG_TRUNC);
    if (n < 0) {
      if (errno == EINTR && wait && !g_stop) continue;
      err = errno;
      return std::nullopt;
    }
    if (n == 0) {
      eof = true;
      return std::string();
    }
    // MSG_TRUNC: n is the datagram's real length, so an over-long one is
    // seen as such (and refused) rather than cut.
    if (static_cast<std::size_t>(n) > buf.size()) return std::string(kMaxRequest + 1, 'x');
    buf.resize(static_cast<std::size_t>(n));
    return buf;
  }
}

}  // namespace

int serve(const ServeOptions& o) {
  if (const std::string why = narrow_privileges(); !why.empty()) {
    say("cannot narrow privileges: " + why + "; not serving");
    return 1;
  }
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;   // no SA_RESTART: a waiting recv returns EINTR
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
  std::signal(SIGHUP, SIG_IGN);
  std::signal(SIGPIPE, SIG_IGN);
  const int claim = claim_table();   // held until exit; the kernel releases it after the cleanup
  (void)claim;
  State st;
  st.keep_context = o.keep_context;
  for (;;) {
    std::vector<Item> items;
    bool eof = false;
    int err = 0;
    auto first = receive(o.fd, true, eof, err);
    if (g_stop || eof || !first) {
      if (!eof && !g_stop) say("receive: " + errno_text(err));
      delete_table(st);
      return 0;
    }
    items.push_back(Item{std::move(*first), std::nullopt, {}, false});
    while (items.size() < kMaxBatch) {
      auto more = receive(o.fd, false, eof, err);
      if (!more || eof) break;
      items.push_back(Item{std::move(*more), std::nullopt, {}, false});
    }
    bool stop = false;
    std::size_t from = 0;
    for (std::size_t i = 0; i <= items.size(); ++i) {
      if (i < items.size()) {
        Item& it = items[i];
        RequestParse p = parse_request(it.datagram);
        if (!p.request) {
          it.reply = Reply{false, p.error, {}};
          it.done = true;
          say("refused a malformed request: " + p.error);
          continue;
        }
        it.request = std::move(p.request);
        if (it.request->verb != Verb::List && it.request->verb != Verb::Stop) continue;
      }
      run_changes(items, from, i, st);   // the changes before a list, a stop or the end
      from = i + 1;
      if (i == items.size()) break;
      Item& it = items[i];
      it.done = true;
      if (it.request->verb == Verb::Stop) {
        if (st.allow) {
          const RunResult r = run(delete_script(), st.keep_context);
          it.reply = r.ok ? Reply{true, done_text(*it.request), {}} : Reply{false, "nft: " + r.error, {}};
        } else {
          it.reply = Reply{true, "stopped: nothing was applied", {}};
        }
        st.allow.reset();
        stop = true;
        // Whatever came after stop is not applied.
        for (std::size_t j = i + 1; j < items.size(); ++j) {
          items[j].reply = Reply{false, "after stop: not applied", {}};
          items[j].done = true;
        }
        break;
      }
      const RunResult r = run(list_script(), st.keep_context);
      if (r.ok) {
        const std::vector<ListedBan> bans = parse_listing(r.output);
        it.reply = Reply{true, list_head_text(bans.size(), parse_drop_counter(r.output)), bans};
      } else {
        it.reply = Reply{false, "nft: " + r.error, {}};
      }
    }
    for (const Item& it : items) {
      if (!send_reply(o.fd, it.reply)) {
        delete_table(st);
        return 0;
      }
    }
    if (stop) return 0;
  }
}

}  // namespace boxmail::firewall

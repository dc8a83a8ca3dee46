// boxmailctl.cpp - the administrator's command line tool: mailbox accounts.
//
//   boxmailctl [-c FILE] user add NAME [--password-stdin]
//   boxmailctl [-c FILE] user del NAME
//   boxmailctl [-c FILE] user passwd NAME [--password-stdin]
//   boxmailctl [-c FILE] user list
//   boxmailctl [-c FILE] user pop3 NAME on|off
//   boxmailctl [-c FILE] admin passwd [--password-stdin]
//   boxmailctl [-c FILE] queue list|flush
//   boxmailctl [-c FILE] queue show|delete|retry QUEUE-ID
//   boxmailctl [-c FILE] relay-test ADDRESS [SENDER]
//   boxmailctl [-c FILE] ban ADDRESS SECONDS [REASON]
//   boxmailctl [-c FILE] unban ADDRESS
//   boxmailctl [-c FILE] bans
//   boxmailctl firmware install [--key F] [--release F] [--running a|b] [--disk F]
//                               [--state-sector N] [--boot DIR] FILE
//   boxmailctl firmware confirm [--disk F] [--state-sector N] [--running a|b]
//   boxmailctl firmware status [--disk F] [--state-sector N] [--running a|b]
//                              [--boot DIR] [--release F]
//   boxmailctl --help
//
// Wiring only: the configuration comes from config/schema.hpp (the embedded
// default without -c), accounts from config/passwd_file.hpp, hashes from
// config/password.hpp. Edits of the passwd-file are serialized with an
// exclusive flock(2) on its directory and written atomically; the daemon
// notices the new file by itself (mtime), so nothing is signalled. The
// queue, relay-test and ban commands ask the running boxmaild over its
// control socket (control/control_client.hpp; the queue and the bans are
// the daemon's). The firmware commands (run as root by the appliance's init
// script) are firmware/installer.hpp's: they need no configuration.
//
// Exit status: 0 done, 1 operational error (exists, not found, I/O, boxmaild
// unreachable or refusing a queue command, a test message not sent), 2 usage
// or configuration error (bad arguments, bad name, bad config file).
// Errors go to stderr prefixed "boxmailctl: ". See docs/boxmailctl.8.
//
// One role of the multi-call binary boxmail (app/roles.hpp): no iostreams
// and no std::filesystem (output is collected in a string and written with
// write(2); directories are made with store::make_dirs), so that what the
// daemon does not use is not linked in for this tool either.
#include "app/roles.hpp"
#include "config/account.hpp"
#include "config/passwd_file.hpp"
#include "config/password.hpp"
#include "config/reload_rule.hpp"
#include "config/schema.hpp"
#include "control/control_client.hpp"
#include "control/control_replies.hpp"
#include "firmware/installer.hpp"
#include "store/maildir_name.hpp"
#include "store/spool_file.hpp"
#include "text/number.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <concepts>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using namespace boxmail::config;

constexpr int kExitOk = 0;
constexpr int kExitFail = 1;
constexpr int kExitUsage = 2;

constexpr std::size_t kGeneratedPasswordLength = 12;
static_assert(kGeneratedPasswordLength >= boxmail::config::kMinAdminPasswordLength);

constexpr char kSynopsis[] =
    "usage: boxmailctl [-c FILE] user add NAME [--password-stdin]\n"
    "       boxmailctl [-c FILE] user del NAME\n"
    "       boxmailctl [-c FILE] user passwd NAME [--password-stdin]\n"
    "       boxmailctl [-c FILE] user list\n"
    "       boxmailctl [-c FILE] user pop3 NAME on|off\n"
    "       boxmailctl [-c FILE] admin passwd [--password-stdin]\n"
    "       boxmailctl [-c FILE] queue list|flush\n"
    "       boxmailctl [-c FILE] queue show|delete|retry QUEUE-ID\n"
    "       boxmailctl [-c FILE] relay-test ADDRESS [SENDER]\n"
    "       boxmailctl [-c FILE] ban ADDRESS SECONDS [REASON]\n"
    "       boxmailctl [-c FILE] unban ADDRESS\n"
    "       boxmailctl [-c FILE] bans\n"
    "       boxmailctl firmware install [--key FILE] [--release FILE] [--running a|b]\n"
    "                  [--disk FILE] [--state-sector N] [--boot DIR] UPDATE-FILE\n"
    "       boxmailctl firmware confirm [--disk FILE] [--state-sector N] [--running a|b]\n"
    "       boxmailctl firmware status [--disk FILE] [--state-sector N] [--running a|b]\n"
    "                  [--boot DIR] [--release FILE]\n"
    "       boxmailctl --help\n";
constexpr char kHelp[] =
    "\n"
    "Manages boxmail's mailbox accounts: the passwd-file and the Maildirs.\n"
    "\n"
    "  -c FILE, --config FILE  configuration file (default: the embedded default\n"
    "                          configuration, as boxmaild without -c)\n"
    "  --password-stdin        read the password from the first line of standard\n"
    "                          input; without it a random 12-character password is\n"
    "                          made and printed once as \"NAME: PASSWORD\"\n"
    "\n"
    "  user add NAME     create the Maildir MAIL_DIR/NAME and the account\n"
    "  user del NAME     remove the account; the Maildir is kept\n"
    "  user passwd NAME  set a new password\n"
    "  user list         print each account and its Maildir, one per line\n"
    "  user pop3 NAME on|off\n"
    "                    allow or refuse POP3 for the mailbox (the \"nopop3\" flag)\n"
    "  admin passwd      set the web panel's administrator password (user \"admin\")\n"
    "                    in the file admin next to the configuration file (./var/admin\n"
    "                    without -c; $BOXMAIL_ADMIN overrides)\n"
    "\n"
    "  queue list        the outgoing queue, one message per line (asks boxmaild)\n"
    "  queue show ID     one queued message, a line per recipient\n"
    "  queue delete ID   remove a message from the queue (its sender is not told)\n"
    "  queue retry ID    try a message's pending recipients now\n"
    "  queue flush       try every queued message now\n"
    "  relay-test ADDRESS [SENDER]\n"
    "                    send a test message to ADDRESS now through the outgoing\n"
    "                    route and print the SMTP dialogue (asks boxmaild); the\n"
    "                    envelope sender is SENDER, or the null sender <>\n"
    "\n"
    "  ban ADDRESS SECONDS [REASON]\n"
    "                    drop ADDRESS on the mail ports for SECONDS (1..2592000)\n"
    "                    with REASON (a-z, 0-9, '-'; default manual); refused for\n"
    "                    an allow-listed address (asks boxmaild; [firewall] enabled)\n"
    "  unban ADDRESS     lift a ban\n"
    "  bans              the running bans: address, seconds left, reason\n"
    "\n"
    "  firmware install UPDATE-FILE\n"
    "                    check a signed update file and write it to the slot not\n"
    "                    running, then put that slot on trial for the next boots\n"
    "  firmware confirm  make the running slot the active one when it is on trial\n"
    "  firmware status   the slots and the boot state as key=value lines\n"
    "  (root; no -c) --key FILE: the trusted public key (default\n"
    "  /usr/share/boxmail/firmware-key.pem); --release FILE: board, version and\n"
    "  parts (default /usr/share/boxmail/release); --running a|b (default\n"
    "  boxmail.slot= of /proc/cmdline, else a); --disk FILE (default /dev/vda);\n"
    "  --state-sector N (default 2032); --boot DIR: the boot partition (default /boot)\n"
    "\n"
    "Exit status: 0 done, 1 operational error, 2 usage or configuration error.\n";

/// An error to report and the exit status it leads to.
struct Failure {
  int status;
  std::string message;
};

/// Writes all of `s` to `fd` (short writes, EINTR). False when it could not.
bool write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    const ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    s.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

/// Standard output, collected and written by flush() (at the end of the
/// command, or before an error that follows printed lines).
class Output {
 public:
  Output& operator<<(std::string_view s) {
    text_.append(s);
    return *this;
  }
  Output& operator<<(char c) {
    text_.push_back(c);
    return *this;
  }
  template <std::integral T>
  Output& operator<<(T v) {
    text_ += std::to_string(v);
    return *this;
  }
  /// Writes what was collected; false once a write failed.
  bool flush() {
    ok_ = ok_ && write_all(1, text_);
    text_.clear();
    return ok_;
  }

 private:
  std::string text_;
  bool ok_ = true;
};

Output out;

void say_error(const std::string& message) { write_all(2, "boxmailctl: " + message + "\n"); }

int usage_error(const std::string& message) {
  say_error(message);
  write_all(2, kSynopsis);
  return kExitUsage;
}

// ---- arguments ----------------------------------------------------------------

struct Args {
  std::optional<std::string> config_file;
  std::string verb;                  // add, del, passwd, list
  std::string name;
  std::string value;                 // on|off for 'user pop3'
  std::string queue_id;              // for 'queue show|delete|retry'
  std::string address;               // for 'relay-test'
  std::string sender;                // for 'relay-test': "" none given
  std::vector<std::string> ban_words;   // for 'ban', 'unban': the arguments as given
  std::string firmware_file;            // for 'firmware install'
  std::vector<std::pair<std::string, std::string>> firmware_options;   // --name, value: as given, once each
  bool password_stdin = false;
  bool help = false;
};

/// The firmware commands' options (each takes a value).
constexpr std::string_view kFirmwareOptions[] = {"--key", "--release", "--running", "--disk", "--state-sector",
                                                 "--boot"};

/// The value of a firmware option in `a`, or nullptr.
const std::string* firmware_option(const Args& a, std::string_view name) {
  for (const auto& [n, v] : a.firmware_options) {
    if (n == name) return &v;
  }
  return nullptr;
}

/// The `firmware` words after the options were taken out: which command,
/// its file, and which options it takes.
std::optional<std::string> parse_firmware(const std::vector<std::string>& words, Args& a) {
  if (words.size() < 2) return "'firmware' needs install, confirm or status";
  const std::string& cmd = words[1];
  std::vector<std::string_view> allowed = {"--disk", "--state-sector", "--running"};
  std::size_t want = 2;
  if (cmd == "install") {
    allowed.assign(std::begin(kFirmwareOptions), std::end(kFirmwareOptions));
    want = 3;
    if (words.size() < 3) return "'firmware install' needs an update FILE";
    a.firmware_file = words[2];
  } else if (cmd == "status") {
    allowed.insert(allowed.end(), {"--boot", "--release"});
  } else if (cmd != "confirm") {
    return "unknown command 'firmware " + cmd + "'";
  }
  if (words.size() > want) return "unexpected argument '" + words[want] + "'";
  for (const auto& [name, value] : a.firmware_options) {
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      return name + " does not go with 'firmware " + cmd + "'";
    }
    if (value.empty()) return name + " needs a value";
  }
  if (const std::string* r = firmware_option(a, "--running"); r && *r != "a" && *r != "b") {
    return "--running takes a or b, not '" + *r + "'";
  }
  if (const std::string* n = firmware_option(a, "--state-sector");
      n && !boxmail::text::parse_unsigned<std::uint64_t>(*n, boxmail::firmware::kMaxStateSector)) {
    return "--state-sector takes a sector number, not '" + *n + "'";
  }
  if (a.config_file) return "-c does not go with 'firmware'";
  if (a.password_stdin) return "--password-stdin goes with 'user add' and 'user passwd'";
  a.verb = "firmware-" + cmd;
  return std::nullopt;
}

/// Parses argv; returns an error message for a usage error.
std::optional<std::string> parse_args(const std::vector<std::string>& argv, Args& a) {
  std::vector<std::string> words;
  bool only_words = false;   // after "--"
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    const std::string option_name = arg.substr(0, arg.find('='));
    const bool firmware_opt =
        std::find(std::begin(kFirmwareOptions), std::end(kFirmwareOptions), option_name) != std::end(kFirmwareOptions);
    if (only_words || arg == "--") {
      if (only_words) words.push_back(arg);
      only_words = true;
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      a.help = true;
      return std::nullopt;
    }
    if (arg == "-c" || arg == "--config") {
      if (i + 1 >= argv.size()) return "option " + arg + " needs a FILE";
      if (a.config_file) return "-c given twice";
      a.config_file = argv[++i];
    } else if (arg.rfind("--config=", 0) == 0) {
      if (a.config_file) return "-c given twice";
      a.config_file = arg.substr(9);
    } else if (arg == "--password-stdin") {
      a.password_stdin = true;
    } else if (firmware_opt) {
      std::string value;
      if (option_name.size() < arg.size()) {
        value = arg.substr(option_name.size() + 1);
      } else {
        if (i + 1 >= argv.size()) return "option " + arg + " needs a value";
        value = argv[++i];
      }
      if (firmware_option(a, option_name)) return option_name + " given twice";
      a.firmware_options.emplace_back(option_name, value);
    } else if (arg.size() > 1 && arg[0] == '-') {
      return "unknown option '" + arg + "'";
    } else {
      words.push_back(arg);
    }
  }
  if (words.empty()) return "no command given";
  if (words[0] == "firmware") return parse_firmware(words, a);
  if (!a.firmware_options.empty()) return a.firmware_options[0].first + " goes with 'firmware'";
  if (words[0] == "admin") {
    if (words.size() < 2 || words[1] != "passwd") return "'admin' needs passwd";
    if (words.size() > 2) return "unexpected argument '" + words[2] + "'";
    a.verb = "admin-passwd";
    return std::nullopt;
  }
  if (words[0] == "queue") {
    if (words.size() < 2) return "'queue' needs list, show, delete, retry or flush";
    a.verb = "queue-" + words[1];
    const bool takes_id = words[1] == "show" || words[1] == "delete" || words[1] == "retry";
    if (!takes_id && words[1] != "list" && words[1] != "flush") return "unknown command 'queue " + words[1] + "'";
    const std::size_t want = takes_id ? 3 : 2;
    if (words.size() < want) return "'queue " + words[1] + "' needs a QUEUE-ID";
    if (words.size() > want) return "unexpected argument '" + words[want] + "'";
    if (takes_id) {
      a.queue_id = words[2];
      if (!boxmail::store::parse_queue_id(a.queue_id)) return "'" + a.queue_id + "' is not a queue id";
    }
    if (a.password_stdin) return "--password-stdin goes with 'user add' and 'user passwd'";
    return std::nullopt;
  }
  if (words[0] == "relay-test") {
    if (words.size() < 2) return "'relay-test' needs an ADDRESS";
    if (words.size() > 3) return "unexpected argument '" + words[3] + "'";
    if (a.password_stdin) return "--password-stdin goes with 'user add' and 'user passwd'";
    a.verb = "relay-test";
    a.address = words[1];
    if (words.size() == 3) a.sender = words[2];
    if (a.sender.find(' ') != std::string::npos) return "'" + a.sender + "': the sender may not contain a blank";
    const std::string line = "relay-test " + a.address + (a.sender.empty() ? "" : " " + a.sender);
    if (const auto req = boxmail::control::parse_request(line); !req.error.empty()) return req.error;
    return std::nullopt;
  }
  if (words[0] == "ban" || words[0] == "unban" || words[0] == "bans") {
    a.verb = words[0];
    a.ban_words.assign(words.begin() + 1, words.end());
    const std::size_t n = a.ban_words.size();
    if (a.verb == "ban" && (n < 2 || n > 3)) return "usage: ban ADDRESS SECONDS [REASON]";
    if (a.verb == "unban" && n != 1) return "usage: unban ADDRESS";
    if (a.verb == "bans" && n != 0) return "unexpected argument '" + a.ban_words[0] + "'";
    if (a.password_stdin) return "--password-stdin goes with 'user add' and 'user passwd'";
    return std::nullopt;
  }
  if (words[0] != "user") return "unknown command '" + words[0] + "'";
  if (words.size() < 2) return "'user' needs add, del, passwd, list or pop3";
  a.verb = words[1];
  const bool takes_name = a.verb == "add" || a.verb == "del" || a.verb == "passwd" || a.verb == "pop3";
  if (!takes_name && a.verb != "list") return "unknown command 'user " + a.verb + "'";
  const std::size_t want = a.verb == "pop3" ? 4 : takes_name ? 3 : 2;
  if (a.verb == "pop3" && words.size() == 3) return "'user pop3 NAME' needs on or off";
  if (words.size() < want) return "'user " + a.verb + "' needs a mailbox NAME";
  if (words.size() > want) return "unexpected argument '" + words[want] + "'";
  if (takes_name) a.name = words[2];
  if (a.verb == "pop3") {
    a.value = words[3];
    if (a.value != "on" && a.value != "off") return "'user pop3 NAME' takes on or off, not '" + a.value + "'";
  }
  if (a.password_stdin && a.verb != "add" && a.verb != "passwd") {
    return "--password-stdin goes with 'user add' and 'user passwd'";
  }
  return std::nullopt;
}

// ---- helpers --------------------------------------------------------------------

std::string errno_text() { return std::strerror(errno); }

/// The first line of standard input, without its line end.
std::string read_password_stdin() {
  std::string line;
  bool newline = false;
  char c = 0;
  // Octet by octet (nothing past the line is taken from stdin), at most one
  // octet over the longest password.
  while (line.size() <= kMaxPasswordLength) {
    const ssize_t n = ::read(0, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Failure{kExitFail, "cannot read standard input: " + errno_text()};
    if (n == 0) break;
    if (c == '\n') {
      newline = true;
      break;
    }
    line.push_back(c);
  }
  if (!newline && line.empty()) throw Failure{kExitUsage, "no password on standard input"};
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) throw Failure{kExitUsage, "the password on standard input is empty"};
  if (line.size() > kMaxPasswordLength) {
    throw Failure{kExitUsage, "the password is longer than " + std::to_string(kMaxPasswordLength) + " octets"};
  }
  if (line.find('\0') != std::string::npos) throw Failure{kExitUsage, "the password contains a NUL octet"};
  return line;
}

/// An exclusive lock on the passwd-file's directory, held until destroyed:
/// two boxmailctl runs never lose each other's edit.
class PasswdLock {
 public:
  explicit PasswdLock(const std::string& passwd_path) {
    const std::string dir = parent_directory(passwd_path);
    if (const int e = boxmail::store::make_dirs(dir, 0777); e != 0) {
      throw Failure{kExitFail, dir + ": cannot create directory: " + std::strerror(e)};
    }
    fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd_ < 0) throw Failure{kExitFail, dir + ": cannot open: " + errno_text()};
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) throw Failure{kExitFail, dir + ": cannot lock: " + errno_text()};
    }
  }
  ~PasswdLock() { ::close(fd_); }
  PasswdLock(const PasswdLock&) = delete;
  PasswdLock& operator=(const PasswdLock&) = delete;

 private:
  int fd_ = -1;
};

/// Loads the passwd-file for an edit; a file with bad lines is not rewritten
/// (that would silently drop them).
AccountTable load_for_edit(const std::string& path) {
  PasswdLoad l = load_passwd_file(path, true);
  if (!l.errors.empty()) {
    for (const std::string& e : l.errors) say_error(e);
    throw Failure{kExitFail, path + ": fix the lines above first; the file was not changed"};
  }
  return std::move(l.table);
}

void save(const std::string& path, const AccountTable& table) {
  const std::string err = save_passwd_file(path, table);
  if (!err.empty()) throw Failure{kExitFail, err};
}

std::string maildir_of(const Config& config, const std::string& name) {
  const std::string& dir = config.store.mail_dir;
  return dir + (dir.empty() || dir.back() == '/' ? "" : "/") + name;
}

/// mkdirat + open without following a symlink; gives the new directory the
/// owner of `owner` when running as root (the daemon's user owns mail_dir).
/// Returns the directory's descriptor.
int make_dir(int parent, const std::string& parent_name, const char* name, const struct stat& owner,
             bool& created) {
  created = ::mkdirat(parent, name, 0700) == 0;
  if (!created && errno != EEXIST) {
    throw Failure{kExitFail, parent_name + "/" + name + ": cannot create: " + errno_text()};
  }
  const int fd = ::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) throw Failure{kExitFail, parent_name + "/" + name + ": not a directory: " + errno_text()};
  if (created) {
    if (::geteuid() == 0 && (owner.st_uid != 0 || owner.st_gid != 0) &&
        ::fchown(fd, owner.st_uid, owner.st_gid) != 0) {
      const std::string msg = parent_name + "/" + name + ": cannot change owner: " + errno_text();
      ::close(fd);
      throw Failure{kExitFail, msg};
    }
    ::fchmod(fd, 0700);
  }
  return fd;
}

/// Creates MAIL_DIR/NAME/{tmp,new,cur} (mode 0700); an existing Maildir is
/// kept. Returns false when the Maildir was there already.
bool create_maildir(const Config& config, const std::string& name) {
  const std::string root = config.store.mail_dir;
  if (const int e = boxmail::store::make_dirs(root, 0777); e != 0) {
    throw Failure{kExitFail, root + ": cannot create directory: " + std::strerror(e)};
  }
  const int root_fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) throw Failure{kExitFail, root + ": cannot open: " + errno_text()};
  struct stat owner {};
  ::fstat(root_fd, &owner);
  bool created = false;
  int box_fd = -1;
  try {
    box_fd = make_dir(root_fd, root, name.c_str(), owner, created);
    const std::string box = maildir_of(config, name);
    for (const char* sub : {"tmp", "new", "cur"}) {
      bool sub_created = false;
      ::close(make_dir(box_fd, box, sub, owner, sub_created));
    }
    ::fsync(box_fd);
    ::fsync(root_fd);
  } catch (...) {
    if (box_fd >= 0) ::close(box_fd);
    ::close(root_fd);
    throw;
  }
  ::close(box_fd);
  ::close(root_fd);
  return created;
}

/// Aliases and the catch-all that name `name` (for warnings).
std::vector<std::string> references_to(const Config& config, const std::string& name) {
  std::vector<std::string> refs;
  for (const auto& [alias, targets] : config.aliases) {
    for (const std::string& t : targets) {
      if (t == name) refs.push_back("alias '" + alias + "'");
    }
  }
  if (config.smtp.catch_all == name) refs.push_back("catch_all");
  return refs;
}

// ---- commands ---------------------------------------------------------------------

int user_add(const Config& config, const Args& a, const std::optional<std::string>& given) {
  const std::string& path = config.server.passwd_file;
  const std::string password = given ? *given : random_password(kGeneratedPasswordLength);
  PasswdLock lock(path);
  AccountTable table = load_for_edit(path);
  if (table.find(a.name)) throw Failure{kExitFail, "mailbox '" + a.name + "' already exists"};
  if (config.aliases.contains(a.name)) {
    say_error("warning: [aliases] " + a.name + " in " + config.source +
              " is hidden by this mailbox (a mailbox is chosen before an alias)");
  }
  const bool created = create_maildir(config, a.name);
  if (!created) say_error("note: keeping the existing Maildir " + maildir_of(config, a.name));
  Account account;
  account.name = a.name;
  account.password = hash_password(password);
  table.accounts.push_back(std::move(account));
  save(path, table);
  if (!given) out << a.name << ": " << password << "\n";
  return kExitOk;
}

int user_del(const Config& config, const Args& a) {
  const std::string& path = config.server.passwd_file;
  PasswdLock lock(path);
  AccountTable table = load_for_edit(path);
  const Account* found = table.find(a.name);
  if (!found) throw Failure{kExitFail, "no mailbox '" + a.name + "' in " + path};
  table.accounts.erase(table.accounts.begin() + (found - table.accounts.data()));
  save(path, table);
  out << "removed mailbox '" << a.name << "'; its Maildir is kept in " << maildir_of(config, a.name)
            << "\n";
  for (const std::string& ref : references_to(config, a.name)) {
    say_error("warning: " + ref + " in " + config.source + " still names '" + a.name + "'");
  }
  return kExitOk;
}

int user_passwd(const Config& config, const Args& a, const std::optional<std::string>& given) {
  const std::string& path = config.server.passwd_file;
  const std::string password = given ? *given : random_password(kGeneratedPasswordLength);
  PasswdLock lock(path);
  AccountTable table = load_for_edit(path);
  const Account* found = table.find(a.name);
  if (!found) throw Failure{kExitFail, "no mailbox '" + a.name + "' in " + path};
  table.accounts[static_cast<std::size_t>(found - table.accounts.data())].password = hash_password(password);
  save(path, table);
  if (!given) out << a.name << ": " << password << "\n";
  return kExitOk;
}

int user_list(const Config& config) {
  const PasswdLoad l = load_passwd_file(config.server.passwd_file, true);
  for (const Account& account : l.table.accounts) {
    out << account.name << "\t" << maildir_of(config, account.name) << "\n";
  }
  for (const std::string& e : l.errors) say_error(e);
  return l.errors.empty() ? kExitOk : kExitFail;
}

int user_pop3(const Config& config, const Args& a) {
  const std::string& path = config.server.passwd_file;
  PasswdLock lock(path);
  AccountTable table = load_for_edit(path);
  const Account* found = table.find(a.name);
  if (!found) throw Failure{kExitFail, "no mailbox '" + a.name + "' in " + path};
  Account& account = table.accounts[static_cast<std::size_t>(found - table.accounts.data())];
  set_flag(account, "nopop3", a.value == "off");
  save(path, table);
  out << a.name << ": POP3 " << (pop3_allowed(account) ? "on" : "off")
            << (login_allowed(account) ? "" : " (logins are disabled by nologin)") << "\n";
  return kExitOk;
}

/// The web panel's administrator: one passwd-file line "admin:{SHA512-CRYPT}..."
/// in BOXMAIL_ADMIN, else "admin" next to the configuration file.
int admin_passwd(const Args& a, const std::optional<std::string>& password) {
  std::string path;
  if (const char* e = std::getenv("BOXMAIL_ADMIN"); e && *e) {
    path = e;
  } else if (a.config_file) {
    const auto slash = a.config_file->rfind('/');
    path = (slash == std::string::npos ? std::string(".") : a.config_file->substr(0, slash)) + "/admin";
  } else {
    path = "./var/admin";
  }
  if (password && password->size() < kMinAdminPasswordLength) {
    throw Failure{kExitUsage, "the administrator password must be at least " +
                                  std::to_string(kMinAdminPasswordLength) + " characters long"};
  }
  const std::string plain = password ? *password : random_password(kGeneratedPasswordLength);
  AccountTable table;
  Account admin;
  admin.name = "admin";
  admin.password = hash_password(plain);
  table.accounts.push_back(std::move(admin));
  if (auto err = save_passwd_file(path, table); !err.empty()) throw Failure{kExitFail, err};
  if (!password) out << "admin: " << plain << "\n";
  out << "boxmailctl: panel administrator 'admin' set in " << path << "\n";
  return kExitOk;
}

/// `queue ...`: one request to boxmaild's control socket. `list` prints a
/// header and one tab-separated line per message (id, age and next attempt
/// in seconds, sender with <> for the null sender, the pending recipients
/// comma-separated, the last error); the others print boxmaild's answer.
/// boxmaild unreachable or answering "error": its text on stderr, exit 1.
int queue_command(const Config& config, const Args& a) {
  const std::string action = a.verb.substr(6);
  const std::string line = "queue " + action + (a.queue_id.empty() ? "" : " " + a.queue_id);
  const auto r = boxmail::control::control_request(config.server.control_socket, line, 30000);
  if (!r.reached) throw Failure{kExitFail, "cannot ask boxmaild (" + r.error + ")"};
  if (!r.reply.ok) throw Failure{kExitFail, "boxmaild: " + r.reply.head};
  if (action != "list") {
    out << r.reply.head << "\n";
    for (const std::string& l : r.reply.lines) out << "  " << l << "\n";
    return kExitOk;
  }
  const auto q = boxmail::control::decode_queue_list(r.reply);
  if (!q) throw Failure{kExitFail, "boxmaild's reply is malformed: " + q.error};
  if (q->messages.empty()) {
    out << "the queue is empty\n";
    return kExitOk;
  }
  out << "QUEUE-ID\tAGE\tNEXT\tSENDER\tRECIPIENTS\tLAST-ERROR\n";
  for (const auto& m : q->messages) {
    std::string rcpts;
    for (const std::string& t : m.recipients) rcpts += (rcpts.empty() ? "" : ",") + t;
    std::string error = m.error.empty() ? "-" : m.error;
    for (char& c : error)
      if (c == '\t') c = ' ';
    out << m.id << "\t" << m.age << "\t" << m.next << "\t<" << m.sender << ">\t" << rcpts << "\t" << error
              << "\n";
  }
  return kExitOk;
}

/// `relay-test ADDRESS`: asks boxmaild to send a test message now and
/// prints the SMTP transcript, then "sent: REPLY" (exit 0) or "failed:
/// REPLY" / "refused: WHY" (on stderr, exit 1).
int relay_test_command(const Config& config, const Args& a) {
  const std::string line = "relay-test " + a.address + (a.sender.empty() ? "" : " " + a.sender);
  const auto r =
      boxmail::control::control_request(config.server.control_socket, line, boxmail::control::kRelayTestWaitMs);
  if (!r.reached) throw Failure{kExitFail, "cannot ask boxmaild (" + r.error + ")"};
  const auto t = boxmail::control::decode_relay_test(r.reply);
  if (!t) throw Failure{kExitFail, "boxmaild's reply is malformed: " + t.error};
  using Result = boxmail::control::RelayTestReply::Result;
  for (const std::string& l : t->transcript) out << l << "\n";
  if (t->result == Result::Sent) {
    out << "sent: " << t->message << (t->relay.empty() ? "" : " (" + t->relay + ")") << "\n";
    return kExitOk;
  }
  out.flush();
  throw Failure{kExitFail, std::string(t->result == Result::Failed ? "failed: " : "refused: ") + t->message};
}

/// `ban`, `unban`, `bans`: one request to boxmaild's control socket
/// (the arguments are checked there); prints its answer, and for `bans`
/// a header and a tab-separated line per ban.
int ban_command(const Config& config, const Args& a) {
  std::string line = a.verb;
  for (const std::string& w : a.ban_words) line += " " + w;
  const auto r = boxmail::control::control_request(config.server.control_socket, line, 30000);
  if (!r.reached) throw Failure{kExitFail, "cannot ask boxmaild (" + r.error + ")"};
  if (!r.reply.ok) throw Failure{kExitFail, "boxmaild: " + r.reply.head};
  if (a.verb != "bans") {
    out << r.reply.head << "\n";
    return kExitOk;
  }
  if (r.reply.lines.empty()) {
    out << "no address is banned\n";
    return kExitOk;
  }
  out << "ADDRESS\tSECONDS-LEFT\tREASON\n";
  for (std::string l : r.reply.lines) {
    for (char& c : l)
      if (c == ' ') c = '\t';
    out << l << "\n";
  }
  return kExitOk;
}

// ---- firmware ----------------------------------------------------------------------

constexpr char kDefaultFirmwareKey[] = "/usr/share/boxmail/firmware-key.pem";
constexpr char kDefaultRelease[] = "/usr/share/boxmail/release";
constexpr char kCmdline[] = "/proc/cmdline";
constexpr std::size_t kMaxKeyFile = 16 * 1024;

std::string firmware_option_or(const Args& a, std::string_view name, const char* fallback) {
  const std::string* v = firmware_option(a, name);
  return v ? *v : std::string(fallback);
}

boxmail::firmware::BootPaths boot_paths(const Args& a) {
  boxmail::firmware::BootPaths p;
  if (const std::string* v = firmware_option(a, "--disk")) p.disk = *v;
  if (const std::string* v = firmware_option(a, "--boot")) p.boot_dir = *v;
  if (const std::string* v = firmware_option(a, "--state-sector")) {
    p.state_sector = boxmail::text::parse_unsigned<std::uint64_t>(*v).value;   // checked by parse_firmware
  }
  return p;
}

/// The running slot: --running, else boxmail.slot= on the kernel command
/// line ('a' without one). nullopt with `*error` when it cannot be known.
std::optional<boxmail::firmware::Slot> running_slot(const Args& a, std::string* error) {
  if (const std::string* v = firmware_option(a, "--running")) return (*v)[0];
  std::string cmdline;
  if (std::string e = boxmail::firmware::read_small_file(kCmdline, 64 * 1024, &cmdline); !e.empty()) {
    *error = "cannot tell the running slot: " + e;
    return std::nullopt;
  }
  const auto slot = boxmail::firmware::slot_from_cmdline(cmdline);
  if (!slot) *error = "cannot tell the running slot: boxmail.slot= in " + std::string(kCmdline) + " is not a or b";
  return slot;
}

/// `firmware install FILE`: see firmware/installer.hpp; one line on
/// success, the refusal on stderr with exit status 1.
int firmware_install(const Args& a) {
  using namespace boxmail::firmware;
  InstallRequest rq;
  rq.file = a.firmware_file;
  rq.paths = boot_paths(a);
  const std::string key_path = firmware_option_or(a, "--key", kDefaultFirmwareKey);
  if (std::string e = read_small_file(key_path, kMaxKeyFile, &rq.public_key); !e.empty()) {
    throw Failure{kExitFail, "the firmware key: " + e};
  }
  const ReleaseParse release = load_release(firmware_option_or(a, "--release", kDefaultRelease));
  if (!release.release) throw Failure{kExitFail, release.error};
  rq.release = *release.release;
  std::string error;
  const std::optional<Slot> running = running_slot(a, &error);
  if (!running) throw Failure{kExitFail, error};
  rq.running = *running;
  const InstallResult r = install_update(rq);
  if (!r.error.empty()) throw Failure{kExitFail, r.error};
  out << "firmware " << r.version << " installed in slot " << r.slot << "; reboot to try it (" << kMaxTries
      << " boots, then back to slot " << rq.running << ")\n";
  return kExitOk;
}

/// `firmware confirm`: the running slot on trial becomes the active one.
int firmware_confirm(const Args& a) {
  using namespace boxmail::firmware;
  std::string error;
  const std::optional<Slot> running = running_slot(a, &error);
  if (!running) throw Failure{kExitFail, error};
  const ConfirmResult r = confirm_running(boot_paths(a), *running);
  if (!r.error.empty()) throw Failure{kExitFail, r.error};
  if (r.changed) out << "slot " << *running << " confirmed\n";
  return kExitOk;
}

/// `firmware status`: key=value lines; what cannot be read is empty, with
/// an error= line, and the exit status is still 0.
int firmware_status(const Args& a) {
  using namespace boxmail::firmware;
  StatusRequest rq;
  rq.paths = boot_paths(a);
  rq.running = running_slot(a, &rq.running_error);
  rq.release_path = firmware_option_or(a, "--release", kDefaultRelease);
  out << status_report(rq);
  return kExitOk;
}

int run(const std::vector<std::string>& argv) {
  Args a;
  if (auto err = parse_args(argv, a)) return usage_error(*err);
  if (a.help) {
    out << kSynopsis << kHelp;
    return kExitOk;
  }
  if (a.verb == "firmware-install") return firmware_install(a);
  if (a.verb == "firmware-confirm") return firmware_confirm(a);
  if (a.verb == "firmware-status") return firmware_status(a);
  if (!a.name.empty()) {
    if (auto err = mailbox_name_error(a.name)) {
      say_error("'" + a.name + "': " + *err);
      return kExitUsage;
    }
  }

  ConfigPtr config;
  if (a.config_file) {
    ParseResult r = load_config_file(*a.config_file);
    for (const ConfigError& e : r.errors) say_error(e.to_string());
    if (!r.config) return kExitUsage;
    config = r.config;
  } else {
    config = default_config();
  }

  std::optional<std::string> password;   // none: make a random one
  if (a.password_stdin) password = read_password_stdin();

  if (a.verb == "admin-passwd") return admin_passwd(a, password);
  if (a.verb.rfind("queue-", 0) == 0) return queue_command(*config, a);
  if (a.verb == "relay-test") return relay_test_command(*config, a);
  if (a.verb == "ban" || a.verb == "unban" || a.verb == "bans") return ban_command(*config, a);
  if (a.verb == "add") return user_add(*config, a, password);
  if (a.verb == "del") return user_del(*config, a);
  if (a.verb == "passwd") return user_passwd(*config, a, password);
  if (a.verb == "pop3") return user_pop3(*config, a);
  return user_list(*config);
}

}  // namespace

int boxmail::app::boxmailctl_main(int argc, char** argv) {
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  try {
    const int status = run(args);
    if (!out.flush()) {
      say_error("cannot write to standard output");
      return kExitFail;
    }
    return status;
  } catch (const Failure& f) {
    out.flush();
    say_error(f.message);
    return f.status;
  } catch (const std::exception& e) {
    out.flush();
    say_error(e.what());
    return kExitFail;
  }
}

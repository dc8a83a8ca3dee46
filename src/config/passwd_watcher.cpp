// passwd_watcher.cpp - see passwd_watcher.hpp.
#include "config/passwd_watcher.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace boxmail::config {

PasswdPoll PasswdWatcher::first_load() { return load(true, true); }

PasswdPoll PasswdWatcher::poll(bool force) {
  struct stat st {};
  FileStamp now;
  if (::stat(path_.c_str(), &st) == 0) {
    now = stamp_of(st);
  } else if (errno != ENOENT) {
    // Not even stat(2) works (EACCES on a directory, ENOMEM...): try again later.
    PasswdPoll out;
    const std::string fault = path_ + ": cannot stat: " + std::strerror(errno) + "; keeping the " +
                              std::to_string(running_size_) + " mailboxes loaded before";
    if (force || fault != reported_) out.errors.push_back(fault);
    reported_ = fault;
    return out;
  }
  if (!force && (now == good_ || (failed_ && now == *failed_))) return {};
  return load(false, force);
}

PasswdPoll PasswdWatcher::load(bool at_start, bool force) {
  PasswdPoll out;
  PasswdLoad l = load_passwd_file(path_, true);
  const std::string keeping = "; keeping the " + std::to_string(running_size_) + " mailboxes loaded before";
  // A damaged file is read (and reported) once per version; a passing fault
  // (retry) is tried at every poll but reported again only when it changes.
  auto fault = [&](std::vector<std::string> lines, bool retry) {
    std::string key;
    for (const auto& s : lines) key += s + "\n";
    if (force || !retry || key != reported_) out.errors = std::move(lines);
    reported_ = std::move(key);
    if (!retry) failed_ = l.stamp.exists ? l.stamp : FileStamp{};
    return out;
  };

  if (l.unreadable) {
    std::vector<std::string> lines = l.errors;
    if (!at_start) lines.back() += keeping + " (tried again at the next connection)";
    return fault(std::move(lines), true);
  }
  if (!l.errors.empty()) {
    std::vector<std::string> lines = l.errors;
    lines.push_back(path_ + ": " + std::to_string(l.errors.size()) + " bad line(s); " +
                    (at_start ? std::string("not starting with a partial account table")
                              : "the file is not used" + keeping + " until it is fixed"));
    return fault(std::move(lines), false);
  }
  if (l.missing && !at_start) {
    return fault({path_ + ": the passwd-file is missing" + keeping +
                  " (to remove every mailbox use boxmailctl user del; the file then says '" +
                  std::string(kNoMailboxes) + "')"},
                 false);
  }
  if (!l.missing && l.table.accounts.empty() && !l.says_no_mailboxes && !at_start) {
    return fault({path_ + ": the passwd-file holds no mailbox and not the line '" + std::string(kNoMailboxes) +
                  "' (an empty or cut-off file?)" + keeping},
                 false);
  }
  if (at_start && l.missing) {
    out.warnings.push_back(path_ + ": no passwd-file yet: no mailboxes (add one with boxmailctl user add NAME)");
  } else if (at_start && l.table.accounts.empty() && !l.says_no_mailboxes) {
    out.warnings.push_back(path_ + ": the passwd-file holds no mailbox");
  } else if (!reported_.empty()) {
    out.notes.push_back(path_ + ": read again: " + std::to_string(l.table.accounts.size()) + " mailboxes");
  }
  good_ = l.stamp;   // a missing file: the default stamp (exists = false)
  failed_.reset();
  reported_.clear();
  running_size_ = l.table.accounts.size();
  out.table = std::make_shared<const AccountTable>(std::move(l.table));
  return out;
}

}  // namespace boxmail::config

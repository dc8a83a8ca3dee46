// privilege.hpp - boxmaild's one-way step from root to its own account.
//
// Called by boxmaild after it has bound every listening socket (SMTP, POP3,
// the control socket) and started what must keep privileges (the firewall
// helper, later), and before it touches the mail store or reads a message:
//
//   1. looks `user` up in /etc/passwd and /etc/group (system_account.hpp:
//      parsed here, a static binary has no NSS); refuses an unknown user and
//      any account with UID 0;
//   2. refuses when more than one thread runs (the bounding set and
//      NO_NEW_PRIVS are per thread: start threads after the drop); empties
//      the capability bounding and ambient sets, clears KEEPCAPS;
//   3. setgroups({gid}), setresgid(gid x3), setresuid(uid x3);
//   4. verifies: real, effective and saved IDs are the account's, setuid(0)
//      and setgid(0) now fail, no capability is left (capget: effective,
//      permitted, inheritable all zero);
//   5. PR_SET_NO_NEW_PRIVS (no exec can gain privileges again), RLIMIT_CORE
//      0 and PR_SET_DUMPABLE 0 (a crash never writes the process's memory,
//      with its password hashes and mail, to a core file).
// Any failure is returned as an error; boxmaild then exits (status 2) rather
// than serve the network as root.
//
// Not started as root (effective UID not 0), boxmaild calls
// stay_unprivileged instead: the IDs stay as they are and only step 5 is
// done; its summary says so.
//
// Source: credentials(7), capabilities(7), prctl(2), setresuid(2); the
// verification of step 4 follows OpenSMTPD's and Postfix's privilege drop.
#pragma once

#include "process/system_account.hpp"

#include <optional>
#include <string>

namespace boxmail::process {

/// The account to drop to, looked up while still root (see the file
/// comment, step 1).
struct RunAs {
  SystemAccount account;
  std::string group_name;   ///< the primary group's name, or its number as text
};

/// Looks `user` up in /etc/passwd and /etc/group. nullopt with `error` set
/// ("[server] user 'x': no such user in /etc/passwd", "... has uid 0 ...",
/// or the file that cannot be read).
std::optional<RunAs> find_run_as(const std::string& user, std::string& error);

/// The outcome of a drop: `error` empty on success; `summary` is one log
/// line saying what the process runs as now.
struct DropResult {
  std::string error;
  std::string summary;
};

/// Drops from root to `to` for good (steps 2-5 of the file comment).
DropResult drop_privileges(const RunAs& to);

/// Not started as root: keeps the IDs and only seals (step 5).
DropResult stay_unprivileged();

}  // namespace boxmail::process

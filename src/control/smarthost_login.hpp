// smarthost_login.hpp - boxmaild's side of the control socket's
// `smarthost-login` and `smarthost-login-clear`, and the user name the
// `status` reply shows (I/O: one file, the log).
//
// Least privilege, as for the TLS key (tls_commands.hpp): the web panel
// (user boxmail-web) never reads or writes [relay] smarthost_credentials;
// it sends the user name and password over the control socket once and
// boxmaild, the only user that may enter the file's directory (0700, made
// at start) and read the file (0600), writes it:
//
//   PATH.tmp (O_CREAT|O_TRUNC|O_NOFOLLOW, 0600) <- "user:password\n",
//   fsync, rename over PATH, fsync of the directory
//
// so a crash leaves the old login or the new one, never a part of one.
// The format: the first line, split at the first ':' (read_smarthost_login,
// also used by relay/queue_runner; the user may not hold one; control_protocol.hpp
// split_smarthost_login checks that before anything is written). Replies
// and log lines name the user, never the password.
#pragma once

#include "control/control_protocol.hpp"
#include "control/control_replies.hpp"

#include <optional>
#include <string>

namespace boxmail::control {

/// `smarthost-login`: writes `login` to `path` crash-safely (see the file
/// comment). Reply "ok stored" with the user, or "error ..." (the file
/// could not be written; the old one stays) with the login stored before.
LoginChangeReply store_smarthost_login(const std::string& path, const SmarthostLogin& login);

/// `smarthost-login-clear`: removes `path` (and fsyncs its directory).
/// Reply "ok cleared" (also when there was none), or "error ..." with the
/// login still stored.
LoginChangeReply clear_smarthost_login(const std::string& path);

/// A login as [relay] smarthost_credentials holds it.
struct StoredLogin {
  std::string user;
  std::string password;
};

/// The login stored in `path`: its first line split at the first ':' (the
/// one reader of the file's format). nullopt when the file is missing
/// (`error` empty: no login), empty, or cannot be read or parsed (`error`
/// names the file and why).
std::optional<StoredLogin> read_smarthost_login(const std::string& path, std::string& error);

/// The user name of the login stored in `path` (the part of its first line
/// before the first ':'); nullopt when the file is missing, empty, cannot
/// be read or holds no ':' after a user name. Never returns the password.
std::optional<std::string> smarthost_login_user(const std::string& path);

}  // namespace boxmail::control

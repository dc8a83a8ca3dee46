// roles.hpp - the programs inside the multi-call binary `boxmail`
// (app/boxmail.cpp): the daemon, the administrator's tool and the web
// panel's CGI are one static program that picks its role from the name it
// was started under, as busybox and dropbear do. Installed as
// /usr/lib/boxmail/boxmail with the links /usr/sbin/boxmaild,
// /usr/bin/boxmailctl and /usr/lib/boxmail/boxmail.cgi (docs/firmware.md,
// "One program, three names").
//
// pick_role is pure (boxmail_pure); the role functions are each program's
// former main().
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace boxmail::app {

/// What the program does once started.
enum class Role { Daemon, Ctl, Cgi };

/// A name the program answers to.
struct RoleName {
  std::string_view name;
  Role role;
};

/// The names, in the order `boxmail --list` prints them (one link each).
inline constexpr std::array<RoleName, 3> kRoles{{
    {"boxmaild", Role::Daemon},
    {"boxmailctl", Role::Ctl},
    {"boxmail.cgi", Role::Cgi},
}};

/// The multi-call name itself: `boxmail ROLE ARGS...` runs ROLE.
inline constexpr std::string_view kMultiCallName = "boxmail";

/// What pick_role found: the role (none: unknown name), how many leading
/// arguments to drop before the role's own argv (0 when started under a
/// role's name, 1 for `boxmail ROLE ...`), and the name that was looked up
/// (for the error message).
struct RolePick {
  std::optional<Role> role;
  int skip = 0;
  std::string_view name;
};

/// The last path component of `path` ("/usr/sbin/boxmaild" -> "boxmaild";
/// "boxmaild" -> itself; "dir/" -> "").
std::string_view base_name(std::string_view path);

/// Picks the role from argv[0]'s base name; when that is kMultiCallName, from
/// argv[1] (`arg1`, absent: nullopt) by its base name too, with skip 1.
/// Case-sensitive, exact names only.
RolePick pick_role(std::string_view argv0, std::optional<std::string_view> arg1);

/// boxmaild (app/boxmaild.cpp): the mail daemon. Exit status as boxmaild(8).
int boxmaild_main(int argc, char** argv);

/// boxmailctl (app/boxmailctl.cpp): the administrator's tool. Exit status
/// as boxmailctl(8): 0 done, 1 operational error, 2 usage.
int boxmailctl_main(int argc, char** argv);

/// boxmail.cgi (cgi/cgi_main.cpp): one CGI request (RFC 3875) from the
/// environment and stdin; the arguments are not used. Always 0.
int boxmail_cgi_main(int argc, char** argv);

}  // namespace boxmail::app

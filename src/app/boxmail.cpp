// boxmail.cpp - the multi-call binary's main(): the role by name (roles.hpp).
//
//   boxmaild ARGS...       (a link named boxmaild) the daemon
//   boxmailctl ARGS...     the administrator's tool
//   boxmail.cgi            the web panel's CGI
//   boxmail ROLE ARGS...   the same, ROLE one of the names above
//   boxmail --list         the names, one per line (the links to make)
//   boxmail --help         this usage
//
// Any other name: the usage on stderr, exit 2.
#include "app/roles.hpp"

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace {

using namespace boxmail::app;

constexpr char kUsage[] =
    "usage: boxmail ROLE [ARGS...]   or a link named ROLE\n"
    "roles: boxmaild (the mail daemon), boxmailctl (the administrator's tool),\n"
    "       boxmail.cgi (the web panel's CGI)\n"
    "       boxmail --list   the role names, one per line\n";

}  // namespace

int main(int argc, char** argv) {
  const char* argv0 = argc > 0 ? argv[0] : "";
  std::optional<std::string_view> arg1;
  if (argc > 1) arg1 = argv[1];
  const RolePick pick = pick_role(argv0, arg1);
  if (!pick.role) {
    if (pick.skip == 1 && arg1 && (*arg1 == "--help" || *arg1 == "-h")) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (pick.skip == 1 && arg1 && *arg1 == "--list") {
      std::string names;
      for (const RoleName& r : kRoles) names.append(r.name).append("\n");
      std::fputs(names.c_str(), stdout);
      return 0;
    }
    std::string msg = "boxmail: ";
    msg += pick.name.empty() ? std::string("no role given") : "unknown role '" + std::string(pick.name) + "'";
    std::fprintf(stderr, "%s\n%s", msg.c_str(), kUsage);
    return 2;
  }
  argc -= pick.skip;
  argv += pick.skip;
  switch (*pick.role) {
    case Role::Daemon: return boxmaild_main(argc, argv);
    case Role::Ctl: return boxmailctl_main(argc, argv);
    case Role::Cgi: return boxmail_cgi_main(argc, argv);
  }
  return 2;
}

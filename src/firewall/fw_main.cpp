// boxmail-fw - boxmail's privileged firewall helper: wiring only.
//
// boxmail-fw check     exit 0 when the firewall backend can be driven
//                      (prints what it found), 1 with the reason otherwise
// boxmail-fw --version the backend it was built with
//
// The mail daemon runs this program for everything that touches nftables
// (the privilege split of DESIGN.md, and libnftables' exit() on a missing
// netlink socket stays out of the mail process). The firewall issue adds
// the narrow request set (open ports, ban an address); today only `check`.
// Exit status: 0 ok, 1 the check failed, 2 usage.
#include "firewall/nft_backend.hpp"

#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  using namespace boxmail;
  if (argc == 2 && std::strcmp(argv[1], "check") == 0) {
    const firewall::Status st = firewall::check();
    std::fprintf(st.ok ? stdout : stderr, "boxmail-fw: %s\n", st.message.c_str());
    return st.ok ? 0 : 1;
  }
  if (argc == 2 && std::strcmp(argv[1], "--version") == 0) {
    std::printf("boxmail-fw (backend: %s)\n", firewall::backend_name());
    return 0;
  }
  std::fprintf(stderr, "usage: boxmail-fw check | --version\n");
  return 2;
}

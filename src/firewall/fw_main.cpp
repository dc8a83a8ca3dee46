// boxmail-fw - boxmail's privileged firewall helper: wiring only.
//
// boxmail-fw serve FD [--keep-context]
//                      the helper boxmaild starts as root before its own
//                      privilege drop: narrows itself to CAP_NET_ADMIN and
//                      serves requests on the SOCK_SEQPACKET descriptor FD
//                      until stop or EOF (firewall/fw_server.hpp); with
//                      --keep-context libnftables runs in this process with
//                      one kept context instead of a child per batch
// boxmail-fw check     exit 0 when the firewall backend can be driven
//                      (prints what it found), 1 with the reason otherwise
// boxmail-fw show      prints boxmail's own table as nft lists it (`nft list
//                      table inet boxmail`: the sets with their elements and
//                      timeouts, the chain, the counter), read-only; exit 1
//                      with the reason when it cannot (no table: the firewall
//                      is off or boxmaild is not running). For appliances
//                      without the nft program.
// boxmail-fw --version the backend it was built with
//
// The mail daemon runs this program for everything that touches nftables
// (the privilege split of DESIGN.md, and libnftables' exit() on a missing
// netlink socket stays out of the mail process); docs/firewall.md.
// Exit status: 0 ok, 1 the check failed (or the privileges could not be
// narrowed), 2 usage.
#include "firewall/fw_server.hpp"
#include "firewall/nft_backend.hpp"
#include "text/number.hpp"

#include <cstdio>
#include <cstring>
#include <string_view>

int main(int argc, char** argv) {
  using namespace boxmail;
  if (argc == 2 && std::strcmp(argv[1], "check") == 0) {
    const firewall::Status st = firewall::check();
    std::fprintf(st.ok ? stdout : stderr, "boxmail-fw: %s\n", st.message.c_str());
    return st.ok ? 0 : 1;
  }
  if (argc == 2 && std::strcmp(argv[1], "show") == 0) {
    const firewall::RunResult r = firewall::run_script("list table inet boxmail", false);
    if (!r.ok) {
      std::fprintf(stderr,
                   "boxmail-fw: cannot list table inet boxmail: %s (no table while [firewall] is off "
                   "or boxmaild is stopped)\n",
                   r.error.c_str());
      return 1;
    }
    std::fputs(r.output.c_str(), stdout);
    return 0;
  }
  if (argc == 2 && std::strcmp(argv[1], "--version") == 0) {
    std::printf("boxmail-fw (backend: %s)\n", firewall::backend_name());
    return 0;
  }
  if ((argc == 3 || argc == 4) && std::strcmp(argv[1], "serve") == 0) {
    const auto fd = text::parse_unsigned<unsigned>(argv[2], 1u << 20);
    const bool keep = argc == 4 && std::string_view(argv[3]) == "--keep-context";
    if (fd && fd.value > 2 && (argc == 3 || keep)) {
      return firewall::serve(firewall::ServeOptions{static_cast<int>(fd.value), keep});
    }
  }
  std::fprintf(stderr, "usage: boxmail-fw check | show | --version | serve FD [--keep-context]\n");
  return 2;
}

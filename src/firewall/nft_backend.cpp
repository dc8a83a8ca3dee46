// nft_backend.cpp - the libnftables backend of boxmail-fw (BOXMAIL_FIREWALL=ON).
// See nft_backend.hpp.
#include "firewall/nft_backend.hpp"

#include <cerrno>
#include <cstring>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nftables/libnftables.h>

namespace boxmail::firewall {

namespace {

/// Opens and closes a NETLINK_NETFILTER socket, as libnftables would; 0 or errno.
int probe_netlink() {
  const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
  if (fd < 0) return errno;
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  const int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  const int err = rc == 0 ? 0 : errno;
  ::close(fd);
  return err;
}

/// Number of lines starting with "table " in nft's text output.
int count_tables(const char* out) {
  int n = 0;
  for (const char* p = out; p != nullptr && *p != '\0';) {
    if (std::strncmp(p, "table ", 6) == 0) ++n;
    p = std::strchr(p, '\n');
    if (p != nullptr) ++p;
  }
  return n;
}

/// Last non-empty line of libnftables' error buffer, for a one-line message.
std::string last_line(const char* text) {
  std::string s = text != nullptr ? text : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  const auto nl = s.rfind('\n');
  return nl == std::string::npos ? s : s.substr(nl + 1);
}

}  // namespace

const char* backend_name() { return "nftables"; }

Status check() {
  if (const int err = probe_netlink(); err != 0) {
    return {false, std::string("nf_tables netlink unavailable (") + std::strerror(err) +
                       "): load the nfnetlink and nf_tables kernel modules"};
  }
  nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
  if (ctx == nullptr) return {false, "libnftables: cannot create a context"};
  nft_ctx_buffer_output(ctx);
  nft_ctx_buffer_error(ctx);
  const int rc = nft_run_cmd_from_buffer(ctx, "list tables");
  Status st;
  if (rc == 0) {
    st.ok = true;
    st.message = "nftables ready (" + std::to_string(count_tables(nft_ctx_get_output_buffer(ctx))) +
                 " tables in the ruleset)";
  } else {
    st.message = "nftables: `list tables` failed: " + last_line(nft_ctx_get_error_buffer(ctx));
  }
  nft_ctx_free(ctx);
  return st;
}

}  // namespace boxmail::firewall

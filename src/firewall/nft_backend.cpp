// nft_backend.cpp - the libnftables backend of boxmail-fw (BOXMAIL_FIREWALL=ON).
// See nft_backend.hpp.
//
// libnftables is loaded with dlopen() by the process that runs a script
// (the helper's short-lived child, or the helper itself with a kept
// context) and by `check`, never at the resident helper's start: linked
// at build time, the library and its six dependencies (libnftnl, libmnl,
// libxtables, libjansson, libgmp) would be mapped and relocated in the
// resident process for nothing (docs/firewall.md, "Memory").
#include "firewall/nft_backend.hpp"

#include <cerrno>
#include <cstring>
#include <dlfcn.h>
#include <string>
#include <type_traits>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nftables/libnftables.h>

namespace boxmail::firewall {

namespace {

/// The libnftables functions boxmail-fw calls, from dlopen()/dlsym().
struct Nft {
  decltype(&nft_ctx_new) ctx_new = nullptr;
  decltype(&nft_ctx_free) ctx_free = nullptr;
  decltype(&nft_ctx_buffer_output) buffer_output = nullptr;
  decltype(&nft_ctx_buffer_error) buffer_error = nullptr;
  decltype(&nft_ctx_get_output_buffer) output = nullptr;
  decltype(&nft_ctx_get_error_buffer) error = nullptr;
  decltype(&nft_run_cmd_from_buffer) run = nullptr;
};

/// The library's soname (Debian's libnftables1).
constexpr const char* kLibrary = "libnftables.so.1";

/// Loads libnftables once; nullptr with `why` set when it cannot be.
const Nft* load(std::string& why) {
  static Nft nft;
  static bool loaded = false;
  if (loaded) return &nft;
  void* h = ::dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr) {
    const char* e = ::dlerror();
    why = std::string("cannot load ") + kLibrary + ": " + (e != nullptr ? e : "unknown error");
    return nullptr;
  }
  bool all = true;
  auto sym = [&](auto& f, const char* name) {
    f = reinterpret_cast<std::remove_reference_t<decltype(f)>>(::dlsym(h, name));
    if (f == nullptr) all = false;
  };
  sym(nft.ctx_new, "nft_ctx_new");
  sym(nft.ctx_free, "nft_ctx_free");
  sym(nft.buffer_output, "nft_ctx_buffer_output");
  sym(nft.buffer_error, "nft_ctx_buffer_error");
  sym(nft.output, "nft_ctx_get_output_buffer");
  sym(nft.error, "nft_ctx_get_error_buffer");
  sym(nft.run, "nft_run_cmd_from_buffer");
  if (!all) {
    why = std::string(kLibrary) + " lacks a function boxmail-fw calls";
    return nullptr;
  }
  loaded = true;
  return &nft;
}

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

/// The first "Error: ..." line of libnftables' error buffer (it goes on
/// with the command and a ^^^ marker), else its last line.
std::string error_line(const char* text) {
  const std::string s = text != nullptr ? text : "";
  const auto at = s.find("Error: ");
  if (at == std::string::npos) return last_line(text);
  return s.substr(at, s.find('\n', at) == std::string::npos ? std::string::npos : s.find('\n', at) - at);
}

}  // namespace

const char* backend_name() { return "nftables"; }

Status check() {
  if (const int err = probe_netlink(); err != 0) {
    return {false, std::string("nf_tables netlink unavailable (") + std::strerror(err) +
                       "): load the nfnetlink and nf_tables kernel modules"};
  }
  std::string why;
  const Nft* nft = load(why);
  if (nft == nullptr) return {false, why};
  nft_ctx* ctx = nft->ctx_new(NFT_CTX_DEFAULT);
  if (ctx == nullptr) return {false, "libnftables: cannot create a context"};
  nft->buffer_output(ctx);
  nft->buffer_error(ctx);
  const int rc = nft->run(ctx, "list tables");
  Status st;
  if (rc == 0) {
    st.ok = true;
    st.message = "nftables ready (" + std::to_string(count_tables(nft->output(ctx))) + " tables in the ruleset)";
  } else {
    st.message = "nftables: `list tables` failed: " + last_line(nft->error(ctx));
  }
  nft->ctx_free(ctx);
  return st;
}

RunResult run_script(const std::string& script, bool keep_context) {
  RunResult r;
  static nft_ctx* kept = nullptr;
  nft_ctx* ctx = kept;
  std::string why;
  const Nft* nft = load(why);
  if (nft == nullptr) {
    r.error = why;
    return r;
  }
  if (ctx == nullptr) {
    if (const int err = probe_netlink(); err != 0) {
      r.error = std::string("nf_tables netlink unavailable (") + std::strerror(err) + ")";
      return r;
    }
    ctx = nft->ctx_new(NFT_CTX_DEFAULT);
    if (ctx == nullptr) {
      r.error = "libnftables: cannot create a context";
      return r;
    }
    nft->buffer_output(ctx);
    nft->buffer_error(ctx);
    if (keep_context) kept = ctx;
  }
  r.ok = nft->run(ctx, script.c_str()) == 0;
  if (const char* out = nft->output(ctx)) r.output = out;
  if (!r.ok) r.error = error_line(nft->error(ctx));
  if (r.error.empty() && !r.ok) r.error = "nft failed without a message";
  if (ctx != kept) nft->ctx_free(ctx);
  return r;
}

}  // namespace boxmail::firewall

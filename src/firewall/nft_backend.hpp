// nft_backend.hpp - the firewall backend of boxmail-fw, the privileged helper.
//
// Every libnftables call of boxmail lives behind this interface, in the
// boxmail-fw program and never in the mail process: libnftables calls
// exit() from inside the library when it cannot open its netlink socket
// (kernel without nf_tables, or under qemu-user), which must not take the
// mail daemon down. Two implementations, chosen by CMake
// (BOXMAIL_FIREWALL): nft_backend.cpp (libnftables, loaded with dlopen()
// on first use: Debian ships no static libnftables, and the resident
// helper never maps it) and nft_backend_none.cpp (a build
// without firewall support). The scripts it runs are written by
// boxmail-fw itself from validated requests (firewall/ruleset.hpp), never
// taken from the daemon.
//
// Errors are values: a Status with ok=false and a one-line message that
// names what is missing. Nothing here throws or exits.
#pragma once

#include <string>

namespace boxmail::firewall {

/// Outcome of a backend operation: ok, and a one-line message for the log
/// or the terminal (what was found, or what is missing and why).
struct Status {
  bool ok = false;
  std::string message;
};

/// The backend's name as built: "nftables" or "none".
const char* backend_name();

/// Checks that the firewall can be driven: the kernel offers nf_tables
/// over netlink (probed with a NETLINK_NETFILTER socket of our own before
/// libnftables is touched, so its exit() path is never reached), and a
/// read-only `list tables` through libnftables succeeds. Needs
/// CAP_NET_ADMIN for the listing. Changes nothing in the ruleset.
/// Returns ok with the number of tables, or not ok naming the missing part
/// (no netlink: module nf_tables/nfnetlink not loaded; permission denied:
/// not root; libnftables.so.1 cannot be loaded; built without firewall
/// support).
Status check();

/// Outcome of one nft script: ok, nft's output (what `list` printed) and
/// its error text (the last line of libnftables' error buffer, or why
/// nothing ran).
struct RunResult {
  bool ok = false;
  std::string output;
  std::string error;
};

/// Runs `script` (nft commands, one per line) as ONE transaction with
/// nft_run_cmd_from_buffer: all of it is applied or none. Probes netlink
/// first (as check() does), so libnftables' exit() path is never reached.
/// With `keep_context` the libnftables context made by the first call is
/// kept for the next ones (the resident model the helper can be measured
/// in); else each call makes and frees its own. Needs CAP_NET_ADMIN.
RunResult run_script(const std::string& script, bool keep_context);

}  // namespace boxmail::firewall

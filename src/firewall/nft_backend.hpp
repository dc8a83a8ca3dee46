// nft_backend.hpp - the firewall backend of boxmail-fw, the privileged helper.
//
// Every libnftables call of boxmail lives behind this interface, in the
// boxmail-fw program and never in the mail process: libnftables calls
// exit() from inside the library when it cannot open its netlink socket
// (kernel without nf_tables, or under qemu-user), which must not take the
// mail daemon down. Two implementations, chosen by CMake
// (BOXMAIL_FIREWALL): nft_backend.cpp (libnftables, linked dynamically:
// Debian ships no static libnftables) and nft_backend_none.cpp (a build
// without firewall support). The firewall issue adds the validated request
// set (open the mail ports, ban an address for a time); today the helper
// only answers `check`.
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
/// not root; built without firewall support).
Status check();

}  // namespace boxmail::firewall

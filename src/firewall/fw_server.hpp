// fw_server.hpp - boxmail-fw's side of the socketpair: the privilege
// narrowing and the request loop (I/O).
//
// boxmaild starts `boxmail-fw serve FD` as root, before it drops its own
// privileges, with FD one end of a SOCK_SEQPACKET socketpair. The helper
// then, before it reads a request:
//   1. drops every capability from the bounding set but CAP_NET_ADMIN;
//   2. becomes uid/gid 65534 (owner of nothing; boxmaild's user cannot
//      signal or trace it) keeping CAP_NET_ADMIN as its only permitted
//      and effective capability; no supplementary groups, no ambient
//      capabilities;
//   3. sets NO_NEW_PRIVS, no core dumps, not dumpable;
//   4. checks that setuid(0) fails and that only CAP_NET_ADMIN is left,
//      and stops (exit 1) when anything of this failed.
// Not started as root it keeps what it has (it can then only fail).
//
// The loop: one request per datagram (firewall/request.hpp), one reply
// per request, in order. Requests waiting together are taken as a batch:
// their nft commands (firewall/ruleset.hpp) run as one transaction, and
// only when that fails one by one, so each gets its own answer. A
// malformed request is answered "error" and written to stderr, never
// applied; so is a ban before the first apply or of an address in the
// allowed networks. libnftables is not touched until a batch arrives: by
// default each batch runs in a short-lived child (fork), so the resident
// helper never carries libnftables' heap (docs/firewall.md has the
// figures); `keep_context` runs it in the helper itself with one kept
// context instead (the model that was measured against it).
// On `stop`, on EOF (boxmaild has exited), on SIGTERM/SIGINT or a failed
// send, the helper deletes the table and exits 0. One helper per network
// namespace owns the table at a time: a new helper waits (up to 10 s) until
// the one before it has exited, so the old one's cleanup never deletes the
// table the new one applied (a boxmaild killed and restarted at once).
#pragma once

namespace boxmail::firewall {

/// Options of `boxmail-fw serve`.
struct ServeOptions {
  int fd = -1;                 ///< the helper's end of the socketpair
  bool keep_context = false;   ///< run nft in this process with one kept context
};

/// Serves requests on `options.fd` until stop or EOF; the exit status
/// (0 after a clean stop, 1 when the privileges could not be narrowed).
int serve(const ServeOptions& options);

}  // namespace boxmail::firewall

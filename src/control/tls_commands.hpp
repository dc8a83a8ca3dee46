// tls_commands.hpp - boxmaild's certificate handling behind the control
// socket's `tls`, `tls-install` and `tls-regenerate`, and at start and on
// SIGHUP (I/O: files, mbedTLS, the log).
//
// Least privilege: the web panel (user boxmail-web) never reads or writes
// the key file; it sends an upload over the control socket and boxmaild,
// the only user that may read the tls directory (0700) and the key (0600),
// checks and installs it:
//
//   1. the texts are validated in memory with tls::parse_certificate at
//      `now`: PEM text, the key not encrypted and the leaf's, the chain in
//      order, every certificate valid now, no private key in the chain
//      text. A refusal names the part ("chain" or "key"), the problem's
//      word and a message for people, and changes nothing: no file is
//      written, the certificate in use stays;
//   2. the pair is written with tls::install_pair (staged files in the
//      tls directory, key 0600, renamed key first: a crash at any point
//      leaves the old pair or the new one in use at the next start, never
//      a mismatched one; tls/certificate_install.hpp);
//   3. the certificate validated in step 1 (the same octets as the files)
//      goes into the ServerContextSlot: new connections get it, running
//      sessions keep theirs.
//
// tls-regenerate makes a new self-signed ECDSA P-256 certificate for the
// host name (tls::make_self_signed) and installs it by steps 2 and 3.
// Everything runs on the event loop: a P-256 check or key generation takes
// a few milliseconds, an RSA-4096 key's pair check a few tens on the board.
// Every outcome is logged (warning for a refusal, info for an install).
#pragma once

#include "control/control_replies.hpp"
#include "tls/server_context.hpp"

#include <ctime>
#include <string>

namespace boxmail::control {

/// The `tls` reply: the configured files, the certificate in use (nullopt
/// when none is loaded) and why the files were refused at the last load.
TlsReply tls_status(const tls::ServerContextSlot& slot);

/// At start, after the privilege drop: finishes or undoes an install a
/// crash interrupted (tls::finish_interrupted_install), makes a
/// self-signed certificate for `host` when there is no chain file (first
/// start, tls::ensure_self_signed), loads the files into `slot`, then
/// renews a self-signed one that is due (renew_self_signed). Logs each
/// step; a refused file leaves TLS off until a good one loads.
void start_certificate(tls::ServerContextSlot& slot, const std::string& host, std::time_t now);

/// SIGHUP: loads the files again (a refused file keeps the certificate in
/// use, is logged and shown by `tls` as refused), then renew_self_signed.
void reload_certificate(tls::ServerContextSlot& slot, const std::string& host, std::time_t now);

/// A self-signed chain file expiring within tls::kRenewBeforeDays (or
/// expired) is made anew for `host` (tls::self_signed_renewal_due,
/// tls::generate_self_signed: written as one pair) and loaded; a CA's
/// certificate never is. boxmaild calls it at start, on SIGHUP and daily.
void renew_self_signed(tls::ServerContextSlot& slot, const std::string& host, std::time_t now);

/// `tls-install`: validates `upload` at `now` and installs it over the
/// slot's files (see the file comment). Reply head "installed" with the
/// new certificate, or the refusal.
TlsChangeReply tls_install(tls::ServerContextSlot& slot, const TlsUpload& upload, std::time_t now);

/// `tls-regenerate`: a new self-signed certificate for `host`, valid from
/// an hour before `now` for tls::kSelfSignedDays, installed the same way. Reply head
/// "regenerated" with the new certificate, or why not.
TlsChangeReply tls_regenerate(tls::ServerContextSlot& slot, const std::string& host, std::time_t now);

}  // namespace boxmail::control

// certificate_install.hpp - replacing the certificate chain file and the key
// file as one pair (I/O), so that boxmaild never starts with, or reloads, a
// key that is not its certificate's, even after a crash or power loss.
//
// Two files cannot be renamed at once, so the pair goes through two staged
// files next to the targets, CHAIN.new and KEY.new, and the key's rename is
// the commit point:
//
//   1. stage: KEY.new (mode 0600) then CHAIN.new (0644), each a new file
//      (O_CREAT|O_EXCL|O_NOFOLLOW, fchown when asked), written and
//      fsynced; then the directories are fsynced, so both exist on disk
//      before anything is renamed;
//   2. commit: rename KEY.new over KEY, fsync its directory;
//   3. finish: rename CHAIN.new over CHAIN, fsync its directory.
//
// Giving up before the commit removes CHAIN.new first (and fsyncs) and KEY.new
// after it. So the state on disk says where an interrupted install stopped:
//
//   KEY.new present (CHAIN.new or not)  not committed: the old pair is intact;
//                                       undo = remove CHAIN.new, then KEY.new
//   only CHAIN.new present              committed: KEY is already the new key;
//                                       finish = rename CHAIN.new over CHAIN
//   neither                             nothing to do
//
// finish_interrupted_install applies that at boxmaild's start (before the
// first-start generation and the load) and install_pair itself before it
// stages. It finishes only when KEY is the key of CHAIN.new's leaf
// (load_certificate passes, or refuses only the dates, which may have run
// out while the box was off); a CHAIN.new that is not (not one of ours) is
// removed and reported, never renamed over the chain.
//
// A rename replaces a symbolic link at the target, never writes through it.
// The directory (on the appliance /etc/boxmail/tls, 0700, the daemon's
// user's) is where the staged files live, so nobody else can plant or read
// them. The caller validates the texts first (parse_certificate): this file
// writes what it is given.
#pragma once

#include "tls/certificate.hpp"

#include <sys/types.h>

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace boxmail::tls {

/// The staged file of `target`: "TARGET.new".
std::string staged_path(const std::string& target);

/// Who owns the files written (-1: the writing process's ids).
struct FileOwner {
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
};

/// Replaces `key_file` by `key_pem` and `chain_file` by `chain_pem` as one
/// pair (see the file comment): first finishes or undoes an interrupted
/// install, then stages, commits and finishes. On an error before the
/// commit both files are as they were and no staged file is left; the
/// error names the file (the target's path) and what failed ("create
/// KEY.new: No such file or directory"). An error after the commit (the
/// chain's rename or a directory fsync) leaves the work for the next
/// finish_interrupted_install. nullopt on success.
std::optional<CertError> install_pair(const std::string& chain_file, const std::string& key_file,
                                      std::string_view chain_pem, std::string_view key_pem, FileOwner owner = {});

/// What finish_interrupted_install did.
struct Recovery {
  std::string done;                ///< for the log; "" when there was nothing to do
  std::optional<CertError> error;  ///< a staged file could not be handled (or did not belong)
};

/// Finishes or undoes an install that a crash interrupted (see the file
/// comment); `now` is the time the finished pair must load at.
Recovery finish_interrupted_install(const std::string& chain_file, const std::string& key_file, std::time_t now);

}  // namespace boxmail::tls

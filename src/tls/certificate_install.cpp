// certificate_install.cpp - see certificate_install.hpp.
#include "tls/certificate_install.hpp"

#include "store/safe_path.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace boxmail::tls {
namespace {

CertError write_error(const std::string& file, const std::string& what) {
  return CertError{file, CertProblem::WriteFailed, what + ": " + std::strerror(errno)};
}

/// fsync of the directory holding `path`; the error names `file`.
std::optional<CertError> sync_dir_of(const std::string& path, const std::string& file) {
  const std::string dir = store::parent_of(path);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 || ::fsync(dfd) != 0) {
    const CertError e = write_error(file, "fsync of " + dir);
    if (dfd >= 0) ::close(dfd);
    return e;
  }
  ::close(dfd);
  return std::nullopt;
}

/// Creates `path` (which must not exist), writes `data`, sets `mode` and
/// the owner, fsyncs. On failure nothing is left at `path`; the error
/// names `file` (the target the staged file stands for).
std::optional<CertError> write_new(const std::string& path, const std::string& file, std::string_view data,
                                   mode_t mode, FileOwner owner) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return write_error(file, "create " + path);
  auto fail = [&](const std::string& what) {
    const CertError e = write_error(file, what + " " + path);
    ::close(fd);
    ::unlink(path.c_str());
    return e;
  };
  if (::fchmod(fd, mode) != 0) return fail("fchmod");   // the umask may have narrowed `mode`
  if ((owner.uid != static_cast<uid_t>(-1) || owner.gid != static_cast<gid_t>(-1)) &&
      ::fchown(fd, owner.uid, owner.gid) != 0) {
    return fail("fchown");
  }
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail("write");
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("fsync");
  if (::close(fd) != 0) {
    const CertError e = write_error(file, "close " + path);
    ::unlink(path.c_str());
    return e;
  }
  return std::nullopt;
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

/// Removes the staged files of an install that was not committed: the
/// chain's first, made durable, then the key's, so that "only CHAIN.new"
/// never appears unless the key's rename happened.
std::optional<CertError> undo(const std::string& chain_file, const std::string& key_file) {
  const std::string chain_new = staged_path(chain_file), key_new = staged_path(key_file);
  if (::unlink(chain_new.c_str()) != 0 && errno != ENOENT) return write_error(chain_file, "remove " + chain_new);
  if (auto e = sync_dir_of(chain_new, chain_file)) return e;
  if (::unlink(key_new.c_str()) != 0 && errno != ENOENT) return write_error(key_file, "remove " + key_new);
  return sync_dir_of(key_new, key_file);
}

/// Renames CHAIN.new over CHAIN and makes it durable.
std::optional<CertError> finish(const std::string& chain_file) {
  const std::string chain_new = staged_path(chain_file);
  if (::rename(chain_new.c_str(), chain_file.c_str()) != 0) return write_error(chain_file, "rename " + chain_new);
  return sync_dir_of(chain_file, chain_file);
}

}  // namespace

std::string staged_path(const std::string& target) { return target + ".new"; }

Recovery finish_interrupted_install(const std::string& chain_file, const std::string& key_file, std::time_t now) {
  Recovery r;
  const std::string chain_new = staged_path(chain_file), key_new = staged_path(key_file);
  const bool have_key = exists(key_new), have_chain = exists(chain_new);
  if (have_key) {
    // Stopped before the commit: the old pair is whole; the upload is dropped.
    r.error = undo(chain_file, key_file);
    r.done = "removed an unfinished certificate install (" + key_new + (have_chain ? ", " + chain_new : "") +
             "): it stopped before the key was replaced; the certificate in " + chain_file + " stays";
    return r;
  }
  if (!have_chain) return r;
  // Stopped after the commit: the key is new, the chain still the old one.
  const LoadResult pair = load_certificate(chain_new, key_file, now);
  const bool ours = !pair.error || pair.error->problem == CertProblem::Expired ||
                    pair.error->problem == CertProblem::NotYetValid;
  if (!ours) {
    r.error = CertError{chain_file, CertProblem::KeyMismatch,
                        chain_new + " is not the certificate of " + key_file + " (" + pair.error->message() +
                            "); removed, not installed"};
    if (::unlink(chain_new.c_str()) != 0 && errno != ENOENT) r.error = write_error(chain_file, "remove " + chain_new);
    return r;
  }
  r.error = finish(chain_file);
  if (!r.error) {
    r.done = "finished an interrupted certificate install: " + chain_new + " renamed over " + chain_file +
             " (the key was already replaced)";
  }
  return r;
}

std::optional<CertError> install_pair(const std::string& chain_file, const std::string& key_file,
                                      std::string_view chain_pem, std::string_view key_pem, FileOwner owner) {
  // A crash in an earlier install: finished or undone first, so the staged
  // names are free and the pair on disk is whole.
  if (const Recovery r = finish_interrupted_install(chain_file, key_file, std::time(nullptr)); r.error) return r.error;
  const std::string chain_new = staged_path(chain_file), key_new = staged_path(key_file);
  // 1. Stage: the key, then the chain; both durable before any rename.
  if (auto e = write_new(key_new, key_file, key_pem, 0600, owner)) return e;
  auto staged = write_new(chain_new, chain_file, chain_pem, 0644, owner);
  if (!staged) staged = sync_dir_of(key_new, key_file);
  if (!staged) staged = sync_dir_of(chain_new, chain_file);
  if (staged) {
    (void)undo(chain_file, key_file);
    return staged;
  }
  // 2. Commit: the key.
  if (::rename(key_new.c_str(), key_file.c_str()) != 0) {
    const CertError e = write_error(key_file, "rename " + key_new);
    (void)undo(chain_file, key_file);
    return e;
  }
  // 3. Finish: the chain. After the commit there is no way back; what
  // fails here is finished by the next finish_interrupted_install.
  auto synced = sync_dir_of(key_file, key_file);
  auto finished = finish(chain_file);
  return synced ? synced : finished;
}

}  // namespace boxmail::tls

// safe_path.hpp - opening directories of the mail store without following
// symbolic links.
//
// Whoever owns the mail store (the Maildirs under mail_dir) must not be able
// to make boxmaild (which runs as root) read, write or remove a file outside
// it by replacing a mailbox, its new/, cur/ or tmp/, or a message file with a
// symbolic link. Every file operation under mail_dir is therefore made
// relative to directory descriptors: a base directory (mail_dir, the
// administrator's fixed path, opened once and following links: a symbolic
// link AT mail_dir itself is the installer's choice) is opened by path, and
// each component below it is opened with openat(2) and
// O_DIRECTORY|O_NOFOLLOW; message files are then opened, linked, renamed and
// unlinked with openat/linkat/renameat/unlinkat relative to the descriptor
// of their directory, files with O_NOFOLLOW.
//
// A symbolic link below the base fails the operation with ELOOP (the
// O_NOFOLLOW|O_DIRECTORY open of a link fails with ELOOP or ENOTDIR; a
// component that IS a link is reported as ELOOP), never followed.
// path_error() makes the log text, naming the path and saying it is a
// symbolic link.
#pragma once

#include <string>

#include <sys/types.h>

namespace boxmail::store {

/// Opens the directory PATH, which must be BASE or below it, component by
/// component: BASE with open(2) (following links) when `base_fd` is -1, else
/// `base_fd` is BASE's descriptor (not closed, not consumed); each component
/// of PATH below BASE with openat(2) O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC.
/// With `create_mode` non-zero a missing component is made (mkdirat(2) with
/// that mode) and `*created` (when given) is set. Empty and "." components
/// are skipped; a ".." component, or PATH not under BASE, is EINVAL.
/// Returns the descriptor or -1 with errno set (ELOOP: a component is a
/// symbolic link); `*failed` (when given) receives the path that failed.
int open_dir_beneath(int base_fd, const std::string& base, const std::string& path, mode_t create_mode = 0,
                     bool* created = nullptr, std::string* failed = nullptr);

/// Opens the directory PATH of a Maildir (the Maildir root or a
/// sub-directory of it), with every component from the mailbox down not
/// followed: open_dir_beneath with BASE the parent of ROOT (mail_dir).
int open_maildir_dir(const std::string& root, const std::string& path, std::string* failed = nullptr);

/// The log text of a failed operation on PATH: "PATH: <strerror>", with
/// " (a symbolic link: not followed)" added for ELOOP.
std::string path_error(const std::string& path, int err);

/// PATH with " (a symbolic link: not followed)" added for ELOOP: the
/// "where" of a failure whose errno text is logged after it.
std::string path_note(const std::string& path, int err);

/// The directory part of PATH ("." when none, "/" for "/x").
std::string parent_of(const std::string& path);

}  // namespace boxmail::store

// installer.hpp - the root-side firmware installer behind `boxmailctl
// firmware install|confirm|status` (docs/firmware.md, "Installing an update
// (boxmailctl firmware)").
//
// install_update() takes a staged update file (update_file.hpp) that it
// does not trust: the web panel's user could swap or rewrite it at any
// moment. The file is opened once (O_NOFOLLOW, a regular file only) and read
// once, front to back, from that one descriptor: the header is verified from
// the copy in memory, and each part is written to the inactive slot while
// its SHA-256 is computed over the very octets written, so there is no
// second read for anyone to change. Nothing replaces the slot's files before
// the whole file checked out; the boot-state sector (boot_state.hpp) names
// the slot for a trial only after its files and directory are synced.
//
// The slots are directories `a/` and `b/` of the boot partition (mounted at
// BootPaths::boot_dir), each holding one file per part named after it plus
// `version` (the firmware's version, one line). The boot-state sector is
// 512 octets at BootPaths::state_sector * 512 of the disk.
//
// Every error is one line of English for the administrator (the panel may
// show it): no line breaks, the paths and the update file's names in it.
#pragma once

#include "firmware/boot_state.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boxmail::firmware {

/// The sector u-boot's boot script reads (0x7f0: in the gap before the
/// first partition; board/qemu-aarch64/boot.cmd).
inline constexpr std::uint64_t kDefaultStateSector = 2032;
/// The largest sector number accepted (its offset must fit an off_t).
inline constexpr std::uint64_t kMaxStateSector = 1ull << 40;

/// What the box's own release file says (/usr/share/boxmail/release).
struct Release {
  std::string board;                 ///< the board's name ([a-z0-9-], 1..32)
  std::string version;               ///< the running firmware's version ("" when the file has none)
  std::vector<std::string> parts;    ///< the parts a slot takes, in the file's order (1..kMaxParts)
};

/// Result of parse_release / load_release: `release`, or `error`.
struct ReleaseParse {
  std::optional<Release> release;
  std::string error;
};

/// Parses a release file: `name=value` lines (LF; blank lines and lines
/// starting with '#' skipped), `board=NAME` (required), `version=VERSION`
/// (optional; the update file's alphabet), `parts=NAME NAME...` (required;
/// single spaces, part names as in an update file, none twice, not
/// `version`). Other names are ignored (for the image's own use). Errors:
/// a line without '=', a name given twice, a bad or missing value.
ReleaseParse parse_release(std::string_view text);

/// Reads (at most 4096 octets) and parses the release file at `path`; I/O
/// errors name the path.
ReleaseParse load_release(const std::string& path);

/// Reads the whole file at `path` into `*out` when it holds at most `max`
/// octets. "" on success; else "PATH: why" (the strerror text, or "larger
/// than MAX octets").
std::string read_small_file(const std::string& path, std::size_t max, std::string* out);

/// The slot the running system booted from, from the kernel command line
/// (/proc/cmdline: blank-separated words): the value of `boxmail.slot=`
/// (the last one when repeated), 'a' when there is none (a box that boots
/// without the A/B script). nullopt when the value is not a or b.
std::optional<Slot> slot_from_cmdline(std::string_view cmdline);

/// Where a box keeps its firmware.
struct BootPaths {
  std::string disk = "/dev/vda";                      ///< the disk holding the boot-state sector (a block device or a file)
  std::uint64_t state_sector = kDefaultStateSector;   ///< in 512-octet sectors from the disk's start
  std::string boot_dir = "/boot";                     ///< the boot partition, mounted read-write
};

/// Result of read_boot_state: the sector's meaning, and what went wrong.
struct BootStateRead {
  BootState state;         ///< parse_boot_state's result (the defaults when the sector could not be read)
  bool read = false;       ///< false: the disk could not be read (`error` says why; `state` is the default)
  std::string error;       ///< the I/O error, or parse_boot_state's complaint about a readable sector
};

/// Reads the boot-state sector (kBootStateSize octets at state_sector * 512
/// of `disk`, opened read-only). A disk too short to hold it is an error.
BootStateRead read_boot_state(const BootPaths& paths);

/// Writes format_boot_state(state) at the sector with pwrite(2) and syncs
/// the disk (fdatasync, then fsync); "" when it is on the medium, else the
/// error naming the disk.
std::string write_boot_state(const BootPaths& paths, const BootState& state);

/// What install_update needs.
struct InstallRequest {
  std::string file;          ///< the staged update file (not trusted: see the file comment)
  std::string public_key;    ///< the trusted key's PEM or DER SubjectPublicKeyInfo (the octets, not a path)
  Release release;           ///< this box's board and the parts its slots take
  Slot running = 'a';        ///< the slot the running system booted from
  BootPaths paths;
};

/// Result of install_update.
struct InstallResult {
  std::string error;         ///< "" installed; else the one-line reason
  std::string version;       ///< the installed version (from the verified header), when installed
  Slot slot = 'b';           ///< the slot written: other_slot(running)
};

/// Installs an update file into the slot other than `running` and puts it
/// on trial (start_trial(running)). Steps, in this order:
///   1. open the file once (O_RDONLY|O_NOFOLLOW|O_NONBLOCK|O_CLOEXEC; not
///      a regular file: refused), read its header (at most kMaxHeader
///      octets), parse it, verify the signature with `public_key`, then
///      require the board and exactly the release's set of parts;
///   2. open the disk read-write and read the sector: the running slot on
///      trial is refused (it is confirmed once boxmaild answers, and the
///      other slot is the only known-good one); lock the boot directory
///      (flock, another install running: refused);
///   3. when the sector names the target slot (as the trial of an earlier
///      install not booted yet, or as active), write and sync first a
///      sector naming only `running` as active, so that no boot can choose
///      the slot while it is half written;
///   4. stream each part into BOOT/TARGET/PART.new (the slot directory is
///      made when missing) while PayloadCheck checks it;
///   5. when every part checked out: fsync each .new and rename it over
///      PART, write `version` (version.new, fsync, rename), fsync the slot
///      directory; then write and sync the sector start_trial(running).
/// Any error before step 5 removes the .new files and leaves the slot's
/// files and the sector as they were (but for step 3). Errors: every
/// refusal of update_file.hpp, "the running firmware is still on trial",
/// another board, a part missing or extra, I/O errors and ENOSPC naming
/// the path.
InstallResult install_update(const InstallRequest& request);

/// Result of confirm_running.
struct ConfirmResult {
  std::string error;         ///< "" done; else why (the disk could not be read or written)
  bool changed = false;      ///< true: the running slot was on trial and is now the active one
};

/// Confirms the running slot: when the sector has `running` on trial,
/// writes confirm_healthy's state (running active, no trial) and syncs.
/// Nothing is written otherwise.
ConfirmResult confirm_running(const BootPaths& paths, Slot running);

/// What status_report shows.
struct StatusRequest {
  BootPaths paths;
  std::optional<Slot> running;   ///< nullopt: unknown (running_error says why)
  std::string running_error;
  std::string release_path;      ///< the release file
};

/// The firmware's state as `key=value` lines (LF), in this order: running,
/// active, trial, tries, failed, board, version (the release file's),
/// version.a, version.b (BOOT/a/version, BOOT/b/version when it holds one
/// valid version line), then `error=...` when something could not be read
/// (the first such problem). A value that cannot be read is empty. Never
/// fails: the panel shows what there is.
std::string status_report(const StatusRequest& request);

}  // namespace boxmail::firmware

// firmware_panel.hpp - what the Firmware page (/firmware) reads and shows
// (pure): the boot's slot status, the release file, the staging
// directory's request and result, and the words of the request protocol
// (docs/firmware.md, "The Firmware page").
//
// The status file (/run/boxmail/firmware, written as root by the init
// script at boot) holds key=value lines: running, active, trial, tries,
// failed, board, version, version.a, version.b and maybe error. It is
// treated as untrusted text: unknown keys are ignored, control characters
// become '?', each value is cut at kMaxStatusValue octets, and the page
// escapes everything it shows.
//
// The release file (/usr/share/boxmail/release) names what this image is:
// `board=NAME`, `version=V`, `parts=kernel initramfs`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boxmail::cgi {

/// The longest value kept from the status file (octets; the rest is cut).
inline constexpr std::size_t kMaxStatusValue = 200;
/// The largest firmware upload body the CGI takes (octets, multipart
/// framing included): 128 MiB for the file and 64 KiB for the form around it.
inline constexpr std::uint64_t kMaxFirmwareBody = 128ull * 1024 * 1024 + 64 * 1024;
/// Free space the staging directory must keep beyond the file (octets).
inline constexpr std::uint64_t kStagingReserve = 1024 * 1024;
/// What the page says an install takes (minutes: write the other slot, reboot, trial boot).
inline constexpr int kInstallMinutes = 3;

/// The boot's view of the firmware slots (every field as the file said it,
/// cleaned; "" when absent).
struct FirmwareStatus {
  std::string running;     ///< slot running now ("a" or "b")
  std::string active;      ///< slot booted by default
  std::string trial;       ///< slot on trial ("" when none)
  std::string tries;       ///< trial boots so far
  std::string failed;      ///< slot whose trial failed ("" when none)
  std::string board;
  std::string version;     ///< of the running slot
  std::string version_a;   ///< of slot a
  std::string version_b;   ///< of slot b
  std::string error;       ///< what the boot could not read or do
  /// The version of `slot` ("a" or "b"), "" when unknown.
  std::string version_of(std::string_view slot) const;
};

/// Parses the status file's text (see the file comment). Never fails:
/// lines without '=' and unknown keys are skipped; a key given twice keeps
/// its last value.
FirmwareStatus parse_firmware_status(std::string_view text);

/// What this image is (the release file).
struct ReleaseInfo {
  std::string board;                ///< "" when the file names none
  std::string version;
  std::vector<std::string> parts;   ///< in order, e.g. {"kernel", "initramfs"}
};

/// Parses the release file: `key=value` lines, `parts` separated by
/// blanks; other keys are ignored.
ReleaseInfo parse_release(std::string_view text);

/// The words a factory reset takes: "keep-mail" or "wipe" exactly; nullopt
/// for anything else (another word, blanks, CR/LF, an empty choice).
std::optional<std::string> reset_choice(std::string_view word);

/// The request file's text for an install ("install\n") and a factory
/// reset ("factory-reset WORD\n", WORD from reset_choice).
std::string install_request();
std::string reset_request(std::string_view word);

/// What the glue read for the Firmware page (files and environment);
/// the page only draws it.
struct FirmwareView {
  std::optional<FirmwareStatus> status;   ///< nullopt: the status file is missing
  std::string status_path;                ///< where it was looked for
  std::optional<ReleaseInfo> release;     ///< nullopt: the release file cannot be read
  std::string result;                     ///< the watcher's last failure, first line ("" when none)
  std::int64_t result_time = 0;           ///< its mtime (Unix seconds)
  std::string pending;                    ///< STAGING/request's first line while one waits
  std::int64_t pending_time = 0;
};

/// Unix seconds as "2026-12-03 16:05 UTC".
std::string utc_time(std::int64_t seconds);

/// A status or result text made safe to keep and log: control characters
/// (CR, LF, NUL, ESC ...) become '?', cut at `max` octets.
std::string clean_text(std::string_view s, std::size_t max = kMaxStatusValue);

}  // namespace boxmail::cgi

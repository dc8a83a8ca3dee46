// firmware_upload.hpp - the Firmware page's upload, streamed to disk: a
// MultipartSink (multipart_reader.hpp) that takes the form's CSRF field,
// then writes the file part `firmware` to STAGING/upload.partial while it
// checks it (firmware/update_file.hpp), and on success stages it as
// STAGING/firmware.bin with STAGING/request = "install\n" for the root-run
// watcher (docs/firmware.md, "The Firmware page").
//
// Not pure: it creates, writes, renames and removes files in the staging
// directory (and only there). Memory stays small whatever the file's size:
// at most the header (kMaxHeader) and one chunk the reader hands over.
//
// The order of the checks, each one ending the upload (upload.partial is
// removed, nothing else changes, the rest of the body is drained):
//   1. the CSRF field must come, and match, before the file part (else
//      Forbidden: the file is never opened);
//   2. the staging directory's lock (flock, without waiting; held until the
//      sink is destroyed): another upload or a reset going on refuses;
//      then a pending request (an install or reset not yet taken) refuses;
//      else a stale upload.partial and a firmware.bin that no request
//      names any more are removed before upload.partial is made;
//   3. the header, as soon as its blank line has come (or kMaxHeader
//      octets): parse_header, verify_signature with this box's key, the
//      board and the parts' names against the release file, the payload's
//      size against the limit and the staging file system's free space
//      (statvfs: the file + kStagingReserve);
//   4. each part's size and SHA-256 as the octets stream in (PayloadCheck);
//   5. at the end: the body must be complete, PayloadCheck::finish() "".
// Then upload.partial is fsynced and renamed to firmware.bin, the
// directory fsynced, and the request written (tmp + fsync + rename).
#pragma once

#include "cgi/firmware_panel.hpp"
#include "cgi/multipart_reader.hpp"
#include "firmware/update_file.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace boxmail::cgi {

/// Where and against what an upload is checked.
struct UploadSettings {
  std::string staging;        ///< the staging directory (must exist; the panel's, 0700)
  std::string public_key;     ///< this box's firmware key (PEM); "" when it cannot be read
  std::string key_path;       ///< for messages
  std::optional<ReleaseInfo> release;   ///< nullopt: the release file cannot be read
  std::string release_path;   ///< for messages
  std::string csrf;           ///< the session's token
  std::uint64_t max_file = 128ull * 1024 * 1024;   ///< octets of the whole file
  std::uint64_t reserve = kStagingReserve;         ///< free octets left beyond the file
};

/// How an upload ended.
struct UploadResult {
  enum class Kind { Accepted, Refused, Forbidden };
  Kind kind = Kind::Refused;
  std::string message;   ///< Refused: the reason for the field; Forbidden: why
  std::optional<firmware::UpdateHeader> header;   ///< once it parsed
  std::uint64_t octets = 0;                       ///< of the file part received
};

/// The sink for POST /firmware (see the file comment). Feed it through a
/// MultipartReader, then call finish() once. Destroying it before finish()
/// (or after a refusal) removes upload.partial.
class FirmwareUpload final : public MultipartSink {
 public:
  explicit FirmwareUpload(UploadSettings settings);
  ~FirmwareUpload() override;
  FirmwareUpload(const FirmwareUpload&) = delete;
  FirmwareUpload& operator=(const FirmwareUpload&) = delete;

  std::string begin_part(const std::string& name, const std::optional<std::string>& filename) override;
  std::string part_data(std::string_view octets) override;
  std::string end_part() override;

  /// After the body: `reader_error` is the reader's feed()/finish() error
  /// ("" when the body was complete and well-formed). Stages the file
  /// when everything held; see UploadResult.
  UploadResult finish(const std::string& reader_error);

  /// True once a CSRF field matching the session's token has come.
  bool csrf_ok() const { return csrf_ok_; }

 private:
  enum class Part { None, Csrf, File, Other };
  UploadSettings s_;
  Part part_ = Part::None;
  std::string csrf_value_;
  bool csrf_ok_ = false;
  std::string forbidden_;        // set: the CSRF check failed
  std::string refused_;          // set: the file was refused
  bool file_seen_ = false;
  bool file_done_ = false;
  int fd_ = -1;
  int lock_ = -1;                // the staging directory, flock'ed
  std::string head_;             // octets before the header parsed
  std::optional<firmware::UpdateHeader> header_;
  std::unique_ptr<firmware::PayloadCheck> check_;
  std::uint64_t octets_ = 0;

  std::string partial() const { return s_.staging + "/upload.partial"; }
  std::string refuse(std::string why);   // records the first refusal, closes and removes the partial file
  bool check_header(bool at_end);        // false: refused, or not enough octets yet (header_ unset)
  bool write_all(std::string_view data);
  bool payload(std::string_view data);
};

/// Takes the staging directory's lock (flock(2) LOCK_EX without waiting on
/// the directory itself): one upload or reset at a time. The descriptor to
/// close when done, or -1 when another one holds it (errno EWOULDBLOCK)
/// or the directory cannot be opened (errno says why).
int lock_staging(const std::string& staging);

/// Writes STAGING/request = `text` (tmp + fsync + rename + fsync of the
/// directory). "" on success, else why.
std::string write_staging_request(const std::string& staging, const std::string& text);

/// The first line of STAGING/request while one waits ("" when none), and
/// its mtime in `*time`.
std::string pending_request(const std::string& staging, std::int64_t* time = nullptr);

}  // namespace boxmail::cgi

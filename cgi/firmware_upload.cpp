// firmware_upload.cpp - see firmware_upload.hpp.
#include "cgi/firmware_upload.hpp"

#include "cgi/session.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace boxmail::cgi {

namespace {

std::string mib(std::uint64_t octets) { return std::to_string((octets + (1 << 20) - 1) >> 20) + " MiB"; }

void fsync_dir(const std::string& dir) {
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return;
  ::fsync(dfd);
  ::close(dfd);
}

}  // namespace

FirmwareUpload::FirmwareUpload(UploadSettings settings) : s_(std::move(settings)) {}

FirmwareUpload::~FirmwareUpload() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(partial().c_str());
  }
  if (lock_ >= 0) ::close(lock_);
}

int lock_staging(const std::string& staging) {
  const int fd = ::open(staging.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int e = errno;   // EWOULDBLOCK: held by another
    ::close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

std::string FirmwareUpload::refuse(std::string why) {
  if (refused_.empty()) refused_ = std::move(why);
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
    ::unlink(partial().c_str());
  }
  check_.reset();
  head_.clear();
  head_.shrink_to_fit();
  return {};   // the reader goes on: the rest of the body is drained, not written
}

std::string FirmwareUpload::begin_part(const std::string& name, const std::optional<std::string>& filename) {
  if (name == "csrf" && !filename) {
    part_ = Part::Csrf;
    csrf_value_.clear();
    return {};
  }
  if (name != "firmware") {
    part_ = Part::Other;   // ignored (the reader bounds its size)
    return {};
  }
  part_ = Part::File;
  if (!csrf_ok_) {
    forbidden_ = "the form's security token is missing or wrong (it must come before the file)";
    return forbidden_;   // stops the reader: nothing of the file is looked at
  }
  if (file_seen_) return refuse("send one firmware file at a time");
  file_seen_ = true;
  lock_ = lock_staging(s_.staging);
  if (lock_ < 0) {
    return refuse(errno == EWOULDBLOCK ? std::string("another firmware upload or a factory reset is going on; try again "
                                                     "when it is done")
                                       : "cannot open the staging directory " + s_.staging + ": " +
                                             std::strerror(errno));
  }
  if (const std::string p = pending_request(s_.staging); !p.empty()) {
    return refuse("the box is already asked to " + p + "; wait until that is done");
  }
  // A stale partial file (an upload that was cut off) and a firmware.bin no
  // request names any more (the watcher took it, or it failed) are dead.
  ::unlink(partial().c_str());
  ::unlink((s_.staging + "/firmware.bin").c_str());
  fd_ = ::open(partial().c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd_ < 0) return refuse("cannot write to the staging directory " + s_.staging + ": " + std::strerror(errno));
  return {};
}

bool FirmwareUpload::write_all(std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      refuse(std::string("cannot write the upload: ") + std::strerror(errno == 0 ? ENOSPC : errno));
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool FirmwareUpload::payload(std::string_view data) {
  if (data.empty()) return true;
  if (const std::string e = check_->feed(data); !e.empty()) {
    refuse(e);
    return false;
  }
  return write_all(data);
}

bool FirmwareUpload::check_header(bool at_end) {
  if (!at_end && head_.find("\n\n") == std::string::npos && head_.size() < firmware::kMaxHeader) return false;
  auto parsed = firmware::parse_header(head_);
  if (!parsed.header) {
    refuse(parsed.error == "not a boxmail firmware file" ? "not a boxmail firmware file (not signed firmware)"
                                                           : parsed.error);
    return false;
  }
  const firmware::UpdateHeader& h = *parsed.header;
  if (s_.public_key.empty()) {
    refuse("this box's firmware key " + s_.key_path + " cannot be read; it cannot check firmware");
    return false;
  }
  if (std::string e = firmware::verify_signature(head_, h, s_.public_key); !e.empty()) {
    refuse(e);
    return false;
  }
  if (!s_.release || s_.release->board.empty()) {
    refuse("this box's release file " + s_.release_path + " cannot be read; it cannot check firmware");
    return false;
  }
  if (h.board != s_.release->board) {
    refuse("this firmware is for the board '" + h.board + "', this box is '" + s_.release->board + "'");
    return false;
  }
  std::vector<std::string> names;
  for (const auto& p : h.parts) names.push_back(p.name);
  if (names != s_.release->parts) {
    std::string got, want;
    for (const auto& n : names) got += (got.empty() ? "" : " ") + n;
    for (const auto& n : s_.release->parts) want += (want.empty() ? "" : " ") + n;
    refuse("the file carries the parts '" + got + "'; this box takes '" + want + "'");
    return false;
  }
  const std::uint64_t size = h.header_size + h.payload_size();
  if (size > s_.max_file) {
    refuse("the firmware is " + mib(size) + "; at most " + mib(s_.max_file) + " are taken (too big)");
    return false;
  }
  struct statvfs vfs {};
  if (::statvfs(s_.staging.c_str(), &vfs) != 0) {
    refuse("cannot check the free space in " + s_.staging + ": " + std::strerror(errno));
    return false;
  }
  const std::uint64_t free_octets = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  if (free_octets < size + s_.reserve) {
    refuse("not enough room on the box for the firmware: it needs " + mib(size + s_.reserve) + ", " +
           mib(free_octets) + " are free");
    return false;
  }
  header_ = std::move(parsed.header);
  check_ = std::make_unique<firmware::PayloadCheck>(*header_);
  const std::string head = std::move(head_);
  head_.clear();
  head_.shrink_to_fit();
  if (!write_all(std::string_view(head).substr(0, header_->header_size))) return false;
  return payload(std::string_view(head).substr(header_->header_size));
}

std::string FirmwareUpload::part_data(std::string_view octets) {
  switch (part_) {
    case Part::Csrf:
      if (csrf_value_.size() + octets.size() <= 256) csrf_value_.append(octets);
      return {};
    case Part::File:
      break;
    default:
      return {};
  }
  octets_ += octets.size();
  if (!refused_.empty()) return {};
  if (octets_ > s_.max_file) return refuse("the file is larger than " + mib(s_.max_file) + " (too big)");
  if (!header_) {
    head_.append(octets);
    check_header(false);
    return {};
  }
  payload(octets);
  return {};
}

std::string FirmwareUpload::end_part() {
  if (part_ == Part::Csrf) {
    csrf_ok_ = cgi::csrf_ok(s_.csrf, &csrf_value_);
  } else if (part_ == Part::File) {
    file_done_ = true;
    if (refused_.empty() && !header_) {
      if (octets_ == 0) {
        refuse("choose a firmware file to upload");
      } else {
        check_header(true);
      }
    }
  }
  part_ = Part::None;
  return {};
}

UploadResult FirmwareUpload::finish(const std::string& reader_error) {
  UploadResult r;
  r.header = header_;
  r.octets = octets_;
  if (!forbidden_.empty() || (!file_seen_ && !csrf_ok_)) {
    r.kind = UploadResult::Kind::Forbidden;
    r.message = forbidden_.empty() ? "the form's security token is missing or wrong" : forbidden_;
    refuse(r.message);
    return r;
  }
  if (!file_seen_) {
    r.message = reader_error.empty() ? "choose a firmware file to upload" : "the upload is malformed (" + reader_error + ")";
    return r;
  }
  if (refused_.empty() && (!reader_error.empty() || !file_done_)) {
    refuse("the upload ended before the whole file came (" +
           (reader_error.empty() ? std::string("no end of the file part") : reader_error) + ")");
  }
  if (refused_.empty()) {
    if (const std::string e = check_->finish(); !e.empty()) refuse(e);
  }
  if (refused_.empty() && (::fsync(fd_) != 0)) refuse(std::string("cannot sync the upload: ") + std::strerror(errno));
  if (!refused_.empty()) {
    r.message = refused_;
    return r;
  }
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    ::unlink(partial().c_str());
    r.message = std::string("cannot write the upload: ") + std::strerror(errno);
    return r;
  }
  const std::string target = s_.staging + "/firmware.bin";
  if (::rename(partial().c_str(), target.c_str()) != 0) {
    r.message = "cannot stage the firmware: " + std::string(std::strerror(errno));
    ::unlink(partial().c_str());
    return r;
  }
  fsync_dir(s_.staging);
  if (const std::string e = write_staging_request(s_.staging, install_request()); !e.empty()) {
    ::unlink(target.c_str());
    r.message = "cannot ask for the install: " + e;
    return r;
  }
  r.kind = UploadResult::Kind::Accepted;
  return r;
}

std::string write_staging_request(const std::string& staging, const std::string& text) {
  const std::string path = staging + "/request";
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return "cannot create " + tmp + ": " + std::strerror(errno);
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  int err = ok ? 0 : (errno == 0 ? EIO : errno);
  if (::close(fd) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (!ok) {
    ::unlink(tmp.c_str());
    return "cannot write " + tmp + ": " + std::strerror(err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string e = std::strerror(errno);
    ::unlink(tmp.c_str());
    return "cannot write " + path + ": " + e;
  }
  fsync_dir(staging);
  return {};
}

std::string pending_request(const std::string& staging, std::int64_t* time) {
  const int fd = ::open((staging + "/request").c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return {};
  char buf[128];
  const ssize_t n = ::read(fd, buf, sizeof buf);
  struct stat st {};
  if (time && ::fstat(fd, &st) == 0) *time = st.st_mtime;
  ::close(fd);
  std::string_view text(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
  text = text.substr(0, text.find('\n'));
  const std::string line = clean_text(text, 64);
  return line.empty() ? std::string("an install or reset") : line;
}

}  // namespace boxmail::cgi

// spool_file.hpp - a message being received, streamed to spool_dir/tmp.
//
// DATA is written here as it arrives (never held whole in memory); the
// Committer later makes it durable and links it into each recipient's
// Maildir/new. A SpoolFile that is destroyed before being handed to the
// Committer unlinks its file (a refused or aborted message leaves nothing).
// Leftovers from a crash are removed by clean_spool() at start-up.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace boxmail::store {

class SpoolFile {
 public:
  /// Creates DIR/<queue_id> exclusively (mode 0600). Returns null and sets
  /// `err` (errno) on failure.
  static std::unique_ptr<SpoolFile> create(const std::string& dir, const std::string& queue_id, int& err);

  /// Takes over an open, empty spool file made elsewhere (SpoolPool).
  static std::unique_ptr<SpoolFile> adopt(int fd, std::string path);

  ~SpoolFile();
  SpoolFile(const SpoolFile&) = delete;
  SpoolFile& operator=(const SpoolFile&) = delete;

  /// Appends `data` (loops over short writes). After the first failure the
  /// file is marked failed and further writes are ignored; error() tells.
  void write(std::string_view data);

  /// 0, or the errno of the first failed write.
  int error() const { return error_; }
  std::uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }
  int fd() const { return fd_; }

  /// Hands the file over (the Committer closes and unlinks it).
  int release();

 private:
  SpoolFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
  std::uint64_t size_ = 0;
  int error_ = 0;
};

/// Creates SPOOL/tmp (mode 0700) if needed and removes the spool files in
/// it (messages a crash interrupted before their 250): regular files named
/// by a queue id (queue_id_from), and nothing else. The directory is opened
/// with O_NOFOLLOW and its entries removed relative to its descriptor
/// (unlinkat); no symbolic link is ever followed, and a SPOOL/tmp that is
/// one is an error (ELOOP or ENOTDIR). Returns the files removed, or -1 with
/// `err` set when the directory cannot be made or opened.
int clean_spool(const std::string& spool_tmp_dir, int& err);

/// The owner boxmaild gives the store directories it makes as root.
struct DirOwner {
  unsigned uid = 0;
  unsigned gid = 0;
};

/// mkdir -p with `mode` for each missing component; with `owner`, each
/// component made by this call (and only those) is chowned to it. Returns
/// 0 or errno.
int make_dirs(const std::string& path, unsigned mode, std::optional<DirOwner> owner = std::nullopt);

/// Replaces the small file `path` with `text`, crash-safe: written to
/// `path`.tmp (O_NOFOLLOW, mode `mode` even when an old tmp file had
/// another), fsync, rename over `path`, fsync of the directory. Either
/// the old file or the whole new one is there after a crash. Returns ""
/// or what failed (the tmp file is removed then, the old file kept).
std::string write_file_atomic(const std::string& path, std::string_view text, unsigned mode);

}  // namespace boxmail::store

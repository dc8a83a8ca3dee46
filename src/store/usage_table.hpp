// usage_table.hpp - the usage of every mailbox, kept up to date (I/O,
// thread-safe).
//
// One UsageTable per daemon, keyed by Maildir root (mail_dir/<mailbox>).
// A root's usage (quota.hpp: S= octets and messages of new/ and cur/) is
// counted once by a scan on the table's own thread (directory reads stay
// off the event loop; STYLE "slow work off the loop"), then kept by the
// writers: the Committer (a delivery adds its S=, committer thread) and the
// POP3 server (deletions at QUIT take theirs away, loop thread). It is never
// rescanned per message. A POP3 login, which lists the Maildir anyway,
// re-syncs the count from that listing (resync), so changes made behind the
// daemon's back (a foreign delivery, a file removed by hand) are corrected
// at the next login.
//
// Until the first scan of a root is done its usage is unknown (get returns
// nullopt and queues the scan): the SMTP session then accepts, like a
// message that crosses the quota during DATA.
//
// Concurrency: every writer brackets its change with begin()/end(). A scan
// (or resync) counts only when no change was in progress when it started
// and none began or ended while it ran; otherwise the scan is repeated (at
// most kScanAttempts times, then its result is taken as it is and the next
// login corrects it). Without this, a file linked or removed while readdir
// runs could be counted twice or not at all.
#pragma once

#include "store/quota.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace boxmail::store {

class UsageTable {
 public:
  UsageTable();   ///< starts the scan thread
  ~UsageTable();  ///< stops it (a scan in progress finishes first)
  UsageTable(const UsageTable&) = delete;
  UsageTable& operator=(const UsageTable&) = delete;

  /// The usage of `root`, or nullopt while unknown (then a scan is queued,
  /// unless one failed less than kRetryAfter ago).
  std::optional<MaildirUsage> get(const std::string& root);
  /// Queues the first scan of `root` unless its usage is known or queued.
  void scan(const std::string& root);

  /// A writer is about to change `root` (link into new/, unlink).
  void begin(const std::string& root);
  /// The change of begin() is over: `added` and `removed` are what it did
  /// (both empty when it failed and left nothing).
  void end(const std::string& root, const MaildirUsage& added, const MaildirUsage& removed);

  /// A mark taken before a listing, for resync.
  struct Mark {
    std::uint64_t changes = 0;
    bool busy = false;
  };
  Mark mark(const std::string& root);
  /// `usage` was counted from a listing that began at `m`: taken when no
  /// change overlapped the listing, else ignored.
  void resync(const std::string& root, const MaildirUsage& usage, const Mark& m);

  /// Scan errors not yet logged ("ROOT: strerror"); the loop thread logs
  /// them (net::log is not thread-safe).
  std::vector<std::string> take_errors();

  static constexpr int kScanAttempts = 3;
  static constexpr std::chrono::seconds kRetryAfter{30};

 private:
  struct Entry {
    bool known = false;
    bool queued = false;
    MaildirUsage usage;
    std::uint64_t changes = 0;   // begin() and end() calls
    std::uint32_t busy = 0;      // begin() without end()
    std::chrono::steady_clock::time_point failed{};
  };
  void queue(const std::string& root, Entry& e);
  void run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Entry, std::less<>> entries_;
  std::deque<std::string> todo_;
  std::vector<std::string> errors_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace boxmail::store

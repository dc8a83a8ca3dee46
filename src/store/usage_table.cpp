// usage_table.cpp - see usage_table.hpp.
#include "store/usage_table.hpp"

#include "store/maildir.hpp"

#include <cstring>

namespace boxmail::store {

UsageTable::UsageTable() { thread_ = std::thread([this] { run(); }); }

UsageTable::~UsageTable() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void UsageTable::queue(const std::string& root, Entry& e) {
  if (e.known || e.queued) return;
  if (e.failed != std::chrono::steady_clock::time_point{} &&
      std::chrono::steady_clock::now() - e.failed < kRetryAfter)
    return;
  e.queued = true;
  todo_.push_back(root);
  cv_.notify_one();
}

std::optional<MaildirUsage> UsageTable::get(const std::string& root) {
  std::lock_guard lk(mu_);
  Entry& e = entries_[root];
  if (e.known) return e.usage;
  queue(root, e);
  return std::nullopt;
}

void UsageTable::scan(const std::string& root) {
  std::lock_guard lk(mu_);
  queue(root, entries_[root]);
}

void UsageTable::begin(const std::string& root) {
  std::lock_guard lk(mu_);
  Entry& e = entries_[root];
  ++e.busy;
  ++e.changes;
}

void UsageTable::end(const std::string& root, const MaildirUsage& added, const MaildirUsage& removed) {
  std::lock_guard lk(mu_);
  Entry& e = entries_[root];
  if (e.busy > 0) --e.busy;
  ++e.changes;
  if (!e.known) return;   // the scan to come counts it
  e.usage.octets += added.octets;
  e.usage.messages += added.messages;
  e.usage = subtract(e.usage, removed);
}

UsageTable::Mark UsageTable::mark(const std::string& root) {
  std::lock_guard lk(mu_);
  const Entry& e = entries_[root];
  return Mark{e.changes, e.busy > 0};
}

void UsageTable::resync(const std::string& root, const MaildirUsage& usage, const Mark& m) {
  std::lock_guard lk(mu_);
  Entry& e = entries_[root];
  if (m.busy || e.changes != m.changes) return;
  e.usage = usage;
  e.known = true;
}

std::vector<std::string> UsageTable::take_errors() {
  std::lock_guard lk(mu_);
  std::vector<std::string> out;
  out.swap(errors_);
  return out;
}

void UsageTable::run() {
  for (;;) {
    std::string root;
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return stopping_ || !todo_.empty(); });
      if (stopping_) return;
      root = std::move(todo_.front());
      todo_.pop_front();
    }
    for (int attempt = 1; attempt <= kScanAttempts; ++attempt) {
      const Mark m = mark(root);
      const UsageScan s = scan_usage(root);
      std::lock_guard lk(mu_);
      Entry& e = entries_[root];
      if (s.error != 0) {
        e.queued = false;
        e.failed = std::chrono::steady_clock::now();
        if (errors_.size() < 64) errors_.push_back(s.error_text.empty() ? root + ": " + std::strerror(s.error) : s.error_text);
        break;
      }
      const bool clean = !m.busy && e.changes == m.changes;
      if (clean || attempt == kScanAttempts) {
        if (!e.known) e.usage = s.usage;   // a login resync may have been quicker
        e.known = true;
        e.queued = false;
        break;
      }
    }
  }
}

}  // namespace boxmail::store

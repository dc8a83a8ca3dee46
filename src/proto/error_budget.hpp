// error_budget.hpp - how many protocol errors a session tolerates (pure;
// shared by the SMTP and POP3 sessions).
//
// Syntax and sequence errors (and over-long lines) each spend one unit;
// once `limit` errors are counted the session replies with its "too many
// errors" line (SMTP 421 4.7.0, POP3 -ERR) and closes (STYLE.md, "an error
// budget"; limits smtp.max_errors and pop3.max_errors). What does not
// count (an unknown recipient, a message number that names no message) is
// the session's choice: it simply does not call spend().
#pragma once

#include <cstdint>

namespace boxmail::proto {

class ErrorBudget {
 public:
  /// `limit`: the error count that ends the session (>= 1; 0 acts as 1).
  explicit ErrorBudget(std::uint32_t limit) : limit_(limit) {}

  /// Counts one error. True when the budget is now spent (the session must
  /// close); the count keeps growing if spend() is called again.
  [[nodiscard]] bool spend() { return ++count_ >= limit_; }

  /// Errors counted so far.
  std::uint32_t count() const { return count_; }

 private:
  std::uint32_t limit_;
  std::uint32_t count_ = 0;
};

}  // namespace boxmail::proto

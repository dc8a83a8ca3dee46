// quota.hpp - mailbox usage from Maildir names, the quota rule and the
// free-space reserve rule (pure).
//
// Usage of a mailbox is the sum of the S= sizes (octets as stored, LF line
// ends; maildir_name.hpp) of the files in its new/ and cur/, the measure
// Dovecot's Maildir quota uses too. The rules below are the whole policy;
// the SMTP session applies them at MAIL and RCPT with the answers of an
// injected store query (smtp/session.hpp), the glue keeps the numbers
// (store/usage_table.hpp, a cached statvfs in smtp_server.cpp).
//
// Quota (checked at RCPT, per forward-path, for every mailbox it reaches):
//   usage >= quota                    -> Full      (452 4.2.2, temporary)
//   declared SIZE= > quota            -> TooBig    (552 5.2.2, it can never fit)
//   usage + declared SIZE= > quota    -> Full      (452 4.2.2)
//   otherwise                         -> Ok
// A quota of 0 means none. A message that crosses the quota during DATA is
// accepted (a soft quota, as Dovecot's and Postfix's checks before DATA are).
//
// Free-space reserve (checked at MAIL): new mail is refused with 452 4.3.1
// when the octets available to the daemon on the mail file system, minus a
// declared SIZE=, would fall below the reserve. Unknown free space (ramfs,
// rootfs: statvfs reports no blocks) is never below the reserve.
//
// Source: RFC 3463 3.3 (X.2.2 mailbox full), 3.4 (X.3.1 system full);
// RFC 1870 6 (452/552 for SIZE=); RFC 5321 4.2.2.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace boxmail::store {

/// Octets and messages of a mailbox (or of a change to it).
struct MaildirUsage {
  std::uint64_t octets = 0;     ///< sum of S= (octets as stored)
  std::uint64_t messages = 0;
  bool operator==(const MaildirUsage&) const = default;
};

/// The S= of a Maildir file name, or nullopt when it carries none (a
/// foreign delivery: its size must then come from stat(2)).
std::optional<std::uint64_t> stored_octets(std::string_view name);

/// Adds one message of `octets`.
void add_message(MaildirUsage& usage, std::uint64_t octets);

/// `usage` after `removed` is taken away (never below zero).
MaildirUsage subtract(MaildirUsage usage, const MaildirUsage& removed);

enum class QuotaVerdict {
  Ok,       ///< deliver
  Full,     ///< 452 4.2.2: over quota now, or this message would take it over
  TooBig,   ///< 552 5.2.2: the declared size alone is more than the quota
};

/// The quota rule above. `quota` 0 = none; `declared_size` 0 = no SIZE=.
QuotaVerdict check_quota(std::uint64_t usage, std::uint64_t quota, std::uint64_t declared_size);

/// The reserve rule above: true when new mail must be refused. `free`
/// nullopt = cannot tell (never refused); `reserve` 0 = no reserve.
bool below_reserve(std::optional<std::uint64_t> free, std::uint64_t reserve, std::uint64_t declared_size);

}  // namespace boxmail::store

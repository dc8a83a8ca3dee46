// account.hpp - mailbox accounts: names and the Dovecot-compatible passwd-file
// format (pure: text in, values out; file I/O lives in passwd_file.hpp).
//
// passwd-file line (Dovecot "passwd-file" driver):
//   name:{SCHEME}hash:uid:gid:gecos:home:shell:extra_fields
// boxmail writes `name:{SHA512-CRYPT}$6$...::::::` plus extra fields it owns
// (space-separated key=value, e.g. "nopop3" later); it keeps fields it does not
// know. Lines starting with '#' and blank lines are kept as comments are not
// (they are dropped on rewrite).
//
// A file without any mailbox is taken as "no mailboxes" only when it says so
// with the line kNoMailboxes (a comment for Dovecot); format_passwd writes it
// for an empty table. An empty or comment-only file without it is taken for
// a damaged one (see passwd_watcher.hpp).
//
// Mailbox names: 1..64 octets of [a-z0-9._-], starting with a letter or digit,
// no "..", lower case (the feed matches local-parts case-insensitively). Any
// name that could escape the mail root (`../x`, `a/b`, `.x`) is refused.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boxmail::config {

/// Why a mailbox name is refused, or std::nullopt when it is valid.
/// Source: boxmail policy (keeps names safe as a Maildir directory name).
std::optional<std::string> mailbox_name_error(std::string_view name);

/// One mailbox account.
struct Account {
  std::string name;            ///< valid mailbox name, lower case
  std::string password;        ///< "{SCHEME}hash", never plaintext
  std::string uid, gid, gecos, home, shell;  ///< Dovecot fields, kept as given (usually empty)
  std::string extra;           ///< extra_fields, kept as given
};

/// All accounts, in file order. Immutable snapshot like Config.
struct AccountTable {
  std::vector<Account> accounts;
  /// Finds an account by name, case-insensitively; nullptr when none.
  const Account* find(std::string_view name) const;
};

/// A passwd-file problem on one line (1-based).
struct AccountError {
  int line = 0;
  std::string message;
};

/// The line that marks a passwd-file as deliberately without mailboxes.
inline constexpr std::string_view kNoMailboxes = "# boxmail: no mailboxes";

/// Parses passwd-file text. Bad lines are errors and are not in the table.
struct AccountParse {
  AccountTable table;
  std::vector<AccountError> errors;
  bool says_no_mailboxes = false;   ///< a line is exactly kNoMailboxes (blanks around it allowed)
};
AccountParse parse_passwd(std::string_view text);

/// Formats a table as passwd-file text (one line per account, '\n' ends);
/// an empty table is the single line kNoMailboxes.
std::string format_passwd(const AccountTable& table);

/// Extra-field flags (space-separated tokens of Account::extra). A flag is
/// set when a token is exactly `flag` or starts with "flag=" (Dovecot writes
/// boolean extra fields either way).
bool has_flag(const Account& account, std::string_view flag);
/// Adds (`on`) or removes every token of `flag`; other tokens are kept in order.
void set_flag(Account& account, std::string_view flag, bool on);

/// Logins allowed at all: no "nologin" token (Dovecot's passdb extra field).
bool login_allowed(const Account& account);
/// POP3 allowed: login_allowed and no "nopop3" token (boxmail's per-mailbox
/// POP3 switch, `boxmailctl user pop3 NAME on|off`).
bool pop3_allowed(const Account& account);

/// Mailbox quota in octets from a "quota=N" token (N decimal octets); 0 when
/// there is none or it is not a number. Set by the web panel; enforced at
/// RCPT by the SMTP session (store/quota.hpp).
std::uint64_t quota_of(const Account& account);
/// Sets the "quota=N" token (0 removes it); other tokens are kept in order.
void set_quota(Account& account, std::uint64_t octets);

}  // namespace boxmail::config

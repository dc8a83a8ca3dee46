// resolve.cpp - recipient resolution for the SMTP feed (see resolve.hpp).
//
// Order of the checks for one forward-path (each step ends resolution when it
// decides):
//  1. domain: an empty domain is allowed only for <Postmaster> (RFC 5321
//     4.1.1.3), which skips the domain check; otherwise domain_accepted()
//     against smtp.accept_domains, address literals only in "*" mode.
//  2. relay tricks: '%', '!' or '@' anywhere in the decoded local-part.
//  3. lookup of the lower-cased local-part:
//     a. an account (accounts come FIRST: an account and an alias of the same
//        name resolve to the account; the alias is then dead configuration);
//     b. an alias in config.aliases, expanded recursively (see below);
//     c. "postmaster": the first account of the table; with an empty table,
//        the catch-all (step d's rule, which an empty table can never meet);
//     d. the catch-all, when smtp.catch_all is set AND names an existing
//        account (a catch-all naming no account never silently swallows mail);
//     e. else UnknownUser.
//
// Alias expansion:
//  - The alias named by the local-part is at depth 1, an alias among its
//    targets at depth 2, and so on; an alias at a depth greater than
//    smtp.max_alias_depth, or one already being expanded (a cycle), gives
//    AliasLoop for the whole recipient.
//  - Each target, lower-cased, is tried in this order: "null" (reserved:
//    discard, even if an account of that name exists), an account, an alias.
//    Anything else (an unknown name, a remote address) is skipped and named in
//    `detail`.
//  - Mailboxes are kept once each, in the order first found.
//  - No mailbox found: Deliver with no mailboxes when a "null" target was met
//    (accept and discard), else UnknownUser.
//  - An alias reached again by another branch (a diamond, not a cycle) is not
//    expanded again unless reached deeper than before, so expansion stays
//    linear in the size of [aliases] times max_alias_depth.
#include "address/resolve.hpp"

#include "text/ascii.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace boxmail::address {
namespace {

/// `text` without one trailing dot ("example.com." -> "example.com").
std::string_view strip_trailing_dot(std::string_view text) {
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  return text;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

void add_unique(std::vector<std::string>& list, std::string item) {
  if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(std::move(item));
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i != 0) out += sep;
    out += items[i];
  }
  return out;
}

Resolution deliver(std::vector<std::string> mailboxes, std::string detail) {
  return Resolution{Verdict::Deliver, std::move(mailboxes), std::move(detail), {}};
}

Resolution refuse(Verdict verdict, std::string detail) {
  return Resolution{verdict, {}, std::move(detail), {}};
}

/// Recursive alias expansion; one instance per recipient.
class AliasExpander {
 public:
  AliasExpander(const config::Config& config, const config::AccountTable& accounts)
      : config_(config), accounts_(accounts) {}

  /// Expands alias `name` (lower case) with `targets` at `depth` (1 = the
  /// alias named by the local-part). False on a loop or excess depth; then
  /// error() says why.
  bool expand(const std::string& name, const std::vector<std::string>& targets,
              std::uint32_t depth) {
    if (std::find(stack_.begin(), stack_.end(), name) != stack_.end()) {
      error_ = "alias loop: " + join(stack_, " -> ") + " -> " + name;
      return false;
    }
    if (depth > config_.smtp.max_alias_depth) {
      error_ = "alias nesting deeper than " + std::to_string(config_.smtp.max_alias_depth) +
               " at '" + name + "'";
      return false;
    }
    if (auto it = done_.find(name); it != done_.end() && it->second >= depth) return true;
    stack_.push_back(name);
    for (const std::string& target : targets) {
      const std::string key = text::ascii_lower(target);
      if (const auto at = key.rfind('@'); at != std::string::npos) {
        // A forwarding target: local when the domain is the box's own.
        if (!own_domain(std::string_view(key).substr(at + 1), config_)) {
          add_unique(remote_, target);
          continue;
        }
        const std::string local = key.substr(0, at);
        if (const config::Account* account = accounts_.find(local)) {
          add_unique(mailboxes_, text::ascii_lower(account->name));
        } else if (auto alias = config_.aliases.find(local); alias != config_.aliases.end()) {
          if (!expand(local, alias->second, depth + 1)) return false;
        } else {
          add_unique(skipped_, target);
        }
      } else if (key == "null") {
        saw_null_ = true;
      } else if (const config::Account* account = accounts_.find(key)) {
        add_unique(mailboxes_, text::ascii_lower(account->name));
      } else if (auto alias = config_.aliases.find(key); alias != config_.aliases.end()) {
        if (!expand(key, alias->second, depth + 1)) return false;
      } else {
        add_unique(skipped_, target);
      }
    }
    stack_.pop_back();
    done_[name] = std::max(done_[name], depth);
    return true;
  }

  const std::vector<std::string>& mailboxes() const { return mailboxes_; }
  const std::vector<std::string>& remote() const { return remote_; }
  const std::vector<std::string>& skipped() const { return skipped_; }
  bool saw_null() const { return saw_null_; }
  const std::string& error() const { return error_; }

 private:
  const config::Config& config_;
  const config::AccountTable& accounts_;
  std::vector<std::string> mailboxes_;
  std::vector<std::string> remote_;
  std::vector<std::string> skipped_;
  std::vector<std::string> stack_;                           // aliases being expanded
  std::map<std::string, std::uint32_t, std::less<>> done_;   // alias -> deepest successful depth
  bool saw_null_ = false;
  std::string error_;
};

Resolution resolve_alias(const std::string& name, const std::vector<std::string>& targets,
                         const config::Config& config, const config::AccountTable& accounts) {
  AliasExpander ex(config, accounts);
  if (!ex.expand(name, targets, 1)) return refuse(Verdict::AliasLoop, ex.error());
  std::string skipped;
  if (!ex.skipped().empty()) {
    skipped = "; skipped unknown target(s): " + join(ex.skipped(), ", ");
  }
  if (ex.mailboxes().empty() && ex.remote().empty()) {
    if (ex.saw_null()) return deliver({}, "alias '" + name + "' discards (null)" + skipped);
    return refuse(Verdict::UnknownUser, "alias '" + name + "' has no deliverable target" + skipped);
  }
  std::vector<std::string> all = ex.mailboxes();
  all.insert(all.end(), ex.remote().begin(), ex.remote().end());
  Resolution r = deliver(ex.mailboxes(), "alias '" + name + "' -> " + join(all, ", ") + skipped);
  r.remote = ex.remote();
  return r;
}

/// The catch-all rule: smtp.catch_all set and an existing account.
Resolution resolve_catch_all(const std::string& key, const config::Config& config,
                             const config::AccountTable& accounts) {
  const std::string& catch_all = config.smtp.catch_all;
  if (catch_all.empty()) return refuse(Verdict::UnknownUser, "unknown user '" + key + "'");
  if (const config::Account* account = accounts.find(catch_all)) {
    return deliver({text::ascii_lower(account->name)},
                   "catch-all mailbox '" + text::ascii_lower(account->name) + "' for '" + key + "'");
  }
  return refuse(Verdict::UnknownUser,
                "unknown user '" + key + "' (catch-all '" + catch_all + "' is not a mailbox)");
}

}  // namespace

bool domain_accepted(std::string_view domain, const std::vector<std::string>& patterns) {
  const std::string d = text::ascii_lower(strip_trailing_dot(domain));
  const bool literal = !d.empty() && d.front() == '[';
  for (const std::string& raw : patterns) {
    const std::string p = text::ascii_lower(strip_trailing_dot(raw));
    if (p == "*") return true;
    if (literal || d.empty() || p.empty()) continue;
    if (p.size() > 2 && p[0] == '*' && p[1] == '.') {
      // "*.example.org": strict sub-domains only; ".example.org" must follow
      // at least one more label.
      const std::string_view suffix = std::string_view(p).substr(1);
      if (d.size() > suffix.size() && ends_with(d, suffix)) return true;
    } else if (d == p) {
      return true;
    }
  }
  return false;
}

bool own_domain(std::string_view domain, const config::Config& config) {
  if (domain_accepted(domain, config.relay.local_domains)) return true;
  const auto& accept = config.smtp.accept_domains;
  if (accept.size() == 1 && accept.front() == "*") return false;
  return domain_accepted(domain, accept);
}

Resolution resolve_recipient(const Mailbox& rcpt, const config::Config& config,
                             const config::AccountTable& accounts, Sender sender) {
  const std::string key = text::ascii_lower(rcpt.local_part);
  const auto& accept = config.smtp.accept_domains;
  const bool feed_mode = accept.size() == 1 && accept.front() == "*";

  // 1. Domain. Only <Postmaster> may come without one (RFC 5321 4.1.1.3).
  if (rcpt.domain.empty()) {
    if (key != "postmaster") return refuse(Verdict::DomainRefused, "missing domain");
  } else if (sender == Sender::RelayClient && !own_domain(rcpt.domain, config) &&
             !(config.relay.local_domains.empty() && feed_mode)) {
    // A remote recipient of a relay client: never routed by its local-part
    // or an address literal, and sent out only through a configured route.
    if (key.find_first_of("%!@") != std::string::npos) {
      return refuse(Verdict::RelayTrick, "route-like local-part '" + rcpt.local_part + "' refused");
    }
    if (rcpt.address_literal) {
      return refuse(Verdict::DomainRefused, "address literal " + rcpt.domain + " is not relayed to");
    }
    if (config.relay.route.empty()) {
      return refuse(Verdict::NoRoute, "no outgoing route is configured for '" + rcpt.domain + "'");
    }
    Resolution r;
    r.verdict = Verdict::Relay;
    r.detail = "remote: relayed to '" + text::ascii_lower(rcpt.domain) + "'";
    return r;
  } else if (!domain_accepted(rcpt.domain, accept) && !domain_accepted(rcpt.domain, config.relay.local_domains)) {
    return refuse(Verdict::DomainRefused,
                  "relay access denied: domain '" + rcpt.domain + "' is not local");
  }
  return resolve_local_part(rcpt.local_part, config, accounts);
}

Resolution resolve_local_part(std::string_view local_part, const config::Config& config,
                              const config::AccountTable& accounts) {
  const std::string key = text::ascii_lower(local_part);

  // 2. Relay tricks, also when hidden in a Quoted-string (decoded here).
  if (key.find_first_of("%!@") != std::string::npos) {
    return refuse(Verdict::RelayTrick,
                  "route-like local-part '" + std::string(local_part) + "' refused");
  }
  if (key.empty()) return refuse(Verdict::UnknownUser, "empty local-part");

  // 3a. Accounts first, then aliases.
  if (const config::Account* account = accounts.find(key)) {
    const std::string name = text::ascii_lower(account->name);
    return deliver({name}, "mailbox '" + name + "'");
  }
  // 3b.
  if (auto alias = config.aliases.find(key); alias != config.aliases.end()) {
    return resolve_alias(key, alias->second, config, accounts);
  }
  // 3c.
  if (key == "postmaster") {
    if (!accounts.accounts.empty()) {
      const std::string name = text::ascii_lower(accounts.accounts.front().name);
      return deliver({name}, "postmaster -> first mailbox '" + name + "'");
    }
    return resolve_catch_all(key, config, accounts);
  }
  // 3d, 3e.
  return resolve_catch_all(key, config, accounts);
}

bool sender_owned(const Mailbox& sender, std::string_view user, const config::Config& config,
                  const config::AccountTable& accounts) {
  if (user.empty() || sender.address_literal || sender.domain.empty()) return false;
  if (!domain_accepted(sender.domain, config.smtp.accept_domains) &&
      !domain_accepted(sender.domain, config.relay.local_domains)) {
    return false;
  }
  const std::string key = text::ascii_lower(sender.local_part);
  if (key.empty() || key.find_first_of("%!@") != std::string::npos) return false;
  if (const config::Account* account = accounts.find(key)) return text::ascii_lower(account->name) == user;
  const auto alias = config.aliases.find(key);
  if (alias == config.aliases.end()) return false;
  const Resolution r = resolve_alias(key, alias->second, config, accounts);
  return r.verdict == Verdict::Deliver && std::find(r.mailboxes.begin(), r.mailboxes.end(), user) != r.mailboxes.end();
}

}  // namespace boxmail::address

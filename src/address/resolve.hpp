// resolve.hpp - recipient resolution for the SMTP feed (pure).
//
// For each RCPT the feed decides, from the configuration snapshot and the
// account table, where a forward-path goes (EnServe-style feed semantics):
//  1. the domain must be accepted: smtp.accept_domains is "*" (any domain:
//     everything is delivered locally) or a list of patterns ("example.com",
//     "*.example.org" matches sub-domains only), or one of relay.local_domains;
//     else 550 5.7.1. Address literals are accepted only in "*" mode.
//     A relay client (logged in, or in relay.relay_networks) is treated
//     differently: for it a domain is local only when it is one of the box's
//     own domains (relay.local_domains, and accept_domains unless it is "*";
//     in feed mode with no local_domains every domain stays local for
//     everyone, as before outgoing mail existed); any other domain is remote: it is relayed (the
//     outgoing queue), refused with "no outgoing route" while none is
//     configured, and refused for a route-like local-part or an address
//     literal (the box never routes by them, RFC 5321 3.6.1).
//  2. relay-trick local-parts (containing '%', '!', '@', e.g. user%host@us,
//     "user@host"@us, host!user@us) are refused with 550 5.7.1: this box
//     delivers only locally and never interprets them as routes.
//  3. the domain is stripped; the local-part, case-insensitively, is
//     a mailbox -> that mailbox;
//     an alias -> its targets, expanded recursively up to max_alias_depth
//        (deeper or cyclic: 550 5.4.6), "null" discards, duplicates removed;
//        a target "user@domain" forwards: at one of the box's own domains
//        it is resolved here by its local-part, elsewhere it is relayed
//        (Resolution::remote; the configuration needs a route for it);
//     "postmaster" (when neither) -> the first account (or catch-all);
//     otherwise the catch-all mailbox when configured, else 550 5.1.1.
//
// Source: RFC 5321 2.3.5 and 4.1.1.3 (postmaster must be accepted), 3.6
// (relaying), RFC 3463 (status codes); the EnServe manual's feed model.
#pragma once

#include "address/mailbox.hpp"
#include "config/account.hpp"
#include "config/config.hpp"

#include <string>
#include <vector>

namespace boxmail::address {

/// What a recipient resolves to.
enum class Verdict {
  Deliver,          ///< deliver to `mailboxes` (may be empty when all targets are "null")
  DomainRefused,    ///< 550 5.7.1 relay access denied
  RelayTrick,       ///< 550 5.7.1 route-like local-part refused
  UnknownUser,      ///< 550 5.1.1
  AliasLoop,        ///< 550 5.4.6 alias nesting too deep or cyclic
  NoRoute,          ///< 550 5.7.1 a relay client's remote recipient, but no outgoing route is configured
  Relay,            ///< a relay client's remote recipient: to the outgoing queue (mailboxes empty)
};

/// Who is sending, for the relay decision (RFC 5321 3.6.2 and 7.1): the
/// feed (any client that is neither logged in nor in relay_networks) or a
/// relay client (the LAN: logged in, or in relay.relay_networks).
enum class Sender { Feed, RelayClient };

struct Resolution {
  Verdict verdict = Verdict::UnknownUser;
  std::vector<std::string> mailboxes;   ///< distinct mailbox names, lower case, in order found
  std::string detail;                   ///< human text for the log / reply
  std::vector<std::string> remote;      ///< forwarding targets elsewhere ("user@example.net"), for the queue
};

/// True when `domain` (any case) matches one of `patterns` ("*" matches all).
bool domain_accepted(std::string_view domain, const std::vector<std::string>& patterns);

/// True when `domain` is one of the box's own domains: relay.local_domains,
/// and accept_domains unless it is "*".
bool own_domain(std::string_view domain, const config::Config& config);

/// Resolves one forward-path (the parsed mailbox of RCPT TO) for `sender`.
Resolution resolve_recipient(const Mailbox& rcpt, const config::Config& config,
                             const config::AccountTable& accounts, Sender sender = Sender::Feed);

/// Steps 2 and 3 alone, for a local-part given without a domain (VRFY with a
/// bare name, RFC 5321 3.5.2): relay tricks, mailbox, alias, postmaster,
/// catch-all.
Resolution resolve_local_part(std::string_view local_part, const config::Config& config,
                              const config::AccountTable& accounts);

/// True when an authenticated `user` (a mailbox name, lower case) may use
/// `sender` as its reverse-path (RFC 4954 5, RFC 6409 6.1): the domain is
/// accepted here (not an address literal) and the local-part, any case, is
/// the user's own mailbox, or an alias whose expansion reaches that
/// mailbox. Never through the catch-all or the postmaster fallback, and
/// never for a route-like local-part.
bool sender_owned(const Mailbox& sender, std::string_view user, const config::Config& config,
                  const config::AccountTable& accounts);

}  // namespace boxmail::address

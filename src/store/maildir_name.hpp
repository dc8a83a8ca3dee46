// maildir_name.hpp - Maildir file names and queue ids (pure).
//
// Maildir names follow the Maildir convention as Dovecot writes them:
//   <sec>.M<usec>P<pid>Q<seq>.<host>,S=<size>,W=<vsize>
// where S is the file's size in octets (LF line ends) and W its size with
// CRLF line ends (what POP3 reports), both read back by Dovecot and by our
// POP3 server without opening the file. In <host>, '/' and ':' are written as
// "\057" and "\072" (Maildir spec). The seq counter makes names unique within
// one process even in the same microsecond.
//
// Source: https://cr.yp.to/proto/maildir.html; Dovecot's maildir-filename.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace boxmail::store {

/// Host part made safe for a Maildir name.
std::string maildir_safe_host(std::string_view host);

/// Builds "<sec>.M<usec>P<pid>Q<seq>.<safe host>,S=<size>,W=<vsize>".
std::string maildir_file_name(std::int64_t sec, std::int64_t usec, std::int64_t pid, std::uint64_t seq,
                              std::string_view host, std::uint64_t size, std::uint64_t vsize);

/// The S= and W= values of a Maildir name (either may be missing). Stops at
/// the ":2," info suffix.
struct MaildirSizes {
  std::optional<std::uint64_t> size;
  std::optional<std::uint64_t> vsize;
};
MaildirSizes parse_maildir_sizes(std::string_view name);

/// A queue id: 13 characters of Crockford base32 (0-9, A-Z without I, L, O,
/// U) of a 64-bit random number.
std::string queue_id_from(std::uint64_t random);

/// The number a queue id stands for: the inverse of queue_id_from, nullopt
/// for any text queue_id_from never writes (other length, lower case, a
/// letter outside the alphabet, a first digit above 15). Spool and queue
/// leftovers are recognised by this (spool_file.hpp, queue.hpp).
std::optional<std::uint64_t> parse_queue_id(std::string_view name);

}  // namespace boxmail::store

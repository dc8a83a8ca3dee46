// output.hpp - what a protocol session asks of the connection driver (pure).
//
// The generic part of every session's Output (SMTP, POP3, later IMAP): the
// reply bytes to send, log lines, and the one decision the driver itself
// carries out (keep reading, close, or start TLS). Protocol work such as
// "commit this message" or "check this password" stays in each protocol's
// own Action enum and is carried out by that protocol's proto::Handler; the
// handler hands the generic part to Driver::take.
#pragma once

#include <string>
#include <vector>

namespace boxmail::proto {

/// What the driver does after sending the replies.
enum class Action {
  None,       ///< keep reading input
  Close,      ///< send the replies, then close the connection
  StartTls,   ///< send the replies, drop any input already buffered, start TLS
              ///< (Transport::start_tls), then call Handler::tls_started
};

/// The generic part of a session's result.
struct Output {
  std::string replies;            ///< protocol lines to send, CRLF-ended (may be several: pipelining)
  std::vector<std::string> log;   ///< log lines, logged at info level in order
  Action action = Action::None;
};

}  // namespace boxmail::proto

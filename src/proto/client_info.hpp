// client_info.hpp - the peer of a protocol session (pure; shared by the SMTP
// and POP3 sessions, and IMAP later).
//
// Filled by the server glue from the accepted socket (net::Listener gives
// the numeric address and port) and handed to the session, which uses it
// in log lines and the Received: header.
#pragma once

#include <cstdint>
#include <string>

namespace boxmail::proto {

/// The peer of a session.
struct ClientInfo {
  std::string address;   ///< numeric IP, e.g. "127.0.0.1" or "::1"
  std::uint16_t port = 0;
};

}  // namespace boxmail::proto

// control_client.hpp - one request to boxmaild's control socket (blocking,
// plain POSIX; for the web panel's CGI and tools, never for the daemon).
//
// Connects to the UNIX socket at `path`, sends `request`, a LF and the
// request's payload, if it has one (tls-install: the chain and key), reads
// the reply until the final "." line or EOF (at most 256 KiB), with a
// deadline of `timeout_ms` for the whole exchange. Errors (no daemon,
// permission, timeout, malformed reply) come back as text, never thrown.
#pragma once

#include "control/control_protocol.hpp"

#include <string>

namespace boxmail::control {

struct ClientResult {
  bool reached = false;   ///< a complete, well-formed reply arrived
  Reply reply;
  std::string error;      ///< why not, when !reached
};

/// One exchange (see the file comment); `payload` follows the request
/// line's LF as it is.
ClientResult control_request(const std::string& path, std::string_view request, int timeout_ms = 10000,
                             std::string_view payload = {});

}  // namespace boxmail::control

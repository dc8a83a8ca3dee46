// smtp_client.hpp - delivering messages to one SMTP server: the Asio glue
// around relay::ClientSession (I/O: sockets, timers, the message files).
//
// deliver() tries the targets in order (the addresses of one MX host, or
// of a smarthost; the DNS lookup and the MX order are the caller's): a
// connect that is refused, unreachable or not done within
// Timeouts::connect moves on to the next target, and so does a connection
// on which the session failed before any MAIL (ClientSession::host_failed:
// a 4xx/5xx greeting, EHLO/HELO, STARTTLS required and missing, AUTH, a
// lost connection), as RFC 5321 5.1 wants ("try the next address"). With
// TlsPolicy::Opportunistic a failed STARTTLS handshake is retried once on
// the same target without TLS (what MTAs do; the transcript says so).
//
// Per connection: a proto::TlsTransport in client mode (the project's one
// TLS implementation, tls/tls_stream.hpp) over the TCP socket, implicit TLS
// before the greeting when asked (RFC 8314 3.3, smarthosts on 465), and a
// net::Connection whose watchdog enforces the RFC 5321 4.5.3.2 timeouts:
// the one for the reply the session waits for (ClientSession::waiting_for),
// the data-block timeout for each block of the body. The STARTTLS rule of
// the client side: octets read in the clear and not yet used when the
// session asks for StartTls are dropped before the handshake.
//
// Bodies are read from each message's file descriptor with pread(2) in
// blocks of `block_size` octets from OutgoingMessage::offset (the file as received: CRLF
// lines, not dot-stuffed; the descriptor is not moved or closed) and sent
// through a proto::DotStuffer (LineEnds::Crlf). A read error stops the
// message without its final dot and closes the connection (temporary).
//
// Not the proto::Driver: the driver is shaped for the server side (it
// greets, it reads commands from a client, it answers shutdown and
// eviction); the client's loop is short and lives here.
//
// Runs on the calling coroutine's executor (one io_context thread).
#pragma once

#include "relay/client_session.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>

namespace boxmail::tls {
class ClientContext;
}

namespace boxmail::relay {

/// One address to try: the host's name (for SNI, the certificate check and
/// the transcript), its address and port.
struct Target {
  std::string host_name;
  boost::asio::ip::address address;
  std::uint16_t port = 25;
};

/// Time limits (RFC 5321 4.5.3.2 defaults; tests shorten them).
struct Timeouts {
  std::chrono::milliseconds connect{std::chrono::seconds(30)};    ///< TCP connect, per address
  std::chrono::milliseconds greeting{std::chrono::minutes(5)};    ///< initial 220
  std::chrono::milliseconds command{std::chrono::minutes(5)};     ///< EHLO/HELO, STARTTLS and its handshake, AUTH, RSET, QUIT
  std::chrono::milliseconds mail{std::chrono::minutes(5)};        ///< MAIL FROM
  std::chrono::milliseconds rcpt{std::chrono::minutes(5)};        ///< RCPT TO
  std::chrono::milliseconds data_init{std::chrono::minutes(2)};   ///< DATA's 354
  std::chrono::milliseconds data_block{std::chrono::minutes(3)};  ///< each block of the body written
  std::chrono::milliseconds data_end{std::chrono::minutes(10)};   ///< the reply to the final dot
};

/// One message: its envelope and the file its body is read from.
struct OutgoingMessage {
  OutgoingEnvelope envelope;   ///< envelope.size: the file's size (octets as sent before dot-stuffing)
  int fd = -1;                 ///< the message file (CRLF lines, not dot-stuffed); read with pread, not owned
  std::uint64_t offset = 0;    ///< octets at the file's start not sent (the queue's Return-Path: line)
};

/// What deliver() needs.
struct ClientRequest {
  std::vector<Target> targets;                     ///< in order of preference; at least one
  ClientOptions session;                           ///< EHLO name, TLS policy, AUTH
  bool implicit_tls = false;                       ///< TLS from the first octet (port 465); sets session.tls_on_connect
  std::shared_ptr<const tls::ClientContext> tls;   ///< how to check the server; null: no check (ClientVerify::None)
  Timeouts timeouts;
  std::size_t block_size = 64 * 1024;             ///< body octets read and sent at a time
  std::vector<OutgoingMessage> messages;
  /// When it points to true (the daemon is stopping), no transaction starts
  /// after the one in progress (ClientSession::stop) and no further target
  /// is tried; null: never.
  std::shared_ptr<const bool> stopping;
};

/// What happened.
struct DeliveryReport {
  std::vector<MessageResult> messages;   ///< per message, per recipient (the last connection's session)
  bool connected = false;                ///< a TCP connection was made to some target
  std::string host_name;                 ///< the target of the last connection (or the last tried)
  std::string address;                   ///< its address and port, "192.0.2.1:25" / "[2001:db8::1]:25"
  bool tls = false;                      ///< TLS was up on the last connection
  std::string cipher;                    ///< "TLSv1.2 TLS-ECDHE-..." when tls
  std::vector<std::string> transcript;   ///< every connection's dialogue in order ("-- ", "C: ", "S: " lines)
};

/// Delivers request.messages over one connection to the first target that
/// works (see the file comment). Never throws for network trouble: every
/// failure is in the report (recipients Temporary with a local reason when
/// no server said anything). Throws std::invalid_argument for a request
/// without targets or with a bad EHLO name, std::runtime_error when no TLS
/// context can be made.
boost::asio::awaitable<DeliveryReport> deliver(ClientRequest request);

}  // namespace boxmail::relay

// client_session.hpp - the SMTP client's state machine: one connection,
// one or more messages, RFC 5321 client side (pure: no sockets, clocks or
// files; the glue is relay/smtp_client.hpp).
//
// The caller (the glue) owns the connection and feeds the session what
// happened; the session answers with what to send and what to do next:
//
//   in:  receive(octets from the server)   the server's replies, any split
//        tls_started(ok)                   after Action::StartTls
//        body_sent()                       after Action::SendBody: the body
//                                          (dot-stuffed, ending CRLF.CRLF) is written
//        connection_lost(why, cause)       EOF, a read/write error, a timeout
//   out: ClientOutput { send: commands (CRLF-ended), action, used }
//
// Actions: None (read the next reply), StartTls (write `send`, then DROP
// every octet read and not yet used - `used` says how far the session got -
// and run the client handshake: a man in the middle must not be able to
// plant replies in the clear that are then taken as the TLS server's, the
// client side of CVE-2011-0411), SendBody (write `send`, then message
// current_message()'s body; nothing is read meanwhile), Close (write
// `send`, then close the connection; results() is final).
//
// The dialogue (RFC 5321 3, 4.1):
//   - 220 greeting; any other reply fails the connection (temporary for
//     every recipient: the caller may try the next host; as Postfix's
//     smtp_skip_5xx_greeting, a 5xx greeting says nothing about the
//     recipients);
//   - EHLO; a 5xx answer falls back to HELO (RFC 5321 4.1.1.1; no
//     extensions then); a 4xx fails the connection;
//   - extensions (RFC 5321 4.1.1.1, 2.2.2): PIPELINING (RFC 2920), SIZE n
//     (RFC 1870), 8BITMIME (RFC 6152), STARTTLS (RFC 3207), AUTH (RFC 4954),
//     ENHANCEDSTATUSCODES (RFC 2034);
//   - STARTTLS per TlsPolicy: None never; Opportunistic when offered (a
//     refusal such as 454 continues in the clear; a failed handshake fails
//     the connection, the glue may try again without TLS); Required: not
//     offered, refused or failed is a temporary failure (4.7.10). After the
//     handshake EHLO again and forget what was learnt before (RFC 3207 4.2);
//   - AUTH (RFC 4954) when credentials are given and the server offers AUTH:
//     PLAIN (RFC 4616, with an initial response) when offered, else LOGIN
//     (two 334 prompts); no other mechanism. Credentials are never sent
//     unless TLS is up or allow_plaintext_auth says so: with AUTH offered in
//     the clear the connection fails temporarily (4.7.10) instead. Without
//     AUTH offered the session goes on unauthenticated (the server will say
//     what it thinks at MAIL or RCPT). A refused AUTH (535 and other
//     replies) fails the connection temporarily, whatever its class: a
//     wrong password is the sender's configuration, not the recipient's
//     fault, and must not bounce mail (Postfix's smtp_sasl_auth_soft_bounce);
//   - per message: a message larger than the server's SIZE (n > 0) fails
//     permanently, 5.3.4, without being sent; else MAIL FROM:<path>
//     [SIZE=n] [BODY=8BITMIME], RCPT TO:<addr> each, DATA. With PIPELINING
//     these go in one write (RFC 2920 3.1: DATA last in the group) and the
//     replies are matched in order; without, one command per reply, and
//     DATA only after an accepted RCPT;
//   - BODY=8BITMIME goes with a message marked eight_bit when the server
//     offers 8BITMIME. When it does not, the message is sent as it is,
//     without BODY= (what Postfix does by default for a message without
//     MIME structure it could convert; RFC 6152 says a client should
//     convert or bounce, but a 7-bit conversion needs a MIME rewriter this
//     box does not have, and servers accept 8-bit data in practice);
//   - DATA: 354 and at least one RCPT accepted: Action::SendBody, then the
//     final reply decides for every accepted recipient. 354 with no
//     accepted RCPT (only with pipelining): send ".\r\n" alone and ignore
//     its reply (RFC 2920 3.1). DATA refused: every accepted recipient gets
//     that reply;
//   - RSET between messages on one connection (after a failed RSET the
//     rest fail temporarily and the connection closes), QUIT at the end.
//
// Results: every recipient ends Accepted (2xx after the final dot),
// Temporary (4xx, or a local reason: the connection was lost, timed out,
// a reply did not parse) or Permanent (5xx, or SIZE). A 421 at any point
// fails everything not finished temporarily and ends the session (RFC 5321
// 3.8: no QUIT). A malformed reply - a line that is not "ddd", "ddd
// text" or "ddd-text", a code outside 2xx-5xx, a continuation with another
// code, a line over kMaxReplyLine octets, more than kMaxReplyLines lines -
// or a reply nobody asked for fails the connection temporarily (4.5.0).
// host_failed() tells the glue whether the failure came before any MAIL
// (so the next host may be tried for every message).
//
// Transcript: every command sent ("C: ...", AUTH responses replaced by
// "<credentials hidden>"), every reply line ("S: ..."), and the session's
// own notes ("-- ..."), at most kMaxTranscript octets. No password or
// base64 of one ever enters it.
#pragma once

#include "proto/line_reader.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boxmail::relay {

/// STARTTLS policy (RFC 3207; RFC 7435 opportunistic security).
enum class TlsPolicy {
  None,            ///< never STARTTLS
  Opportunistic,   ///< STARTTLS when offered; a refusal continues in the clear
  Required,        ///< STARTTLS or nothing: not offered, refused or failed is a temporary failure
};

/// The SASL credentials for AUTH (RFC 4954), as the smarthost knows them.
struct AuthCredentials {
  std::string user;       ///< authentication identity (UTF-8, no NUL)
  std::string password;   ///< no NUL
};

/// Session options (plain data; the glue fills them in from the configuration).
struct ClientOptions {
  std::string ehlo_name;                  ///< our host name for EHLO/HELO (a domain or address literal; no blanks or controls)
  TlsPolicy tls = TlsPolicy::Opportunistic;
  bool tls_on_connect = false;            ///< implicit TLS (RFC 8314 3.3, port 465): TLS is up before the greeting; no STARTTLS
  std::optional<AuthCredentials> auth;    ///< AUTH when offered (see the file comment)
  bool allow_plaintext_auth = false;      ///< send credentials without TLS (a trusted LAN smarthost only)
};

/// One message to send: its envelope and what the session must know of its
/// content. The body itself is the glue's (Action::SendBody).
struct OutgoingEnvelope {
  std::string reverse_path;              ///< MAIL FROM address without <>; empty: the null reverse-path <> (bounces)
  std::vector<std::string> recipients;   ///< RCPT TO addresses without <>
  std::uint64_t size = 0;                ///< octets as sent, CRLF line ends, before dot-stuffing (RFC 1870 SIZE=)
  bool eight_bit = false;                ///< the content has octets over 127 (RFC 6152 BODY=8BITMIME)
};

/// Where in the dialogue a reply came (for DSNs: "in reply to RCPT TO").
enum class Stage { Connect, Greeting, Ehlo, Helo, StartTls, Tls, Auth, Mail, Rcpt, Data, Body, Rset, Quit };

/// The SMTP command or step a Stage stands for ("RCPT TO", "end of data").
std::string_view stage_name(Stage s);

/// A recipient's (or message's) fate.
enum class Status {
  Pending,     ///< not decided yet (never after the session closed)
  Accepted,    ///< the server took responsibility (2xx after the final dot)
  Temporary,   ///< try again later (4xx, or a local temporary reason)
  Permanent,   ///< do not try again: bounce (5xx, or too large for the server's SIZE)
};

/// A lower-case word for `s` ("accepted", "temporary", ...).
std::string_view status_name(Status s);

/// One server reply, whole (all lines of a multi-line reply).
struct Reply {
  int code = 0;                     ///< 200..599
  std::string enhanced;             ///< RFC 3463 "x.y.z" from the first line when present (class = the code's first digit), else empty
  std::vector<std::string> lines;   ///< each line's text after "ddd-" / "ddd " (may be empty)

  /// The text of all lines joined by " ", the enhanced code left in.
  std::string text() const;
  /// "CODE TEXT" on one line, e.g. "550 5.1.1 <x@y>: user unknown".
  std::string summary() const;
};

/// What befell one recipient (or a whole message).
struct RecipientResult {
  std::string address;
  Status status = Status::Pending;
  Stage stage = Stage::Connect;   ///< the command whose reply decided (Body: the final dot)
  int code = 0;                   ///< the server's reply code; 0 when decided here (see `remote`)
  std::string enhanced;           ///< RFC 3463 code: the server's, or ours for a local reason
  std::string text;               ///< the server's reply text, or our reason
  bool remote = false;            ///< true: `code`/`text` are the server's reply
  bool tried = true;              ///< false: never offered to the server because the client was
                                  ///< stopping (ClientSession::stop); Temporary, not an attempt
};

/// What befell one message on this connection.
struct MessageResult {
  std::vector<RecipientResult> recipients;   ///< in the envelope's order
  bool body_sent = false;                    ///< the body was transmitted (DATA got 354 and at least one RCPT was accepted)
  std::optional<Reply> final_reply;          ///< the reply to the final dot ("250 2.0.0 Ok: queued as ...")

  /// Accepted when every recipient is, Permanent when every one is,
  /// Pending when any is, else Temporary (a mixed result: see recipients).
  Status status() const;
};

/// What the glue does after writing ClientOutput::send.
enum class ClientAction {
  None,       ///< read the next reply and feed it to receive()
  StartTls,   ///< drop unread input, run the client TLS handshake, call tls_started()
  SendBody,   ///< send message current_message()'s body, dot-stuffed, then call body_sent()
  Close,      ///< close the connection; the session is over
};

/// What the session asks of the glue.
struct ClientOutput {
  std::string send;                          ///< commands to write (CRLF-ended; may be several: pipelining)
  ClientAction action = ClientAction::None;
  std::size_t used = 0;                      ///< receive(): octets of its input used (less only with an action)
};

/// Why the connection went away (connection_lost).
enum class LossCause { Closed, Error, Timeout };

/// The client session (see the file comment). Single-threaded, no I/O.
class ClientSession {
 public:
  /// Longest reply line taken, octets including CRLF. RFC 5321 4.5.3.1.5
  /// says 512; servers send longer texts, so 2048 as Postfix's
  /// line_length_limit.
  static constexpr std::size_t kMaxReplyLine = 2048;
  /// Most lines in one reply (an EHLO reply has a dozen).
  static constexpr std::size_t kMaxReplyLines = 100;
  /// Transcript limit in octets; past it one "-- transcript truncated" line.
  static constexpr std::size_t kMaxTranscript = 64 * 1024;

  /// Throws std::invalid_argument when ehlo_name is empty or holds a blank,
  /// a control octet, or a non-ASCII octet (what the caller configured, not
  /// the network's input). An address with a control or non-ASCII octet
  /// (no SMTPUTF8 here), '<' or '>' is not sent: that recipient (or, for
  /// the reverse path, the whole message) fails permanently (5.1.3 / 5.1.7 /
  /// 5.6.7) before the dialogue.
  ClientSession(ClientOptions options, std::vector<OutgoingEnvelope> messages);

  /// The server's octets (any split, down to one at a time). Uses input
  /// until an action other than None comes up (`used`).
  ClientOutput receive(std::string_view in);
  /// After Action::StartTls: the handshake worked (`ok`) or not; `why` is
  /// the TLS layer's reason for a failure (e.g. "the server's certificate
  /// (SHA-256 ...) is not the pinned one"), kept in every pending
  /// recipient's text after "the TLS handshake failed: " (4.7.5), so the
  /// queue's log line, envelope and notices say what went wrong.
  ClientOutput tls_started(bool ok, std::string_view why = {});
  /// After Action::SendBody: the body and its terminator are written.
  ClientOutput body_sent();
  /// The connection ended (EOF, error, timeout; `why` for the text): every
  /// recipient not decided fails temporarily (4.4.2). Returns Close.
  ClientOutput connection_lost(std::string_view why, LossCause cause);

  /// No connection could be made to any address of the host (`why`: the
  /// last error): every recipient fails temporarily (Stage::Connect,
  /// 4.4.1, host_failed()). Returns Close.
  ClientOutput connect_failed(std::string_view why);

  /// The client is stopping (the daemon's clean shutdown): no transaction
  /// starts after the one in progress; every message not begun gets its
  /// pending recipients Temporary with `tried` false (Stage::Mail, 4.3.2,
  /// "not tried: the client is stopping") and the session sends QUIT.
  /// Takes effect at the next transaction boundary; idempotent.
  void stop() { stopping_ = true; }

  /// The message whose body Action::SendBody asks for (index into the constructor's list).
  std::size_t current_message() const { return current_; }
  /// The stage whose reply the session waits for (the glue picks its
  /// timeout from it: RFC 5321 4.5.3.2); nullopt when it waits for nothing.
  std::optional<Stage> waiting_for() const;
  /// True once Action::Close was returned.
  bool closed() const { return closed_; }
  /// True when TLS is up (after STARTTLS, or tls_on_connect).
  bool secure() const { return secure_; }
  /// True when the connection failed before the first MAIL was sent:
  /// every recipient is Temporary for a reason of this host, not of the mail.
  bool host_failed() const { return host_failed_; }
  /// True when the STARTTLS handshake failed (tls_started(false)): with
  /// TlsPolicy::Opportunistic the glue may connect again without TLS, as
  /// MTAs do.
  bool tls_failed() const { return tls_failed_; }
  /// Per message, in the constructor's order. Final once closed().
  const std::vector<MessageResult>& results() const { return results_; }
  /// The dialogue as text lines (see the file comment).
  const std::vector<std::string>& transcript() const { return transcript_; }
  /// Appends "-- NOTE" to the transcript (the glue: connects, TLS details).
  void note(std::string_view text);
  /// The extensions the server announced in its last EHLO reply.
  bool offers_pipelining() const { return ext_.pipelining; }
  bool offers_starttls() const { return ext_.starttls; }
  bool offers_8bitmime() const { return ext_.eight_bit_mime; }
  /// SIZE's limit in octets: nullopt when not announced, 0 when announced without a limit.
  std::optional<std::uint64_t> size_limit() const { return ext_.size; }

 private:
  struct Extensions {
    bool esmtp = false;
    bool pipelining = false;
    bool starttls = false;
    bool eight_bit_mime = false;
    bool auth_plain = false;
    bool auth_login = false;
    bool auth = false;
    std::optional<std::uint64_t> size;
  };
  enum class Expect { Greeting, Ehlo, Helo, StartTls, AuthPlain, AuthLoginUser, AuthLoginPass, AuthDone,
                      Mail, Rcpt, Data, Dot, EmptyDot, Rset, Quit };
  struct Pending {
    Expect what;
    std::size_t index = 0;   // Rcpt: the recipient's index in the message
  };

  static Stage stage_of(Expect e);
  void on_reply(const Reply& r, ClientOutput& out);
  void after_hello(ClientOutput& out);
  void start_auth(ClientOutput& out);
  void next_message(ClientOutput& out);
  void begin_transaction(ClientOutput& out);
  void after_rcpts(ClientOutput& out);
  void finish_message(ClientOutput& out);
  void quit(ClientOutput& out);
  void command(ClientOutput& out, Expect what, std::string line, std::size_t index = 0,
               std::string_view shown = {});
  void fail_rest(ClientOutput& out, Status status, Stage stage, const Reply* reply, std::string_view enhanced,
                 std::string_view text, bool send_quit);
  void decide(RecipientResult& r, Status status, Stage stage, const Reply* reply, std::string_view enhanced,
              std::string_view text);
  void protocol_error(ClientOutput& out, std::string_view text);
  void add_transcript(std::string line);
  bool any_accepted() const;
  std::string size_and_body_params(const OutgoingEnvelope& m) const;

  ClientOptions options_;
  std::vector<OutgoingEnvelope> messages_;
  std::vector<MessageResult> results_;
  std::vector<bool> rcpt_ok_;   // current message: RCPT accepted (pending the final dot)
  std::deque<Pending> expect_;
  Extensions ext_;
  proto::LineReader reader_{kMaxReplyLine};
  Reply partial_;               // a multi-line reply being read
  bool in_reply_ = false;
  std::size_t current_ = 0;
  std::size_t next_rcpt_ = 0;   // without pipelining: the next recipient to ask for
  bool mail_ok_ = false;
  bool sending_body_ = false;
  bool tls_failed_ = false;
  bool secure_ = false;
  bool tried_tls_ = false;
  bool authenticated_ = false;
  bool sent_mail_ = false;
  bool stopping_ = false;
  bool host_failed_ = false;
  bool closed_ = false;
  std::size_t transcript_octets_ = 0;
  bool transcript_full_ = false;
  std::vector<std::string> transcript_;
};

/// Parses one reply line: the code (200..599) and whether more lines
/// follow ("ddd-"); nullopt when malformed (RFC 5321 4.2: "ddd", "ddd SP
/// text", "ddd-text"). `text` is what follows the separator.
struct ReplyLine {
  int code = 0;
  bool more = false;
  std::string_view text;
};
std::optional<ReplyLine> parse_reply_line(std::string_view line);

/// The RFC 3463 enhanced status code at the start of `text` ("5.1.1 ..."),
/// when its class digit is `code`'s first digit and it is followed by a
/// blank or the end; else empty. Parts: class 2/4/5, subject 0-999, detail 0-999.
std::string_view enhanced_code(int code, std::string_view text);

}  // namespace boxmail::relay

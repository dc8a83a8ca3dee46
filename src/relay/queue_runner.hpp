// queue_runner.hpp - the outgoing queue's scheduler: picks due messages,
// routes them (MX, the domain's address, or the smarthost), delivers them
// with the SMTP client, records each recipient's fate, and sends failure
// and delay notices (Asio glue; docs/relay.md, docs/queue.md).
//
// One runner per daemon, on the event loop. Per round:
//   1. QueueIndex::take_due gives the messages due now, per destination
//      only as many as its free connections carry (the others stay in
//      the index unread); their envelopes are read (on the runner's file
//      thread, never on the loop);
//   2. plan_connections groups the due recipients by destination domain
//      within [relay] max_deliveries / max_deliveries_per_destination;
//   3. each connection runs as its own coroutine: for each method of
//      [relay] route in order (mx: dns::Resolver::route, RFC 5321 5.1;
//      direct: the domain's A/AAAA; smarthost: [relay] smarthost with its
//      TLS policy, pin and login), relay::deliver; a method that reaches
//      no server, or whose every recipient failed temporarily before any
//      MAIL (the host failed), hands over to the next;
//   4. when a message's last connection of the round ends, its recipients'
//      new states (schedule.hpp after_attempt) are written (envelope
//      replaced crash-safely), a failure notice (RFC 3464) for those that
//      failed and a delay notice when due are made durable first, and a
//      message with nothing pending is removed.
// Notices to a local address (the box's own domains, postmaster) go
// straight into the Maildir through the Committer; others into the queue.
//
// Crash safety: a state update written after a delivery may be lost by a
// crash (the recipient is tried again: a duplicate delivery, which the
// promise allows); a notice is durable before the entry that caused it is
// updated or removed.
//
// Every attempt is logged: "QID: to=<rcpt> relay=HOST[ADDR]:PORT
// status=sent|deferred|bounced (REPLY)".
//
// A test message (send_test, the control socket's relay-test) takes the
// same route by the same code (send_by_route) at once, without the queue
// and outside the connection limits: one test at a time, shorter SMTP
// timeouts (15 s a step), and an answer within
// control::kRelayTestSeconds whatever happens (past it the test goes on
// and only its log line tells the end).
#pragma once

#include "address/resolve.hpp"
#include "config/account.hpp"
#include "config/config.hpp"
#include "control/control_replies.hpp"
#include "dns/resolver.hpp"
#include "relay/dispatch.hpp"
#include "relay/smtp_client.hpp"
#include "store/queue.hpp"
#include "store/queue_index.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

namespace boxmail::dns {
class Resolver;
}
namespace boxmail::store {
class Committer;
}

namespace boxmail::relay {

/// What the runner reads from the daemon, each time it needs it.
struct RunnerSources {
  std::function<config::ConfigPtr()> config;                              ///< the current snapshot
  std::function<std::shared_ptr<const config::AccountTable>()> accounts;  ///< the current accounts
  std::string hostname;                                                   ///< our name (EHLO, notices)
  std::string spool_tmp;                                                  ///< spool_dir/tmp, for local notices
  store::Committer* committer = nullptr;                                  ///< local delivery of notices (outlives the runner)
};

/// Counters for `status` and the bench.
struct RunnerStats {
  std::uint64_t delivered = 0;   ///< recipients accepted by a remote server
  std::uint64_t deferred = 0;    ///< temporary failures
  std::uint64_t bounced = 0;     ///< recipients failed for good
  std::uint64_t notices = 0;     ///< failure and delay notices made
  std::size_t queued = 0;        ///< messages in the queue now
  std::size_t connections = 0;   ///< outgoing connections open now
};

/// The result of a control-socket queue command.
struct QueueCommandResult {
  bool ok = false;
  std::string text;                 ///< head text ("3 messages", or the error)
  std::vector<std::string> lines;   ///< body lines (store::describe_queued)
};

class QueueRunner {
 public:
  /// `queue` is open and scanned into `index` (store::Queue::scan).
  QueueRunner(boost::asio::io_context& io, std::shared_ptr<store::Queue> queue, store::QueueIndex index,
              RunnerSources sources);
  ~QueueRunner();
  QueueRunner(const QueueRunner&) = delete;
  QueueRunner& operator=(const QueueRunner&) = delete;

  /// Starts the scheduling loop.
  void start();
  /// Stops it: no new connection; open ones end with the io_context.
  void stop();
  /// Stops taking work and calls `done` (posted on the loop) once the
  /// connections in progress have ended and their results are on disk
  /// (entries updated or removed), so that a clean stop does not send a
  /// message again after the restart. The caller bounds the wait (the
  /// daemon's 30 s drain deadline); a connection still open then ends with
  /// the io_context and its messages are tried again after the restart.
  void shutdown(std::function<void()> done);

  /// A new entry is durable (SmtpServer's queued hook): index it, wake up.
  void queued(const store::QueueEnvelope& e);
  /// The configuration changed (SIGHUP): take the new [dns] and limits.
  void reconfigure();

  // Control-socket commands (control_protocol.hpp `queue ...`). Blocking
  // reads of the envelopes; called on the loop.
  QueueCommandResult list();
  QueueCommandResult show(const std::string& queue_id);
  /// Removes a message that is not being delivered right now.
  QueueCommandResult remove(const std::string& queue_id);
  /// Makes every pending recipient of one message due now.
  QueueCommandResult retry(const std::string& queue_id);
  /// Makes every message due now.
  QueueCommandResult flush();

  RunnerStats stats() const;

  /// Sends a test message (relay/test_message.hpp) to `address` from
  /// `sender` (the reverse-path without <>; "": the null sender) through
  /// [relay] route now and says how it went, with the SMTP transcript (at
  /// most kMaxRouteTranscript octets; no AUTH response in it). Refused
  /// without trying: a bad or local address, route none, a test already
  /// running. Answers within control::kRelayTestSeconds.
  boost::asio::awaitable<control::RelayTestReply> send_test(std::string address, std::string sender);

  /// The most transcript octets send_test returns.
  static constexpr std::size_t kMaxRouteTranscript = 32 * 1024;

 private:
  /// What one trip through [relay] route gave.
  struct RouteResult {
    enum class Kind {
      Reached,     ///< a server decided for the recipients: `report`
      Permanent,   ///< routing failed for good (null MX, NXDOMAIN): `enhanced`, `text`
      NoServer,    ///< no method reached a server that took MAIL: `text` says the last problem
      Stopped,     ///< the daemon stopped before the next method was tried: not an attempt
    };
    Kind kind = Kind::NoServer;
    DeliveryReport report;                 ///< Reached: the deciding connection's (its transcript moved out)
    std::string relay;                     ///< Reached: "host[address:port]", " (TLS)" when it was up
    std::string enhanced;                  ///< Permanent: RFC 3463 code
    std::string text;                      ///< Permanent, NoServer: why
    std::vector<std::string> transcript;   ///< when asked: every method's notes and dialogue, bounded
  };
  struct TestWait;       // send_test's rendezvous with its delivery
  /// Tries [relay] route's methods in order for `outgoing` (all for the
  /// domain `dest`), as the file comment's step 3 says.
  boost::asio::awaitable<RouteResult> send_by_route(std::string dest, std::vector<OutgoingMessage> outgoing,
                                                    Timeouts timeouts, bool keep_transcript);
  boost::asio::awaitable<void> run_test(std::string address, std::string sender, std::shared_ptr<TestWait> wait);

  struct Inflight;       // one message during a round
  struct Notice;         // a notice to send once a message's round ends
  boost::asio::awaitable<void> loop();
  boost::asio::awaitable<void> run_connection(PlannedConnection pc);
  /// Ends a message's round: notices, then its entry updated, or, with
  /// every recipient done, its id appended to `done` (the caller removes a
  /// connection's finished entries together: remove_finished).
  boost::asio::awaitable<void> finish(std::string queue_id, std::vector<std::string>& done);
  /// Removes finished entries with one directory sync (Queue::remove_all)
  /// and forgets them.
  boost::asio::awaitable<void> remove_finished(std::vector<std::string> done);
  boost::asio::awaitable<void> send_notice(Notice notice);
  void record(Inflight& m, std::size_t index, const RecipientResult& r, const std::string& relay);
  /// Runs `work` on the file thread; resumes on the loop when it is done.
  boost::asio::awaitable<void> on_files(std::function<void()> work);
  dns::Resolver& resolver();
  std::int64_t now() const;

  boost::asio::io_context& io_;
  std::shared_ptr<store::Queue> queue_;
  store::QueueIndex index_;
  RunnerSources sources_;
  boost::asio::steady_timer wake_;
  boost::asio::thread_pool files_{1};
  std::unique_ptr<dns::Resolver> resolver_;
  dns::ResolverOptions resolver_options_;   // what resolver_ was made from
  ConnectionSlots slots_;
  std::map<std::string, std::shared_ptr<Inflight>> inflight_;
  RunnerStats stats_;
  bool running_ = false;
  bool trimmed_ = false;
  std::shared_ptr<bool> stopping_ = std::make_shared<bool>(false);   // ClientRequest::stopping
  std::function<void()> on_drained_;   // shutdown()'s callback, until the last connection ends
  void drained_check();   // malloc_trim done since the last round (loop)
  bool test_running_ = false;
  std::uint64_t notice_seq_ = 0;
};

}  // namespace boxmail::relay

// queue_runner.cpp - see queue_runner.hpp.
#include "relay/queue_runner.hpp"

#include "control/smarthost_login.hpp"
#include "dns/resolver.hpp"
#include "net/log.hpp"
#include "process/os_random.hpp"
#include "relay/dsn.hpp"
#include "relay/schedule.hpp"
#include "relay/test_message.hpp"
#include "store/committer.hpp"
#include "store/maildir_name.hpp"
#include "store/queue_envelope.hpp"
#include "store/spool_file.hpp"
#include "tls/client_context.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <utility>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <malloc.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace boxmail::relay {
namespace asio = boost::asio;

namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

/// What the SMTP client needs to know of a message file: the octets it
/// sends (an LF becomes CRLF: at most one more octet per line) and whether
/// any is 8-bit. Reads from `offset`.
struct BodyFacts {
  std::uint64_t size = 0;
  bool eight_bit = false;
  int error = 0;
};

BodyFacts body_facts(int fd, std::uint64_t offset) {
  BodyFacts f;
  char buf[64 * 1024];
  off_t at = static_cast<off_t>(offset);
  for (;;) {
    const ssize_t n = ::pread(fd, buf, sizeof buf, at);
    if (n < 0) {
      if (errno == EINTR) continue;
      f.error = errno;
      return f;
    }
    if (n == 0) return f;
    for (ssize_t i = 0; i < n; ++i) {
      const auto c = static_cast<unsigned char>(buf[i]);
      if (c >= 0x80) f.eight_bit = true;
      f.size += c == '\n' ? 2 : 1;
    }
    at += n;
  }
}

/// The first `limit` octets of the file from `offset` (for the notices'
/// copy of the original header section).
std::string read_head(int fd, std::uint64_t offset, std::size_t limit) {
  std::string out(limit, '\0');
  std::size_t got = 0;
  while (got < limit) {
    const ssize_t n = ::pread(fd, out.data() + got, limit - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  return out;
}

/// CRLF -> LF (messages in the store and the queue have LF line ends).
std::string to_lf(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    out += text[i];
  }
  return out;
}

/// "host:port" / "[v6]:port" / "host" of [relay] smarthost.
struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};

HostPort split_host_port(const std::string& text, std::uint16_t default_port) {
  HostPort hp{text, default_port};
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    hp.host = text.substr(1, close - 1);
    if (close + 2 < text.size()) hp.port = static_cast<std::uint16_t>(std::stoul(text.substr(close + 2)));
  } else if (const auto colon = text.find(':'); colon != std::string::npos) {
    hp.host = text.substr(0, colon);
    hp.port = static_cast<std::uint16_t>(std::stoul(text.substr(colon + 1)));
  }
  return hp;
}

/// One line for the log and the envelope: "550 5.1.1 <x>: user unknown".
std::string reply_text(const RecipientResult& r) {
  std::string out;
  if (r.code != 0) out = std::to_string(r.code) + " ";
  if (!r.enhanced.empty() && (r.text.rfind(r.enhanced, 0) != 0)) out += r.enhanced + " ";
  out += r.text;
  return out;
}

/// The RFC 3463 status for a notice: a local reason recorded as
/// "5.1.2 text" gives its own code; a server's reply goes to dsn_status.
std::string notice_status(const std::string& last_reply, DsnAction action, bool expired) {
  const bool local_code = last_reply.size() >= 5 && (last_reply[0] == '4' || last_reply[0] == '5') &&
                          last_reply[1] == '.' && std::isdigit(static_cast<unsigned char>(last_reply[2]));
  if (local_code && !expired) {
    const std::string code = last_reply.substr(0, last_reply.find(' '));
    const char want = action == DsnAction::Failed ? '5' : '4';
    if (code[0] == want) return code;
  }
  return dsn_status(last_reply, action, expired);
}

Outcome outcome_of(Status s) {
  switch (s) {
    case Status::Accepted: return Outcome::Delivered;
    case Status::Permanent: return Outcome::Permanent;
    case Status::Pending:
    case Status::Temporary: break;
  }
  return Outcome::Temporary;
}

RetryPolicy policy_of(const config::Config& c) {
  RetryPolicy p;
  p.retry_min = c.relay.retry_min;
  p.retry_max = c.relay.retry_max;
  p.max_lifetime = c.relay.max_lifetime;
  p.delay_notice_after = c.relay.delay_notice_after;
  return p;
}

DispatchLimits limits_of(const config::Config& c) {
  DispatchLimits l;
  l.max_total = c.relay.max_deliveries;
  l.per_destination = c.relay.max_deliveries_per_destination;
  return l;
}

/// True when every recipient of `report` failed temporarily before the
/// server saw a MAIL: the host (or the route) did not work at all.
bool host_failed(const DeliveryReport& report) {
  if (!report.connected) return true;
  for (const MessageResult& m : report.messages) {
    for (const RecipientResult& r : m.recipients) {
      if (r.status != Status::Temporary) return false;
      if (r.stage == Stage::Mail || r.stage == Stage::Rcpt || r.stage == Stage::Data || r.stage == Stage::Body) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

/// One message during a round: its envelope (the loop thread's copy), its
/// data file, and what the round decided.
struct QueueRunner::Inflight {
  store::QueueEnvelope envelope;
  int fd = -1;                          ///< the data file, open while connections use it
  BodyFacts facts;
  int connections = 0;                  ///< connections of this round still running
  std::vector<std::size_t> failed_now;  ///< recipients failed in this round
  std::vector<bool> expired;            ///< per failed_now: because max_lifetime passed
  ~Inflight() {
    if (fd >= 0) ::close(fd);
  }
};

/// A notice to send: to whom, what kind, the message (CRLF).
struct QueueRunner::Notice {
  std::string to;
  store::NoticeKind kind = store::NoticeKind::Failure;
  std::string text;
  std::string about;   ///< the queue id it is about (for the log)
};

QueueRunner::QueueRunner(asio::io_context& io, std::shared_ptr<store::Queue> queue, store::QueueIndex index,
                         RunnerSources sources)
    : io_(io),
      queue_(std::move(queue)),
      index_(std::move(index)),
      sources_(std::move(sources)),
      wake_(io),
      slots_(limits_of(*sources_.config())) {}

QueueRunner::~QueueRunner() {
  stop();
  files_.join();
}

std::int64_t QueueRunner::now() const { return static_cast<std::int64_t>(std::time(nullptr)); }

asio::awaitable<void> QueueRunner::on_files(std::function<void()> work) {
  // One coroutine type for every job: the file thread runs `work`, and the
  // caller resumes on the loop (co_spawn's completion goes to its executor).
  auto job = [w = std::move(work)]() -> asio::awaitable<void> {
    w();
    co_return;
  };
  auto token = asio::use_awaitable;
  co_await asio::co_spawn(files_.get_executor(), std::move(job), token);
}

dns::Resolver& QueueRunner::resolver() {
  const config::ConfigPtr cfg = sources_.config();
  const dns::ResolverOptions o = dns::resolver_options(cfg->dns);
  if (!resolver_ || !(resolver_options_ == o)) {
    // A resolver with lookups pending is kept until they end (they hold
    // it); the next call after that makes the new one.
    if (!resolver_ || resolver_->pending() == 0) {
      resolver_ = std::make_unique<dns::Resolver>(io_.get_executor(), o);
      resolver_options_ = o;
    }
  }
  return *resolver_;
}

void QueueRunner::start() {
  if (running_) return;
  running_ = true;
  stats_.queued = index_.size();
  asio::co_spawn(io_, loop(), asio::detached);
}

void QueueRunner::stop() {
  running_ = false;
  wake_.cancel();
}

void QueueRunner::shutdown(std::function<void()> done) {
  stop();
  *stopping_ = true;   // connections end after their transaction in progress
  on_drained_ = std::move(done);
  drained_check();
}

void QueueRunner::drained_check() {
  if (!on_drained_ || slots_.active() != 0 || !inflight_.empty()) return;
  asio::post(io_, std::move(on_drained_));
  on_drained_ = nullptr;
}

void QueueRunner::queued(const store::QueueEnvelope& e) {
  const auto id = store::parse_queue_id(e.queue_id);
  if (!id) return;
  index_.put(store::QueueItem{*id, store::earliest_attempt(e).value_or(0), store::destination_of(e)});
  stats_.queued = index_.size();
  wake_.cancel();
}

void QueueRunner::reconfigure() {
  slots_.set_limits(limits_of(*sources_.config()));
  wake_.cancel();
}

asio::awaitable<void> QueueRunner::loop() {
  while (running_) {
    const config::ConfigPtr cfg = sources_.config();
    const std::int64_t t = now();
    std::vector<store::QueueItem> due;
    // With `route = none` (set after mail was queued) messages still come
    // due: each attempt is a deferral "no outgoing mail route is
    // configured" (run_connection), so the queue shows why and the
    // lifetime still ends in a failure notice instead of mail kept forever.
    if (slots_.active() < slots_.limits().max_total) {
      // Take only what the free connections can carry: per destination key
      // its free slots x messages_per_connection, in all the free slots'
      // worth. A destination at its limit stays in the index unread (a
      // connection's end wakes the loop) instead of being read, found no
      // slot and put back for a second.
      const DispatchLimits& lim = slots_.limits();
      const std::size_t per_conn = std::max<std::size_t>(lim.messages_per_connection, 1);
      std::size_t total_room = (lim.max_total - slots_.active()) * per_conn;
      std::map<std::uint32_t, std::size_t> room;
      auto admit = [&](std::uint32_t key) {
        if (total_room == 0) return false;
        if (key != store::kSeveralDestinations) {
          auto [it, fresh] = room.try_emplace(key, 0);
          if (fresh) {
            const std::size_t open = slots_.active_with_key(key);
            it->second = open < lim.per_destination ? (lim.per_destination - open) * per_conn : 0;
          }
          if (it->second == 0) return false;
          --it->second;
        }
        --total_room;
        return true;
      };
      due = index_.take_due(t, std::min<std::size_t>(200, total_room), admit);
    }
    if (due.empty()) {
      // Sleep until the next message is due, or a new one / a command wakes us.
      const auto next = index_.next_due();
      const std::int64_t wait = next ? std::max<std::int64_t>(*next - t, 1) : 3600;
      // Idle (nothing in flight, no connection): give back what the rounds
      // freed, here and in the file thread's arena (idle memory; the SMTP
      // server does the same when its last session ends).
      if (inflight_.empty() && slots_.active() == 0 && !trimmed_) {
        ::malloc_trim(0);
        trimmed_ = true;
      }
      wake_.expires_after(std::chrono::seconds(std::min<std::int64_t>(wait, 3600)));
      co_await wake_.async_wait(kAwait);
      continue;
    }
    trimmed_ = false;
    // Read the envelopes and open the data files on the file thread.
    std::vector<std::string> ids;
    for (const store::QueueItem& item : due) ids.push_back(store::queue_id_from(item.id));
    struct Loaded {
      std::string id;
      std::optional<store::QueueEnvelope> envelope;
      std::string error;
      int fd = -1;
      BodyFacts facts;
    };
    auto load = [q = queue_, ids]() {
      std::vector<Loaded> out;
      for (const std::string& id : ids) {
        Loaded l;
        l.id = id;
        l.envelope = q->read(id, l.error);
        if (l.envelope) {
          l.fd = q->open_data(id);
          if (l.fd < 0) {
            l.error = q->dir() + "/" + id + ": " + std::strerror(errno);
          } else {
            l.facts = body_facts(l.fd, l.envelope->skip);
          }
        }
        out.push_back(std::move(l));
      }
      return out;
    };
    std::vector<Loaded> loaded;
    std::function<void()> job = [&loaded, &load] { loaded = load(); };
    co_await on_files(std::move(job));
    std::vector<DueRecipient> due_rcpts;
    for (Loaded& l : loaded) {
      const std::uint64_t number = *store::parse_queue_id(l.id);
      if (!l.envelope || l.fd < 0 || l.facts.error != 0) {
        if (l.fd >= 0) ::close(l.fd);
        const std::string why = l.facts.error ? std::strerror(l.facts.error) : l.error;
        net::log_error(l.id + ": cannot read the queued message: " + why + " (retried in " +
                       std::to_string(cfg->relay.retry_min) + " s)");
        index_.put(store::QueueItem{number, t + cfg->relay.retry_min, 0});
        continue;
      }
      auto m = std::make_shared<Inflight>();
      m->envelope = std::move(*l.envelope);
      m->fd = l.fd;
      m->facts = l.facts;
      bool any = false;
      for (std::size_t i = 0; i < m->envelope.recipients.size(); ++i) {
        const store::QueueRecipient& r = m->envelope.recipients[i];
        if (r.state != store::RecipientState::Pending || r.next_attempt > t) continue;
        due_rcpts.push_back(DueRecipient{l.id, i, r.forward_path});
        any = true;
      }
      if (!any) {   // nothing due after all (the index was early): put it back
        index_.put(store::QueueItem{number, store::earliest_attempt(m->envelope).value_or(t + 60),
                                    store::destination_of(m->envelope)});
        continue;
      }
      inflight_[l.id] = std::move(m);
    }
    DispatchPlan plan = plan_connections(due_rcpts, slots_);
    // What found no connection slot waits a little (a slot frees soon).
    for (const DueRecipient& w : plan.waiting) {
      bool planned = false;
      for (const PlannedConnection& pc : plan.connections) {
        for (const Transaction& tr : pc.transactions) planned = planned || tr.queue_id == w.queue_id;
      }
      if (planned) continue;
      if (auto it = inflight_.find(w.queue_id); it != inflight_.end()) {
        index_.put(store::QueueItem{*store::parse_queue_id(w.queue_id), t + 1, store::destination_of(it->second->envelope)});
        inflight_.erase(it);
      }
    }
    for (PlannedConnection& pc : plan.connections) {
      for (const Transaction& tr : pc.transactions) ++inflight_[tr.queue_id]->connections;
    }
    stats_.connections = slots_.active();
    for (PlannedConnection& pc : plan.connections) {
      asio::co_spawn(io_, run_connection(std::move(pc)), asio::detached);
    }
    drained_check();   // a shutdown during this round's reads, and nothing planned
  }
}

void QueueRunner::record(Inflight& m, std::size_t index, const RecipientResult& r, const std::string& relay) {
  const config::ConfigPtr cfg = sources_.config();
  store::QueueRecipient& q = m.envelope.recipients[index];
  const std::int64_t t = now();
  q.attempts += 1;
  q.last_attempt = t;
  q.remote_mta = r.remote ? relay : "";
  q.last_reply = reply_text(r);
  const Verdict v = after_attempt(policy_of(*cfg), m.envelope.arrival, t, q.attempts, outcome_of(r.status));
  q.state = v.state;
  q.next_attempt = v.next_attempt;
  const char* word = "deferred";
  if (v.state == store::RecipientState::Delivered) {
    word = "sent";
    ++stats_.delivered;
  } else if (v.state == store::RecipientState::Failed) {
    word = "bounced";
    ++stats_.bounced;
    m.failed_now.push_back(index);
    m.expired.push_back(v.expired);
  } else {
    ++stats_.deferred;
  }
  std::string line = m.envelope.queue_id + ": to=<" + q.forward_path + "> relay=" + (relay.empty() ? "none" : relay) +
                     " status=" + word + " (" + q.last_reply + ")";
  if (v.state == store::RecipientState::Pending) line += ", next attempt in " + std::to_string(v.next_attempt - t) + " s";
  if (v.state == store::RecipientState::Failed) {
    net::log_warning(line);
  } else {
    net::log_info(line);
  }
}

asio::awaitable<QueueRunner::RouteResult> QueueRunner::send_by_route(std::string dest,
                                                                    std::vector<OutgoingMessage> outgoing,
                                                                    Timeouts timeouts, bool keep_transcript) {
  const config::ConfigPtr cfg = sources_.config();
  RouteResult out;
  out.text = cfg->relay.route.empty() ? "no outgoing mail route is configured" : "no route was tried";
  std::string& last_problem = out.text;
  // The transcript, bounded: kMaxRouteTranscript octets in all.
  std::size_t octets = 0;
  auto add = [&out, &octets, keep_transcript](std::string line) {
    if (!keep_transcript || octets > kMaxRouteTranscript) return;
    octets += line.size() + 1;
    out.transcript.push_back(octets > kMaxRouteTranscript ? std::string("-- transcript truncated") : std::move(line));
  };
  auto note = [&add](const std::string& text) { add("-- " + text); };
  for (const config::RouteMethod method : cfg->relay.route) {
    if (!running_) {   // the daemon is stopping: this connection is not tried
      out.kind = RouteResult::Kind::Stopped;
      out.text = "not tried: boxmaild is stopping";
      note(out.text);
      co_return out;
    }
    ClientRequest req;
    req.stopping = stopping_;
    req.session.ehlo_name = sources_.hostname;
    req.timeouts = timeouts;
    req.messages = outgoing;
    std::string method_name;
    if (method == config::RouteMethod::Mx) {
      method_name = "mx";
      dns::RouteOptions ro;
      ro.mx.own_names = {sources_.hostname};
      dns::RandomIndex random = [](std::size_t n) { return static_cast<std::size_t>(process::os_random_u64() % n); };
      dns::Resolver& r = resolver();
      dns::Route route = co_await r.route(dest, ro, random);
      for (const std::string& n : route.notes) {
        net::log_info("relay: " + dest + ": " + n);
        note("mx: " + dest + ": " + n);
      }
      if (route.kind == dns::MxRoute::Kind::Permanent) {
        note("mx: " + route.text);
        out.kind = RouteResult::Kind::Permanent;
        out.enhanced = route.enhanced_status;
        out.text = route.text;
        co_return out;
      }
      if (route.kind != dns::MxRoute::Kind::Hosts) {
        last_problem = route.text;
        note("mx: " + last_problem);
        continue;
      }
      for (const dns::RouteTarget& t : route.targets) req.targets.push_back(Target{t.host, t.address, 25});
      req.session.tls = cfg->relay.mx_starttls ? TlsPolicy::Opportunistic : TlsPolicy::None;
    } else if (method == config::RouteMethod::Direct) {
      method_name = "direct";
      dns::Resolver& r = resolver();
      dns::AddressAnswer v4 = co_await r.a(dest);
      dns::AddressAnswer v6 = co_await r.aaaa(dest);
      for (const auto& a : v4.addresses) req.targets.push_back(Target{dest, a, 25});
      for (const auto& a : v6.addresses) req.targets.push_back(Target{dest, a, 25});
      if (req.targets.empty()) {
        if (v4.status == dns::LookupStatus::NxDomain && v6.status == dns::LookupStatus::NxDomain) {
          out.kind = RouteResult::Kind::Permanent;
          out.enhanced = "5.1.2";
          out.text = "domain " + dest + " does not exist";
          note("direct: " + out.text);
          co_return out;
        }
        last_problem = "no address for " + dest + " (A " + std::string(dns::to_string(v4.status)) + ", AAAA " +
                       std::string(dns::to_string(v6.status)) + ")";
        note("direct: " + last_problem);
        continue;
      }
      req.session.tls = cfg->relay.mx_starttls ? TlsPolicy::Opportunistic : TlsPolicy::None;
    } else {
      method_name = "smarthost";
      const bool implicit = cfg->relay.smarthost_tls == config::SmarthostTls::Implicit;
      const HostPort hp = split_host_port(cfg->relay.smarthost, implicit ? 465 : 587);
      boost::system::error_code ec;
      const auto numeric = asio::ip::make_address(hp.host, ec);
      if (!ec) {
        req.targets.push_back(Target{hp.host, numeric, hp.port});
      } else {
        dns::Resolver& r = resolver();
        dns::AddressAnswer v4 = co_await r.a(hp.host);
        dns::AddressAnswer v6 = co_await r.aaaa(hp.host);
        for (const auto& a : v4.addresses) req.targets.push_back(Target{hp.host, a, hp.port});
        for (const auto& a : v6.addresses) req.targets.push_back(Target{hp.host, a, hp.port});
      }
      if (req.targets.empty()) {
        last_problem = "no address for the smarthost " + hp.host;
        note("smarthost: " + last_problem);
        continue;
      }
      req.implicit_tls = implicit;
      req.session.tls = cfg->relay.smarthost_tls == config::SmarthostTls::Starttls        ? TlsPolicy::Required
                        : cfg->relay.smarthost_tls == config::SmarthostTls::Opportunistic ? TlsPolicy::Opportunistic
                        : implicit                                                        ? TlsPolicy::Required
                                                                                          : TlsPolicy::None;
      if (!cfg->relay.smarthost_fingerprint.empty()) {
        tls::ClientTlsOptions o;
        o.verify = tls::ClientVerify::Pin;
        if (auto pin = tls::parse_fingerprint(cfg->relay.smarthost_fingerprint)) o.pins.push_back(*pin);
        try {
          req.tls = tls::ClientContext::create(o);
        } catch (const std::exception& e) {
          last_problem = std::string("TLS: ") + e.what();
          note("smarthost: " + last_problem);
          continue;
        }
      }
      std::string cred_error;
      const std::string path = cfg->relay.smarthost_credentials;
      std::optional<AuthCredentials> login;
      std::function<void()> job = [&login, path, &cred_error] {
        if (auto stored = control::read_smarthost_login(path, cred_error)) {
          login = AuthCredentials{std::move(stored->user), std::move(stored->password)};
        }
      };
      co_await on_files(std::move(job));
      req.session.auth = login;
      if (!cred_error.empty()) {
        net::log_error("relay: smarthost login: " + cred_error);
        note("smarthost: the stored login cannot be read: " + cred_error);
      }
    }
    note("route " + method_name);
    DeliveryReport report;
    try {
      report = co_await deliver(std::move(req));
    } catch (const std::exception& e) {
      last_problem = std::string("cannot deliver: ") + e.what();
      note(method_name + ": " + last_problem);
      continue;
    }
    for (std::string& line : report.transcript) add(std::move(line));
    report.transcript.clear();
    const std::string relay = report.host_name + "[" + report.address + "]";
    if (host_failed(report)) {
      last_problem = "via " + method_name + " " + (report.address.empty() ? report.host_name : relay) + ": ";
      const auto& first = report.messages.empty() || report.messages[0].recipients.empty()
                              ? RecipientResult{}
                              : report.messages[0].recipients[0];
      last_problem += reply_text(first);
      note(method_name + ": no server took the message: " + last_problem);
      continue;
    }
    out.kind = RouteResult::Kind::Reached;
    out.relay = relay + (report.tls ? " (TLS)" : "");
    out.report = std::move(report);
    co_return out;
  }
  co_return out;
}

/// send_test waits on `done` until run_test has put `result` there, or
/// until the deadline.
struct QueueRunner::TestWait {
  explicit TestWait(asio::io_context& io) : done(io) {}
  asio::steady_timer done;
  std::optional<control::RelayTestReply> result;
};

asio::awaitable<control::RelayTestReply> QueueRunner::send_test(std::string address, std::string sender) {
  control::RelayTestReply reply;
  const config::ConfigPtr cfg = sources_.config();
  const std::shared_ptr<const config::AccountTable> accounts = sources_.accounts();
  const TestRecipient rcpt = check_test_recipient(address, *cfg, *accounts);
  if (!rcpt.error.empty()) {
    reply.message = rcpt.error;
    co_return reply;
  }
  if (test_running_) {
    reply.message = "a test message is being sent already; try again in a moment";
    co_return reply;
  }
  test_running_ = true;
  auto wait = std::make_shared<TestWait>(io_);
  wait->done.expires_after(std::chrono::seconds(control::kRelayTestSeconds));
  asio::co_spawn(io_, run_test(rcpt.address, std::move(sender), wait), asio::detached);
  co_await wait->done.async_wait(kAwait);
  if (wait->result) co_return std::move(*wait->result);
  reply.result = control::RelayTestReply::Result::Failed;
  reply.message = "no result within " + std::to_string(control::kRelayTestSeconds) +
                  " s; the test goes on, and the log will say how it ended";
  co_return reply;
}

asio::awaitable<void> QueueRunner::run_test(std::string address, std::string sender,
                                            std::shared_ptr<TestWait> wait) {
  using Result = control::RelayTestReply::Result;
  control::RelayTestReply reply;
  reply.result = Result::Failed;
  TestMessageInput in;
  in.hostname = sources_.hostname;
  in.to = address;
  in.id = store::queue_id_from(process::os_random_u64());
  in.now = now();
  const std::string text = compose_test_message(in);
  // The SMTP client reads bodies from a descriptor (pread): a memory file.
  const int fd = ::memfd_create("boxmail-test", MFD_CLOEXEC);
  std::size_t written = 0;
  while (fd >= 0 && written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    written += static_cast<std::size_t>(n);
  }
  if (fd < 0 || written != text.size()) {
    reply.message = std::string("cannot make the test message: ") + std::strerror(errno);
  } else {
    OutgoingMessage om;
    om.envelope.reverse_path = sender;   // "": <> (test_message.hpp)
    om.envelope.recipients.push_back(address);
    om.envelope.size = text.size();
    om.fd = fd;
    std::vector<OutgoingMessage> outgoing;
    outgoing.push_back(std::move(om));
    const std::string dest = destination_of(address);
    Timeouts timeouts;
    timeouts.connect = std::chrono::seconds(std::min<std::int64_t>(sources_.config()->relay.connect_timeout, 10));
    timeouts.greeting = timeouts.command = timeouts.mail = timeouts.rcpt = timeouts.data_init = timeouts.data_block =
        timeouts.data_end = std::chrono::seconds(15);
    RouteResult routed;
    try {   // test_running_ must be reset whatever happens
      routed = co_await send_by_route(dest, outgoing, timeouts, true);
    } catch (const std::exception& e) {
      routed.text = std::string("cannot send: ") + e.what();
    }
    reply.transcript = std::move(routed.transcript);
    if (routed.kind == RouteResult::Kind::Reached) {
      reply.relay = routed.relay;
      RecipientResult r;
      if (!routed.report.messages.empty() && !routed.report.messages[0].recipients.empty()) {
        r = routed.report.messages[0].recipients[0];
      }
      reply.result = r.status == Status::Accepted ? Result::Sent : Result::Failed;
      reply.message = reply_text(r);
    } else {
      reply.message = routed.kind == RouteResult::Kind::Permanent ? routed.enhanced + " " + routed.text : routed.text;
    }
  }
  if (fd >= 0) ::close(fd);
  const std::string line = "relay-test: from=<" + sender + "> to=<" + address +
                           "> relay=" + (reply.relay.empty() ? "none" : reply.relay) +
                           " status=" + (reply.result == Result::Sent ? "sent" : "failed") + " (" + reply.message + ")";
  if (reply.result == Result::Sent) {
    net::log_info(line);
  } else {
    net::log_warning(line);
  }
  test_running_ = false;
  wait->result = std::move(reply);
  wait->done.cancel();
}

asio::awaitable<void> QueueRunner::run_connection(PlannedConnection pc) {
  const config::ConfigPtr cfg = sources_.config();
  const std::string dest = pc.destination;
  // The messages of this connection, in order.
  std::vector<std::shared_ptr<Inflight>> msgs;
  std::vector<OutgoingMessage> outgoing;
  for (const Transaction& tr : pc.transactions) {
    std::shared_ptr<Inflight> m = inflight_[tr.queue_id];
    msgs.push_back(m);
    OutgoingMessage om;
    om.envelope.reverse_path = m->envelope.reverse_path;
    for (std::size_t i : tr.recipients) om.envelope.recipients.push_back(m->envelope.recipients[i].forward_path);
    om.envelope.size = m->facts.size;
    om.envelope.eight_bit = m->facts.eight_bit;
    om.fd = m->fd;
    om.offset = m->envelope.skip;
    outgoing.push_back(std::move(om));
  }
  // Every recipient of this connection, and what finally happened to it.
  struct Fate {
    RecipientResult result;
    std::string relay;
    bool decided = false;
  };
  std::vector<std::vector<Fate>> fates(pc.transactions.size());
  for (std::size_t k = 0; k < pc.transactions.size(); ++k) fates[k].resize(pc.transactions[k].recipients.size());
  auto decide_all = [&](Status status, const std::string& enhanced, const std::string& text) {
    for (auto& f : fates) {
      for (Fate& x : f) {
        if (x.decided) continue;
        x.result = RecipientResult{};
        x.result.status = status;
        x.result.enhanced = enhanced;
        x.result.text = text;
        x.decided = status == Status::Permanent;
      }
    }
  };
  Timeouts timeouts;
  timeouts.connect = std::chrono::seconds(cfg->relay.connect_timeout);
  RouteResult routed = co_await send_by_route(dest, outgoing, timeouts, false);
  if (routed.kind == RouteResult::Kind::Permanent) decide_all(Status::Permanent, routed.enhanced, routed.text);
  if (routed.kind == RouteResult::Kind::Reached) {
    const DeliveryReport& report = routed.report;
    for (std::size_t k = 0; k < fates.size() && k < report.messages.size(); ++k) {
      for (std::size_t j = 0; j < fates[k].size() && j < report.messages[k].recipients.size(); ++j) {
        fates[k][j].result = report.messages[k].recipients[j];
        fates[k][j].relay = routed.relay;
        fates[k][j].decided = true;
      }
    }
  }
  if (routed.kind == RouteResult::Kind::NoServer) decide_all(Status::Temporary, "4.4.1", routed.text);
  // What was never offered to a server because the daemon is stopping is
  // not an attempt: its entry stays as it was (due again after the start).
  for (std::size_t k = 0; k < pc.transactions.size() && routed.kind != RouteResult::Kind::Stopped; ++k) {
    for (std::size_t j = 0; j < pc.transactions[k].recipients.size(); ++j) {
      if (!fates[k][j].result.tried) continue;
      record(*msgs[k], pc.transactions[k].recipients[j], fates[k][j].result, fates[k][j].relay);
    }
  }
  slots_.release(dest);
  stats_.connections = slots_.active();
  std::vector<std::string> finished;
  for (std::size_t k = 0; k < pc.transactions.size(); ++k) {
    if (--msgs[k]->connections == 0) co_await finish(pc.transactions[k].queue_id, finished);
  }
  if (!finished.empty()) co_await remove_finished(std::move(finished));
  wake_.cancel();   // a slot is free
  drained_check();
}

asio::awaitable<void> QueueRunner::finish(std::string queue_id, std::vector<std::string>& done) {
  auto it = inflight_.find(queue_id);
  if (it == inflight_.end()) co_return;
  std::shared_ptr<Inflight> m = it->second;
  inflight_.erase(it);
  const config::ConfigPtr cfg = sources_.config();
  const RetryPolicy policy = policy_of(*cfg);
  store::QueueEnvelope& e = m->envelope;
  const std::int64_t t = now();

  // Notices first: they are durable before the entry changes.
  std::vector<DsnRecipient> failed;
  for (std::size_t k = 0; k < m->failed_now.size(); ++k) {
    const store::QueueRecipient& r = e.recipients[m->failed_now[k]];
    DsnRecipient d;
    d.final_recipient = r.forward_path;
    d.original_recipient = r.original;
    d.action = DsnAction::Failed;
    d.status = notice_status(r.last_reply, DsnAction::Failed, m->expired[k]);
    d.remote_mta = r.remote_mta;
    d.diagnostic = r.last_reply;
    d.last_attempt = r.last_attempt;
    failed.push_back(std::move(d));
  }
  std::vector<DsnRecipient> delayed;
  if (failed.empty() && delay_notice_due(policy, e, t)) {
    for (const store::QueueRecipient& r : e.recipients) {
      if (r.state != store::RecipientState::Pending) continue;
      DsnRecipient d;
      d.final_recipient = r.forward_path;
      d.original_recipient = r.original;
      d.action = DsnAction::Delayed;
      d.status = notice_status(r.last_reply, DsnAction::Delayed, false);
      d.remote_mta = r.remote_mta;
      d.diagnostic = r.last_reply;
      d.last_attempt = r.last_attempt;
      d.will_retry_until = retry_until(policy, e);
      delayed.push_back(std::move(d));
    }
    e.delay_notice_sent = true;
  }
  for (std::vector<DsnRecipient>* list : {&failed, &delayed}) {
    if (list->empty()) continue;
    const NoticeRoute route = list == &delayed ? NoticeRoute::Sender : failure_notice_route(e);
    if (route == NoticeRoute::None) {
      net::log_info(e.queue_id + ": no notice (" +
                    (e.reverse_path.empty() ? std::string("null sender") : std::string("a notice itself")) + ")");
      continue;
    }
    DsnInput in;
    in.reporting_mta = sources_.hostname;
    in.to = route == NoticeRoute::Postmaster ? "postmaster" : e.reverse_path;
    in.queue_id = e.queue_id;
    in.notice_id = store::queue_id_from(process::os_random_u64());
    in.arrival = e.arrival;
    in.now = t;
    in.received_from_mta = e.client;
    in.recipients = *list;
    const int fd = m->fd;
    const std::uint64_t skip = e.skip;
    std::string headers;
    std::function<void()> job = [&headers, fd, skip] { headers = header_section(read_head(fd, skip, 16384)); };
    co_await on_files(std::move(job));
    in.original_headers = std::move(headers);
    Notice n;
    n.to = in.to;
    n.kind = route == NoticeRoute::Postmaster ? store::NoticeKind::DoubleBounce
             : list == &delayed               ? store::NoticeKind::Delay
                                              : store::NoticeKind::Failure;
    n.text = build_dsn(in);
    n.about = e.queue_id;
    co_await send_notice(std::move(n));
  }

  const std::uint64_t number = *store::parse_queue_id(e.queue_id);
  if (store::has_pending(e)) {
    store::QueueEnvelope copy = e;
    std::string err;
    std::function<void()> job = [&err, q = queue_, copy] {
      std::string where;
      const int rc = q->update(copy, false, where);
      if (rc != 0) err = where + ": " + std::strerror(rc);
    };
    co_await on_files(std::move(job));
    if (!err.empty()) net::log_error(e.queue_id + ": cannot update the queue entry: " + err);
    index_.put(store::QueueItem{number, store::earliest_attempt(e).value_or(t), store::destination_of(e)});
    stats_.queued = index_.size();
  } else {
    done.push_back(e.queue_id);   // removed with the connection's others
  }
  wake_.cancel();
}

asio::awaitable<void> QueueRunner::remove_finished(std::vector<std::string> done) {
  std::vector<store::Queue::RemoveFailure> failed;
  std::function<void()> job = [&failed, q = queue_, &done] { failed = q->remove_all(done); };
  co_await on_files(std::move(job));
  for (const auto& f : failed) {
    net::log_error(f.queue_id + ": cannot remove the finished queue entry: " + std::strerror(f.error));
  }
  for (const std::string& id : done) {
    index_.erase(*store::parse_queue_id(id));
    net::log_info(id + ": removed from the queue (every recipient done)");
  }
  stats_.queued = index_.size();
  wake_.cancel();
}

asio::awaitable<void> QueueRunner::send_notice(Notice n) {
  ++stats_.notices;
  const config::ConfigPtr cfg = sources_.config();
  const auto at = n.to.rfind('@');
  const std::string local = at == std::string::npos ? n.to : n.to.substr(0, at);
  const std::string domain = at == std::string::npos ? "" : n.to.substr(at + 1);
  const bool is_local = domain.empty() || address::own_domain(domain, *cfg) ||
                        (cfg->smtp.accept_domains.size() == 1 && cfg->smtp.accept_domains.front() == "*" &&
                         cfg->relay.local_domains.empty());
  const std::string body = to_lf(n.text);
  if (is_local) {
    const auto accounts = sources_.accounts();
    const address::Resolution res = address::resolve_local_part(local, *cfg, *accounts);
    if (res.verdict != address::Verdict::Deliver || res.mailboxes.empty()) {
      net::log_error(n.about + ": the notice to <" + n.to + "> cannot be delivered here: " + res.detail +
                     " (dropped)");
      co_return;
    }
    const std::string data = "Return-Path: <>\n" + body;
    const std::string qid = store::queue_id_from(process::os_random_u64());
    std::string spool = sources_.spool_tmp;
    int err = 0;
    std::unique_ptr<store::SpoolFile> file;
    std::function<void()> job = [&err, &file, spool, qid, &data] {
      file = store::SpoolFile::create(spool, qid, err);
      if (file) {
        file->write(data);
        err = file->error();
      }
    };
    co_await on_files(std::move(job));
    if (err != 0 || !file) {
      net::log_error(n.about + ": cannot write the notice to <" + n.to + ">: " + std::strerror(err));
      co_return;
    }
    std::uint64_t lines = static_cast<std::uint64_t>(std::count(data.begin(), data.end(), '\n'));
    timeval tv{};
    gettimeofday(&tv, nullptr);
    store::Delivery d;
    d.name = store::maildir_file_name(tv.tv_sec, tv.tv_usec, getpid(), 1000000000ull + ++notice_seq_,
                                      sources_.hostname, data.size(), data.size() + lines);
    d.spool_path = file->path();
    d.fd = file->release();
    for (const std::string& mb : res.mailboxes) d.maildirs.push_back(cfg->store.mail_dir + "/" + mb);
    auto [cerr, where] = co_await sources_.committer->async_commit(std::move(d), kAwait);
    if (cerr != 0) {
      net::log_error(n.about + ": cannot deliver the notice to <" + n.to + ">: " + where + ": " + std::strerror(cerr));
    } else {
      net::log_info(n.about + ": " + std::string(store::notice_kind_name(n.kind)) + " notice " + qid +
                    " delivered to <" + n.to + "> here");
    }
    co_return;
  }
  store::QueueEnvelope e;
  e.queue_id = store::queue_id_from(process::os_random_u64());
  e.arrival = now();
  e.kind = n.kind;
  store::QueueRecipient r;
  r.forward_path = n.to;
  e.recipients.push_back(r);
  std::string err;
  std::function<void()> job = [&err, q = queue_, &e, &body] {
    std::string where;
    const int rc = q->add(e, body, where);
    if (rc != 0) err = where + ": " + std::strerror(rc);
  };
  co_await on_files(std::move(job));
  if (!err.empty()) {
    net::log_error(n.about + ": cannot queue the notice to <" + n.to + ">: " + err);
    co_return;
  }
  net::log_info(n.about + ": " + std::string(store::notice_kind_name(n.kind)) + " notice " + e.queue_id +
                " queued for <" + n.to + ">");
  queued(e);
}

RunnerStats QueueRunner::stats() const { return stats_; }

QueueCommandResult QueueRunner::list() {
  std::vector<std::string> errors;
  const std::vector<store::QueueEnvelope> all = queue_->list(errors);
  QueueCommandResult r;
  r.ok = true;
  const std::int64_t t = now();
  for (const store::QueueEnvelope& e : all) r.lines.push_back(store::describe_queued(e, t));
  for (const std::string& err : errors) net::log_error("queue list: " + err);
  r.text = std::to_string(all.size()) + (all.size() == 1 ? " message" : " messages");
  return r;
}

QueueCommandResult QueueRunner::show(const std::string& queue_id) {
  QueueCommandResult r;
  std::string error;
  const auto e = queue_->read(queue_id, error);
  if (!e) {
    r.text = "no queued message " + queue_id;
    return r;
  }
  r.ok = true;
  r.text = store::describe_queued(*e, now());
  for (const store::QueueRecipient& q : e->recipients) {
    r.lines.push_back(std::string(store::recipient_state_name(q.state)) + " <" + q.forward_path + "> attempts=" +
                      std::to_string(q.attempts) + " remote=" + (q.remote_mta.empty() ? "-" : q.remote_mta) +
                      " reply=" + (q.last_reply.empty() ? "-" : q.last_reply));
  }
  return r;
}

QueueCommandResult QueueRunner::remove(const std::string& queue_id) {
  QueueCommandResult r;
  const auto number = store::parse_queue_id(queue_id);
  if (!number || !index_.find(*number)) {
    r.text = "no queued message " + queue_id;
    return r;
  }
  if (index_.in_flight(*number)) {
    r.text = queue_id + " is being delivered now; try again in a moment";
    return r;
  }
  const int err = queue_->remove(queue_id);
  if (err != 0) {
    r.text = "cannot remove " + queue_id + ": " + std::strerror(err);
    return r;
  }
  index_.erase(*number);
  stats_.queued = index_.size();
  net::log_info(queue_id + ": deleted from the queue by the administrator (no notice sent)");
  r.ok = true;
  r.text = queue_id + " deleted";
  return r;
}

QueueCommandResult QueueRunner::retry(const std::string& queue_id) {
  QueueCommandResult r;
  const auto number = store::parse_queue_id(queue_id);
  const auto item = number ? index_.find(*number) : std::nullopt;
  if (!item) {
    r.text = "no queued message " + queue_id;
    return r;
  }
  if (index_.in_flight(*number)) {
    r.ok = true;
    r.text = queue_id + " is being delivered now";
    return r;
  }
  std::string error;
  auto e = queue_->read(queue_id, error);
  if (!e) {
    r.text = error;
    return r;
  }
  for (store::QueueRecipient& q : e->recipients) {
    if (q.state == store::RecipientState::Pending) q.next_attempt = 0;
  }
  std::string where;
  if (const int err = queue_->update(*e, false, where); err != 0) {
    r.text = "cannot update " + queue_id + ": " + where + ": " + std::strerror(err);
    return r;
  }
  index_.put(store::QueueItem{*number, 0, item->destination});
  wake_.cancel();
  r.ok = true;
  r.text = queue_id + " will be tried now";
  return r;
}

QueueCommandResult QueueRunner::flush() {
  QueueCommandResult r;
  std::size_t n = 0;
  for (std::uint64_t id : index_.ids()) {
    if (index_.in_flight(id)) continue;
    const QueueCommandResult one = retry(store::queue_id_from(id));
    if (one.ok) ++n;
  }
  r.ok = true;
  r.text = std::to_string(n) + (n == 1 ? " message" : " messages") + " will be tried now";
  return r;
}

}  // namespace boxmail::relay

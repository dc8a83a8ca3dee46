// login.cpp - see login.hpp.
#include "proto/login.hpp"

#include "config/password.hpp"
#include "net/log.hpp"

#include <chrono>
#include <optional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace boxmail::proto {

namespace asio = boost::asio;
using Steady = std::chrono::steady_clock;

namespace {
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

void log_failures(const std::string& protocol, const std::string& address, std::uint32_t count) {
  net::log_info(protocol + ": client=" + address + " " + std::to_string(count) + " failed login(s) from this address");
}
}  // namespace

LoginService::LoginService(config::ConfigPtr config)
    : config_(std::move(config)), dummy_hash_(config::hash_password("boxmail-no-such-mailbox")) {}

LoginService::~LoginService() = default;

void LoginService::start() {
  checker_ = std::make_unique<config::PasswordChecker>(config_->server.login_check_queue);
}

void LoginService::set_config(config::ConfigPtr config) {
  config_ = std::move(config);
  if (checker_) checker_->set_max_queue(config_->server.login_check_queue);
}

net::LoginLimits LoginService::limits() const {
  return net::LoginLimits{config_->server.login_failures_per_address,
                          std::chrono::seconds(config_->server.login_failure_window)};
}

std::uint32_t LoginService::failures(const std::string& address) const {
  return throttle_.failures(address, Steady::now(), limits());
}

void LoginService::count_failure(const std::string& protocol, const std::string& address) {
  failed(address);
  if (!throttle_.allow(address, Steady::now(), limits())) return;
  log_failures(protocol, address, throttle_.fail(address, Steady::now(), limits()));
}

asio::awaitable<LoginResult> LoginService::check(LoginRequest r) {
  const asio::any_io_executor ex = r.executor;
  const std::string& address = r.address;
  const std::string& mailbox = r.mailbox;
  if (!throttle_.allow(address, Steady::now(), limits())) {
    failed(address);
    co_return LoginResult{LoginOutcome::Blocked, nullptr};
  }
  if (!checker_) co_return LoginResult{LoginOutcome::Busy, nullptr};
  const config::Account* a = config::mailbox_name_error(mailbox) ? nullptr : r.accounts->find(mailbox);
  struct Pending {
    explicit Pending(const asio::any_io_executor& e) : wake(e, Steady::time_point::max()) {}
    asio::steady_timer wake;
    std::optional<bool> ok;
  };
  auto pending = std::make_shared<Pending>(ex);
  std::weak_ptr<Pending> weak = pending;
  const bool queued = checker_->submit(std::move(r.password), a ? a->password : dummy_hash_, [weak, ex](bool ok) {
    asio::post(ex, [weak, ok] {
      if (auto p = weak.lock()) {
        p->ok = ok;
        p->wake.cancel();
      }
    });
  });
  if (!queued) co_return LoginResult{LoginOutcome::Busy, nullptr};
  throttle_.begin(address, Steady::now());
  while (!pending->ok) co_await pending->wake.async_wait(kAwait);
  const bool failed = a == nullptr || !*pending->ok || !config::login_allowed(*a);
  const auto count = throttle_.finish(address, failed, Steady::now(), limits());
  if (failed) {
    log_failures(r.protocol, address, count);
    this->failed(address);
    co_return LoginResult{LoginOutcome::Failed, nullptr};
  }
  co_return LoginResult{LoginOutcome::Ok, std::make_shared<const config::Account>(*a)};
}

}  // namespace boxmail::proto

// login.hpp - the one password check every protocol's login goes through
// (Asio glue around config::PasswordChecker and net::LoginThrottle).
//
// POP3 (USER/PASS, AUTH PLAIN) and SMTP AUTH (PLAIN, LOGIN) share one
// LoginService: one hashing thread, one per-address failure table (a
// guesser gets one budget per address, not one per protocol; rules in
// net/login_throttle.hpp) and one way to answer:
//   - an address over its budget is refused before anything is hashed
//     (Blocked), whatever the password;
//   - a full checker queue is refused at once (Busy, a temporary error);
//   - an unknown mailbox is checked against a dummy hash: the same cost and
//     the same Failed outcome as a wrong password, so neither the reply nor
//     its timing tells which was wrong; the comparison inside
//     config::verify_password is constant-time;
//   - a disabled account (config::login_allowed) is Failed too.
// The protocol then applies its own rules to an Ok account (POP3: pop3
// allowed, mailbox lock).
//
// Runs on the io_context thread; the hash runs on the checker's thread and
// the result comes back by asio::post through a weak pointer (a session
// that ended meanwhile is not touched).
#pragma once

#include "config/account.hpp"
#include "config/config.hpp"
#include "config/password_checker.hpp"
#include "net/login_throttle.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

namespace boxmail::proto {

/// The outcome of a password check.
enum class LoginOutcome {
  Ok,        ///< the password is the account's and the account may log in
  Failed,    ///< unknown mailbox, wrong password or disabled account (one answer for all)
  Blocked,   ///< not checked: too many failed logins from the client's address
  Busy,      ///< not checked: the checker's queue is full (temporary)
};

/// One login to check.
struct LoginRequest {
  boost::asio::any_io_executor executor;   ///< where the caller waits while the hash runs
  std::string protocol;                    ///< names the log lines ("pop3", "smtp")
  std::string address;                     ///< the client's address (the failure budget's key)
  std::string mailbox;                     ///< the login name as sent
  std::string password;
  std::shared_ptr<const config::AccountTable> accounts;
};

/// The result: the outcome and, when Ok, the account (a copy: the table may
/// be replaced meanwhile).
struct LoginResult {
  LoginOutcome outcome = LoginOutcome::Failed;
  std::shared_ptr<const config::Account> account;
};

class LoginService {
 public:
  /// `config`: the current snapshot ([server] login_* keys).
  explicit LoginService(config::ConfigPtr config);
  ~LoginService();
  LoginService(const LoginService&) = delete;
  LoginService& operator=(const LoginService&) = delete;

  /// Starts the hashing thread (after the privilege drop).
  void start();
  /// Takes a new configuration (limits apply at once).
  void set_config(config::ConfigPtr config);

  /// Checks `r.password` for `r.mailbox` in `r.accounts` for a client at
  /// `r.address` (see the file comment). Call it with a named request
  /// (an lvalue): g++ 12 destroys temporaries of a co_await's argument
  /// list twice (the heap corruption this once caused).
  boost::asio::awaitable<LoginResult> check(LoginRequest r);

  /// Counts a failed login that needed no check (malformed SASL, a
  /// password over config::kMaxPasswordLength); an address already blocked
  /// is not counted again (the block is not extended).
  void count_failure(const std::string& protocol, const std::string& address);

  /// Failed logins counted for `address` now.
  std::uint32_t failures(const std::string& address) const;

  /// Called with the client's address for every failed login: wrong
  /// password, unknown mailbox, a failure decided without a check, and an
  /// attempt refused because the address is blocked (a guesser that goes
  /// on against the block is what the auto-ban is for). The daemon feeds
  /// net::AbuseScore with it. Empty: nothing is called.
  void set_failure_hook(std::function<void(const std::string& address)> hook) { failure_hook_ = std::move(hook); }

 private:
  net::LoginLimits limits() const;

  config::ConfigPtr config_;
  std::string dummy_hash_;   // checked for unknown mailboxes (same cost, same reply)
  net::LoginThrottle throttle_;
  std::unique_ptr<config::PasswordChecker> checker_;
  std::function<void(const std::string&)> failure_hook_;
  void failed(const std::string& address) const {
    if (failure_hook_) failure_hook_(address);
  }
};

}  // namespace boxmail::proto

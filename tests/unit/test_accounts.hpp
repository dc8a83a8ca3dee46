// test_accounts.hpp - the account table the SMTP session tests share:
// mailboxes "alice" and "bob" with a placeholder password hash (the
// sessions never check passwords; the glue does).
#pragma once

#include "config/account.hpp"

#include <memory>

namespace boxmail::test_fixtures {

inline std::shared_ptr<const config::AccountTable> alice_and_bob() {
  auto t = std::make_shared<config::AccountTable>();
  for (const char* n : {"alice", "bob"}) {
    config::Account a;
    a.name = n;
    a.password = "{SHA512-CRYPT}x";
    t->accounts.push_back(a);
  }
  return t;
}

}  // namespace boxmail::test_fixtures

// reload_rule_test.cpp - which valid configurations may replace the running
// one (config/reload_rule.hpp): store paths only at a restart, and only
// while their directories exist.
#include "config/reload_rule.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace {

using namespace boxmail::config;

const char kRunning[] =
    "[server]\npasswd_file = /etc/boxmail/passwd\ncontrol_socket = /run/boxmail/control.sock\n"
    "[tls]\ncertificate = /etc/boxmail/tls/cert.pem\nkey = /etc/boxmail/tls/key.pem\n"
    "[store]\nmail_dir = /var/mail\nspool_dir = /var/spool/boxmail\n";

ConfigPtr parse(const std::string& text) {
  ParseResult r = parse_config(text, "/etc/boxmail/boxmail.ini");
  EXPECT_TRUE(r.errors.empty()) << (r.errors.empty() ? "" : r.errors[0].to_string());
  return r.config;
}

const std::set<std::string> kDirs = {"/etc/boxmail", "/etc/boxmail/tls", "/run/boxmail", "/var/mail",
                                     "/var/spool/boxmail"};
bool exists(const std::string& d) { return kDirs.count(d) != 0; }

std::string all(const std::vector<ConfigError>& errors) {
  std::string out;
  for (const auto& e : errors) out += e.to_string() + "\n";
  return out;
}

TEST(ReloadRule, SamePathsOtherChangesAreTaken) {
  const ConfigPtr running = parse(kRunning);
  const ConfigPtr next = parse(std::string(kRunning) + "[smtp]\nmax_message_size = 10M\n");
  EXPECT_TRUE(reload_refusals(*running, *next, exists).empty());
}

TEST(ReloadRule, EachStorePathChangeIsRefusedNamingTheKey) {
  const ConfigPtr running = parse(kRunning);
  struct Case {
    std::string from, to, section, key;
  };
  const Case cases[] = {
      {"passwd_file = /etc/boxmail/passwd", "passwd_file = /etc/boxmail/other", "server", "passwd_file"},
      {"control_socket = /run/boxmail/control.sock", "control_socket = /run/boxmail/c2.sock", "server",
       "control_socket"},
      {"mail_dir = /var/mail", "mail_dir = /var/mail2", "store", "mail_dir"},
      {"spool_dir = /var/spool/boxmail", "spool_dir = /var/mail", "store", "spool_dir"},
      {"certificate = /etc/boxmail/tls/cert.pem", "certificate = /etc/boxmail/tls/c2.pem", "tls", "certificate"},
      {"key = /etc/boxmail/tls/key.pem", "key = /etc/boxmail/key.pem", "tls", "key"},
  };
  for (const Case& c : cases) {
    std::string text = kRunning;
    text.replace(text.find(c.from), c.from.size(), c.to);
    const auto refusals = reload_refusals(*running, *parse(text), exists);
    ASSERT_EQ(refusals.size(), 1u) << c.key << "\n" << all(refusals);
    EXPECT_EQ(refusals[0].section, c.section);
    EXPECT_EQ(refusals[0].key, c.key);
    EXPECT_EQ(refusals[0].file, "/etc/boxmail/boxmail.ini");
    EXPECT_NE(refusals[0].message.find("only at a restart"), std::string::npos) << refusals[0].message;
  }
}

TEST(ReloadRule, CutOffFileFallsBackToDefaultsAndIsRefused) {
  // A file cut off after [server]: the store keys fall back to ./var/...
  const ConfigPtr running = parse(kRunning);
  const ConfigPtr cut = parse("[server]\npasswd_file = /etc/boxmail/passwd\n");
  const auto refusals = reload_refusals(*running, *cut, exists);
  const std::string text = all(refusals);
  EXPECT_NE(text.find("[server] control_socket: changes from '/run/boxmail/control.sock' to "
                      "'./var/run/boxmaild.sock'"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("[store] mail_dir: changes from '/var/mail' to './var/mail'"), std::string::npos) << text;
  EXPECT_NE(text.find("[store] spool_dir:"), std::string::npos) << text;
  EXPECT_EQ(text.find("passwd_file"), std::string::npos) << text;
}

TEST(ReloadRule, MissingDirectoriesAreRefused) {
  const ConfigPtr running = parse(kRunning);
  const auto refusals = reload_refusals(*running, *running, [](const std::string& d) { return d != "/var/mail"; });
  ASSERT_EQ(refusals.size(), 1u) << all(refusals);
  EXPECT_EQ(refusals[0].key, "mail_dir");
  EXPECT_NE(refusals[0].message.find("'/var/mail' does not exist"), std::string::npos);
  const auto none = reload_refusals(*running, *running, [](const std::string&) { return false; });
  EXPECT_EQ(none.size(), 6u) << all(none);
  // passwd_file, control_socket and the TLS files need their directory, not themselves.
  EXPECT_NE(all(none).find("[tls] certificate: directory '/etc/boxmail/tls' does not exist"), std::string::npos);
  EXPECT_NE(all(none).find("'/etc/boxmail' does not exist"), std::string::npos);
  EXPECT_NE(all(none).find("'/run/boxmail' does not exist"), std::string::npos);
}

TEST(ReloadRule, ParentDirectory) {
  EXPECT_EQ(parent_directory("/etc/boxmail/passwd"), "/etc/boxmail");
  EXPECT_EQ(parent_directory("./var/passwd"), "./var");
  EXPECT_EQ(parent_directory("passwd"), ".");
  EXPECT_EQ(parent_directory("/passwd"), "/");
}

}  // namespace

namespace {

TEST(ReloadRule, EmptyConfigText) {
  using boxmail::config::is_empty_config;
  EXPECT_TRUE(is_empty_config(""));
  EXPECT_TRUE(is_empty_config("\n"));
  EXPECT_TRUE(is_empty_config(" \t\r\n\r\n  "));
  EXPECT_FALSE(is_empty_config("; only a comment\n"));   // a file of defaults, said on purpose
  EXPECT_FALSE(is_empty_config("[smtp]\n"));
}

}  // namespace

namespace {

using namespace boxmail::config;

// The rule is a property of the key: every path key is fixed at install
// time, and the rule can read every fixed key (a later path key that
// forgets either fails here, not in the field).
TEST(FixedKeys, EveryPathKeyIsFixedAndReadable) {
  const ConfigPtr d = default_config();
  std::size_t fixed = 0;
  for (const KeyInfo& k : schema()) {
    if (k.type == KeyType::Path) {
      EXPECT_TRUE(k.fixed_at_install) << k.section << " " << k.key;
    }
    if (!k.fixed_at_install) {
      EXPECT_EQ(fixed_key_value(*d, k.section, k.key), nullptr) << k.key;
      continue;
    }
    ++fixed;
    const std::string* v = fixed_key_value(*d, k.section, k.key);
    ASSERT_NE(v, nullptr) << k.section << " " << k.key;
    EXPECT_EQ(*v, k.default_value) << k.key;
  }
  EXPECT_GE(fixed, 4u);
  for (const char* key : {"mail_dir", "spool_dir"}) {
    EXPECT_TRUE(find_key("store", key)->fixed_at_install) << key;
  }
  for (const char* key : {"passwd_file", "control_socket"}) {
    EXPECT_TRUE(find_key("server", key)->fixed_at_install) << key;
  }
  EXPECT_FALSE(find_key("smtp", "banner")->fixed_at_install);
}

TEST(FixedKeys, ChangesNameEachKeyWithBothValues) {
  const ConfigPtr running = parse(kRunning);
  EXPECT_TRUE(fixed_key_changes(*running, *running).empty());
  EXPECT_TRUE(fixed_key_changes(*running, *parse(std::string(kRunning) + "[smtp]\nbanner = hi\n")).empty());
  std::string text = kRunning;
  text.replace(text.find("mail_dir = /var/mail"), 20, "mail_dir = /etc");
  text.replace(text.find("spool_dir = /var/spool/boxmail"), 30, "spool_dir = /");
  const auto changes = fixed_key_changes(*running, *parse(text));
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].section, "store");
  EXPECT_EQ(changes[0].key, "mail_dir");
  EXPECT_EQ(changes[0].from, "/var/mail");
  EXPECT_EQ(changes[0].to, "/etc");
  EXPECT_EQ(changes[1].key, "spool_dir");
  EXPECT_EQ(changes[1].to, "/");
}

TEST(FixedKeys, InstalledValuesFromElsewhere) {
  // The panel's view when its own file has errors: values read as text.
  const ConfigPtr next = parse(kRunning);
  const auto same = fixed_key_changes(
      [&](const KeyInfo& k) { return *fixed_key_value(*next, k.section, k.key); }, *next);
  EXPECT_TRUE(same.empty());
  const auto moved = fixed_key_changes(
      [&](const KeyInfo& k) {
        return k.key == "passwd_file" ? std::string("/etc/boxmail/passwd.orig")
                                      : *fixed_key_value(*next, k.section, k.key);
      },
      *next);
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_EQ(moved[0].key, "passwd_file");
  EXPECT_EQ(moved[0].from, "/etc/boxmail/passwd.orig");
  EXPECT_EQ(moved[0].to, "/etc/boxmail/passwd");
}

}  // namespace

// ---- keys read at start only ------------------------------------------------------

TEST(RestartNeeded, EveryReadAtStartKeyIsKnown) {
  const ConfigPtr d = default_config();
  std::size_t n = 0;
  for (const KeyInfo& k : schema()) {
    std::string storage;
    const std::string* v = start_key_value(*d, k.section, k.key, storage);
    if (!k.read_at_start) {
      EXPECT_EQ(v, nullptr) << k.key;
      continue;
    }
    ++n;
    ASSERT_NE(v, nullptr) << k.section << " " << k.key;
    EXPECT_EQ(*v, k.default_value) << k.key;
  }
  EXPECT_EQ(n, 7u);   // smtp.listen, .submission_listen, .submissions_listen, pop3.enabled, .listen, .pop3s_listen,
                      // firewall.enabled
}

TEST(RestartNeeded, ListsTheChangedListenAddressesOnly) {
  const ConfigPtr started = parse_config("[smtp]\nlisten = 0.0.0.0:25 [::]:25\n[pop3]\nlisten = 0.0.0.0:110\n",
                                         "a.ini").config;
  ASSERT_TRUE(started);
  EXPECT_TRUE(restart_needed(*started, *started).empty());
  // A new banner and a new SMTP port: only the port needs a restart.
  const ConfigPtr next = parse_config("[smtp]\nlisten = 0.0.0.0:26 [::]:25\nbanner = hi\n[pop3]\nlisten = 0.0.0.0:110\n",
                                      "a.ini").config;
  ASSERT_TRUE(next);
  const auto r = restart_needed(*started, *next);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].section, "smtp");
  EXPECT_EQ(r[0].key, "listen");
  EXPECT_EQ(r[0].running, "0.0.0.0:25,[::]:25");
  EXPECT_EQ(r[0].asked, "0.0.0.0:26,[::]:25");
  EXPECT_EQ(r[0].to_string(),
            "[smtp] listen changes from '0.0.0.0:25,[::]:25' to '0.0.0.0:26,[::]:25': needs a restart "
            "(still serving '0.0.0.0:25,[::]:25')");
  // Turning POP3 off needs a restart too.
  const ConfigPtr off = parse_config("[smtp]\nlisten = 0.0.0.0:25 [::]:25\n[pop3]\nenabled = no\nlisten = 0.0.0.0:110\n",
                                     "a.ini").config;
  ASSERT_TRUE(off);
  const auto r2 = restart_needed(*started, *off);
  ASSERT_EQ(r2.size(), 1u);
  EXPECT_EQ(r2[0].key, "enabled");
}

TEST(FixedKeys, TheUserCannotChangeOnReload) {
  const ConfigPtr running = default_config();
  const ConfigPtr next = parse_config("[server]\nuser = nobody\n", "b.ini").config;
  ASSERT_TRUE(next);
  const auto refusals = reload_refusals(*running, *next, [](const std::string&) { return true; });
  ASSERT_EQ(refusals.size(), 1u);
  EXPECT_EQ(refusals[0].key, "user");
}

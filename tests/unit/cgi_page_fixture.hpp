// cgi_page_fixture.hpp - what the panel's page tests share
// (cgi_pages_test, cgi_outgoing_test, cgi_security_test): a Model over an
// INI text, parsed as the glue (cgi/cgi_main.cpp) parses it, and a Request
// to one page as the glue builds it from the CGI environment.
#pragma once

#include "cgi/pages.hpp"
#include "config/schema.hpp"

#include <string>
#include <string_view>
#include <utility>

namespace boxmail::cgi::fixture {

/// The CSRF token of the tests' session.
inline constexpr std::string_view kTestCsrf = "0123456789abcdef0123456789abcdef";

/// A Model of `ini` (as /etc/boxmail/boxmail.ini): its text, its parse or
/// errors, and the session's CSRF token; nothing asked of boxmaild.
inline Model page_model(std::string ini) {
  Model m;
  m.ini_path = "/etc/boxmail/boxmail.ini";
  m.ini_text = std::move(ini);
  auto p = config::parse_config(m.ini_text, m.ini_path);
  m.config = p.config;
  m.config_errors = p.errors;
  m.csrf = std::string(kTestCsrf);
  return m;
}

/// A request to `path` under /cgi-bin/boxmail.cgi; `body` and `query`
/// urlencoded as a form sends them.
inline Request page_request(std::string_view path, std::string_view method, std::string_view body = "",
                            std::string_view query = "") {
  Request r;
  r.method = std::string(method);
  r.path = std::string(path);
  r.script = "/cgi-bin/boxmail.cgi";
  r.form = parse_urlencoded(body);
  r.query = parse_urlencoded(query);
  return r;
}

}  // namespace boxmail::cgi::fixture

// page_retrieval.cpp - /retrieval: the POP3 server's settings.
#include "cgi/page_common.hpp"


namespace boxmail::cgi::detail {
namespace {

const std::vector<FieldSpec>& retrieval_specs() {
  static const std::vector<FieldSpec> specs = {
      {"pop3", "enabled", "POP3 server on"},
      {"pop3", "listen", "POP3 addresses and port"},
      {"pop3", "login_failures", "Login failures allowed per session"},
      {"pop3", "login_delay", "Delay after a failed login"},
  };
  return specs;
}

}  // namespace

Html retrieval_render(const Request& r, const Model& m, const View& v) {
  return view_notices(v) + config_problem(m) + form_open(r, "/retrieval", m) +
         settings_fields(m, v, retrieval_specs()) +
         Html::trusted("<p class=\"help\">Switching POP3 on or off and changing its addresses take effect when "
                       "boxmaild restarts; the other settings at once.</p><button type=\"submit\">Save</button>"
                       "</form>\n");
}

Outcome retrieval_post(const Request& r, const Model& m) {
  return apply_settings(m, r.form, retrieval_specs(), {});
}

}  // namespace boxmail::cgi::detail

// page_login.cpp - the login form (not in the menu; cgi_main.cpp serves it
// at /login and checks what it posts).
#include "cgi/pages.hpp"

namespace boxmail::cgi {

Html login_page(std::string_view script, std::string_view error, std::string_view csrf) {
  Html body;
  if (!error.empty()) body += notice(false, error);
  body += Html::trusted("<form method=\"post\"") + attr("action", std::string(script) + "/login") +
          Html::trusted(" class=\"login\">") + csrf_field(csrf) + text_field("user", "User", "admin", "", "") +
          Html::trusted(
              "<div class=\"field\"><label for=\"f-password\">Password</label><input type=\"password\" "
              "id=\"f-password\" name=\"password\" autocomplete=\"current-password\"></div>"
              "<button type=\"submit\">Log in</button></form>"
              "<p class=\"help\">The administrator password was printed on the appliance's console at first boot "
              "(or by <code>make run</code>); <code>boxmailctl admin passwd</code> sets a new one.</p>");
  return layout(script, "Log in", {}, "", "", body);
}

}  // namespace boxmail::cgi

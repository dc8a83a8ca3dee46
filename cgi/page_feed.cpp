// page_feed.cpp - /feed: which domains are accepted, from which servers, and
// the SMTP limits and banner.
#include "cgi/page_common.hpp"


namespace boxmail::cgi::detail {
using config::KeyInfo;

namespace {

const std::vector<FieldSpec>& feed_specs() {
  static const std::vector<FieldSpec> specs = {
      {"server", "hostname", "Host name"},
      {"smtp", "max_message_size", "Maximum message size"},
      {"smtp", "max_recipients", "Maximum recipients per message"},
      {"smtp", "banner", "Welcome banner"},
      {"smtp", "feed_servers", "Servers you accept SMTP mail from (only they may use port 25; empty: anyone)", true},
  };
  return specs;
}

}  // namespace

Html feed_render(const Request& r, const Model& m, const View& v) {
  Html out = view_notices(v) + config_problem(m);
  const KeyInfo* ad = config::find_key("smtp", "accept_domains");
  const bool again = v.form && v.outcome && !v.outcome->errors.empty();
  const std::string current = effective_value(m.ini_text, *ad);
  const bool any = again ? v.form->value("feed_mode") != "list" : current == "*";
  const std::string domains = again ? v.form->value("smtp.accept_domains")
                                    : (current == "*" ? std::string() : join(split_items(current), "\n"));
  const std::string derr = error_of(v, "smtp.accept_domains");
  out += form_open(r, "/feed", m) +
         Html::trusted("<fieldset><legend>Accepted domains</legend><div class=\"field\"><label class=\"check\">"
                       "<input type=\"radio\" id=\"f-feed-any\" name=\"feed_mode\" value=\"any\"") +
         (any ? Html::trusted(" checked") : Html()) +
         Html::trusted("> Any domain (feed mode: the ISP sends only your mail)</label><label class=\"check\">"
                       "<input type=\"radio\" id=\"f-feed-list\" name=\"feed_mode\" value=\"list\"") +
         (any ? Html() : Html::trusted(" checked")) + Html::trusted("> Only these domains</label></div>") +
         (derr.empty() ? Html::trusted("<div class=\"field\">") : Html::trusted("<div class=\"field invalid\">")) +
         Html::trusted("<label for=\"f-smtp-accept-domains\">Domains (one per line)</label><textarea "
                       "id=\"f-smtp-accept-domains\" name=\"smtp.accept_domains\" rows=\"3\" "
                       "aria-describedby=\"f-smtp-accept-domains-help\"") +
         (derr.empty() ? Html() : Html::trusted(" aria-invalid=\"true\"")) + Html::trusted(">") + domains +
         Html::trusted("</textarea>") +
         (derr.empty() ? Html()
                       : Html::trusted("<p class=\"error\" id=\"f-smtp-accept-domains-err\">") + derr +
                             Html::trusted("</p>")) +
         Html::trusted("<p class=\"help\" id=\"f-smtp-accept-domains-help\">") + ad->doc +
         Html::trusted("</p></div></fieldset>") + settings_fields(m, v, feed_specs()) +
         Html::trusted(
             "<button type=\"submit\">Save</button></form>\n"
             "<section class=\"note\"><h2>Port 25 on your router</h2><p>For mail to reach this box, the ISP router "
             "must forward TCP port 25 from the Internet to this box's LAN address (often under \"port forwarding\" "
             "or \"virtual server\"), and your domain's MX record must point at your public address. Many ISPs "
             "instead deliver to the box over their own feed: list their servers above, and port 25 then takes "
             "mail only from them (your own users send on the submission ports).</p>"
             "</section>\n");
  return out;
}

Outcome feed_post(const Request& r, const Model& m) {
  const Form& f = r.form;
  std::map<std::string, std::string> pre;
  std::string domains = "*";
  if (f.value("feed_mode") == "list") {
    const auto items = split_lines(f.value("smtp.accept_domains"));
    for (const std::string& d : items) {
      if (d.find_first_of(" \t") != std::string::npos) {
        pre["smtp.accept_domains"] = "'" + d + "' contains a space (one domain per line)";
        break;
      }
    }
    if (items.empty()) pre["smtp.accept_domains"] = "enter at least one domain, or choose any domain";
    domains = join(items, ", ");
  }
  for (const std::string& s : split_lines(f.value("smtp.feed_servers"))) {
    if (s.find_first_of(" \t") != std::string::npos) {
      pre["smtp.feed_servers"] = "'" + s + "' contains a space (one server per line)";
      break;
    }
  }
  std::vector<FieldSpec> specs = feed_specs();
  specs.push_back({"smtp", "accept_domains", "Accepted domains"});
  return apply_settings(m, f, specs, {{"smtp.accept_domains", domains}}, pre);
}

}  // namespace boxmail::cgi::detail

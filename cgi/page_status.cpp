// page_status.cpp - /status: services, today's counters and the hourly chart,
// mailbox sizes against quotas, the mail store's disk use, the recent log.
// Read only (no POST).
#include "cgi/page_common.hpp"

#include <algorithm>

namespace boxmail::cgi {
namespace detail {

Html status_render(const Request& r, const Model& m, const View& v) {
  Html out = view_notices(v) + config_problem(m);
  const DaemonView& d = m.daemon;
  if (!d.reached) {
    out += notice(false, "boxmaild does not answer on its control socket: " + d.error);
    return out;
  }
  const control::StatusReply& st = d.status;
  for (const std::string& n : st.restart_needed) {
    out += notice(false, "Waiting for a restart of boxmaild: " + n + ".");
  }
  const std::uint64_t up = st.uptime;
  const std::string uptime = std::to_string(up / 86400) + " d " + std::to_string(up % 86400 / 3600) + " h " +
                             std::to_string(up % 3600 / 60) + " min";
  Html services;
  for (const control::ServiceStatus& sv : st.services) {
    services += Html::trusted("<tr>") + td(sv.name) + td(sv.on ? "up" : "off") + td(sv.listen) +
                td(std::to_string(sv.sessions)) + Html::trusted("</tr>");
  }
  Html boxes;
  for (const control::MailboxStatus& mb : st.mailboxes) {
    const bool counted = mb.usage.has_value();   // not while boxmaild has not counted it yet
    const std::uint64_t bytes = counted ? mb.usage->octets : 0;
    const std::uint64_t quota = mb.quota;
    std::string quota_cell = "none";
    if (quota > 0) {
      quota_cell = human_size(quota);
      if (counted) quota_cell += " (" + std::to_string(bytes >= quota ? 100 : bytes * 100 / quota) + "% used" +
                                 (bytes >= quota ? ", full: new mail is deferred" : "") + ")";
    }
    boxes += (counted && quota > 0 && bytes >= quota ? Html::trusted("<tr class=\"full\">") : Html::trusted("<tr>")) +
             td(mb.name) + td(counted ? std::to_string(mb.usage->messages) : "-") +
             td(counted ? human_size(bytes) : "counting") + td(quota_cell) + Html::trusted("</tr>");
  }
  Html store;
  if (st.store) {
    const control::StoreStatus& ss = *st.store;
    const control::FileSystemSize fs = ss.fs.value_or(control::FileSystemSize{});
    store = Html::trusted("<p>Mail store <code>") + ss.dir + Html::trusted("</code>: mail ") + human_size(ss.used) +
            "; file system " + human_size(fs.free) + " free of " + human_size(fs.total) + "." +
            (ss.reserve > 0 ? " New mail is deferred when less than " + human_size(ss.reserve) + " is free."
                            : std::string()) +
            Html::trusted("</p>");
  }
  out += Html::trusted("<section><h2>Services</h2><table><thead><tr><th>service</th><th>state</th>"
                       "<th>listening on</th><th>sessions</th></tr></thead><tbody>") +
         services + Html::trusted("</tbody></table><p>Up for ") + uptime + Html::trusted(".</p></section>\n");
  if (st.relay) {
    const control::RelayStatus& rs = *st.relay;
    out += Html::trusted("<section><h2>Outgoing mail</h2><p id=\"outgoing-status\">");
    if (rs.route.empty()) {
      out += Html("Outgoing mail: not configured (mail to other domains is refused).");
    } else {
      out += Html("Outgoing mail: via " + join(rs.route, " then ") + "; " + std::to_string(rs.queued) +
                  (rs.queued == 1 ? " message" : " messages") + " in the queue.");
    }
    out += Html::trusted(" <a") + attr("href", r.script + "/outgoing") + Html::trusted(">Outgoing mail</a></p></section>\n");
  }
  out += Html::trusted("<section><h2>Messages today</h2><p class=\"counts\"><span id=\"accepted-today\">") +
         std::to_string(d.stats.accepted_today) + Html::trusted("</span> received, <span id=\"refused-today\">") +
         std::to_string(d.stats.refused_today) + Html::trusted("</span> refused.</p>") + hourly_chart(d.stats) +
         Html::trusted("</section>\n");
  out += Html::trusted("<section><h2>Security</h2><p class=\"counts\"><span id=\"bans-today\">") +
         std::to_string(d.stats.bans_today) + Html::trusted("</span>") +
         (d.stats.bans_today == 1 ? Html::trusted(" ban") : Html::trusted(" bans")) +
         Html::trusted(" today (since midnight). Blocked connections: <span id=\"firewall-drops\">") +
         (d.stats.firewall_drops ? std::to_string(*d.stats.firewall_drops) : std::string("not counted")) +
         Html::trusted("</span>") +
         (d.stats.firewall_drops
              ? Html(" packets from banned addresses dropped on the mail ports since boxmaild started (a client "
                     "retrying one connection sends several).")
              : Html(" (the firewall is off or its helper did not answer).")) +
         Html::trusted(" Refused by the connection checks today: <span id=\"blocked-dnsbl\">") +
         std::to_string(d.stats.blocked_dnsbl_today) +
         Html::trusted("</span> by DNS block lists, <span id=\"blocked-reverse-dns\">") +
         std::to_string(d.stats.blocked_reverse_dns_today) + Html::trusted("</span> by reverse DNS.") +
         Html::trusted(" <a") + attr("href", r.script + "/security") + Html::trusted(">Security</a></p></section>\n");
  out += Html::trusted("<section><h2>Mailboxes</h2><table id=\"mailbox-sizes\"><thead><tr><th>mailbox</th>"
                       "<th>messages</th><th>size</th><th>quota</th></tr></thead><tbody>") +
         boxes + Html::trusted("</tbody></table>") + store + Html::trusted("</section>\n");
  out += Html::trusted("<section><h2>Recent log</h2><pre class=\"log\">");
  for (const std::string& l : d.log.lines) out += l + Html::trusted("\n");
  out += Html::trusted("</pre></section>\n");
  return out;
}

}  // namespace detail

Html hourly_chart(const control::StatsReply& stats) {
  struct Bar {
    std::uint64_t accepted = 0, refused = 0;
  };
  std::vector<Bar> bars;
  for (const control::HourCount& h : stats.hours) bars.push_back(Bar{h.accepted, h.refused});
  std::uint64_t peak = 1;
  for (const Bar& b : bars) peak = std::max(peak, b.accepted + b.refused);
  constexpr int kW = 480, kH = 120, kBar = 20;
  using std::to_string;
  Html svg = Html::trusted("<svg class=\"chart\"") + attr("viewBox", "0 0 " + to_string(kW) + " " + to_string(kH + 16)) +
             Html::trusted(" role=\"img\"") +
             attr("aria-label", "Messages per hour, last 24 hours (peak " + to_string(peak) + ")") +
             Html::trusted("><title>Messages per hour, last 24 hours</title><line x1=\"0\"") +
             attr("y1", to_string(kH)) + attr("x2", to_string(kW)) + attr("y2", to_string(kH)) +
             Html::trusted(" stroke=\"#888\"/>");
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const int x = static_cast<int>(i) * kBar + 2;
    const int ha = static_cast<int>(bars[i].accepted * static_cast<unsigned>(kH - 4) / peak);
    const int hr = static_cast<int>(bars[i].refused * static_cast<unsigned>(kH - 4) / peak);
    const std::string tip = to_string(bars[i].accepted) + " received, " + to_string(bars[i].refused) +
                            " refused, " + to_string(bars.size() - 1 - i) + " h ago";
    svg += Html::trusted("<g><title>") + tip + Html::trusted("</title>");
    if (ha > 0)
      svg += Html::trusted("<rect") + attr("x", to_string(x)) + attr("y", to_string(kH - ha)) +
             attr("width", to_string(kBar - 4)) + attr("height", to_string(ha)) + Html::trusted(" fill=\"#2a7ab0\"/>");
    if (hr > 0)
      svg += Html::trusted("<rect") + attr("x", to_string(x)) + attr("y", to_string(kH - ha - hr)) +
             attr("width", to_string(kBar - 4)) + attr("height", to_string(hr)) + Html::trusted(" fill=\"#c0392b\"/>");
    svg += Html::trusted("<rect") + attr("x", to_string(x)) + Html::trusted(" y=\"0\"") +
           attr("width", to_string(kBar - 4)) + attr("height", to_string(kH)) +
           Html::trusted(" fill=\"transparent\"/></g>");
  }
  svg += Html::trusted("<text x=\"0\"") + attr("y", to_string(kH + 13)) +
         Html::trusted(" font-size=\"11\">-24 h</text><text") + attr("x", to_string(kW)) +
         attr("y", to_string(kH + 13)) +
         Html::trusted(" font-size=\"11\" text-anchor=\"end\">now</text></svg>"
                       "<p class=\"legend\"><span class=\"acc\">&#9632;</span> received "
                       "<span class=\"ref\">&#9632;</span> refused</p>");
  return svg;
}

}  // namespace boxmail::cgi

// page_status.cpp - /status: services, today's counters and the hourly chart,
// mailbox sizes against quotas, the mail store's disk use, the recent log.
// Read only (no POST).
#include "cgi/page_common.hpp"

#include <algorithm>

namespace boxmail::cgi {
namespace detail {

std::string status_render(const Request&, const Model& m, const View& v) {
  std::string out = view_notices(v) + config_problem(m);
  const DaemonView& d = m.daemon;
  if (!d.reached) {
    out += notice(false, "boxmaild does not answer on its control socket: " + d.error);
    return out;
  }
  const control::StatusReply& st = d.status;
  const std::uint64_t up = st.uptime;
  const std::string uptime = std::to_string(up / 86400) + " d " + std::to_string(up % 86400 / 3600) + " h " +
                             std::to_string(up % 3600 / 60) + " min";
  std::string services;
  for (const control::ServiceStatus& sv : st.services) {
    services += "<tr><td>" + escape(sv.name) + "</td><td>" + (sv.on ? "up" : "off") + "</td><td>" +
                escape(sv.listen) + "</td><td>" + escape(std::to_string(sv.sessions)) + "</td></tr>";
  }
  std::string boxes;
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
    boxes += std::string(counted && quota > 0 && bytes >= quota ? "<tr class=\"full\">" : "<tr>") + "<td>" +
             escape(mb.name) + "</td><td>" + escape(counted ? std::to_string(mb.usage->messages) : "-") +
             "</td><td>" + escape(counted ? human_size(bytes) : "counting") + "</td><td>" + escape(quota_cell) +
             "</td></tr>";
  }
  std::string store;
  if (st.store) {
    const control::StoreStatus& ss = *st.store;
    const control::FileSystemSize fs = ss.fs.value_or(control::FileSystemSize{});
    store = "<p>Mail store <code>" + escape(ss.dir) + "</code>: mail " + escape(human_size(ss.used)) +
            "; file system " + escape(human_size(fs.free)) + " free of " + escape(human_size(fs.total)) + "." +
            (ss.reserve > 0 ? " New mail is deferred when less than " + escape(human_size(ss.reserve)) + " is free."
                            : std::string()) +
            "</p>";
  }
  const std::string accepted = std::to_string(d.stats.accepted_today);
  const std::string refused = std::to_string(d.stats.refused_today);
  out += "<section><h2>Services</h2><table><thead><tr><th>service</th><th>state</th><th>listening on</th>"
         "<th>sessions</th></tr></thead><tbody>" +
         services + "</tbody></table><p>Up for " + escape(uptime) + ".</p></section>\n";
  out += "<section><h2>Messages today</h2><p class=\"counts\"><span id=\"accepted-today\">" + escape(accepted) +
         "</span> received, <span id=\"refused-today\">" + escape(refused) + "</span> refused.</p>" +
         hourly_chart(d.stats) + "</section>\n";
  out += "<section><h2>Mailboxes</h2><table id=\"mailbox-sizes\"><thead><tr><th>mailbox</th><th>messages</th>"
         "<th>size</th><th>quota</th></tr></thead><tbody>" + boxes + "</tbody></table>" + store + "</section>\n";
  out += "<section><h2>Recent log</h2><pre class=\"log\">";
  for (const std::string& l : d.log.lines) out += escape(l) + "\n";
  out += "</pre></section>\n";
  return out;
}

}  // namespace detail

std::string hourly_chart(const control::StatsReply& stats) {
  struct Bar {
    std::uint64_t accepted = 0, refused = 0;
  };
  std::vector<Bar> bars;
  for (const control::HourCount& h : stats.hours) bars.push_back(Bar{h.accepted, h.refused});
  std::uint64_t peak = 1;
  for (const Bar& b : bars) peak = std::max(peak, b.accepted + b.refused);
  constexpr int kW = 480, kH = 120, kBar = 20;
  std::string svg = "<svg class=\"chart\" viewBox=\"0 0 " + std::to_string(kW) + " " + std::to_string(kH + 16) +
                    "\" role=\"img\" aria-label=\"Messages per hour, last 24 hours (peak " + std::to_string(peak) +
                    ")\"><title>Messages per hour, last 24 hours</title>"
                    "<line x1=\"0\" y1=\"" + std::to_string(kH) + "\" x2=\"" + std::to_string(kW) + "\" y2=\"" +
                    std::to_string(kH) + "\" stroke=\"#888\"/>";
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const int x = static_cast<int>(i) * kBar + 2;
    const int ha = static_cast<int>(bars[i].accepted * static_cast<unsigned>(kH - 4) / peak);
    const int hr = static_cast<int>(bars[i].refused * static_cast<unsigned>(kH - 4) / peak);
    const std::string tip = std::to_string(bars[i].accepted) + " received, " + std::to_string(bars[i].refused) +
                            " refused, " + std::to_string(bars.size() - 1 - i) + " h ago";
    svg += "<g><title>" + tip + "</title>";
    if (ha > 0)
      svg += "<rect x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(kH - ha) + "\" width=\"" +
             std::to_string(kBar - 4) + "\" height=\"" + std::to_string(ha) + "\" fill=\"#2a7ab0\"/>";
    if (hr > 0)
      svg += "<rect x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(kH - ha - hr) + "\" width=\"" +
             std::to_string(kBar - 4) + "\" height=\"" + std::to_string(hr) + "\" fill=\"#c0392b\"/>";
    svg += "<rect x=\"" + std::to_string(x) + "\" y=\"0\" width=\"" + std::to_string(kBar - 4) + "\" height=\"" +
           std::to_string(kH) + "\" fill=\"transparent\"/></g>";
  }
  svg += "<text x=\"0\" y=\"" + std::to_string(kH + 13) + "\" font-size=\"11\">-24 h</text><text x=\"" +
         std::to_string(kW) + "\" y=\"" + std::to_string(kH + 13) +
         "\" font-size=\"11\" text-anchor=\"end\">now</text></svg>"
         "<p class=\"legend\"><span class=\"acc\">&#9632;</span> received <span class=\"ref\">&#9632;</span> "
         "refused</p>";
  return svg;
}

}  // namespace boxmail::cgi

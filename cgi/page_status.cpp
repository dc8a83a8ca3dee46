// page_status.cpp - /status: services, today's counters and the hourly chart,
// mailbox sizes against quotas, the mail store's disk use, the recent log.
// Read only (no POST).
#include "cgi/page_common.hpp"

#include "control/control_protocol.hpp"

#include <algorithm>
#include <cstdlib>

namespace boxmail::cgi {
namespace detail {

std::string status_render(const Request&, const Model& m, const View& v) {
  std::string out = view_notices(v) + config_problem(m);
  const DaemonView& d = m.daemon;
  if (!d.reached) {
    out += notice(false, "boxmaild does not answer on its control socket: " + d.error);
    return out;
  }
  std::string uptime;
  std::string services;
  std::string boxes;
  std::string store;
  for (const std::string& l : d.status) {
    if (l.starts_with("uptime ")) {
      const long long s = std::atoll(l.c_str() + 7);
      uptime = std::to_string(s / 86400) + " d " + std::to_string(s % 86400 / 3600) + " h " +
               std::to_string(s % 3600 / 60) + " min";
    } else if (l.starts_with("service ")) {
      const auto parts = split_items(l);
      if (parts.size() < 3) continue;
      const bool off = parts[2] == "off";
      services += "<tr><td>" + escape(parts[1]) + "</td><td>" + (off ? "off" : "up") + "</td><td>" +
                  escape(off ? "" : parts[2]) + "</td><td>" + escape(control::field(l, "sessions")) + "</td></tr>";
    } else if (l.starts_with("mailbox ")) {
      const auto parts = split_items(l);
      if (parts.size() < 2) continue;
      const std::string bytes_text(control::field(l, "bytes"));
      const std::uint64_t bytes = std::strtoull(bytes_text.c_str(), nullptr, 10);
      const std::uint64_t quota = std::strtoull(std::string(control::field(l, "quota")).c_str(), nullptr, 10);
      const bool counted = bytes_text != "-";   // "-" while boxmaild has not counted it yet
      std::string quota_cell = "none";
      if (quota > 0) {
        quota_cell = human_size(quota);
        if (counted) quota_cell += " (" + std::to_string(bytes >= quota ? 100 : bytes * 100 / quota) + "% used" +
                                   (bytes >= quota ? ", full: new mail is deferred" : "") + ")";
      }
      boxes += std::string(counted && quota > 0 && bytes >= quota ? "<tr class=\"full\">" : "<tr>") + "<td>" +
               escape(parts[1]) + "</td><td>" + escape(control::field(l, "messages")) + "</td><td>" +
               escape(counted ? human_size(bytes) : "counting") + "</td><td>" + escape(quota_cell) + "</td></tr>";
    } else if (l.starts_with("store ")) {
      const auto parts = split_items(l);
      const auto num = [&](std::string_view k) {
        return std::strtoull(std::string(control::field(l, k)).c_str(), nullptr, 10);
      };
      store = "<p>Mail store <code>" + escape(parts.size() > 1 ? parts[1] : "") + "</code>: mail " +
              escape(human_size(num("used"))) + "; file system " + escape(human_size(num("free"))) + " free of " +
              escape(human_size(num("total"))) + "." +
              (num("reserve") > 0 ? " New mail is deferred when less than " + escape(human_size(num("reserve"))) +
                                        " is free."
                                  : std::string()) +
              "</p>";
    }
  }
  std::string accepted = "0", refused = "0";
  for (const std::string& l : d.stats) {
    if (l.starts_with("today ")) {
      accepted = std::string(control::field(l, "accepted"));
      refused = std::string(control::field(l, "refused"));
    }
  }
  out += "<section><h2>Services</h2><table><thead><tr><th>service</th><th>state</th><th>listening on</th>"
         "<th>sessions</th></tr></thead><tbody>" +
         services + "</tbody></table><p>Up for " + escape(uptime) + ".</p></section>\n";
  out += "<section><h2>Messages today</h2><p class=\"counts\"><span id=\"accepted-today\">" + escape(accepted) +
         "</span> received, <span id=\"refused-today\">" + escape(refused) + "</span> refused.</p>" +
         hourly_chart(d.stats) + "</section>\n";
  out += "<section><h2>Mailboxes</h2><table id=\"mailbox-sizes\"><thead><tr><th>mailbox</th><th>messages</th>"
         "<th>size</th><th>quota</th></tr></thead><tbody>" + boxes + "</tbody></table>" + store + "</section>\n";
  out += "<section><h2>Recent log</h2><pre class=\"log\">";
  for (const std::string& l : d.log) out += escape(l) + "\n";
  out += "</pre></section>\n";
  return out;
}

}  // namespace detail

std::string hourly_chart(const std::vector<std::string>& stats_lines) {
  struct Bar {
    unsigned accepted = 0, refused = 0;
  };
  std::vector<Bar> bars;
  for (const std::string& l : stats_lines) {
    if (!l.starts_with("hour ")) continue;
    bars.push_back(Bar{static_cast<unsigned>(std::strtoul(std::string(control::field(l, "accepted")).c_str(), nullptr, 10)),
                       static_cast<unsigned>(std::strtoul(std::string(control::field(l, "refused")).c_str(), nullptr, 10))});
  }
  unsigned peak = 1;
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

// pages.cpp - see pages.hpp: the page table, the panel's rule for fixed paths
// around every POST, and the small public helpers. Each page is its own
// file (page_*.cpp; page_common.hpp lists them).
#include "cgi/page_common.hpp"

#include "text/number.hpp"

#include "cgi/ini_edit.hpp"
#include "config/reload_rule.hpp"

#include <cstdio>

namespace boxmail::cgi {

using config::KeyInfo;
using namespace detail;

// ---- the page table: one row per page, in menu order -----------------------------

const std::vector<PageInfo>& pages() {
  static const std::vector<PageInfo> table = {
      {"/status", "Status", status_render, nullptr},
      {"/mailboxes", "Mailboxes", mailboxes_render, mailboxes_post},
      {"/aliases", "Aliases", aliases_render, aliases_post},
      {"/feed", "Mail feed", feed_render, feed_post},
      {"/retrieval", "Mail retrieval", retrieval_render, retrieval_post},
      {"/outgoing", "Outgoing mail", outgoing_render, outgoing_post},
      {"/security", "Security", security_render, security_post},
      {"/certificate", "Certificate", certificate_render, certificate_post},
      {"/backup", "Backup and restore", backup_render, backup_post},
      // POST /firmware (the upload) and /firmware/reset are the glue's:
      // the upload is streamed to disk, never a Form (firmware_upload.hpp).
      {"/firmware", "Firmware", firmware_render, nullptr},
  };
  return table;
}

const PageInfo* find_page(std::string_view path) {
  if (path.empty() || path == "/") return &pages().front();
  for (const PageInfo& p : pages())
    if (p.path == path) return &p;
  return nullptr;
}

std::vector<MenuItem> menu() {
  std::vector<MenuItem> out;
  for (const PageInfo& p : pages()) out.push_back(MenuItem{p.path, p.title});
  return out;
}

// ---- public ------------------------------------------------------------------------

namespace {

/// A fixed key's installed value: the running file's, or as written in a
/// file that has errors elsewhere.
std::string installed_value(const Model& m, const KeyInfo& k) {
  if (m.config) {
    if (const std::string* v = config::fixed_key_value(*m.config, k.section, k.key)) return *v;
  }
  return effective_value(m.ini_text, k);
}

constexpr std::string_view kFixedWhy =
    " is fixed at install time: the panel and a restored backup cannot change it";

}  // namespace

Outcome post_page(const PageInfo& page, const Request& r, const Model& m) {
  Outcome o;
  for (const Field& f : r.form.fields) {
    for (const KeyInfo& k : config::schema()) {
      if (!k.fixed_at_install || f.name != field_name(k)) continue;
      o.errors[f.name] = "[" + std::string(k.section) + "] " + std::string(k.key) + std::string(kFixedWhy);
      o.error += (o.error.empty() ? "Nothing was changed: " : "; ") + o.errors[f.name];
    }
  }
  if (!o.error.empty()) {
    o.error += ".";
    return o;
  }
  o = page.post(r, m);
  if (!o.change || !o.change->ini) return o;
  const auto parsed = config::parse_config(*o.change->ini, m.ini_path);
  if (!parsed.config) {
    // Pages validate their text; this is a last line, not a message path.
    o.change.reset();
    o.error = "Nothing was changed: the new configuration has errors (" +
              (parsed.errors.empty() ? std::string() : parsed.errors.front().to_string()) + ")";
    return o;
  }
  const auto changes = config::fixed_key_changes([&m](const KeyInfo& k) { return installed_value(m, k); },
                                                 *parsed.config);
  if (changes.empty()) return o;
  o.change.reset();
  o.error = "Nothing was changed: ";
  for (std::size_t i = 0; i < changes.size(); ++i) {
    const auto& c = changes[i];
    o.error += (i ? "; " : "") + ("[" + c.section + "] " + c.key) + std::string(kFixedWhy) + " (it is '" + c.from +
               "' here, '" + c.to + "' in the new configuration)";
  }
  o.error += ".";
  return o;
}

std::string effective_value(std::string_view text, const config::KeyInfo& key) {
  if (auto v = ini_get(text, key.section, key.key)) return *v;
  return std::string(key.default_value);
}

std::optional<std::uint64_t> parse_quota(std::string_view text) {
  if (text.empty()) return 0;
  const auto n = text::parse_scaled(text, text::kSizeSuffixes, text::kSizeFactors);
  if (!n) return std::nullopt;
  return n.value;
}

std::string human_size(std::uint64_t n) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
  } else {
    std::snprintf(buf, sizeof buf, v < 10 ? "%.1f %s" : "%.0f %s", v, kUnits[u]);
  }
  return buf;
}

}  // namespace boxmail::cgi

// page_common.hpp - what the panel's page files share (pure; internal to
// cgi/, not part of the pages.hpp interface).
//
// Each page lives in its own file (page_status.cpp, page_mailboxes.cpp,
// page_aliases.cpp, page_feed.cpp, page_retrieval.cpp, page_backup.cpp,
// page_certificate.cpp, page_outgoing.cpp, page_security.cpp, page_firmware.cpp,
// page_login.cpp); pages.cpp holds the table that
// names them. The helpers here are the small text utilities the forms
// need, the notices every page shows, and the settings forms over schema
// keys (apply_settings / settings_fields), which the feed, retrieval and
// alias pages use alike.
#pragma once

#include "cgi/pages.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace boxmail::cgi::detail {

// ---- text ---------------------------------------------------------------------

/// `s` without leading and trailing blanks, tabs, CR and LF.
std::string trim(std::string_view s);
/// True when `s` holds a control character other than TAB (or DEL).
bool has_control(std::string_view s);
/// Items separated by commas, blanks or line ends (empty items dropped).
std::vector<std::string> split_items(std::string_view s);
/// Lines (or comma-separated items) of a textarea, trimmed; an item with
/// an inner blank is returned whole so it can be refused.
std::vector<std::string> split_lines(std::string_view s);
/// `items` joined with `sep` between them.
std::string join(const std::vector<std::string>& items, std::string_view sep);
/// A duration for people: "45 s", "12 min", "3 h 5 min", "2 d 4 h" (cut, not rounded).
std::string span(std::uint64_t seconds);
/// "section.key", the form field name of a schema key.
std::string field_name(const config::KeyInfo& k);

// ---- views --------------------------------------------------------------------

/// The error for form field `field` in the view's outcome; "" when none.
std::string error_of(const View& v, std::string_view field);
/// The notice and the form-wide error of a view.
Html view_notices(const View& v);
/// `<form method="post" action="SCRIPT/PATH"...>` with the CSRF field;
/// `extra` is more attributes (Html::trusted(" enctype=...")).
Html form_open(const Request& r, std::string_view path, const Model& m, const Html& extra = Html());
/// A red box listing the INI file's errors; empty when it parsed.
Html config_problem(const Model& m);

// ---- settings forms over schema keys -------------------------------------------

/// One schema key on a settings page.
struct FieldSpec {
  std::string_view section;
  std::string_view key;
  std::string_view label;
  bool textarea = false;   ///< a list shown one item per line
};

/// Applies the specs' submitted values to the INI text (`overrides`, by
/// field name, replace what the form sent), validates it whole and maps
/// the errors back to the fields. `pre` may add field errors of its own
/// first (those fields are not written).
Outcome apply_settings(const Model& m, const Form& f, const std::vector<FieldSpec>& specs,
                       const std::map<std::string, std::string>& overrides,
                       std::map<std::string, std::string> pre = {});

/// Renders the specs as fields; values from the submitted form after an
/// error, else from the INI text.
Html settings_fields(const Model& m, const View& v, const std::vector<FieldSpec>& specs);

// ---- the pages (one file each; pages.cpp's table names them) ----------------------
// NAME_render draws the page (RenderFn: GET, or a POST that had errors);
// NAME_post validates a submitted form (PostFn; the glue runs it through
// post_page). See pages.hpp.

Html status_render(const Request& r, const Model& m, const View& v);
Html mailboxes_render(const Request& r, const Model& m, const View& v);
Outcome mailboxes_post(const Request& r, const Model& m);
Html aliases_render(const Request& r, const Model& m, const View& v);
Outcome aliases_post(const Request& r, const Model& m);
Html feed_render(const Request& r, const Model& m, const View& v);
Outcome feed_post(const Request& r, const Model& m);
Html retrieval_render(const Request& r, const Model& m, const View& v);
Outcome retrieval_post(const Request& r, const Model& m);
Html certificate_render(const Request& r, const Model& m, const View& v);
Outcome certificate_post(const Request& r, const Model& m);
Html outgoing_render(const Request& r, const Model& m, const View& v);
Outcome outgoing_post(const Request& r, const Model& m);
Html security_render(const Request& r, const Model& m, const View& v);
Outcome security_post(const Request& r, const Model& m);
Html backup_render(const Request& r, const Model& m, const View& v);
Html firmware_render(const Request& r, const Model& m, const View& v);
Outcome backup_post(const Request& r, const Model& m);

}  // namespace boxmail::cgi::detail

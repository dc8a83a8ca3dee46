// html.hpp - HTML output for the panel (pure): escaping, the page layout
// with its left menu, and form fields whose label and help text come from
// the configuration schema.
//
// Every text that reaches a page goes through escape() (or attr()), values
// from the configuration, the accounts and the daemon's log included.
#pragma once

#include "config/schema.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace boxmail::cgi {

/// & < > " ' as character references (safe in text and quoted attributes).
std::string escape(std::string_view s);

/// One entry of the left menu (pages.cpp owns the table).
struct MenuItem {
  std::string_view path;    ///< PATH_INFO, e.g. "/mailboxes"
  std::string_view title;   ///< menu text and page heading
};

/// The whole document: head (title, viewport, the stylesheet), the header
/// bar with the logout button (when `csrf` is not empty), the menu (when
/// `menu` is not empty; `active` is highlighted) and `body` (already HTML).
/// `script` is SCRIPT_NAME, the base of every link.
std::string layout(std::string_view script, std::string_view title, const std::vector<MenuItem>& menu,
                   std::string_view active, std::string_view csrf, std::string_view body);

/// A notice box: ok (green) or not (red); `text` is escaped.
std::string notice(bool ok, std::string_view text);

/// The hidden CSRF field of every POST form.
std::string csrf_field(std::string_view csrf);

/// A form field for a schema key: label, input (checkbox for booleans,
/// select for word choices, text otherwise), the key's doc as help text,
/// and `error` (escaped) next to it. The input's name is "section.key".
std::string schema_field(const config::KeyInfo& key, std::string_view label, std::string_view value,
                         std::string_view error, bool textarea = false);

/// A plain labelled text input (not a schema key); `type` is "text" or
/// "password"; `help` and `error` may be empty.
std::string text_field(std::string_view name, std::string_view label, std::string_view value,
                       std::string_view help, std::string_view error, std::string_view type = "text");

/// A labelled checkbox.
std::string check_field(std::string_view name, std::string_view label, bool checked, std::string_view help);

}  // namespace boxmail::cgi

// html.hpp - HTML output for the panel (pure): the Html type, the page
// layout with its left menu, and form fields whose label and help text come
// from the configuration schema.
//
// Markup is built as Html, a value that holds only markup known to be
// safe: text becomes Html by escaping (Html(text), html + text, html +=
// text), raw markup only through Html::trusted("<tr>"), which takes
// nothing but a string literal written in the code (checked at compile
// time). Attribute values go through attr(). There is no implicit
// conversion from text to Html and none back: forgetting to escape a value
// from the configuration, the accounts, a form or the daemon does not
// compile, it is escaped. `grep -n 'Html::trusted'` lists all raw markup.
#pragma once

#include "config/schema.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace boxmail::cgi {

/// & < > " ' as character references (safe in text and in quoted
/// attribute values). The one escaping function; Html uses it.
std::string escape(std::string_view s);

/// Markup safe to send (see the file comment).
class Html {
 public:
  /// A string literal in the code; consteval: a runtime string does not
  /// compile here.
  struct Literal {
    consteval Literal(const char* s) : text(s) {}   // NOLINT: implicit from a literal on purpose
    std::string_view text;
  };

  Html() = default;
  /// `text` as markup: escaped (never implicit).
  explicit Html(std::string_view text) : s_(escape(text)) {}

  /// Markup written in the code, taken as it is: `Html::trusted("<tr>")`.
  static Html trusted(Literal markup) {
    Html h;
    h.s_ = markup.text;
    return h;
  }

  /// Appends markup.
  Html& operator+=(const Html& h) {
    s_ += h.s_;
    return *this;
  }
  /// Appends text, escaped.
  Html& operator+=(std::string_view text) {
    s_ += escape(text);
    return *this;
  }

  friend Html operator+(Html a, const Html& b) { return a += b; }
  /// Markup followed by text (escaped).
  friend Html operator+(Html a, std::string_view text) { return a += text; }
  /// Text (escaped) followed by markup.
  friend Html operator+(std::string_view text, const Html& b) { return Html(text) += b; }

  /// The markup, to send.
  const std::string& str() const { return s_; }
  bool empty() const { return s_.empty(); }
  bool operator==(const Html&) const = default;

 private:
  std::string s_;
};

/// ` NAME="VALUE"` with `value` escaped for a quoted attribute; NAME is a
/// literal in the code.
Html attr(Html::Literal name, std::string_view value);

/// A table cell holding `text` (escaped): `<td>TEXT</td>`.
Html td(std::string_view text);

/// One entry of the left menu (pages.cpp owns the table).
struct MenuItem {
  std::string_view path;    ///< PATH_INFO, e.g. "/mailboxes"
  std::string_view title;   ///< menu text and page heading
};

/// The whole document: head (title, viewport, the stylesheet), the header
/// bar with the logout button (when `csrf` is not empty), the menu (when
/// `menu` is not empty; `active` is highlighted) and `body`.
/// `script` is SCRIPT_NAME, the base of every link. Texts are escaped.
Html layout(std::string_view script, std::string_view title, const std::vector<MenuItem>& menu,
            std::string_view active, std::string_view csrf, const Html& body);

/// A notice box: ok (green) or not (red); `text` is escaped.
Html notice(bool ok, std::string_view text);

/// `<input type="hidden" name="NAME" value="VALUE">`, the value escaped.
Html hidden_field(Html::Literal name, std::string_view value);

/// The hidden CSRF field of every POST form.
Html csrf_field(std::string_view csrf);

/// A form field for a schema key: label, input (checkbox for booleans,
/// select for word choices, text otherwise), the key's doc as help text,
/// and `error` next to it (all escaped). The input's name is "section.key".
Html schema_field(const config::KeyInfo& key, std::string_view label, std::string_view value,
                  std::string_view error, bool textarea = false);

/// A plain labelled text input (not a schema key); `type` is "text" or
/// "password"; `help` and `error` may be empty (all escaped).
Html text_field(std::string_view name, std::string_view label, std::string_view value, std::string_view help,
                std::string_view error, std::string_view type = "text");

/// A labelled checkbox.
Html check_field(std::string_view name, std::string_view label, bool checked, std::string_view help);

}  // namespace boxmail::cgi

// cgi_html_test.cpp - the panel's Html type (cgi/html.hpp): text is escaped
// wherever it lands (text, attribute, table cell, form field value, notice,
// whole pages), raw markup comes only from literals, and nothing converts
// text to markup implicitly.
#include "cgi/html.hpp"
#include "cgi/pages.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <type_traits>

namespace {

using namespace boxmail;
using namespace boxmail::cgi;

// ---- the type: no implicit way from text to markup, none back ---------------------

static_assert(!std::is_convertible_v<std::string, Html>);
static_assert(!std::is_convertible_v<std::string_view, Html>);
static_assert(!std::is_convertible_v<const char*, Html>);
static_assert(!std::is_convertible_v<Html, std::string>);
static_assert(!std::is_convertible_v<Html, std::string_view>);
// Escaping is explicit construction; trusted() takes no runtime string.
static_assert(std::is_constructible_v<Html, std::string_view>);
template <class S>
concept TrustedTakes = requires(S s) { Html::trusted(s); };
static_assert(!TrustedTakes<std::string>);
static_assert(!TrustedTakes<std::string_view>);
// A render function cannot return a std::string any more.
static_assert(!std::is_convertible_v<std::string (*)(const Request&, const Model&, const View&), RenderFn>);
// layout()'s body cannot be a std::string.
template <class B>
concept LayoutTakes = requires(B b) { layout("", "", {}, "", "", b); };
static_assert(!LayoutTakes<std::string>);
static_assert(LayoutTakes<Html>);

constexpr std::string_view kEvil = "<script>alert(\"x\")</script>' & \"";
constexpr std::string_view kEscaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; &amp; &quot;";

/// True when `html` holds none of the raw characters of kEvil's payload.
void expect_no_raw(const std::string& html, std::string_view where) {
  EXPECT_EQ(html.find("<script>"), std::string::npos) << where << ": " << html;
  EXPECT_EQ(html.find("alert(\"x\")"), std::string::npos) << where << ": " << html;
  EXPECT_EQ(html.find("' & "), std::string::npos) << where << ": " << html;
}

TEST(CgiHtml, TextIsEscapedByEveryWayIn) {
  EXPECT_EQ(Html(kEvil).str(), kEscaped);
  EXPECT_EQ((Html() + kEvil).str(), kEscaped);
  EXPECT_EQ((kEvil + Html()).str(), kEscaped);
  Html h = Html::trusted("<p>");
  h += kEvil;
  h += Html::trusted("</p>");
  EXPECT_EQ(h.str(), "<p>" + std::string(kEscaped) + "</p>");
  EXPECT_EQ((Html::trusted("<b>") + std::string(kEvil)).str(), "<b>" + std::string(kEscaped));
  // A literal added as text is text: it is escaped too (only trusted() is markup).
  EXPECT_EQ((Html() + "<td>").str(), "&lt;td&gt;");
}

TEST(CgiHtml, EveryKindOfPlace) {
  // Attribute.
  EXPECT_EQ(attr("title", kEvil).str(), " title=\"" + std::string(kEscaped) + "\"");
  // Table cell.
  EXPECT_EQ(td(kEvil).str(), "<td>" + std::string(kEscaped) + "</td>");
  // Hidden and text form field values, labels, help and error texts.
  const std::string hidden = hidden_field("name", kEvil).str();
  EXPECT_NE(hidden.find("value=\"" + std::string(kEscaped) + "\""), std::string::npos) << hidden;
  const std::string field = text_field("alias_name", kEvil, kEvil, kEvil, kEvil).str();
  EXPECT_NE(field.find("value=\"" + std::string(kEscaped) + "\""), std::string::npos) << field;
  expect_no_raw(field, "text_field");
  expect_no_raw(text_field("x", "l", "v", "h", "e", kEvil).str(), "text_field type");
  expect_no_raw(check_field("x", kEvil, true, kEvil).str(), "check_field");
  const config::KeyInfo* banner = config::find_key("smtp", "banner");
  ASSERT_NE(banner, nullptr);
  for (bool textarea : {false, true}) {
    const std::string s = schema_field(*banner, kEvil, kEvil, kEvil, textarea).str();
    EXPECT_NE(s.find(kEscaped), std::string::npos) << s;
    expect_no_raw(s, "schema_field");
  }
  // Notice.
  EXPECT_EQ(notice(false, kEvil).str(),
            "<p class=\"notice bad\" role=\"status\">" + std::string(kEscaped) + "</p>\n");
  // The CSRF field, the layout's title, script name and menu.
  expect_no_raw(csrf_field(kEvil).str(), "csrf_field");
  const std::vector<MenuItem> menu = {{kEvil, kEvil}};
  const std::string page = layout(kEvil, kEvil, menu, kEvil, kEvil, Html(kEvil)).str();
  expect_no_raw(page, "layout");
  EXPECT_NE(page.find("<title>" + std::string(kEscaped) + " - boxmail</title>"), std::string::npos) << page;
  // The login page.
  expect_no_raw(login_page(kEvil, kEvil, kEvil).str(), "login_page");
}

TEST(CgiHtml, PagesEscapeWhatTheyShow) {
  // Values from the accounts, the INI file, the daemon and the query
  // string, each carrying the payload, on every page.
  Model m;
  m.ini_path = std::string(kEvil);
  m.ini_text = "[smtp]\nbanner = " + std::string(kEvil) + "\n[aliases]\ninfo = alice\n";
  m.config_errors.push_back(config::ConfigError{std::string(kEvil), 1, "smtp", "x", std::string(kEvil)});
  m.account_errors.push_back(std::string(kEvil));
  m.csrf = std::string(kEvil);
  m.daemon.reached = true;
  m.daemon.status.services = {{std::string(kEvil), true, std::string(kEvil), 1}};
  m.daemon.status.mailboxes = {{std::string(kEvil), control::MailboxUsage{1, 2}, 0}};
  m.daemon.status.store = control::StoreStatus{std::string(kEvil), 1, std::nullopt, 0};
  m.daemon.log.lines = {std::string(kEvil)};
  Request r;
  r.method = "GET";
  r.script = std::string(kEvil);
  r.query.fields.push_back(Field{"edit", std::string(kEvil), {}});
  r.query.fields.push_back(Field{"delete", std::string(kEvil), {}});
  View v;
  v.notice = std::string(kEvil);
  for (const PageInfo& p : pages()) {
    const std::string html = p.render(r, m, v).str();
    expect_no_raw(html, p.path);
    EXPECT_NE(html.find(kEscaped), std::string::npos) << p.path;
  }
  m.daemon.reached = false;
  m.daemon.error = std::string(kEvil);
  expect_no_raw(find_page("/status")->render(r, m, v).str(), "status, not reached");
}

}  // namespace

// cgi_form_test.cpp - the panel's body and cookie parsers (cgi/form.hpp):
// urlencoded, multipart/form-data, Cookie, each with its limits.
#include "cgi/form.hpp"

#include <gtest/gtest.h>

namespace {

using namespace boxmail::cgi;

std::string fields_text(const Form& f) {
  std::string out;
  for (const auto& x : f.fields) out += x.name + "=" + x.value + (x.filename ? "[file " + *x.filename + "]" : "") + ";";
  return out;
}

TEST(CgiForm, Urlencoded) {
  struct Case {
    std::string_view body, expect, error;
  } cases[] = {
      {"a=1&b=2", "a=1;b=2;", ""},
      {"a=hello+world&b=%3Cscript%3E", "a=hello world;b=<script>;", ""},
      {"a=&b", "a=;b=;", ""},
      {"&&a=1&&", "a=1;", ""},
      {"", "", ""},
      {"n%61me=%2b", "name=+;", ""},
      {"a=%", "", "malformed %-escape in form data"},
      {"a=%4", "", "malformed %-escape in form data"},
      {"a=%zz", "", "malformed %-escape in form data"},
      {"=1", "", "form field without a name"},
      {"a=%00", "", "NUL octet in form data"},
  };
  for (const auto& c : cases) {
    const Form f = parse_urlencoded(c.body);
    EXPECT_EQ(f.error, c.error) << c.body;
    EXPECT_EQ(fields_text(f), c.expect) << c.body;
  }
}

TEST(CgiForm, UrlencodedLimits) {
  Limits l;
  l.max_body = 20;
  l.max_fields = 3;
  l.max_value = 5;
  l.max_name = 4;
  EXPECT_EQ(parse_urlencoded(std::string(21, 'a'), l).error, "request body too large");
  EXPECT_EQ(parse_urlencoded("a=1&b=2&c=3&d=4", l).error, "too many form fields");
  EXPECT_EQ(parse_urlencoded("a=123456", l).error, "form field 'a' too long");
  EXPECT_EQ(parse_urlencoded("abcde=1", l).error, "form field name too long");
  EXPECT_TRUE(parse_urlencoded("a=12345", l).error.empty());
}

TEST(CgiForm, PercentEncodeRoundTrips) {
  const std::string s = "../../etc <x>&y=z\xff";
  EXPECT_EQ(percent_encode("a-b_c.d~"), "a-b_c.d~");
  EXPECT_EQ(percent_encode("a b/"), "a%20b%2F");
  EXPECT_EQ(percent_decode(percent_encode(s), false), s);
}

TEST(CgiForm, MultipartBoundary) {
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=abc"), "abc");
  EXPECT_EQ(multipart_boundary("Multipart/Form-Data; charset=x; boundary=\"a b;c\""), "a b;c");
  EXPECT_EQ(multipart_boundary("multipart/form-data"), std::nullopt);
  EXPECT_EQ(multipart_boundary("text/plain; boundary=abc"), std::nullopt);
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=" + std::string(71, 'x')), std::nullopt);
}

constexpr char kMultipartText[] =
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"csrf\"\r\n\r\n"
    "0123\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"archive\"; filename=\"b.tar\"\r\n"
    "Content-Type: application/x-tar\r\n\r\n"
    "bin\r\nary\0data\r\n"
    "--XyZ--\r\n";
const std::string kMultipart(kMultipartText, sizeof kMultipartText - 1);

TEST(CgiForm, Multipart) {
  const std::string& body = kMultipart;
  const Form f = parse_multipart(body, "XyZ");
  ASSERT_EQ(f.error, "");
  EXPECT_EQ(f.value("csrf"), "0123");
  const Field* file = f.file("archive");
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(*file->filename, "b.tar");
  EXPECT_EQ(file->value, std::string("bin\r\nary\0data", 13));
  EXPECT_EQ(f.file("csrf"), nullptr);
  // Through parse_body, with a preamble.
  const Form g = parse_body("multipart/form-data; boundary=XyZ", "preamble\r\n" + body);
  EXPECT_EQ(g.error, "");
  EXPECT_EQ(g.fields.size(), 2u);
}

TEST(CgiForm, MultipartErrors) {
  struct Case {
    std::string body, error;
  } cases[] = {
      {"no boundary here", "multipart body without a boundary"},
      {"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue", "multipart body not closed"},
      {"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\nvalue\r\n--XyZ--", "malformed or too long part header"},
      {"--XyZ\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nv\r\n--XyZ--", "part is not form-data"},
      {"--XyZ\r\nContent-Type: text/plain\r\n\r\nv\r\n--XyZ--", "part without a field name"},
      {"--XyZ\r\nbroken header\r\n\r\nv\r\n--XyZ--", "malformed part header"},
      {"--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\nv\r\n--XyZ--", "part without a field name"},
  };
  for (const auto& c : cases) EXPECT_EQ(parse_multipart(c.body, "XyZ").error, c.error) << c.body;
  Limits l;
  l.max_upload = 10;
  EXPECT_EQ(parse_multipart(kMultipart, "XyZ", l).error, "upload too large");
  EXPECT_EQ(parse_body("text/plain", "x").error, "unsupported content type");
  EXPECT_EQ(parse_body("multipart/form-data", "x").error, "multipart/form-data without a valid boundary");
}

TEST(CgiForm, Cookies) {
  EXPECT_EQ(cookie("a=1; boxmail_session=abc; b=2", "boxmail_session"), "abc");
  EXPECT_EQ(cookie("boxmail_session=\"q\"", "boxmail_session"), "q");
  EXPECT_EQ(cookie("x=1;noequals; =v; y = 2 ", "y"), "2");
  EXPECT_EQ(cookie("", "a"), std::nullopt);
  EXPECT_EQ(parse_cookies("x=1;noequals; =v; y=2").size(), 2u);
  std::string many;
  for (int i = 0; i < 50; ++i) many += "c" + std::to_string(i) + "=v; ";
  EXPECT_EQ(parse_cookies(many).size(), 32u);
}

}  // namespace

// cgi_multipart_reader_test.cpp - the streaming multipart/form-data reader
// (cgi/multipart_reader.hpp): any chunking reads the same parts as the whole
// body; a large file part reaches the sink as it arrives (never held); the
// limits and the sink's own refusal stop the read at once.
#include "cgi/multipart_reader.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace boxmail::cgi {
namespace {

/// Records what the reader hands over; can refuse a part by name.
struct Recorder final : MultipartSink {
  struct Part {
    std::string name;
    std::optional<std::string> filename;
    std::string data;
    std::size_t calls = 0;
    bool ended = false;
  };
  std::vector<Part> parts;
  std::string refuse;   // a field name whose begin_part is refused
  std::size_t keep = std::string::npos;   // octets of data kept per part (the rest only counted)
  std::size_t counted = 0;
  std::string begin_part(const std::string& name, const std::optional<std::string>& filename) override {
    if (name == refuse) return "the field '" + name + "' is not taken here";
    parts.push_back(Part{name, filename, {}, 0, false});
    return {};
  }
  std::string part_data(std::string_view octets) override {
    ++parts.back().calls;
    counted += octets.size();
    if (parts.back().data.size() < keep) parts.back().data.append(octets.substr(0, keep - parts.back().data.size()));
    return {};
  }
  std::string end_part() override {
    parts.back().ended = true;
    return {};
  }
};

std::string body_of(const std::string& file) {
  return "--Bnd\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntoken-1\r\n"
         "--Bnd\r\nContent-Disposition: form-data; name=\"firmware\"; filename=\"fw.bmfw\"\r\n"
         "Content-Type: application/octet-stream\r\n\r\n" +
         file + "\r\n--Bnd--\r\nepilogue";
}

TEST(MultipartReader, AnyChunkingReadsTheSameParts) {
  // File content holding near-delimiters: CRLF, "--Bnd" without CRLF, CRLF "--Bn".
  const std::string file = std::string("a\r\nb--Bnd\r\n--Bn\0z\r\n-", 20);
  const std::string body = body_of(file);
  for (std::size_t step = 1; step <= body.size(); ++step) {
    Recorder r;
    MultipartReader reader("Bnd", Limits{}, r);
    for (std::size_t i = 0; i < body.size(); i += step) ASSERT_EQ(reader.feed(body.substr(i, step)), "") << step;
    ASSERT_EQ(reader.finish(), "") << step;
    EXPECT_TRUE(reader.closed());
    ASSERT_EQ(r.parts.size(), 2u) << step;
    EXPECT_EQ(r.parts[0].name, "csrf");
    EXPECT_FALSE(r.parts[0].filename);
    EXPECT_EQ(r.parts[0].data, "token-1");
    EXPECT_EQ(r.parts[1].name, "firmware");
    EXPECT_EQ(r.parts[1].filename, "fw.bmfw");
    EXPECT_EQ(r.parts[1].data, file) << step;
    EXPECT_TRUE(r.parts[0].ended && r.parts[1].ended);
  }
}

TEST(MultipartReader, LargeFileStreamsThrough) {
  // 8 MiB of file in 64 KiB reads: the sink has nearly all of it before the
  // closing delimiter arrives, in many calls (the reader holds at most a
  // delimiter's worth back).
  const std::size_t size = 8u << 20;
  std::string head = "--Bnd\r\nContent-Disposition: form-data; name=\"firmware\"; filename=\"f\"\r\n\r\n";
  Recorder r;
  r.keep = 0;
  MultipartReader reader("Bnd", Limits{}, r);
  ASSERT_EQ(reader.feed(head), "");
  const std::string chunk(64 * 1024, 'x');
  for (std::size_t sent = 0; sent < size; sent += chunk.size()) ASSERT_EQ(reader.feed(chunk), "");
  EXPECT_GE(r.counted, size - 8);   // all but the possible start of a delimiter
  EXPECT_GE(r.parts[0].calls, size / chunk.size());
  EXPECT_FALSE(r.parts[0].ended);
  ASSERT_EQ(reader.feed("\r\n--Bnd--\r\n"), "");
  EXPECT_EQ(reader.finish(), "");
  EXPECT_EQ(r.counted, size);
  EXPECT_TRUE(r.parts[0].ended);
}

TEST(MultipartReader, LimitsAndTheSinkStopTheRead) {
  Limits l;
  l.max_value = 8;
  l.max_fields = 2;
  l.max_headers = 200;
  struct Case {
    std::string body, error;
  } cases[] = {
      {"--Bnd\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n12345678901234567890", "form field 'csrf' too long"},
      {"--Bnd\r\nContent-Disposition: form-data; name=\"" + std::string(65, 'n') + "\"\r\n\r\nv",
       "form field name too long"},
      {"--Bnd\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Long: " + std::string(300, 'h'),
       "malformed or too long part header"},
      {std::string(300, 'p'), "multipart body without a boundary"},
      {"--Bnd\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
       "--Bnd\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\n2\r\n"
       "--Bnd\r\nContent-Disposition: form-data; name=\"c\"\r\n\r\n3",
       "too many form fields"},
      {"--Bnd\r\nContent-Disposition: form-data; name=\"evil\"\r\n\r\nv", "the field 'evil' is not taken here"},
      {"--Bnd" + std::string(250, ' ') + "\r\n", "malformed multipart delimiter"},
      {"--Bnd\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--Bndx\r\n", "malformed multipart delimiter"},
  };
  for (const Case& c : cases) {
    Recorder r;
    r.refuse = "evil";
    MultipartReader reader("Bnd", l, r);
    std::string error;
    for (char ch : c.body) {   // octet by octet: the error comes as soon as it is known
      error = reader.feed(std::string_view(&ch, 1));
      if (!error.empty()) break;
    }
    EXPECT_EQ(error, c.error) << c.body.substr(0, 90);
    EXPECT_EQ(reader.feed("more"), c.error);   // and stays
    EXPECT_EQ(reader.finish(), c.error);
  }
  // Cut short: each state says what is missing.
  for (const auto& [body, error] : std::vector<std::pair<std::string, std::string>>{
           {"", "multipart body without a boundary"},
           {"--Bnd", "malformed multipart delimiter"},
           {"--Bnd\r\nContent-Disposition: form-data; name=\"a\"", "malformed or too long part header"},
           {"--Bnd\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue", "multipart body not closed"},
       }) {
    Recorder r;
    MultipartReader reader("Bnd", l, r);
    EXPECT_EQ(reader.feed(body), "");
    EXPECT_EQ(reader.finish(), error) << body;
  }
}

}  // namespace
}  // namespace boxmail::cgi

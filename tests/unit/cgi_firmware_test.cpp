// cgi_firmware_test.cpp - the Firmware page (cgi/page_firmware.cpp), its
// status and release files (cgi/firmware_panel.hpp) and the streamed
// upload (cgi/firmware_upload.hpp) with real files in a temporary staging
// directory: the update files are the ones tests/unit/data/firmware/make.sh
// signed with board/common/sign_firmware.py (test keys).
#include "cgi/firmware_panel.hpp"
#include "cgi/firmware_upload.hpp"
#include "cgi/multipart_reader.hpp"
#include "cgi_page_fixture.hpp"

#include <gtest/gtest.h>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

namespace {

using namespace boxmail::cgi;
using fixture::kTestCsrf;

const std::string kData = std::string(BOXMAIL_SOURCE_DIR) + "/tests/unit/data/firmware/";
const std::string kBoundary = "----boxmailFirmwareTest";

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

void spit(const std::string& path, std::string_view text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
}

std::set<std::string> entries(const std::string& dir) {
  std::set<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  while (dirent* e = d ? ::readdir(d) : nullptr) {
    const std::string n = e->d_name;
    if (n != "." && n != "..") out.insert(n);
  }
  if (d) ::closedir(d);
  return out;
}

/// A fresh staging directory, removed (with what it holds) at the end.
struct Staging {
  std::string dir;
  Staging() {
    char tmpl[] = "/tmp/boxmail-fw-XXXXXX";
    if (::mkdtemp(tmpl)) dir = tmpl;
  }
  ~Staging() {
    for (const auto& n : entries(dir)) ::unlink((dir + "/" + n).c_str());
    ::rmdir(dir.c_str());
  }
};

/// One part of a multipart body.
struct Part {
  std::string name;
  std::string value;
  bool file = false;
};

std::string body_of(const std::vector<Part>& parts) {
  std::string b;
  for (const Part& p : parts) {
    b += "--" + kBoundary + "\r\nContent-Disposition: form-data; name=\"" + p.name + "\"";
    if (p.file) b += "; filename=\"fw.bmfw\"\r\nContent-Type: application/octet-stream";
    b += "\r\n\r\n" + p.value + "\r\n";
  }
  return b + "--" + kBoundary + "--\r\n";
}

UploadSettings settings(const std::string& staging, std::string parts = "kernel initramfs") {
  UploadSettings s;
  s.staging = staging;
  s.key_path = kData + "test-key.pub.pem";
  s.public_key = slurp(s.key_path);
  s.release_path = "release";
  s.release = parse_release("board=test-board\nversion=1.0.0\nparts=" + parts + "\n");
  s.csrf = std::string(kTestCsrf);
  return s;
}

/// Runs `body` through a MultipartReader into a FirmwareUpload, `chunk`
/// octets at a time, as the glue does; `cut` drops the body's last octets
/// (a connection that broke).
UploadResult upload(UploadSettings s, const std::string& body, std::size_t chunk = 65536, std::size_t cut = 0) {
  FirmwareUpload sink(std::move(s));
  MultipartReader reader(kBoundary, Limits{}, sink);
  std::string error;
  const std::string_view b = std::string_view(body).substr(0, body.size() - cut);
  for (std::size_t i = 0; i < b.size() && error.empty(); i += chunk) error = reader.feed(b.substr(i, chunk));
  if (error.empty()) error = cut ? "the connection ended early" : reader.finish();
  return sink.finish(error);
}

std::vector<Part> good_form(const std::string& file) {
  return {{"csrf", std::string(kTestCsrf)}, {"firmware", file, true}};
}

TEST(CgiFirmware, StatusFileParsedAsUntrustedText) {
  const auto s = parse_firmware_status(
      "running=a\nactive=a\ntrial=\ntries=0\nfailed=b\nboard=qemu-aarch64\nversion=1.2.3\nversion.a=1.2.3\n"
      "version.b=1.2.2\nnonsense=1\nno equals sign\r\nerror=bad\x1b[31m\x01sector\r\n");
  EXPECT_EQ(s.running, "a");
  EXPECT_EQ(s.failed, "b");
  EXPECT_EQ(s.board, "qemu-aarch64");
  EXPECT_EQ(s.version_of("a"), "1.2.3");
  EXPECT_EQ(s.version_of("b"), "1.2.2");
  EXPECT_EQ(s.version_of("c"), "");
  EXPECT_EQ(s.error, "bad?[31m?sector");
  EXPECT_EQ(parse_firmware_status("version=" + std::string(1000, 'x')).version.size(), kMaxStatusValue);
  const auto r = parse_release("board=qemu-aarch64\nversion=1.2.3\nparts= kernel  initramfs \nother=x\n");
  EXPECT_EQ(r.board, "qemu-aarch64");
  EXPECT_EQ(r.parts, (std::vector<std::string>{"kernel", "initramfs"}));
}

TEST(CgiFirmware, ResetChoiceIsOneOfTwoWords) {
  EXPECT_EQ(reset_choice("keep-mail"), "keep-mail");
  EXPECT_EQ(reset_choice("wipe"), "wipe");
  for (const char* bad : {"", "WIPE", " wipe", "wipe ", "wipe\r\n", "keep-mail\nwipe", "keep_mail"})
    EXPECT_FALSE(reset_choice(bad)) << bad;
  EXPECT_FALSE(reset_choice(std::string_view("wipe\0", 5)));
  EXPECT_EQ(reset_request("wipe"), "factory-reset wipe\n");
  EXPECT_EQ(install_request(), "install\n");
}

Model firmware_model() {
  Model m = fixture::page_model("");
  m.firmware.status_path = "/run/boxmail/firmware";
  m.firmware.release = parse_release("board=qemu-aarch64\nparts=kernel initramfs\n");
  return m;
}

std::string render(const Model& m, const View& v = View{}) {
  const Request r = fixture::page_request("/firmware", "GET");
  return find_page("/firmware")->render(r, m, v).str();
}

TEST(CgiFirmware, PageShowsTheSlotsAndAFailedTrial) {
  Model m = firmware_model();
  m.firmware.status = parse_firmware_status(
      "running=a\nactive=a\ntrial=\ntries=0\nfailed=b\nboard=qemu-aarch64\nversion=1.2.3\nversion.a=1.2.3\n"
      "version.b=1.2.2\n");
  const std::string html = render(m);
  EXPECT_NE(html.find("<td id=\"fw-version\">1.2.3</td>"), std::string::npos) << html;
  EXPECT_NE(html.find("<td id=\"fw-board\">qemu-aarch64</td>"), std::string::npos);
  EXPECT_NE(html.find("The firmware in slot b (version 1.2.2) did not come up, and the box went back to the "
                      "running one: slot a (version 1.2.3)."),
            std::string::npos);
  // The upload form: multipart, the CSRF field before the file input.
  const auto form = html.find("id=\"upload-form\"");
  ASSERT_NE(form, std::string::npos);
  EXPECT_NE(html.rfind("enctype=\"multipart/form-data\"", form + 40), std::string::npos);
  const auto csrf = html.find("name=\"csrf\"", form);
  const auto file = html.find("name=\"firmware\"", form);
  ASSERT_NE(csrf, std::string::npos);
  ASSERT_NE(file, std::string::npos);
  EXPECT_LT(csrf, file);
  // The reset form: its own action, both choices, wipe in bold.
  EXPECT_NE(html.find("action=\"/cgi-bin/boxmail.cgi/firmware/reset\""), std::string::npos);
  EXPECT_NE(html.find("value=\"keep-mail\" checked"), std::string::npos);
  EXPECT_NE(html.find("<strong>deletes all mail</strong>"), std::string::npos);
  EXPECT_NE(html.find("type=\"password\""), std::string::npos);
  // Without a failure: no such notice.
  m.firmware.status->failed.clear();
  EXPECT_EQ(render(m).find("did not come up"), std::string::npos);
}

TEST(CgiFirmware, HostileStatusAndResultAreEscaped) {
  Model m = firmware_model();
  m.firmware.status = parse_firmware_status(
      "version=<script>alert(1)</script>\nboard=\"><img src=x onerror=alert(2)>\nfailed=<b>\n"
      "error=</td><script>x</script>\n");
  m.firmware.result = "<script>alert(3)</script>";
  m.firmware.result_time = 1764777600;
  const std::string html = render(m);
  EXPECT_EQ(html.find("<script"), std::string::npos) << html;
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("<b>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(3)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("2025-12-03 16:00 UTC"), std::string::npos);
}

TEST(CgiFirmware, MissingStatusStillOffersTheForm) {
  Model m = firmware_model();
  const std::string html = render(m);
  EXPECT_NE(html.find("firmware status unknown: not running from an appliance image"), std::string::npos);
  EXPECT_NE(html.find("name=\"firmware\""), std::string::npos);
  // A pending request hides both forms and says what waits.
  m.firmware.pending = "factory-reset wipe";
  m.firmware.pending_time = 1764777600;
  const std::string waiting = render(m);
  EXPECT_NE(waiting.find("The box is asked to factory-reset wipe (since 2025-12-03 16:00 UTC)"), std::string::npos);
  EXPECT_EQ(waiting.find("name=\"firmware\""), std::string::npos);
  EXPECT_EQ(waiting.find("name=\"password\""), std::string::npos);
}

TEST(CgiFirmware, ErrorsAreShownNextToTheirFields) {
  Model m = firmware_model();
  Outcome o;
  o.errors["firmware"] = "the file is signed with key <a>";
  o.errors["choice"] = "choose whether the mail is kept or wiped";
  o.errors["password"] = "wrong password; nothing was changed";
  View v;
  v.outcome = &o;
  const std::string html = render(m, v);
  EXPECT_NE(html.find("<p class=\"error\" id=\"f-firmware-err\">Refused: the file is signed with key &lt;a&gt;</p>"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("id=\"f-choice-err\">choose whether"), std::string::npos);
  EXPECT_NE(html.find("wrong password; nothing was changed"), std::string::npos);
}

TEST(CgiFirmwareUpload, AGoodFileIsStagedWholeInAnyChunking) {
  const std::string file = slurp(kData + "sample.bmfw");
  ASSERT_GT(file.size(), 70000u);
  for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{4096}, std::size_t{65536}, file.size() * 2}) {
    Staging st;
    spit(st.dir + "/upload.partial", "stale");   // from an upload that was cut off
    spit(st.dir + "/firmware.bin", "old");       // taken by the watcher before
    const auto r = upload(settings(st.dir), body_of(good_form(file)), chunk);
    ASSERT_EQ(r.kind, UploadResult::Kind::Accepted) << chunk << ": " << r.message;
    ASSERT_TRUE(r.header);
    EXPECT_EQ(r.header->version, "1.0.0+test");
    EXPECT_EQ(r.octets, file.size());
    EXPECT_EQ(slurp(st.dir + "/firmware.bin"), file);
    EXPECT_EQ(slurp(st.dir + "/request"), "install\n");
    EXPECT_EQ(entries(st.dir), (std::set<std::string>{"firmware.bin", "request"})) << chunk;
    struct stat s {};
    ASSERT_EQ(::stat((st.dir + "/firmware.bin").c_str(), &s), 0);
    EXPECT_EQ(s.st_mode & 0777, 0600u);
    EXPECT_EQ(pending_request(st.dir), "install");
  }
}

/// Uploads `file` (or the `parts` as given) and expects a refusal whose
/// message matches `want`, with nothing left in the staging directory.
void expect_refused(const std::string& want, const std::string& file, UploadSettings (*make)(const std::string&) = nullptr,
                    std::size_t cut = 0) {
  Staging st;
  UploadSettings s = make ? make(st.dir) : settings(st.dir);
  const auto r = upload(std::move(s), body_of(good_form(file)), 4096, cut);
  EXPECT_EQ(r.kind, UploadResult::Kind::Refused) << want;
  EXPECT_NE(r.message.find(want), std::string::npos) << r.message;
  EXPECT_TRUE(entries(st.dir).empty()) << want;
}

TEST(CgiFirmwareUpload, RefusalsLeaveNothingStaged) {
  const std::string good = slurp(kData + "sample.bmfw");
  std::string tampered = good;
  tampered[tampered.size() - 5000] ^= 0x01;   // one octet of the initramfs part
  expect_refused("the part 'initramfs' does not match its SHA-256", tampered);
  std::string header_changed = good;
  header_changed[header_changed.find("1.0.0+test")] = '2';
  expect_refused("the signature does not match", header_changed);
  expect_refused("ends inside the part 'initramfs' (cut short?)", good.substr(0, good.size() - 100));
  expect_refused("ends inside its header", good.substr(0, 100));
  expect_refused("goes on after its last part", good + "x");
  expect_refused("this firmware is for the board 'other-board', this box is 'test-board'",
                 slurp(kData + "other-board.bmfw"));
  const std::string other_key = slurp(kData + "other-key.bmfw");
  const std::string ours = boxmail::firmware::key_id(slurp(kData + "test-key.pub.pem"));
  const std::string theirs = boxmail::firmware::key_id(slurp(kData + "other-key.pub.pem"));
  ASSERT_EQ(ours.size(), 16u);
  expect_refused("the file is signed with key " + theirs + "; this box trusts key " + ours + " only", other_key);
  expect_refused("not a boxmail firmware file", "MZ\x90\x00 this is not firmware\n\nat all");
  expect_refused("not a boxmail firmware file", std::string(100000, '\0'));
  expect_refused("choose a firmware file", "");
  expect_refused("the parts 'kernel initramfs'; this box takes 'kernel'", good,
                 [](const std::string& d) { return settings(d, "kernel"); });
  expect_refused("not enough room", good, [](const std::string& d) {
    UploadSettings s = settings(d);
    s.reserve = 1ull << 62;
    return s;
  });
  expect_refused("too big", good, [](const std::string& d) {
    UploadSettings s = settings(d);
    s.max_file = 50000;
    return s;
  });
  expect_refused("cannot be read", good, [](const std::string& d) {
    UploadSettings s = settings(d);
    s.release.reset();
    return s;
  });
  // The connection broke inside the file part.
  expect_refused("the upload ended before the whole file came", good, nullptr, 20000);
}

TEST(CgiFirmwareUpload, TheTokenMustComeFirstAndMatch) {
  const std::string good = slurp(kData + "sample.bmfw");
  const std::vector<std::vector<Part>> forms = {
      {{"firmware", good, true}},                                              // no token
      {{"firmware", good, true}, {"csrf", std::string(kTestCsrf)}},            // after the file
      {{"csrf", "fedcba9876543210fedcba9876543210"}, {"firmware", good, true}},  // another one
      {{"csrf", ""}, {"firmware", good, true}},
      {{"csrf", std::string(kTestCsrf) + "\r\n"}, {"firmware", good, true}},
  };
  for (std::size_t i = 0; i < forms.size(); ++i) {
    Staging st;
    const auto r = upload(settings(st.dir), body_of(forms[i]));
    EXPECT_EQ(r.kind, UploadResult::Kind::Forbidden) << i;
    EXPECT_FALSE(r.header) << i;
    EXPECT_TRUE(entries(st.dir).empty()) << i;
  }
  // A token alone: no file chosen (not forbidden).
  Staging st;
  const auto r = upload(settings(st.dir), body_of({{"csrf", std::string(kTestCsrf)}}));
  EXPECT_EQ(r.kind, UploadResult::Kind::Refused);
  EXPECT_EQ(r.message, "choose a firmware file to upload");
}

TEST(CgiFirmwareUpload, OneUploadOrResetAtATime) {
  Staging st;
  const int held = lock_staging(st.dir);   // a reset (or another upload) going on
  ASSERT_GE(held, 0);
  EXPECT_EQ(lock_staging(st.dir), -1);
  const auto r = upload(settings(st.dir), body_of(good_form(slurp(kData + "sample.bmfw"))));
  EXPECT_EQ(r.kind, UploadResult::Kind::Refused);
  EXPECT_NE(r.message.find("another firmware upload or a factory reset is going on"), std::string::npos) << r.message;
  EXPECT_TRUE(entries(st.dir).empty());
  ::close(held);
  EXPECT_EQ(upload(settings(st.dir), body_of(good_form(slurp(kData + "sample.bmfw")))).kind,
            UploadResult::Kind::Accepted);
  EXPECT_EQ(lock_staging(st.dir + "/none"), -1);
}

TEST(CgiFirmwareUpload, APendingRequestRefusesAnotherOne) {
  Staging st;
  ASSERT_EQ(write_staging_request(st.dir, reset_request("keep-mail")), "");
  EXPECT_EQ(slurp(st.dir + "/request"), "factory-reset keep-mail\n");
  const auto r = upload(settings(st.dir), body_of(good_form(slurp(kData + "sample.bmfw"))));
  EXPECT_EQ(r.kind, UploadResult::Kind::Refused);
  EXPECT_NE(r.message.find("already asked to factory-reset keep-mail"), std::string::npos) << r.message;
  EXPECT_EQ(entries(st.dir), (std::set<std::string>{"request"}));
  std::int64_t t = 0;
  EXPECT_EQ(pending_request(st.dir, &t), "factory-reset keep-mail");
  EXPECT_GT(t, 0);
  EXPECT_EQ(pending_request(st.dir + "/none"), "");
}

}  // namespace

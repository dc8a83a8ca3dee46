// firmware_update_test.cpp - the firmware update file (firmware/update_file.hpp):
// files written by board/common/sign_firmware.py (tests/unit/data/firmware,
// remade by its make.sh) verify with mbedTLS; every change to them, every
// malformed header, another board and another key are refused with the
// administrator's message.
#include "firmware/update_file.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

namespace boxmail::firmware {
namespace {

const std::string kDir = std::string(BOXMAIL_SOURCE_DIR) + "/tests/unit/data/firmware/";

std::string slurp(const std::string& name) {
  std::ifstream f(kDir + name, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

/// A temporary copy of `data`, removed at the end of the test.
struct TempFile {
  std::string path;
  explicit TempFile(const std::string& data) {
    char name[] = "/tmp/boxmail-fw-test-XXXXXX";
    const int fd = ::mkstemp(name);
    path = name;
    EXPECT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
    ::close(fd);
  }
  ~TempFile() { std::remove(path.c_str()); }
};

std::string check(const std::string& data, const std::string& key = slurp("test-key.pub.pem"),
                  std::string_view board = "test-board") {
  TempFile f(data);
  return check_file(f.path, board, key);
}

TEST(FirmwareUpdate, SignedFileIsAccepted) {
  const std::string file = slurp("sample.bmfw");
  ASSERT_GT(file.size(), 70000u);
  UpdateHeader h;
  TempFile f(file);
  EXPECT_EQ(check_file(f.path, "test-board", slurp("test-key.pub.pem"), &h), "");
  EXPECT_EQ(h.board, "test-board");
  EXPECT_EQ(h.version, "1.0.0+test");
  ASSERT_EQ(h.parts.size(), 2u);
  EXPECT_EQ(h.parts[0].name, "kernel");
  EXPECT_EQ(h.parts[0].size, 1000u);
  EXPECT_EQ(h.parts[1].name, "initramfs");
  EXPECT_EQ(h.parts[1].size, 70000u);
  EXPECT_EQ(h.payload_size(), 71000u);
  EXPECT_EQ(h.header_size + h.payload_size(), file.size());
  EXPECT_EQ(h.key_id, key_id(slurp("test-key.pub.pem")));
  EXPECT_EQ(h.key_id.size(), 16u);
}

TEST(FirmwareUpdate, PayloadCheckTakesAnyChunking) {
  const std::string file = slurp("sample.bmfw");
  const HeaderParse p = parse_header(file);
  ASSERT_TRUE(p.header) << p.error;
  const std::string_view payload = std::string_view(file).substr(p.header->header_size);
  for (std::size_t step : {1u, 7u, 999u, 1000u, 1001u, 65536u, 71000u}) {
    PayloadCheck c(*p.header);
    for (std::size_t i = 0; i < payload.size(); i += step) ASSERT_EQ(c.feed(payload.substr(i, step)), "") << step;
    EXPECT_EQ(c.finish(), "") << step;
    EXPECT_EQ(c.offset(), payload.size());
  }
}

TEST(FirmwareUpdate, EveryChangedOctetIsRefused) {
  const std::string file = slurp("sample.bmfw");
  const HeaderParse p = parse_header(file);
  ASSERT_TRUE(p.header);
  // One octet in each region: the signed header, the signature, each part.
  struct Case {
    std::size_t at;
    const char* says;
  };
  const std::size_t sig = file.find("signature ") + 20;
  const Case cases[] = {
      {file.find("version 1.0.0") + 8, "the signature does not match"},     // 1.0.0 -> 2.0.0 (still a version)
      {file.find("part kernel 1000 ") + 17, "the signature does not match"},  // a digest digit
      {sig, "signature does not match"},
      {p.header->header_size + 10, "the part 'kernel' does not match its SHA-256"},
      {p.header->header_size + 1000 + 69999, "the part 'initramfs' does not match its SHA-256"},
  };
  for (const Case& c : cases) {
    std::string changed = file;
    char& o = changed[c.at];
    o = o == '1' ? '2' : o == 'a' ? 'b' : static_cast<char>(o ^ 0x01);
    if (c.at == sig && (o < '0' || (o > '9' && o < 'a') || o > 'f')) o = '0';
    const std::string got = check(changed);
    EXPECT_NE(got.find(c.says), std::string::npos) << c.at << ": " << got;
  }
}

TEST(FirmwareUpdate, CutShortOrExtendedIsRefused) {
  const std::string file = slurp("sample.bmfw");
  const HeaderParse p = parse_header(file);
  ASSERT_TRUE(p.header);
  EXPECT_NE(check(file.substr(0, file.size() - 1)).find("ends inside the part 'initramfs'"), std::string::npos);
  EXPECT_NE(check(file.substr(0, p.header->header_size + 500)).find("ends inside the part 'kernel'"),
            std::string::npos);
  EXPECT_NE(check(file.substr(0, p.header->header_size)).find("ends inside the part 'kernel'"), std::string::npos);
  EXPECT_NE(check(file.substr(0, 100)).find("cut short"), std::string::npos);
  EXPECT_NE(check(file + "x").find("goes on after its last part"), std::string::npos);
  EXPECT_EQ(check(""), "not a boxmail firmware file (it is empty)");
}

TEST(FirmwareUpdate, AnotherBoardOrKeyIsRefused) {
  EXPECT_EQ(check(slurp("other-board.bmfw")),
            "this firmware is for the board 'other-board', this box is 'test-board'");
  const std::string theirs = key_id(slurp("other-key.pub.pem"));
  const std::string ours = key_id(slurp("test-key.pub.pem"));
  ASSERT_NE(theirs, ours);
  EXPECT_EQ(check(slurp("other-key.bmfw")),
            "the file is signed with key " + theirs + "; this box trusts key " + ours + " only");
  // A file that names our key but was signed with the other one.
  std::string forged = slurp("other-key.bmfw");
  forged.replace(forged.find("key " + theirs), 4 + theirs.size(), "key " + ours);
  EXPECT_EQ(check(forged), "the signature does not match: the file was changed after it was signed");
  // The box's own key file unreadable.
  EXPECT_EQ(check(slurp("sample.bmfw"), "not a key"),
            "this box's firmware key cannot be read (not an ECDSA P-256 public key)");
  EXPECT_EQ(check(slurp("sample.bmfw"), slurp("test-key.pem")),
            "this box's firmware key cannot be read (not an ECDSA P-256 public key)");
  EXPECT_EQ(key_id("garbage"), "");
}

TEST(FirmwareUpdate, MalformedHeadersAreRefused) {
  const std::string digest(64, 'a');
  const std::string sig = "signature 3006020101020101\n\n";
  const std::string good =
      "boxmail-firmware 1\nboard b\nversion 1\npart k 1 " + digest + "\nkey 0123456789abcdef\n" + sig;
  ASSERT_TRUE(parse_header(good).header) << parse_header(good).error;
  struct Case {
    std::string text;
    const char* says;
  };
  const Case cases[] = {
      {"MZ\x90\x00 some other file\n", "not a boxmail firmware file"},
      {"boxmail-firmware 2\n", "a firmware file of a format this box does not know"},
      {"boxmail-firmware 1 \nboard b\n", "a firmware file of a format this box does not know"},
      {"boxmail-firmware", "cut short"},
      {"boxmail-firmware 1\nboard B\n", "line 2 is not 'board NAME'"},
      {"boxmail-firmware 1\nboard  b\n", "line 2 is not 'board NAME'"},
      {"boxmail-firmware 1\nboard b x\n", "line 2 is not 'board NAME'"},
      {"boxmail-firmware 1\nversion 1\nboard b\n", "line 2 is not 'board NAME'"},
      {"boxmail-firmware 1\nboard b\nversion <script>\n", "line 3 is not 'version TEXT'"},
      {"boxmail-firmware 1\nboard b\nversion 1\r\n", "line 3 is not 'version TEXT'"},
      {"boxmail-firmware 1\nboard b\nversion 1\nkey 0123456789abcdef\n", "no 'part' line"},
      {"boxmail-firmware 1\nboard b\nversion 1\npart k 0 " + digest + "\n", "not 'part NAME SIZE SHA256'"},
      {"boxmail-firmware 1\nboard b\nversion 1\npart k 01 " + digest + "\n", "not 'part NAME SIZE SHA256'"},
      {"boxmail-firmware 1\nboard b\nversion 1\npart k 268435457 " + digest + "\n", "not 'part NAME SIZE SHA256'"},
      {"boxmail-firmware 1\nboard b\nversion 1\npart k -1 " + digest + "\n", "not 'part NAME SIZE SHA256'"},
      {"boxmail-firmware 1\nboard b\nversion 1\npart k 1 " + std::string(64, 'A') + "\n",
       "not 'part NAME SIZE SHA256'"},
      {"boxmail-firmware 1\nboard b\nversion 1\npart k 1 " + digest.substr(2) + "\n", "not 'part NAME SIZE SHA256'"},
      {"boxmail-firmware 1\nboard b\nversion 1\npart ../k 1 " + digest + "\n", "not 'part NAME SIZE SHA256'"},
      {"boxmail-firmware 1\nboard b\nversion 1\npart k 1 " + digest + "\npart k 1 " + digest + "\n", "listed twice"},
      {"boxmail-firmware 1\nboard b\nversion 1\npart k 1 " + digest + "\nkey 0123\n", "is not 'key ID'"},
      {"boxmail-firmware 1\nboard b\nversion 1\npart k 1 " + digest + "\nkey 0123456789ABCDEF\n", "is not 'key ID'"},
      {"boxmail-firmware 1\nboard b\nversion 1\npart k 1 " + digest + "\nkey 0123456789abcdef\nsig x\n",
       "is not 'signature HEX'"},
      {"boxmail-firmware 1\nboard b\nversion 1\npart k 1 " + digest + "\nkey 0123456789abcdef\nsignature " +
           std::string(146, '0') + "\n",
       "is not 'signature HEX'"},
      {"boxmail-firmware 1\nboard b\nversion 1\npart k 1 " + digest + "\nkey 0123456789abcdef\n" +
           "signature 3006020101020101\nextra\n",
       "does not end with an empty line"},
      {"boxmail-firmware 1\nboard b\nversion 1\n" + std::string(5000, 'x'), "longer than 4096 octets"},
  };
  for (const Case& c : cases) {
    const HeaderParse p = parse_header(c.text);
    EXPECT_FALSE(p.header) << c.text;
    EXPECT_NE(p.error.find(c.says), std::string::npos) << c.text.substr(0, 80) << " -> " << p.error;
  }
  std::string parts = "boxmail-firmware 1\nboard b\nversion 1\n";
  for (int i = 0; i < 9; ++i) parts += "part k" + std::to_string(i) + " 1 " + digest + "\n";
  EXPECT_NE(parse_header(parts).error.find("more than 8 parts"), std::string::npos);
}

}  // namespace
}  // namespace boxmail::firmware

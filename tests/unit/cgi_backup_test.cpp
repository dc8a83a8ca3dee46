// cgi_backup_test.cpp - backup and restore by the conffiles list
// (cgi/conffiles.hpp, cgi/archive.hpp, the Backup page): the list parser,
// the download's member set read from a real directory (a private key file
// left out, a symbolic link never followed), and restores of hostile and
// of older two-member archives.
#include "cgi/archive.hpp"
#include "cgi/conffiles.hpp"
#include "cgi/pages.hpp"
#include "cgi_page_fixture.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

using namespace boxmail;
using namespace boxmail::cgi;
namespace fs = std::filesystem;

// ---- the list --------------------------------------------------------------------

TEST(CgiConffiles, TheShippedListParses) {
  std::ifstream in(std::string(BOXMAIL_SOURCE_DIR) + "/rootfs-overlay/usr/share/boxmail/conffiles");
  std::stringstream text;
  text << in.rdbuf();
  const ConfList l = parse_conffiles(text.str());
  ASSERT_EQ(l.error, "");
  ASSERT_EQ(l.entries.size(), 5u);
  EXPECT_EQ(l.entries[0].path, "/etc/boxmail/boxmail.ini");
  EXPECT_FALSE(l.entries[0].dir);
  EXPECT_EQ(l.entries[3].path, "/etc/boxmail/tls");
  EXPECT_TRUE(l.entries[3].dir);
  const BackupSources box{"/etc/boxmail/boxmail.ini", "/etc/boxmail/passwd", "/etc/boxmail/admin"};
  EXPECT_EQ(listed_names(l, box), (std::vector<std::string>{"boxmail.ini", "passwd", "admin", "tls/", "relay/"}));
}

TEST(CgiConffiles, CommentsBlanksAndStrictPaths) {
  const ConfList ok = parse_conffiles("# settings\n\n   \n/etc/b/x.ini\n/etc/b/d/\n#/etc/no\n");
  ASSERT_EQ(ok.error, "");
  ASSERT_EQ(ok.entries.size(), 2u);
  EXPECT_EQ(ok.entries[1].path, "/etc/b/d");
  EXPECT_TRUE(ok.entries[1].dir);
  EXPECT_EQ(parse_conffiles("").entries.size(), 0u);
  EXPECT_EQ(parse_conffiles("/a\netc/b\n").error, "line 2: not an absolute path");
  EXPECT_EQ(parse_conffiles(" /a\n").error, "line 1: not an absolute path");
  EXPECT_EQ(parse_conffiles("/a # note\n").error, "line 1: a blank or a control character in the path");
  EXPECT_EQ(parse_conffiles("/a\r\n").error, "line 1: a blank or a control character in the path");
  EXPECT_EQ(parse_conffiles("/etc/../x\n").error, "line 1: an empty, '.' or '..' path component");
  EXPECT_EQ(parse_conffiles("/etc//x\n").error, "line 1: an empty, '.' or '..' path component");
  EXPECT_EQ(parse_conffiles("/etc/./x\n").error, "line 1: an empty, '.' or '..' path component");
  EXPECT_EQ(parse_conffiles("/\n").error, "line 1: the root directory is not a setting");
  EXPECT_EQ(parse_conffiles("/a\n/b/\n/a\n").error, "line 3: /a is listed twice");
  EXPECT_EQ(parse_conffiles("/" + std::string(300, 'x') + "\n").error, "line 1: the path is longer than 255 octets");
  // A refused list has no entries: nothing half-read.
  EXPECT_TRUE(parse_conffiles("/a\n/b\nc\n").entries.empty());
}

TEST(CgiConffiles, NamesRelativeToTheSettingsDirectory) {
  const BackupSources src{"/srv/box/my.ini", "/var/lib/pw", "/srv/box/admin"};
  const ConfList l = parse_conffiles("/srv/box/my.ini\n/var/lib/pw\n/srv/box/admin\n/srv/box/tls/\n/srv/other\n");
  ASSERT_EQ(l.error, "");
  const auto names = listed_names(l, src);
  EXPECT_EQ(names, (std::vector<std::string>{"boxmail.ini", "passwd", "admin", "tls/"}));
  EXPECT_TRUE(name_listed(names, "tls/cert.pem"));
  EXPECT_TRUE(name_listed(names, "tls/sub/x"));
  EXPECT_FALSE(name_listed(names, "tls"));
  EXPECT_FALSE(name_listed(names, "tlsx/cert.pem"));
  EXPECT_FALSE(name_listed(names, "other"));
  EXPECT_FALSE(name_listed(names, "my.ini"));
}

// ---- the archive's names -----------------------------------------------------------

TEST(CgiArchive, MemberNamesAreRelativeAndPlain) {
  for (const char* good : {"boxmail.ini", "tls/cert.pem", "relay/a/b", ".hidden"})
    EXPECT_TRUE(valid_member_name(good)) << good;
  for (const char* bad : {"", "/etc/passwd", "../x", "a/../../x", "a/./b", "a//b", "tls/", "a b", "a\tb", ".", ".."})
    EXPECT_FALSE(valid_member_name(bad)) << bad;
  EXPECT_FALSE(valid_member_name(std::string(100, 'a')));
  const TarRead r = read_tar(make_tar({{"boxmail.ini", "x"}, {"tls/cert.pem", "pem"}}, 0));
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.members[1].name, "tls/cert.pem");
}

/// `tar` with member `i`'s header changed by `edit`, the checksum made right again.
std::string edited(std::string tar, std::size_t header_at, void (*edit)(char*)) {
  char* h = tar.data() + header_at;
  edit(h);
  unsigned sum = 0;
  for (std::size_t i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(h[i]);
  std::snprintf(h + 148, 8, "%06o", sum);
  h[155] = ' ';
  return tar;
}

TEST(CgiArchive, HostileArchivesAreRefusedWhole) {
  const std::string ini = "[server]\n";
  for (const char* name : {"../x", "/etc/passwd", "tls/../../etc/shadow", "a//b"}) {
    const TarRead r = read_tar(make_tar({{"boxmail.ini", ini}, {name, "x"}}, 0));
    EXPECT_EQ(r.error.rfind("unexpected file name in the archive", 0), 0u) << name << ": " << r.error;
    EXPECT_TRUE(r.members.empty());
  }
  const TarRead dup = read_tar(make_tar({{"passwd", "a"}, {"boxmail.ini", ini}, {"passwd", "b"}}, 0));
  EXPECT_EQ(dup.error, "'passwd' is twice in the archive");
  EXPECT_TRUE(dup.members.empty());
  // A symbolic link (typeflag '2', target /etc/shadow) and a hard link ('1').
  const std::string two = make_tar({{"boxmail.ini", ini}, {"passwd", ""}}, 0);
  for (char type : {'1', '2', '5'}) {
    static char t;
    t = type;
    const std::string link = edited(two, 512 * 2, [](char* h) {
      h[156] = t;
      std::memcpy(h + 157, "/etc/shadow", 11);
    });
    EXPECT_EQ(read_tar(link).error, "the archive holds something other than plain files") << type;
  }
  // A ustar name prefix (a longer path than the name field) is not ours.
  const std::string prefixed = edited(two, 0, [](char* h) { std::memcpy(h + 345, "etc", 3); });
  EXPECT_EQ(read_tar(prefixed).error.rfind("unexpected file name", 0), 0u);
}

// ---- the download: files read from a directory laid out like the box's ----------------------

struct BoxDir {
  fs::path dir;
  BoxDir() {
    char tmpl[] = "/tmp/boxmail-backup-test-XXXXXX";
    dir = ::mkdtemp(tmpl);
    write("boxmail.ini", "[server]\npasswd_file = " + (dir / "passwd").string() + "\n");
    write("passwd", "bob:{TEST}x::::::\n");
    write("admin", "admin:{TEST}secret::::::\n");
    fs::create_directory(dir / "tls");
    write("tls/cert.pem", "-----BEGIN CERTIFICATE-----\n");
    write("tls/key.pem", "-----BEGIN PRIVATE KEY-----\n");
    write("lighttpd.conf", "firmware's own\n");
  }
  ~BoxDir() {
    ::chmod((dir / "relay").c_str(), 0700);
    fs::remove_all(dir);
  }
  void write(const std::string& name, const std::string& text) const { std::ofstream(dir / name) << text; }
  std::string list() const {
    const std::string d = dir.string();
    return "# test\n" + d + "/boxmail.ini\n" + d + "/passwd\n" + d + "/admin\n" + d + "/tls/\n" + d + "/relay/\n";
  }
  BackupSources sources() const {
    return {(dir / "boxmail.ini").string(), (dir / "passwd").string(), (dir / "admin").string()};
  }
  /// Makes `name` readable by another user only, as boxmaild's key is to
  /// the panel on the box: as root, owned by nobody (65534) with mode
  /// `mode`; otherwise mode 000 (then open(2) is refused).
  void make_private(const std::string& name, mode_t mode) const {
    const fs::path p = dir / name;
    if (::geteuid() == 0) {
      ASSERT_EQ(::chown(p.c_str(), 65534, 65534), 0);
      ASSERT_EQ(::chmod(p.c_str(), mode), 0);
    } else {
      ASSERT_EQ(::chmod(p.c_str(), 0), 0);
    }
  }
};

std::vector<std::string> names_of(const std::vector<TarMember>& m) {
  std::vector<std::string> n;
  for (const TarMember& t : m) n.push_back(t.name);
  return n;
}

const BackupLeftOutRow* left_out(const BackupView& v, std::string_view name) {
  for (const BackupLeftOutRow& r : v.left_out)
    if (r.name == name) return &r;
  return nullptr;
}

TEST(CgiBackupDownload, HoldsWhatTheListNamesAndLeavesOutThePrivateKey) {
  const BoxDir box;
  box.make_private("tls/key.pem", 0600);
  std::vector<TarMember> members;
  const BackupView v = collect_backup(parse_conffiles(box.list()), "/l", box.sources(), &members);
  ASSERT_EQ(v.list_error, "");
  EXPECT_EQ(names_of(members), (std::vector<std::string>{"boxmail.ini", "passwd", "admin", "tls/cert.pem"}));
  EXPECT_EQ(members[2].data, "admin:{TEST}secret::::::\n");
  ASSERT_EQ(v.held.size(), 4u);
  EXPECT_EQ(v.held[3].size, 28u);
  const BackupLeftOutRow* key = left_out(v, "tls/key.pem");
  ASSERT_NE(key, nullptr);
  EXPECT_NE(key->reason.find("boxmaild's private key, not readable by the panel"), std::string::npos);
  EXPECT_NE(key->reason.find("Certificate page"), std::string::npos);
  const BackupLeftOutRow* relay = left_out(v, "relay/");
  ASSERT_NE(relay, nullptr);
  EXPECT_EQ(relay->reason, "not on this box (no smarthost login is stored)");
  // Not listed: the firmware's own file stays out, and is not named.
  EXPECT_EQ(left_out(v, "lighttpd.conf"), nullptr);
  // What it makes reads back whole.
  const TarRead back = read_tar(make_tar(members, 0), kMaxBackupFiles, kMaxBackupFile);
  ASSERT_EQ(back.error, "");
  EXPECT_EQ(back.members.size(), 4u);
}

TEST(CgiBackupDownload, APrivateDirectoryIsLeftOutWithItsReason) {
  const BoxDir box;
  fs::create_directory(box.dir / "relay");
  box.write("relay/login", "user\npassword\n");
  box.make_private("relay", 0700);
  std::vector<TarMember> members;
  const BackupView v = collect_backup(parse_conffiles(box.list()), "/l", box.sources(), &members);
  const BackupLeftOutRow* relay = left_out(v, "relay/");
  ASSERT_NE(relay, nullptr);
  EXPECT_NE(relay->reason.find("the smarthost password"), std::string::npos) << relay->reason;
  EXPECT_NE(relay->reason.find("Outgoing mail page"), std::string::npos);
  for (const TarMember& m : members) EXPECT_EQ(m.name.find("relay"), std::string::npos) << m.name;
}

TEST(CgiBackupDownload, LinksAreNeverFollowedAndOutsidePathsStayOut) {
  const BoxDir box;
  fs::remove(box.dir / "tls/cert.pem");
  fs::create_symlink("/etc/passwd", box.dir / "tls/cert.pem");   // a link inside a listed directory
  fs::create_directory(box.dir / "real");
  box.write("real/secret", "x");
  fs::create_directory_symlink(box.dir / "real", box.dir / "relay");   // the listed directory is a link
  const std::string list = box.list() + "/etc/hostname\n";
  std::vector<TarMember> members;
  const BackupView v = collect_backup(parse_conffiles(list), "/l", box.sources(), &members);
  EXPECT_EQ(names_of(members), (std::vector<std::string>{"boxmail.ini", "passwd", "admin", "tls/key.pem"}));
  ASSERT_NE(left_out(v, "tls/cert.pem"), nullptr);
  EXPECT_NE(left_out(v, "tls/cert.pem")->reason.find("never followed"), std::string::npos);
  ASSERT_NE(left_out(v, "relay/"), nullptr);
  EXPECT_NE(left_out(v, "relay/")->reason.find("never followed"), std::string::npos);
  ASSERT_NE(left_out(v, "/etc/hostname"), nullptr);
  EXPECT_NE(left_out(v, "/etc/hostname")->reason.find("outside the settings directory"), std::string::npos);
}

TEST(CgiBackupDownload, TooLargeFilesAreLeftOut) {
  const BoxDir box;
  box.write("tls/cert.pem", std::string(kMaxBackupFile + 1, 'x'));
  std::vector<TarMember> members;
  const BackupView v = collect_backup(parse_conffiles(box.list()), "/l", box.sources(), &members);
  ASSERT_NE(left_out(v, "tls/cert.pem"), nullptr);
  EXPECT_NE(left_out(v, "tls/cert.pem")->reason.find("too large"), std::string::npos);
}

TEST(CgiBackupDownload, AListThatDoesNotParseMakesNoBackup) {
  const BoxDir box;
  std::vector<TarMember> members;
  const BackupView v = collect_backup(parse_conffiles("etc/boxmail\n"), "/l", box.sources(), &members);
  EXPECT_EQ(v.list_error, "line 1: not an absolute path");
  EXPECT_TRUE(members.empty());
  EXPECT_TRUE(v.held.empty());
}

// ---- the restore ------------------------------------------------------------------------

const std::string kIni = "[server]\npasswd_file = /tmp/p\ncontrol_socket = /tmp/s\n";

Model restore_model(bool with_list = true) {
  Model m = fixture::page_model(kIni);
  if (with_list) {
    m.backup.loaded = true;
    m.backup.list_path = "/usr/share/boxmail/conffiles";
    m.backup.listed = {"boxmail.ini", "passwd", "admin", "tls/", "relay/"};
  }
  return m;
}

Outcome restore(const std::vector<TarMember>& members, const Model& m) {
  Request r;
  r.method = "POST";
  r.path = "/backup";
  r.script = "/cgi-bin/boxmail.cgi";
  r.form.fields.push_back(Field{"archive", make_tar(members, 0), std::string("b.tar")});
  return post_page(*find_page("/backup"), r, m);
}

const std::string kPasswd = "bob:{TEST}x::::::\n";

TEST(CgiRestore, AnOlderTwoMemberArchiveStillRestores) {
  for (bool with_list : {true, false}) {
    const Outcome o = restore({{"boxmail.ini", kIni}, {"passwd", kPasswd}}, restore_model(with_list));
    ASSERT_TRUE(o.change) << o.errors.begin()->second;
    EXPECT_TRUE(o.change->ini);
    EXPECT_TRUE(o.change->accounts);
    EXPECT_FALSE(o.change->admin);
  }
}

TEST(CgiRestore, TheAdminFileIsValidatedAndWritten) {
  const Outcome o = restore({{"boxmail.ini", kIni}, {"passwd", kPasswd}, {"admin", "admin:{TEST}pw::::::\n"},
                             {"tls/cert.pem", "pem"}},
                            restore_model());
  ASSERT_TRUE(o.change) << (o.errors.empty() ? o.error : o.errors.begin()->second);
  ASSERT_TRUE(o.change->admin);
  EXPECT_EQ(*o.change->admin, "admin:{TEST}pw::::::\n");
  EXPECT_NE(o.change->done.find("and the administrator password"), std::string::npos) << o.change->done;
  EXPECT_NE(o.change->done.find("Not restored (the box keeps its own): tls/cert.pem."), std::string::npos);

  const Outcome bad = restore({{"boxmail.ini", kIni}, {"passwd", kPasswd}, {"admin", "admin\n"}}, restore_model());
  EXPECT_FALSE(bad.change);
  EXPECT_EQ(bad.errors.at("archive").rfind("admin in the backup has errors", 0), 0u) << bad.errors.at("archive");
  const Outcome empty = restore({{"boxmail.ini", kIni}, {"passwd", kPasswd}, {"admin", "# none\n"}}, restore_model());
  EXPECT_FALSE(empty.change);
  EXPECT_NE(empty.errors.at("archive").find("names no administrator"), std::string::npos);
}

TEST(CgiRestore, HostileArchivesChangeNothing) {
  const Model m = restore_model();
  auto refused = [&](const std::vector<TarMember>& members, std::string_view says) {
    const Outcome o = restore(members, m);
    EXPECT_FALSE(o.change);
    ASSERT_TRUE(o.errors.count("archive"));
    EXPECT_NE(o.errors.at("archive").find(says), std::string::npos) << o.errors.at("archive");
    EXPECT_NE(o.errors.at("archive").find("nothing was changed"), std::string::npos) << o.errors.at("archive");
  };
  const TarMember ini{"boxmail.ini", kIni}, pw{"passwd", kPasswd};
  refused({ini, pw, {"lighttpd.conf", "x"}},
          "'lighttpd.conf' in the archive is not one of the box's settings (/usr/share/boxmail/conffiles)");
  refused({ini, pw, {"../x", "x"}}, "unexpected file name in the archive");
  refused({ini, pw, {"/etc/passwd", "x"}}, "unexpected file name in the archive");
  refused({ini, pw, {"tls/../../etc/shadow", "x"}}, "unexpected file name in the archive");
  refused({ini, pw, pw}, "'passwd' is twice in the archive");
  // Without a readable list only the two files every backup holds are taken.
  const Outcome no_list = restore({ini, pw, {"admin", "admin:{TEST}pw::::::\n"}}, restore_model(false));
  EXPECT_FALSE(no_list.change);
  EXPECT_NE(no_list.errors.at("archive").find("'admin' in the archive is not one of the box's settings"),
            std::string::npos);
}

// ---- the page -----------------------------------------------------------------------------

TEST(CgiBackupPage, ListsHeldAndLeftOutOrSaysTheListIsMissing) {
  Model m = restore_model();
  m.backup.held = {{"boxmail.ini", 100}, {"tls/cert.pem", 2048}};
  m.backup.left_out = {{"tls/key.pem", left_out_reason("tls/key.pem", LeftOut::Private)}};
  Request r;
  r.method = "GET";
  r.script = "/cgi-bin/boxmail.cgi";
  const std::string html = find_page("/backup")->render(r, m, View{}).str();
  EXPECT_NE(html.find("<td>tls/cert.pem</td><td>2.0 KiB</td><td>no: "), std::string::npos) << html;
  EXPECT_NE(html.find("<td>boxmail.ini</td><td>100 B</td><td>yes</td>"), std::string::npos) << html;
  EXPECT_NE(html.find("<td>tls/key.pem</td><td>boxmaild&#39;s private key"), std::string::npos) << html;
  EXPECT_NE(html.find("id=\"download\""), std::string::npos);

  m.backup.list_error = "No such file or directory";
  const std::string missing = find_page("/backup")->render(r, m, View{}).str();
  EXPECT_NE(missing.find("cannot be read: No such file or directory"), std::string::npos) << missing;
  EXPECT_EQ(missing.find("id=\"download\""), std::string::npos);
}

}  // namespace

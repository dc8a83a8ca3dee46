// firmware_installer_test.cpp - the root-side installer (firmware/installer.hpp)
// on real files: a temporary directory as the boot partition with slots a/
// and b/, a 1 MiB file as the disk holding the boot-state sector, and the
// signed files of tests/unit/data/firmware (remade by its make.sh; the
// release file there says board=test-board, parts=kernel initramfs).
#include "firmware/installer.hpp"
#include "firmware/update_file.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace boxmail::firmware {
namespace {

namespace fs = std::filesystem;

const std::string kDir = std::string(BOXMAIL_SOURCE_DIR) + "/tests/unit/data/firmware/";
constexpr std::uint64_t kSector = kDefaultStateSector;

std::string slurp(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

void spill(const fs::path& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << data;
}

/// The parts of a signed file, by name.
std::map<std::string, std::string> parts_of(const std::string& file) {
  const HeaderParse p = parse_header(file);
  EXPECT_TRUE(p.header) << p.error;
  std::map<std::string, std::string> parts;
  std::size_t at = p.header->header_size;
  for (const Part& part : p.header->parts) {
    parts[part.name] = file.substr(at, part.size);
    at += part.size;
  }
  return parts;
}

BootState state(Slot active, std::optional<Slot> trial = std::nullopt, unsigned tries = 0,
                std::optional<Slot> failed = std::nullopt) {
  BootState s;
  s.active = active;
  s.trial = trial;
  s.tries = trial ? tries : 0;
  s.failed = failed;
  return s;
}

class FirmwareInstaller : public ::testing::Test {
 protected:
  fs::path dir, boot, disk;

  void SetUp() override {
    char name[] = "/tmp/boxmail-fwinst-XXXXXX";
    ASSERT_NE(::mkdtemp(name), nullptr);
    dir = name;
    boot = dir / "boot";
    for (const char* slot : {"a", "b"}) {
      fs::create_directories(boot / slot);
      spill(boot / slot / "kernel", std::string("old kernel of ") + slot);
      spill(boot / slot / "initramfs", std::string("old initramfs of ") + slot);
    }
    spill(boot / "a" / "version", "0.9.0+test\n");
    spill(boot / "b" / "version", "0.8.0+test\n");
    disk = dir / "disk";
    spill(disk, std::string(1024 * 1024, '\0'));
  }
  void TearDown() override { fs::remove_all(dir); }

  BootPaths paths() const {
    BootPaths p;
    p.disk = disk;
    p.state_sector = kSector;
    p.boot_dir = boot;
    return p;
  }

  InstallRequest request(const fs::path& file, Slot running = 'a') const {
    InstallRequest rq;
    rq.file = file;
    rq.public_key = slurp(kDir + "test-key.pub.pem");
    const ReleaseParse r = load_release(kDir + "release");
    EXPECT_TRUE(r.release) << r.error;
    if (r.release) rq.release = *r.release;
    rq.running = running;
    rq.paths = paths();
    return rq;
  }

  /// Installs `data` (written to a file in the test directory).
  InstallResult install(const std::string& data, Slot running = 'a') {
    const fs::path file = dir / "upload.bmfw";
    spill(file, data);
    return install_update(request(file, running));
  }

  std::string sector() const { return slurp(disk).substr(kSector * 512, kBootStateSize); }
  BootState sector_state() const {
    const BootStateParse p = parse_boot_state(sector());
    EXPECT_EQ(p.error, "");
    return p.state;
  }
  void set_sector(const BootState& s) { ASSERT_EQ(write_boot_state(paths(), s), ""); }

  /// Every file under the boot directory and its contents.
  std::map<std::string, std::string> snapshot() const {
    std::map<std::string, std::string> files;
    for (const auto& e : fs::recursive_directory_iterator(boot)) {
      if (e.is_regular_file()) files[fs::relative(e.path(), boot).string()] = slurp(e.path());
    }
    return files;
  }
};

TEST_F(FirmwareInstaller, GoodInstallWritesTheOtherSlotAndStartsItsTrial) {
  const std::string file = slurp(kDir + "sample.bmfw");
  const auto parts = parts_of(file);
  const auto before = snapshot();
  const InstallResult r = install(file);
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.version, "1.0.0+test");
  EXPECT_EQ(r.slot, 'b');
  EXPECT_EQ(slurp(boot / "b" / "kernel"), parts.at("kernel"));
  EXPECT_EQ(slurp(boot / "b" / "initramfs"), parts.at("initramfs"));
  EXPECT_EQ(parts.at("initramfs").size(), 70000u);
  EXPECT_EQ(slurp(boot / "b" / "version"), "1.0.0+test\n");
  for (const char* f : {"a/kernel", "a/initramfs", "a/version"}) EXPECT_EQ(slurp(boot / f), before.at(f)) << f;
  EXPECT_EQ(snapshot().size(), before.size());   // no .new left
  EXPECT_EQ(sector(), format_boot_state(start_trial('a')));
  EXPECT_EQ(sector_state(), state('a', 'b', 0));
}

TEST_F(FirmwareInstaller, RunningBWritesSlotAInAnyPartOrder) {
  set_sector(state('b'));
  const std::string file = slurp(kDir + "reordered.bmfw");
  const auto parts = parts_of(file);
  const InstallResult r = install(file, 'b');
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.slot, 'a');
  EXPECT_EQ(slurp(boot / "a" / "kernel"), parts.at("kernel"));
  EXPECT_EQ(slurp(boot / "a" / "initramfs"), parts.at("initramfs"));
  EXPECT_EQ(slurp(boot / "a" / "version"), "1.0.1+test\n");
  EXPECT_EQ(slurp(boot / "b" / "kernel"), "old kernel of b");
  EXPECT_EQ(sector_state(), state('b', 'a', 0));
}

struct Refusal {
  const char* name;
  std::string data;
  const char* message;   // a part of the error
};

TEST_F(FirmwareInstaller, BadFilesAreRefusedAndChangeNothing) {
  const std::string good = slurp(kDir + "sample.bmfw");
  const std::size_t header = parse_header(good).header->header_size;
  auto flip = [&](std::size_t at) {
    std::string f = good;
    f[at] = static_cast<char>(f[at] ^ 0x01);
    return f;
  };
  std::string version_changed = good;
  version_changed.replace(version_changed.find("1.0.0+test"), 10, "9.0.0+test");
  const std::vector<Refusal> cases = {
      {"kernel octet", flip(header + 500), "the part 'kernel' does not match its SHA-256"},
      {"initramfs octet", flip(good.size() - 1), "the part 'initramfs' does not match its SHA-256"},
      {"header", version_changed, "the signature does not match"},
      {"wrong key", slurp(kDir + "other-key.bmfw"), "the file is signed with key"},
      {"wrong board", slurp(kDir + "other-board.bmfw"),
       "this firmware is for the board 'other-board', this box is 'test-board'"},
      {"missing part", slurp(kDir + "kernel-only.bmfw"), "the file lacks the part 'initramfs'"},
      {"extra part", slurp(kDir + "extra-part.bmfw"), "the file carries the part 'dtb'"},
      {"truncated", good.substr(0, good.size() - 1), "the file ends inside the part 'initramfs'"},
      {"cut in the header", good.substr(0, 100), "the file ends inside its header"},
      {"trailing octets", good + "x", "the file goes on after its last part"},
      {"empty", "", "not a boxmail firmware file"},
  };
  const BootState initial = state('a', std::nullopt, 0, 'b');
  set_sector(initial);
  const std::string initial_sector = sector();
  const auto before = snapshot();
  for (const Refusal& c : cases) {
    const InstallResult r = install(c.data);
    EXPECT_NE(r.error.find(c.message), std::string::npos) << c.name << ": " << r.error;
    EXPECT_EQ(r.error.find('\n'), std::string::npos) << c.name;
    EXPECT_EQ(snapshot(), before) << c.name;   // the slots as they were, no .new left
    EXPECT_EQ(sector(), initial_sector) << c.name;
  }
}

TEST_F(FirmwareInstaller, RunningSlotOnTrialIsRefused) {
  set_sector(state('a', 'b', 1));
  const std::string initial_sector = sector();
  const auto before = snapshot();
  const InstallResult r = install(slurp(kDir + "sample.bmfw"), 'b');
  EXPECT_EQ(r.error, "the running firmware is still on trial; it is confirmed once boxmaild answers");
  EXPECT_EQ(snapshot(), before);
  EXPECT_EQ(sector(), initial_sector);
}

TEST_F(FirmwareInstaller, PendingTrialOfTheTargetIsClearedBeforeWriting) {
  // An earlier install not booted yet: b on trial. A new install that
  // fails half way must not leave b on trial.
  set_sector(state('a', 'b', 0, 'b'));
  const auto before = snapshot();
  std::string bad = slurp(kDir + "sample-1.1.bmfw");
  bad.back() = static_cast<char>(bad.back() ^ 0x80);
  EXPECT_NE(install(bad).error, "");
  EXPECT_EQ(sector_state(), state('a', std::nullopt, 0, 'b'));
  EXPECT_EQ(snapshot(), before);
  // A good one puts b on trial again, the old failure forgotten.
  ASSERT_EQ(install(slurp(kDir + "sample-1.1.bmfw")).error, "");
  EXPECT_EQ(sector_state(), state('a', 'b', 0));
  EXPECT_EQ(slurp(boot / "b" / "version"), "1.1.0+test\n");
}

TEST_F(FirmwareInstaller, TargetMarkedActiveIsReplacedByTheRunningSlotFirst) {
  // Slot a runs although the sector calls b active (booted by hand): while
  // b is written, the next boot must take a.
  set_sector(state('b'));
  std::string bad = slurp(kDir + "sample.bmfw");
  bad += "x";
  EXPECT_EQ(install(bad).error, "the file goes on after its last part");
  EXPECT_EQ(sector_state(), state('a'));
  // A blank sector means slot a; running b, a is written: b made active first.
  spill(disk, std::string(1024 * 1024, '\0'));
  EXPECT_NE(install(bad, 'b').error, "");
  EXPECT_EQ(sector_state(), state('b'));
}

TEST_F(FirmwareInstaller, ALeftoverNewFileIsReplacedNotFollowed) {
  const fs::path victim = dir / "victim";
  spill(victim, "keep me");
  fs::create_symlink(victim, boot / "b" / "kernel.new");
  spill(boot / "b" / "initramfs.new", "crash leftover");
  ASSERT_EQ(install(slurp(kDir + "sample.bmfw")).error, "");
  EXPECT_EQ(slurp(victim), "keep me");
  EXPECT_FALSE(fs::exists(fs::symlink_status(boot / "b" / "kernel.new")));
  EXPECT_FALSE(fs::exists(boot / "b" / "initramfs.new"));
}

TEST_F(FirmwareInstaller, AMissingSlotDirectoryIsMade) {
  fs::remove_all(boot / "b");
  ASSERT_EQ(install(slurp(kDir + "sample.bmfw")).error, "");
  EXPECT_EQ(slurp(boot / "b" / "version"), "1.0.0+test\n");
}

TEST_F(FirmwareInstaller, NonRegularFilesAreRefused) {
  const fs::path link = dir / "link.bmfw";
  fs::copy_file(kDir + "sample.bmfw", dir / "real.bmfw");
  fs::create_symlink(dir / "real.bmfw", link);
  const auto before = snapshot();
  const std::string initial_sector = sector();
  InstallResult r = install_update(request(link));
  EXPECT_EQ(r.error, link.string() + " is a symbolic link: refused (the update file must be a regular file)");

  const fs::path fifo = dir / "fifo.bmfw";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  r = install_update(request(fifo));   // must not block waiting for a writer
  EXPECT_EQ(r.error, fifo.string() + " is not a regular file: refused");

  r = install_update(request(boot / "a"));
  EXPECT_EQ(r.error, (boot / "a").string() + " is not a regular file: refused");

  r = install_update(request(dir / "missing.bmfw"));
  EXPECT_EQ(r.error, (dir / "missing.bmfw").string() + ": No such file or directory");
  EXPECT_EQ(snapshot(), before);
  EXPECT_EQ(sector(), initial_sector);
}

TEST_F(FirmwareInstaller, AnotherInstallRunningIsRefused) {
  const int fd = ::open(boot.c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);
  EXPECT_EQ(install(slurp(kDir + "sample.bmfw")).error,
            "another firmware install is running (" + boot.string() + " is locked)");
  ::close(fd);
  EXPECT_EQ(install(slurp(kDir + "sample.bmfw")).error, "");
}

TEST_F(FirmwareInstaller, ADiskWithoutTheSectorWritesNothing) {
  spill(disk, std::string(4096, '\0'));
  const auto before = snapshot();
  const InstallResult r = install(slurp(kDir + "sample.bmfw"));
  EXPECT_EQ(r.error, disk.string() + ": too short to hold the boot-state sector 2032");
  EXPECT_EQ(snapshot(), before);
}

TEST_F(FirmwareInstaller, ConfirmMakesTheTrialActiveOnce) {
  set_sector(start_trial('a'));
  // Still running a (the trial has not booted yet): nothing to confirm.
  ConfirmResult c = confirm_running(paths(), 'a');
  EXPECT_EQ(c.error, "");
  EXPECT_FALSE(c.changed);
  EXPECT_EQ(sector_state(), state('a', 'b', 0));
  c = confirm_running(paths(), 'b');
  EXPECT_EQ(c.error, "");
  EXPECT_TRUE(c.changed);
  EXPECT_EQ(sector_state(), state('b'));
  c = confirm_running(paths(), 'b');
  EXPECT_FALSE(c.changed);
  BootPaths missing = paths();
  missing.disk = (dir / "nodisk").string();
  EXPECT_EQ(confirm_running(missing, 'b').error, missing.disk + ": No such file or directory");
}

TEST_F(FirmwareInstaller, StatusShowsTheSlotsAndTheSector) {
  ASSERT_EQ(install(slurp(kDir + "sample.bmfw")).error, "");
  StatusRequest rq;
  rq.paths = paths();
  rq.running = 'a';
  rq.release_path = kDir + "release";
  EXPECT_EQ(status_report(rq),
            "running=a\nactive=a\ntrial=b\ntries=0\nfailed=\nboard=test-board\nversion=0.9.0+test\n"
            "version.a=0.9.0+test\nversion.b=1.0.0+test\n");
  set_sector(state('a', std::nullopt, 0, 'b'));
  fs::remove(boot / "b" / "version");
  EXPECT_EQ(status_report(rq),
            "running=a\nactive=a\ntrial=\ntries=0\nfailed=b\nboard=test-board\nversion=0.9.0+test\n"
            "version.a=0.9.0+test\nversion.b=\n");
}

TEST_F(FirmwareInstaller, StatusWithoutDiskOrBootSaysWhyAndGoesOn) {
  StatusRequest rq;
  rq.paths = paths();
  rq.paths.disk = (dir / "nodisk").string();
  rq.paths.boot_dir = (dir / "noboot").string();
  rq.running = 'b';
  rq.release_path = kDir + "release";
  EXPECT_EQ(status_report(rq), "running=b\nactive=\ntrial=\ntries=\nfailed=\nboard=test-board\n"
                               "version=0.9.0+test\nversion.a=\nversion.b=\nerror=" +
                                   rq.paths.disk + ": No such file or directory\n");
  rq.paths.disk = disk.string();
  spill(boot / "a" / "version", "1.0\nerror=injected\n");
  rq.paths.boot_dir = boot.string();
  rq.running = std::nullopt;
  rq.running_error = "cannot tell the running slot";
  EXPECT_EQ(status_report(rq), "running=\nactive=a\ntrial=\ntries=0\nfailed=\nboard=test-board\n"
                               "version=0.9.0+test\nversion.a=\nversion.b=0.8.0+test\n"
                               "error=cannot tell the running slot\n");
  rq.running = 'a';
  rq.running_error.clear();
  EXPECT_NE(status_report(rq).find("\nerror=" + (boot / "a" / "version").string() + ": not a version\n"),
            std::string::npos);
}

TEST(FirmwareRelease, Parses) {
  const ReleaseParse r = parse_release("# made by the image\nboard=qemu-aarch64\nversion=0.5.0+20261203\n"
                                       "parts=kernel initramfs\nbuild=whatever\n");
  ASSERT_TRUE(r.release) << r.error;
  EXPECT_EQ(r.release->board, "qemu-aarch64");
  EXPECT_EQ(r.release->version, "0.5.0+20261203");
  EXPECT_EQ(r.release->parts, (std::vector<std::string>{"kernel", "initramfs"}));
  const std::pair<const char*, const char*> bad[] = {
      {"board=x\n", "the release file has no parts= line"},
      {"parts=kernel\n", "the release file has no board= line"},
      {"board=x\nparts=kernel kernel\n", "line 2: the part 'kernel' is listed twice"},
      {"board=x\nparts=kernel  initramfs\n", "line 2: parts is not a list of part names"},
      {"board=x\nparts=kernel version\n", "line 2: parts is not a list of part names"},
      {"board=x\nparts=\n", "line 2: parts is not a list of part names"},
      {"board=X\nparts=kernel\n", "line 1: board is not a name"},
      {"board=x\nboard=y\nparts=kernel\n", "line 2: board given twice"},
      {"board x\n", "line 1: not 'name=value'"},
      {"board=x\nversion=1 2\nparts=kernel\n", "line 2: version is not a version"},
  };
  for (const auto& [text, message] : bad) {
    const ReleaseParse p = parse_release(text);
    EXPECT_FALSE(p.release) << text;
    EXPECT_NE(p.error.find(message), std::string::npos) << text << " -> " << p.error;
  }
}

TEST(FirmwareCmdline, RunningSlot) {
  EXPECT_EQ(slot_from_cmdline("console=ttyAMA0 quiet panic=-1 boxmail.slot=b\n"), 'b');
  EXPECT_EQ(slot_from_cmdline("boxmail.slot=a"), 'a');
  EXPECT_EQ(slot_from_cmdline("console=ttyAMA0 quiet\n"), 'a');
  EXPECT_EQ(slot_from_cmdline(""), 'a');
  EXPECT_EQ(slot_from_cmdline("xboxmail.slot=b"), 'a');
  EXPECT_EQ(slot_from_cmdline("boxmail.slot=a boxmail.slot=b"), 'b');
  EXPECT_EQ(slot_from_cmdline("boxmail.slot=c"), std::nullopt);
  EXPECT_EQ(slot_from_cmdline("boxmail.slot=ab"), std::nullopt);
  EXPECT_EQ(slot_from_cmdline("boxmail.slot="), std::nullopt);
}

}  // namespace
}  // namespace boxmail::firmware

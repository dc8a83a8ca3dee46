// spool_clean_test.cpp - store::clean_spool at start-up removes only
// boxmail's own spool files (regular files named by a queue id), never
// anything else in spool_dir/tmp, and never through a symbolic link.
#include "store/maildir_name.hpp"
#include "store/spool_file.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

namespace fs = std::filesystem;
using boxmail::store::clean_spool;
using boxmail::store::queue_id_from;

void write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/boxmail-spoolclean-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
};

TEST(CleanSpool, RemovesOnlyQueueIdFiles) {
  TempDir t;
  const fs::path tmp = t.path / "spool" / "tmp";
  fs::create_directories(tmp);
  std::vector<std::string> own;
  for (std::uint64_t x : {0ull, 1ull, 0x0123456789abcdefull, ~0ull, 0x8000000000000000ull}) {
    own.push_back(queue_id_from(x));
    write(tmp / own.back(), "half a message");
  }
  const std::string foreign[] = {
      "report.pdf",      "0abcdefghjkmn",   // lower case
      "0ABCDEFGHIKMN",   "0ABCDEFGHJKMU",   // I and U are not in the alphabet
      "0ABCDEFGHJKM",    "0ABCDEFGHJKMNP",  // 12 and 14 characters
      "GZZZZZZZZZZZZ",   ".0ABCDEFGHJKM",   // the first digit holds 4 bits only; a dot file
  };
  for (const auto& name : foreign) write(tmp / name, "not boxmail's");
  write(t.path / "outside", "outside");
  fs::create_symlink(t.path / "outside", tmp / queue_id_from(42));   // a link named like a spool file
  fs::create_directory(tmp / queue_id_from(43));                      // a directory named like one
  int err = 0;
  EXPECT_EQ(clean_spool(tmp.string(), err), static_cast<int>(own.size()));
  EXPECT_EQ(err, 0);
  for (const auto& name : own) EXPECT_FALSE(fs::exists(fs::symlink_status(tmp / name))) << name;
  for (const auto& name : foreign) EXPECT_TRUE(fs::is_regular_file(tmp / name)) << name;
  EXPECT_TRUE(fs::is_symlink(tmp / queue_id_from(42)));
  EXPECT_TRUE(fs::is_directory(tmp / queue_id_from(43)));
  EXPECT_TRUE(fs::is_regular_file(t.path / "outside"));
}

TEST(CleanSpool, MakesTheDirectoryAndRefusesALink) {
  TempDir t;
  int err = 0;
  EXPECT_EQ(clean_spool((t.path / "a" / "tmp").string(), err), 0);
  EXPECT_TRUE(fs::is_directory(t.path / "a" / "tmp"));
  // spool_dir/tmp a symbolic link to a directory elsewhere: not followed.
  fs::create_directories(t.path / "elsewhere");
  write(t.path / "elsewhere" / queue_id_from(7), "someone else's");
  fs::create_directories(t.path / "b");
  fs::create_directory_symlink(t.path / "elsewhere", t.path / "b" / "tmp");
  EXPECT_EQ(clean_spool((t.path / "b" / "tmp").string(), err), -1);
  EXPECT_TRUE(err == ELOOP || err == ENOTDIR) << err;
  EXPECT_TRUE(fs::is_regular_file(t.path / "elsewhere" / queue_id_from(7)));
}

}  // namespace

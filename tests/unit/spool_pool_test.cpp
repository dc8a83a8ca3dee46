// spool_pool_test.cpp - spool files made ahead of time: distinct queue ids,
// open empty files in the spool, unused ones removed with the pool, and a
// clear error when the spool cannot be written.
#include "store/spool_pool.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <dirent.h>
#include <set>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using boxmail::store::SpoolPool;

namespace {
std::size_t files_in(const std::string& dir) {
  std::size_t n = 0;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
    closedir(d);
  }
  return n;
}
}  // namespace

TEST(SpoolPool, HandsOutDistinctOpenFilesAndCleansUp) {
  char tmpl[] = "/tmp/boxmail-spoolpool-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  std::set<std::string> ids;
  {
    SpoolPool pool(dir, 4);
    for (int i = 0; i < 20; ++i) {
      int err = -1;
      SpoolPool::Entry e = pool.take(err);
      ASSERT_EQ(err, 0);
      ASSERT_GE(e.fd, 0);
      EXPECT_EQ(e.path, dir + "/" + e.queue_id);
      struct stat st {};
      ASSERT_EQ(fstat(e.fd, &st), 0);
      EXPECT_EQ(st.st_size, 0);
      EXPECT_EQ(st.st_mode & 0777, 0600u);
      EXPECT_TRUE(ids.insert(e.queue_id).second) << "queue id handed out twice";
      close(e.fd);
      unlink(e.path.c_str());
    }
    EXPECT_EQ(pool.hits() + pool.misses(), 20u);
  }
  EXPECT_EQ(files_in(dir), 0u) << "unused spool files left behind";
  rmdir(dir.c_str());
}

TEST(SpoolPool, ReportsAnUnwritableSpool) {
  SpoolPool pool("/nonexistent/boxmail/spool/tmp", 2);
  int err = 0;
  SpoolPool::Entry e = pool.take(err);
  EXPECT_EQ(e.fd, -1);
  EXPECT_EQ(err, ENOENT);
  EXPECT_FALSE(e.queue_id.empty());
}

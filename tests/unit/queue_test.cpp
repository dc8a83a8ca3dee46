// queue_test.cpp - the outgoing queue on disk (store::Queue) and its part
// of the Committer's group commit: an entry is whole or absent, a
// failed delivery leaves nothing in the queue, the start-up scan keeps
// whole entries and tidies only its own half-made ones, never following a
// symbolic link.
#include "store/committer.hpp"
#include "store/maildir_name.hpp"
#include "store/queue.hpp"
#include "store/spool_file.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;
using namespace boxmail::store;
using boxmail::config::SyncMode;

struct TempDir {
  fs::path path;
  explicit TempDir(const char* under = "/tmp") {
    std::string tmpl = std::string(under) + "/boxmail-queue-XXXXXX";
    path = mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path); }
};

void write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

QueueEnvelope envelope_for(const std::string& qid) {
  QueueEnvelope e;
  e.queue_id = qid;
  e.arrival = 1767225600;
  e.reverse_path = "alice@example.org";
  e.skip = 19;   // "Return-Path: <a@b>\n"
  QueueRecipient r;
  r.forward_path = "bob@example.com";
  e.recipients.push_back(r);
  r.forward_path = "carol@example.net";
  r.original = "team@example.org";
  e.recipients.push_back(r);
  return e;
}

/// A spool file SPOOL/tmp/QID holding `text`, open for the Committer.
Delivery spool_delivery(const fs::path& spool, const std::string& qid, const std::string& text) {
  fs::create_directories(spool / "tmp");
  int err = 0;
  auto f = SpoolFile::create((spool / "tmp").string(), qid, err);
  EXPECT_TRUE(f) << err;
  f->write(text);
  Delivery d;
  d.spool_path = f->path();
  d.fd = f->release();
  d.name = "1767225600.M1P1Q1.test,S=" + std::to_string(text.size()) + ",W=" + std::to_string(text.size());
  return d;
}

std::pair<int, std::string> commit(Committer& c, Delivery d) {
  std::promise<std::pair<int, std::string>> p;
  auto f = p.get_future();
  c.submit(std::move(d), [&p](int err, std::string where) { p.set_value({err, std::move(where)}); });
  return f.get();
}

TEST(Queue, OpenMakesTheDirectoryAndRefusesALink) {
  TempDir t;
  int err = -1;
  auto q = Queue::open((t.path / "spool").string(), err);
  ASSERT_TRUE(q) << err;
  EXPECT_EQ(err, 0);
  EXPECT_TRUE(fs::is_directory(t.path / "spool" / "queue"));
  EXPECT_EQ(fs::status(t.path / "spool" / "queue").permissions() & fs::perms::all, fs::perms::owner_all);

  fs::create_directories(t.path / "elsewhere");
  fs::create_directories(t.path / "spool2");
  fs::create_directory_symlink(t.path / "elsewhere", t.path / "spool2" / "queue");
  EXPECT_FALSE(Queue::open((t.path / "spool2").string(), err));
  EXPECT_TRUE(err == ELOOP || err == ENOTDIR) << err;
}

TEST(Queue, StagePublishReadUpdateRemove) {
  TempDir t;
  int err = 0;
  auto q = Queue::open((t.path / "spool").string(), err);
  ASSERT_TRUE(q);
  const std::string qid = queue_id_from(12345);
  write(t.path / "spool" / "msg", "Return-Path: <a@b>\nSubject: hi\n\nbody\n");
  std::string where;
  ASSERT_EQ(q->stage_envelope(envelope_for(qid), true, where), 0) << where;
  EXPECT_TRUE(fs::exists(t.path / "spool" / "queue" / (qid + ".tmp")));
  ASSERT_EQ(q->publish(qid, (t.path / "spool" / "msg").string(), where), 0) << where;
  EXPECT_FALSE(fs::exists(t.path / "spool" / "queue" / (qid + ".tmp")));
  EXPECT_EQ(fs::hard_link_count(t.path / "spool" / "msg"), 2u) << "the spool file is linked, not copied";

  std::string error;
  auto e = q->read(qid, error);
  ASSERT_TRUE(e) << error;
  EXPECT_EQ(*e, envelope_for(qid));

  e->recipients[0].state = RecipientState::Delivered;
  e->recipients[1].attempts = 1;
  e->recipients[1].last_reply = "451 4.7.1 greylisted";
  ASSERT_EQ(q->update(*e, false, where), 0) << where;
  EXPECT_EQ(*q->read(qid, error), *e);

  const int fd = q->open_data(qid);
  ASSERT_GE(fd, 0);
  char buf[64] = {};
  EXPECT_EQ(::pread(fd, buf, 13, static_cast<off_t>(e->skip)), 13);
  EXPECT_STREQ(buf, "Subject: hi\n\n");
  ::close(fd);

  std::vector<std::string> errors;
  auto all = q->list(errors);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_TRUE(errors.empty());

  EXPECT_EQ(q->remove(qid), 0);
  EXPECT_TRUE(fs::is_empty(t.path / "spool" / "queue"));
  EXPECT_FALSE(q->read(qid, error));
  EXPECT_NE(error.find(qid + ".env"), std::string::npos) << error;
}

// The runner's batch removal: every entry goes, and one that cannot lose
// its envelope keeps its data (never an envelope without data).
TEST(Queue, RemoveAllTakesEveryEntryOrKeepsItWhole) {
  TempDir t;
  int err = 0;
  auto q = Queue::open((t.path / "spool").string(), err);
  ASSERT_TRUE(q);
  std::vector<std::string> ids;
  for (std::uint64_t n = 1; n <= 4; ++n) {
    const std::string qid = queue_id_from(1000 + n);
    std::string where;
    ASSERT_EQ(q->add(envelope_for(qid), "Subject: x\n\nbody\n", where), 0) << where;
    ids.push_back(qid);
  }
  // The third one's envelope cannot be unlinked: a non-empty directory
  // stands in its place.
  const fs::path queue_dir = t.path / "spool" / "queue";
  fs::remove(queue_dir / (ids[2] + ".env"));
  fs::create_directory(queue_dir / (ids[2] + ".env"));
  write(queue_dir / (ids[2] + ".env") / "x", "x");

  ids.push_back(queue_id_from(999));   // already gone: not a failure
  const auto failed = q->remove_all(ids);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].queue_id, ids[2]);
  EXPECT_NE(failed[0].error, 0);
  std::vector<std::string> left;
  for (const auto& d : fs::directory_iterator(queue_dir)) left.push_back(d.path().filename().string());
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{ids[2], ids[2] + ".env"})) << "the others went whole, the third kept its data";
  EXPECT_TRUE(q->remove_all({}).empty());
}

TEST(Queue, PublishFailureLeavesNothing) {
  TempDir t;
  int err = 0;
  auto q = Queue::open((t.path / "spool").string(), err);
  ASSERT_TRUE(q);
  const std::string qid = queue_id_from(77);
  std::string where;
  ASSERT_EQ(q->stage_envelope(envelope_for(qid), false, where), 0);
  EXPECT_EQ(q->publish(qid, (t.path / "no-such-spool-file").string(), where), ENOENT);
  EXPECT_NE(where.find(qid), std::string::npos) << where;
  EXPECT_TRUE(fs::is_empty(t.path / "spool" / "queue"));
}

TEST(Queue, AddWritesAWholeEntry) {
  TempDir t;
  int err = 0;
  auto q = Queue::open((t.path / "spool").string(), err);
  ASSERT_TRUE(q);
  QueueEnvelope e = envelope_for(queue_id_from(99));
  e.kind = NoticeKind::Failure;
  e.reverse_path.clear();
  std::string where;
  ASSERT_EQ(q->add(e, "From: MAILER-DAEMON\r\n\r\nnotice\r\n", where), 0) << where;
  EXPECT_EQ(slurp(t.path / "spool" / "queue" / e.queue_id), "From: MAILER-DAEMON\r\n\r\nnotice\r\n");
  QueueIndex ix;
  const QueueScan s = q->scan(ix);
  EXPECT_EQ(s.queued, 1u);
  EXPECT_EQ(ix.size(), 1u);
}

// The start-up scan: whole entries go into the index; half-made ones are
// removed (never acknowledged) or quarantined (acknowledged but damaged);
// anything that is not boxmail's own queue file stays as it is.
TEST(Queue, ScanTidiesOnlyItsOwnHalfMadeEntries) {
  TempDir t;
  const fs::path dir = t.path / "spool" / "queue";
  int err = 0;
  auto q = Queue::open((t.path / "spool").string(), err);
  ASSERT_TRUE(q);
  const std::string whole = queue_id_from(1), whole_tmp = queue_id_from(2), data_only = queue_id_from(3),
                    env_only = queue_id_from(4), damaged = queue_id_from(5), finished = queue_id_from(6),
                    tmp_only = queue_id_from(7), link_id = queue_id_from(8), dir_id = queue_id_from(9),
                    wrong_id = queue_id_from(10);
  for (const auto& id : {whole, whole_tmp, env_only, damaged, finished, wrong_id}) {
    QueueEnvelope e = envelope_for(id);
    e.recipients[0].next_attempt = 500;
    e.recipients[1].next_attempt = 400;
    if (id == finished) {
      for (auto& r : e.recipients) r.state = RecipientState::Delivered;
    }
    if (id == wrong_id) e.queue_id = whole;
    std::string text = format_envelope(e);
    if (id == damaged) text.resize(text.size() - 5);   // cut off: no end line
    write(dir / (id + ".env"), text);
  }
  for (const auto& id : {whole, whole_tmp, data_only, damaged, finished, wrong_id}) write(dir / id, "message\n");
  write(dir / (whole_tmp + ".tmp"), "half an update");
  write(dir / (tmp_only + ".tmp"), "half an enqueue");
  write(t.path / "outside", "not the queue's");
  fs::create_symlink(t.path / "outside", dir / link_id);
  fs::create_symlink(t.path / "outside", dir / (link_id + ".env"));
  fs::create_directory(dir / dir_id);
  const std::string foreign[] = {"notes.txt", whole + ".bak", "0abcdefghjkmn", whole + ".env.tmp"};
  for (const auto& name : foreign) write(dir / name, "someone's");

  QueueIndex ix;
  const QueueScan s = q->scan(ix);
  EXPECT_EQ(s.queued, 2u);
  EXPECT_EQ(s.removed, 2u);       // data_only, finished
  EXPECT_EQ(s.quarantined, 3u);   // env_only, damaged, wrong_id
  EXPECT_EQ(s.errors.size(), 3u);
  for (const auto& e : s.errors) std::printf("scan error: %s\n", e.c_str());
  EXPECT_EQ(ix.size(), 2u);
  ASSERT_TRUE(ix.find(*parse_queue_id(whole)));
  EXPECT_EQ(ix.find(*parse_queue_id(whole))->next, 400) << "the earliest pending attempt";
  EXPECT_TRUE(ix.find(*parse_queue_id(whole_tmp)));

  EXPECT_TRUE(fs::exists(dir / whole) && fs::exists(dir / (whole + ".env")));
  EXPECT_TRUE(fs::exists(dir / whole_tmp) && fs::exists(dir / (whole_tmp + ".env")));
  EXPECT_FALSE(fs::exists(dir / (whole_tmp + ".tmp")));
  EXPECT_FALSE(fs::exists(dir / (tmp_only + ".tmp")));
  EXPECT_FALSE(fs::exists(dir / data_only));
  EXPECT_FALSE(fs::exists(dir / finished));
  EXPECT_FALSE(fs::exists(dir / (finished + ".env")));
  EXPECT_TRUE(fs::exists(dir / "quarantine" / (env_only + ".env")));
  EXPECT_TRUE(fs::exists(dir / "quarantine" / damaged));
  EXPECT_TRUE(fs::exists(dir / "quarantine" / (damaged + ".env")));
  EXPECT_TRUE(fs::exists(dir / "quarantine" / wrong_id));
  bool named = false;
  for (const auto& e : s.errors) named = named || (e.find(env_only) != std::string::npos &&
                                                   e.find("bob@example.com") != std::string::npos);
  EXPECT_TRUE(named) << "the lost entry's recipients are not in the log line";

  EXPECT_TRUE(fs::is_symlink(dir / link_id));
  EXPECT_TRUE(fs::is_symlink(dir / (link_id + ".env")));
  EXPECT_TRUE(fs::is_directory(dir / dir_id));
  EXPECT_EQ(slurp(t.path / "outside"), "not the queue's");
  for (const auto& name : foreign) EXPECT_TRUE(fs::is_regular_file(dir / name)) << name;

  // Scanning again changes nothing.
  QueueIndex again;
  const QueueScan s2 = q->scan(again);
  EXPECT_EQ(s2.queued, 2u);
  EXPECT_EQ(s2.removed + s2.quarantined, 0u);
}

// The Committer: local and remote recipients of one message in one batch;
// the 250 (the completion) comes when both are on disk.
class CommitterQueue : public ::testing::TestWithParam<SyncMode> {
 protected:
  /// A queue in t.path/spool and a Committer for t.path/mail using it.
  void SetUp() override {
    int err = 0;
    q = Queue::open(spool.string(), err);
    ASSERT_TRUE(q) << err;
    committer = std::make_unique<Committer>((t.path / "mail").string(), GetParam());
    committer->set_queue(q);
  }
  TempDir t;
  const fs::path spool = t.path / "spool";
  std::shared_ptr<Queue> q;
  std::unique_ptr<Committer> committer;
};

/// The Committer unlinks a batch's spool files just after it completes the
/// batch's requests (committer.hpp step 5): wait up to two seconds.
bool gone_soon(const fs::path& p) {
  for (int i = 0; i < 200; ++i) {
    if (!fs::exists(p)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST_P(CommitterQueue, LocalAndRemoteInOneCommit) {
  Committer& c = *committer;
  const std::string qid = queue_id_from(0xabcdef);
  const std::string text = "Return-Path: <a@b>\nSubject: x\n\nbody\n";
  Delivery d = spool_delivery(spool, qid, text);
  const std::string name = d.name;
  d.maildirs = {(t.path / "mail" / "alice").string()};
  d.queue = std::make_shared<QueueEnvelope>(envelope_for(qid));
  const auto [e, where] = commit(c, std::move(d));
  ASSERT_EQ(e, 0) << where;
  EXPECT_EQ(slurp(t.path / "mail" / "alice" / "new" / name), text);
  EXPECT_EQ(slurp(spool / "queue" / qid), text);
  EXPECT_TRUE(gone_soon(spool / "tmp" / qid)) << "the spool name is removed after the batch";
  EXPECT_FALSE(fs::exists(spool / "queue" / (qid + ".tmp")));
  std::string error;
  const auto back = q->read(qid, error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(*back, envelope_for(qid));

  // Remote recipients only: no Maildir at all.
  const std::string qid2 = queue_id_from(0xabcdef0);
  Delivery d2 = spool_delivery(spool, qid2, text);
  d2.queue = std::make_shared<QueueEnvelope>(envelope_for(qid2));
  ASSERT_EQ(commit(c, std::move(d2)).first, 0);
  EXPECT_EQ(slurp(spool / "queue" / qid2), text);
  EXPECT_TRUE(q->read(qid2, error)) << error;
  EXPECT_GE(c.stats().syncs, 2u);
}

// The spool and the mail store on different file systems (a Debian box
// with /var/mail on its own partition): the link fails with EXDEV and the
// Committer copies the spool file into the Maildir instead, fsynced, whole.
TEST(Committer, CopiesAcrossFileSystems) {
  TempDir mail;
  TempDir spool("/dev/shm");   // tmpfs, another file system than /tmp's
  struct stat a {}, b {};
  ASSERT_EQ(::stat(mail.path.c_str(), &a), 0);
  ASSERT_EQ(::stat(spool.path.c_str(), &b), 0);
  if (a.st_dev == b.st_dev) GTEST_SKIP() << "/tmp and /dev/shm are one file system here";
  for (SyncMode mode : {SyncMode::Fsync, SyncMode::Syncfs}) {
    const std::string root = (mail.path / (mode == SyncMode::Fsync ? "fsync" : "syncfs")).string();
    Committer c(root, mode);
    const std::string text = "Return-Path: <a@b>\nSubject: across\n\nbody\n";
    Delivery d = spool_delivery(spool.path, queue_id_from(mode == SyncMode::Fsync ? 0x5eed : 0x5eee), text);
    const std::string name = d.name;
    d.maildirs = {root + "/alice", root + "/bob"};
    const auto [e, where] = commit(c, std::move(d));
    ASSERT_EQ(e, 0) << where;
    EXPECT_EQ(slurp(fs::path(root) / "alice" / "new" / name), text);
    EXPECT_EQ(slurp(fs::path(root) / "bob" / "new" / name), text);
    EXPECT_TRUE(fs::is_empty(fs::path(root) / "alice" / "tmp"));
  }
}

TEST_P(CommitterQueue, AFailedDeliveryLeavesNoQueueEntry) {
  Committer& c = *committer;
  fs::create_directories(t.path / "elsewhere");
  fs::create_directory_symlink(t.path / "elsewhere", t.path / "mail" / "mallory");

  const std::string qid = queue_id_from(4242);
  Delivery d = spool_delivery(spool, qid, "Subject: x\n\nbody\n");
  d.maildirs = {(t.path / "mail" / "mallory").string()};
  d.queue = std::make_shared<QueueEnvelope>(envelope_for(qid));
  const auto [e, where] = commit(c, std::move(d));
  EXPECT_EQ(e, ELOOP) << where;
  EXPECT_TRUE(fs::is_empty(spool / "queue")) << "a delivery that failed left its queue entry";
  EXPECT_TRUE(fs::is_empty(t.path / "elsewhere"));
  EXPECT_TRUE(gone_soon(spool / "tmp" / qid));
}

TEST_P(CommitterQueue, NoQueueSetUp) {
  Committer bare((t.path / "mail2").string(), GetParam());
  const std::string qid = queue_id_from(5);
  Delivery d = spool_delivery(t.path / "spool", qid, "x\n");
  d.queue = std::make_shared<QueueEnvelope>(envelope_for(qid));
  const auto [e, where] = commit(bare, std::move(d));
  EXPECT_EQ(e, ENOTSUP);
  EXPECT_NE(where.find("outgoing queue"), std::string::npos) << where;
}

// Group commit: many sessions at once, half of them with remote
// recipients, share the syncs (far fewer than two per message).
TEST_P(CommitterQueue, SharesTheBatchSyncs) {
  Committer& c = *committer;
  constexpr int kMessages = 200;
  std::vector<std::future<std::pair<int, std::string>>> done;
  std::vector<std::shared_ptr<std::promise<std::pair<int, std::string>>>> promises;
  for (int i = 0; i < kMessages; ++i) {
    const std::string qid = queue_id_from(1000 + static_cast<std::uint64_t>(i));
    Delivery d = spool_delivery(spool, qid, "Subject: " + std::to_string(i) + "\n\nbody\n");
    d.name += std::to_string(i);
    if (i % 2 == 0) d.maildirs = {(t.path / "mail" / "alice").string()};
    if (i % 2 == 1 || i % 3 == 0) d.queue = std::make_shared<QueueEnvelope>(envelope_for(qid));
    auto p = std::make_shared<std::promise<std::pair<int, std::string>>>();
    done.push_back(p->get_future());
    c.submit(std::move(d), [p](int e, std::string w) { p->set_value({e, std::move(w)}); });
    promises.push_back(p);
  }
  for (auto& f : done) ASSERT_EQ(f.get().first, 0);
  QueueIndex ix;
  EXPECT_EQ(q->scan(ix).queued, static_cast<std::size_t>(kMessages / 2 + (kMessages + 5) / 6));
  std::printf("%s: %d messages, %llu syncs, %llu batches\n", GetParam() == SyncMode::Syncfs ? "syncfs" : "fsync",
              kMessages, static_cast<unsigned long long>(c.stats().syncs),
              static_cast<unsigned long long>(c.stats().batches));
  if (GetParam() == SyncMode::Syncfs) {
    EXPECT_LT(c.stats().syncs, static_cast<std::uint64_t>(kMessages));
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, CommitterQueue, ::testing::Values(SyncMode::Syncfs, SyncMode::Fsync),
                         [](const ::testing::TestParamInfo<SyncMode>& p) {
                           return p.param == SyncMode::Syncfs ? "Syncfs" : "Fsync";
                         });

}  // namespace

namespace {

// A process that commits queued messages is killed with SIGKILL at a
// random instant, several times: every message whose completion (the 250)
// was reported is a whole entry at the next start, with its data intact,
// and the scan leaves no half-made entry behind. (SIGKILL keeps the page
// cache, so this checks the order of the names, not the syncs: t-09-crash
// and the crash analysis in docs/queue.md cover those.)
TEST(QueueCrash, AcknowledgedEntriesSurviveSigkill) {
  TempDir t;
  const fs::path spool = t.path / "spool";
  std::set<std::string> acked;
  std::uint64_t next_id = 1;
  for (int round = 0; round < 5; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const std::uint64_t first = next_id;
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      int err = 0;
      std::shared_ptr<Queue> q = Queue::open(spool.string(), err);
      if (!q) ::_exit(2);
      Committer c((t.path / "mail").string(), SyncMode::Syncfs);
      c.set_queue(q);
      for (std::uint64_t i = first;; ++i) {
        const std::string qid = queue_id_from(i);
        Delivery d = spool_delivery(spool, qid, "Subject: " + qid + "\n\n" + std::string(i % 5000, 'x') + "\n");
        if (i % 3 == 0) d.maildirs = {(t.path / "mail" / "alice").string()};
        d.queue = std::make_shared<QueueEnvelope>(envelope_for(qid));
        c.submit(std::move(d), [fd = fds[1], qid](int e, std::string) {
          if (e == 0) (void)!::write(fd, (qid + "\n").data(), qid.size() + 1);
        });
        if (i % 8 == 0) ::usleep(500);
      }
    }
    ::close(fds[1]);
    ::usleep(20000 + 15000 * round);
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    std::string text;
    char buf[4096];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    std::size_t count = 0;
    for (std::size_t pos = 0, nl; (nl = text.find('\n', pos)) != std::string::npos; pos = nl + 1) {
      acked.insert(text.substr(pos, nl - pos));
      ++count;
    }
    // The next start: the spool cleaner, then the queue scan.
    int err = 0;
    EXPECT_GE(clean_spool((spool / "tmp").string(), err), 0);
    auto q = Queue::open(spool.string(), err);
    ASSERT_TRUE(q);
    QueueIndex ix;
    const QueueScan s = q->scan(ix);
    EXPECT_TRUE(s.errors.empty()) << s.errors.front();
    EXPECT_EQ(s.quarantined, 0u);
    for (const auto& qid : acked) {
      ASSERT_TRUE(ix.find(*parse_queue_id(qid))) << "acknowledged " << qid << " is not queued";
      const std::uint64_t i = *parse_queue_id(qid);
      EXPECT_EQ(slurp(spool / "queue" / qid), "Subject: " + qid + "\n\n" + std::string(i % 5000, 'x') + "\n");
    }
    for (const auto& e : fs::directory_iterator(spool / "queue")) {
      EXPECT_NE(e.path().extension(), ".tmp") << e.path();
    }
    std::printf("round %d: %zu acknowledged this time, %zu queued, %zu half-made removed\n", round, count,
                ix.size(), s.removed);
    next_id += 1000000;   // fresh ids for the next round
  }
  EXPECT_GT(acked.size(), 0u) << "the child acknowledged nothing: the test proves nothing";
}

}  // namespace

// os_random_test.cpp - process::os_random_bytes: getrandom(2) for real, the
// short-read and EINTR loop, and the error path (an injected call, and the
// real call refused by a seccomp filter in a child process).
#include "process/os_random.hpp"

#include <gtest/gtest.h>

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <set>
#include <system_error>
#include <vector>

namespace {

using boxmail::process::os_random_bytes;
using boxmail::process::os_random_u64;

TEST(OsRandom, DistinctValues) {
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(os_random_u64());
  EXPECT_EQ(seen.size(), 1000u);   // a repeat among 1000 64-bit values: p < 3e-14
}

TEST(OsRandom, FillsLargeBuffersWhole) {
  std::vector<unsigned char> buf(1 << 20, 0);
  os_random_bytes(buf.data(), buf.size());
  // Every 4 KiB stretch has many distinct octets (a zero tail would mean
  // a short read taken for the whole).
  for (std::size_t at = 0; at < buf.size(); at += 4096) {
    std::set<unsigned char> values(buf.begin() + static_cast<std::ptrdiff_t>(at),
                                   buf.begin() + static_cast<std::ptrdiff_t>(at + 4096));
    ASSERT_GT(values.size(), 200u) << "at " << at;
  }
  os_random_bytes(buf.data(), 0);   // nothing asked, nothing done
}

int g_calls = 0;

/// Gives at most 3 octets a call and is interrupted on the second call.
ssize_t trickle(void* out, std::size_t n, unsigned int) {
  ++g_calls;
  if (g_calls == 2) {
    errno = EINTR;
    return -1;
  }
  const std::size_t k = n < 3 ? n : 3;
  for (std::size_t i = 0; i < k; ++i) static_cast<unsigned char*>(out)[i] = static_cast<unsigned char>(g_calls);
  return static_cast<ssize_t>(k);
}

TEST(OsRandom, RepeatsAfterShortReadsAndEintr) {
  g_calls = 0;
  std::array<unsigned char, 10> buf{};
  os_random_bytes(buf.data(), buf.size(), &trickle);
  // calls: 1 (3 octets), 2 (EINTR), 3, 4 (3 each), 5 (the last one)
  EXPECT_EQ(g_calls, 5);
  const std::array<unsigned char, 10> want{1, 1, 1, 3, 3, 3, 4, 4, 4, 5};
  EXPECT_EQ(buf, want);
}

ssize_t no_syscall(void*, std::size_t, unsigned int) {
  errno = ENOSYS;
  return -1;
}

ssize_t nothing(void*, std::size_t, unsigned int) { return 0; }

TEST(OsRandom, ErrorsAreThrownNeverMadeUp) {
  std::array<unsigned char, 8> buf{};
  try {
    os_random_bytes(buf.data(), buf.size(), &no_syscall);
    FAIL() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ENOSYS);
  }
  EXPECT_THROW(os_random_bytes(buf.data(), buf.size(), &nothing), std::system_error);
}

TEST(OsRandom, RealCallRefusedByTheKernel) {
  // A child forbids itself getrandom(2) with a seccomp filter (EPERM) and
  // must then get an exception. qemu-user refuses seccomp filters: skipped.
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getrandom, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ::_exit(77);
    if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) ::_exit(77);
    unsigned char buf[16];
    try {
      os_random_bytes(buf, sizeof buf);
    } catch (const std::system_error& e) {
      ::_exit(e.code().value() == EPERM ? 0 : 3);
    }
    ::_exit(2);   // octets came although the call was refused
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) GTEST_SKIP() << "no seccomp filter here (qemu-user)";
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace

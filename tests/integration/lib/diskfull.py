"""diskfull - the disk-full cycle on a small file system, shared by
t-19-disk-full (CI, short) and the soak harness (tests/bench/soak.py).

SmallFs: a small ext4 file system made with mke2fs on an image file and
loop-mounted, or, when loop devices are not available, a size-limited tmpfs
(`kind` and `note` say which). It is mounted only inside a private mount
namespace: call private_mounts() first (re-executes the running script
under `unshare -m --propagation private`), so the host never sees the mount
and it goes away with the last process of the namespace even if the test is
killed.

Filler: sends synthetic messages, each with a unique first header line
"X-Boxmail-Test-Id: <n>" and a body of a chosen size, one connection,
until the daemon answers 452 4.3.1: first 64 KiB messages, then smaller and
smaller ones so the last free blocks get used too. It records every attempt
as crashfeed.Feed does, so crashfeed.audit() checks the Maildirs against it:
every 250 stored byte-exact, nothing partial, nothing stored for a 452.

cycle(): fill -> audit -> free the space (POP3 DELE of every message, or rm)
-> the next message must get 250 again. Returns a CycleResult.
"""
import collections
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time

import boxtest
import corpus
import crashfeed

MOUNTNS_ENV = "BOXMAIL_MOUNTNS"


def private_mounts(net=False):
    """Re-executes this script (same interpreter and argv) in a private mount
    namespace (mount propagation private), and with net=True also in a
    private network namespace with loopback up. Returns at once when already
    inside (environment BOXMAIL_MOUNTNS set: the outer namespace's id).
    Needs root."""
    if os.environ.get(MOUNTNS_ENV):
        return
    if os.geteuid() != 0:
        sys.exit(f"{sys.argv[0]}: needs root (unshare -m, mount)")
    env = dict(os.environ, **{MOUNTNS_ENV: os.readlink("/proc/self/ns/mnt")})
    cmd = ["unshare", "-m", "--propagation", "private"]
    if net:
        cmd += ["-n", "sh", "-c", 'ip link set lo up && exec "$@"', "netns"]
    cmd += [sys.executable, os.path.abspath(sys.argv[0]), *sys.argv[1:]]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execvpe("unshare", cmd, env)


def in_private_mount_namespace():
    """True when this process runs in a mount namespace other than the one
    private_mounts() was called from, and "/" propagates no mount events
    (no shared: tag in /proc/self/mountinfo)."""
    outer = os.environ.get(MOUNTNS_ENV)
    if not outer or os.readlink("/proc/self/ns/mnt") == outer:
        return False
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[4] == "/":
                return not any(x.startswith("shared:") for x in fields[6:fields.index("-")])
    return False


class SmallFs:
    """A SIZE_MIB file system mounted on a fresh temp dir; see the module doc.

    path: the mount point. kind: "ext4 (loop)" or "tmpfs". note: why the
    fallback was taken (empty for ext4). mkfs_args: more mke2fs options (e.g.
    ["-i", "4096"] for more inodes). tmpfs_fallback=False raises
    AssertionError instead of falling back. Use as a context manager."""

    def __init__(self, size_mib=8, prefix="boxmail-smallfs-", mkfs_args=(), tmpfs_fallback=True):
        if not in_private_mount_namespace():
            raise AssertionError("SmallFs: not in a private mount namespace (call private_mounts() first)")
        self.size_mib = size_mib
        self.dir = tempfile.mkdtemp(prefix=prefix)
        os.chmod(self.dir, 0o755)   # boxmaild, dropped to the mail user, must get through to mnt/
        self.path = os.path.join(self.dir, "mnt")
        self.image = os.path.join(self.dir, "fs.img")
        os.mkdir(self.path)
        self.kind, self.note = "ext4 (loop)", ""
        try:
            with open(self.image, "wb") as f:
                f.truncate(size_mib << 20)
            # a fresh sparse image reads as zeros: no need to zero the inode
            # tables and the journal, now or from a background thread later
            run(["mke2fs", "-q", "-t", "ext4", "-F", "-m", "0", "-E", "lazy_itable_init=1,lazy_journal_init=1",
                 *mkfs_args, self.image])
            run(["mount", "-o", "loop,noinit_itable", self.image, self.path])
        except (OSError, AssertionError) as e:
            if not tmpfs_fallback:
                self.close()
                raise AssertionError(f"no loop-mounted ext4: {e}")
            self.kind, self.note = "tmpfs", f"no loop-mounted ext4 ({str(e).strip()[:200]})"
            run(["mount", "-t", "tmpfs", "-o", f"size={size_mib}m,mode=0755", "tmpfs", self.path])

    def free(self):
        """Bytes free for an unprivileged user (statvfs f_bavail)."""
        st = os.statvfs(self.path)
        return st.f_bavail * st.f_frsize

    def describe(self):
        st = os.statvfs(self.path)
        what = f"{self.size_mib} MiB {self.kind}, {st.f_blocks * st.f_frsize // 1024} KiB, {st.f_files} inodes"
        return what + (f"; fallback: {self.note}" if self.note else "")

    def close(self):
        """Unmounts (the files go with the image: much faster than removing
        tens of thousands of files one by one) and removes the temp dir."""
        subprocess.run(["umount", self.path], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr.strip()}")
    return p


def supports(key):
    """True when this boxmaild's schema knows KEY (boxmaild --print-schema)."""
    p = subprocess.run([boxtest.BOXMAILD, "--print-schema"], capture_output=True, text=True, timeout=30)
    return key in p.stdout


class Filler:
    """Synthetic messages over one connection, recorded like crashfeed.Feed
    (ids from first_id up; see the module doc)."""

    SIZES = (65536, 8192, 1024, 200)

    def __init__(self, port, users, first_id=0, deadline=120, fs_path=None, sizes=None, pace=None):
        """fs_path: the file system whose free space is noted at the first 452.
        sizes: the message sizes to fill with, largest first (default SIZES).
        pace: (octets, seconds): while fs_path has less than OCTETS free,
        wait SECONDS before each message (a free-space reserve may be read
        from the file system at most once a second: a filler faster than that
        would measure the cache, not the reserve)."""
        self.port = port
        self.pace = pace
        self.sizes_to_fill = tuple(sizes or self.SIZES)
        self.fs_path = fs_path
        self.users = users
        self.first_id = first_id
        self.next_id = first_id
        self.sizes = {}
        self.attempts = collections.defaultdict(list)
        self.client = corpus.FeedClient(port, timeout=30)
        self.deadline = time.monotonic() + deadline
        self.other = collections.Counter()   # replies other than 250 and 452 4.3.1, by "code enhanced"

    def route(self, n):
        user = self.users[n % len(self.users)]
        return user, f"{user}@example.com", "filler@relay.isp.example", None

    def message(self, n):
        """Message n: the id line, a few headers, then printable lines that
        depend on n, about the size chosen for n in all (LF line ends)."""
        head = crashfeed.ID_HEADER + b"%d\nSubject: disk-full filler %d\n\n" % (n, n)
        seed = hashlib.sha256(b"%d" % n).hexdigest().encode()
        line = (seed * 2)[:75] + b"\n"
        body = line * max(1, (self.sizes[n] - len(head)) // len(line))
        return head + body

    def send(self, size):
        """Sends one new message of about SIZE octets; returns (code, text),
        code None when the connection was cut (recorded as such)."""
        n = self.next_id
        self.next_id += 1
        self.sizes[n] = size
        _, rcpt, sender, _ = self.route(n)
        while self.client.sock is None:
            if time.monotonic() > self.deadline:
                raise AssertionError("disk-full: cannot reach boxmaild")
            try:
                refused = self.client.connect()
                if refused is not None:
                    self.attempts[n].append((f"{refused[0] // 100}xx", refused[0], "greeting", refused[1]))
                    self.other[f"{refused[0]} at connect"] += 1
                    return refused
            except corpus.ConnectionCut:
                self.client.close()
                time.sleep(0.05)
        try:
            stage, code, text = self.client.send_message(sender, [rcpt], boxtest.to_crlf_dotstuffed(self.message(n)))
        except corpus.ConnectionCut as e:
            self.attempts[n].append(("cut", e.stage))
            self.other[f"cut at {e.stage}"] += 1
            self.client.close()
            return None, str(e)
        if stage == "final" and code == 250:
            self.attempts[n].append(("250", corpus.queue_id(text)))
        else:
            self.attempts[n].append((f"{code // 100}xx", code, stage, text))
            if not is_452(code, text):
                self.other[f"{code} {enhanced(text)} at {stage}"] += 1
        return code, text

    def fill(self, max_messages=100000):
        """Sends messages of each size in turn until 452 4.3.1 (then 3 more
        of the smallest, which must get 452 too). Returns (acked, n452, free
        at the first 452 or None, seconds)."""
        t0 = time.monotonic()
        acked = n452 = 0
        free_at_452 = None
        sent = 0
        for size in self.sizes_to_fill:
            while sent < max_messages and time.monotonic() < self.deadline:
                if self.pace and self.fs_path and statvfs_free(self.fs_path) < self.pace[0]:
                    time.sleep(self.pace[1])
                code, text = self.send(size)
                sent += 1
                if code == 250:
                    acked += 1
                    continue
                if is_452(code, text):
                    n452 += 1
                    if free_at_452 is None:
                        free_at_452 = statvfs_free(self.fs_path) if self.fs_path else None
                    break
                if sum(self.other.values()) > 20:
                    return acked, n452, free_at_452, time.monotonic() - t0
        for _ in range(3):
            code, text = self.send(self.sizes_to_fill[-1])
            if code == 250:
                acked += 1
            elif is_452(code, text):
                n452 += 1
        return acked, n452, free_at_452, time.monotonic() - t0

    def recover(self, timeout=10.0):
        """Sends one message, resending while it gets 452, until 250 or
        TIMEOUT; returns the seconds it took, or None if no 250 came."""
        t0 = time.monotonic()
        while True:
            code, _ = self.send(self.sizes_to_fill[0])
            if code == 250:
                return time.monotonic() - t0
            if time.monotonic() - t0 > timeout:
                return None
            time.sleep(0.2)

    def close(self):
        self.client.quit()


def is_452(code, text):
    return code == 452 and enhanced(text) == "4.3.1"


def enhanced(text):
    parts = (text or "").splitlines()[-1:] or [""]
    words = parts[0][4:].split()
    return words[0] if words else ""


def statvfs_free(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def pop3_delete_all(box, users):
    """Deletes every message of USERS over POP3 (DELE each, QUIT); returns
    how many were deleted."""
    total = 0
    for user in users:
        d = box.pop3_dialogue(timeout=60)
        try:
            d.login(user, f"pw-{user}")
            d.send("STAT")
            n = int(d.expect("+OK").split()[1])
            for i in range(1, n + 1):
                d.send(f"DELE {i}")
                d.expect("+OK")
            d.send("QUIT")
            d.expect("+OK")
            total += n
        finally:
            d.close()
    return total


def rm_all(mail_dir):
    """Removes every file in every Maildir's new/ and cur/ (the administrator's way)."""
    n = 0
    for _, path in crashfeed.maildir_files(mail_dir):
        os.unlink(path)
        n += 1
    return n


def tmp_leftovers(box):
    """Non-empty files in the Maildirs' tmp/ and in spool_dir/tmp (the spool
    pool keeps empty files made ahead of time there)."""
    out = []
    dirs = [os.path.join(box.spool_dir, "tmp")]
    dirs += [os.path.join(box.mail_dir, u, "tmp") for u in box.mailboxes()]
    for d in dirs:
        if not os.path.isdir(d):
            continue
        for name in os.listdir(d):
            try:
                if os.path.getsize(os.path.join(d, name)) > 0:
                    out.append(os.path.join(d, name))
            except FileNotFoundError:
                pass
    return out


CycleResult = collections.namedtuple(
    "CycleResult", "recovered acked n452 other free_at_452 seconds files partial lost unexplained "
                   "stored_refused leftovers freed problems")


def cycle(box, fs, users, first_id, free_with="pop3", deadline=120, sizes=None, pace=None):
    """One disk-full cycle on BOX (its mail_dir and spool_dir on FS):
    a first message must get 250 (after the previous cycle freed space),
    fill until 452 4.3.1 (with messages of SIZES, default Filler.SIZES;
    PACE as Filler takes it), audit, free the space. Returns (CycleResult,
    next id)."""
    f = Filler(box.port, users, first_id=first_id, deadline=deadline, fs_path=fs.path, sizes=sizes, pace=pace)
    try:
        recovered = f.recover()
        acked, n452, free_at_452, secs = f.fill() if recovered is not None else (0, 0, None, 0.0)
    finally:
        f.close()
    if box.proc.poll() is not None:
        raise AssertionError(f"boxmaild exited ({box.proc.returncode}) while the disk was full")
    # the last 250 may still have its spool link pending: wait briefly for tmp to settle
    deadline_t = time.monotonic() + 5
    while tmp_leftovers(box) and time.monotonic() < deadline_t:
        time.sleep(0.1)
    leftovers = tmp_leftovers(box)
    a = crashfeed.audit(box.mail_dir, f)
    stored_refused = [n for n in a.unacked
                      if not any(o[0] == "cut" and o[1] == "final" for o in f.attempts[n])]
    freed = pop3_delete_all(box, users) if free_with == "pop3" else rm_all(box.mail_dir)
    problems = a.problems()
    if recovered is None:
        problems.append("no 250 within 10 s after space was freed")
    if n452 == 0:
        problems.append(f"the file system filled without a 452 4.3.1 (other replies: {dict(f.other)})")
    result = CycleResult(recovered, acked, n452, dict(f.other), free_at_452, secs, a.files,
                         len(a.partial), len(a.lost), len(a.unexplained), len(stored_refused),
                         leftovers, freed, problems)
    return result, f.next_id

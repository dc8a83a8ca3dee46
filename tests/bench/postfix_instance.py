"""postfix_instance - a private Postfix instance for the feed benchmark.

The instance has its own config_directory, queue_directory and
data_directory under one base directory, listens on 127.0.0.1:PORT only,
resolves nothing, and delivers every recipient of its one virtual domain set
into a single Maildir (BASE/mail/bench/) through virtual(8). /etc/postfix is
only read (meta_directory: postfix-files, dynamicmaps.cf), never written.

Postfix's durability settings are left at their defaults: the queue file is
fsync'ed before smtpd answers 250 to DATA, and virtual(8) fsyncs each Maildir
file before renaming it into new/.
"""
import os
import pwd
import signal
import subprocess
import time

POSTFIX = "/usr/sbin/postfix"
POSTCONF = "/usr/sbin/postconf"

# master.cf: Debian's service table minus the optional pipe(8) transports,
# every service out of chroot (the instance has no chroot jail), and the
# public smtpd on 127.0.0.1:PORT instead of *:25.
MASTER_CF = """\
# service type  private unpriv  chroot  wakeup  maxproc command + args
{listen} inet n -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


class PostfixInstance:
    """A private Postfix under BASE (which must already exist).

    port: TCP port on 127.0.0.1 for smtpd. domain: the virtual mailbox
    domain (every local-part of it is delivered to BASE/mail/bench/).
    mailbox_user: an existing account that owns the Maildir (virtual(8)
    delivers with its uid/gid). relayhost: where mail for any other domain
    goes (main.cf relayhost, e.g. "[127.0.0.2]:25"; empty: nowhere, as no
    DNS is used). extra_main_cf, extra_master_cf: text
    appended to main.cf and master.cf.
    """

    def __init__(self, base, port, domain="feed.example", mailbox_user="nobody",
                 hostname="postfix.bench.example", process_limit=200, extra_main_cf="", extra_master_cf="",
                 relayhost=""):
        self.base = base
        self.port = port
        self.domain = domain
        self.config_dir = os.path.join(base, "etc")
        self.queue_dir = os.path.join(base, "spool")
        self.data_dir = os.path.join(base, "lib")
        self.mail_base = os.path.join(base, "mail")
        self.maildir = os.path.join(self.mail_base, "bench")
        self.maillog = os.path.join(base, "maillog")
        pw = pwd.getpwnam(mailbox_user)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        self.hostname = hostname
        self.process_limit = process_limit
        self.extra_main_cf = extra_main_cf      # appended to main.cf (e.g. the TLS bench's smtpd_tls_*)
        self.extra_master_cf = extra_master_cf  # appended to master.cf (e.g. tlsmgr)
        self.relayhost = relayhost              # e.g. "[127.0.0.2]:25": mail for other domains goes there
        self.master_pid = None

    # -- setup -------------------------------------------------------------
    def main_cf(self):
        return f"""\
compatibility_level = 3.6
config_directory = {self.config_dir}
queue_directory = {self.queue_dir}
data_directory = {self.data_dir}
maillog_file = {self.maillog}
maillog_file_prefixes = {self.base}
myhostname = {self.hostname}
mydomain = bench.example
myorigin = $myhostname
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = {self.relayhost}
# nothing is resolved: no DNS for the smtp client, no reverse lookup of peers
smtp_dns_support_level = disabled
lmtp_dns_support_level = disabled
smtpd_peername_lookup = no
smtpd_client_restrictions =
smtpd_helo_restrictions =
smtpd_sender_restrictions =
biff = no
default_process_limit = {self.process_limit}
# every address in the domain goes to one Maildir (trailing slash = Maildir)
virtual_mailbox_domains = {self.domain}
virtual_mailbox_base = {self.mail_base}
virtual_mailbox_maps = static:bench/
virtual_uid_maps = static:{self.uid}
virtual_gid_maps = static:{self.gid}
virtual_minimum_uid = 1
virtual_transport = virtual
alias_maps =
alias_database =
local_recipient_maps =
smtputf8_enable = no
""" + self.extra_main_cf

    def setup(self):
        """Writes main.cf/master.cf and creates the queue and mail dirs."""
        os.chmod(self.base, 0o755)  # postfix and the mailbox user must traverse it
        for d in (self.config_dir, self.queue_dir, self.data_dir):
            os.makedirs(d, exist_ok=True)
            os.chmod(d, 0o755)
        pf = pwd.getpwnam("postfix")
        os.chown(self.data_dir, pf.pw_uid, pf.pw_gid)
        os.makedirs(os.path.join(self.maildir, "new"), exist_ok=True)
        for sub in ("cur", "tmp"):
            os.makedirs(os.path.join(self.maildir, sub), exist_ok=True)
        for root, dirs, _ in os.walk(self.mail_base):
            os.chown(root, self.uid, self.gid)
            os.chmod(root, 0o700 if root != self.mail_base else 0o755)
        with open(os.path.join(self.config_dir, "main.cf"), "w") as f:
            f.write(self.main_cf())
        with open(os.path.join(self.config_dir, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(listen=f"127.0.0.1:{self.port}") + self.extra_master_cf)
        with open(self.maillog, "a"):
            pass

    def _run(self, *args, check=True, timeout=120):
        p = subprocess.run([POSTFIX, "-c", self.config_dir, *args], capture_output=True,
                           text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise RuntimeError(f"postfix {' '.join(args)} failed ({p.returncode}):\n"
                               f"{p.stdout}{p.stderr}\n--- maillog ---\n{self.log_tail()}")
        return p

    def start(self, timeout=30):
        """postfix -c DIR start (creating missing queue dirs), then waits for the greeting."""
        self._run("check")
        self._run("start")
        self.master_pid = self._read_master_pid()
        self.wait_ready(timeout)
        return self

    def _read_master_pid(self, timeout=10):
        path = os.path.join(self.queue_dir, "pid", "master.pid")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with open(path) as f:
                    pid = int(f.read().strip())
                if os.path.exists(f"/proc/{pid}"):
                    return pid
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        raise RuntimeError("postfix master did not write its pid file\n" + self.log_tail())

    def wait_ready(self, timeout=30):
        import socket
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                    s.settimeout(10)
                    data = s.recv(512)
                    if data.startswith(b"220"):
                        s.sendall(b"QUIT\r\n")
                        return
                    last = data
            except OSError as e:
                last = e
            time.sleep(0.1)
        raise RuntimeError(f"postfix smtpd did not greet ({last!r})\n" + self.log_tail())

    # -- processes ---------------------------------------------------------
    def pids(self):
        """The master and all its live descendants."""
        if not self.master_pid:
            return []
        children = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
            children.setdefault(ppid, []).append(int(entry))
        out, todo = [], [self.master_pid]
        while todo:
            pid = todo.pop()
            out.append(pid)
            todo.extend(children.get(pid, []))
        return out

    def cpu_seconds(self):
        """Cumulative CPU (user+system, s) of the whole instance: the master's own
        time plus its reaped children's (cutime/cstime), plus every live
        descendant's. Differences of two readings give the CPU spent between."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            # fields[0] is state (field 3); utime/stime/cutime/cstime are 14..17
            total += sum(int(x) for x in fields[11:15])
        return total / tick

    def rss_kib(self):
        """Sum of VmRSS (KiB) over the instance's processes (shared pages counted per process)."""
        total = 0
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/status") as f:
                    for line in f:
                        if line.startswith("VmRSS:"):
                            total += int(line.split()[1])
            except OSError:
                pass
        return total

    def stop(self):
        """postfix stop, then SIGKILL whatever of the instance is left (by pid)."""
        if not self.master_pid:
            return
        left = self.pids()
        try:
            self._run("stop", check=False, timeout=60)
        except subprocess.TimeoutExpired:
            pass
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(os.path.exists(f"/proc/{p}") for p in left):
            time.sleep(0.1)
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.master_pid = None

    # -- mailbox -----------------------------------------------------------
    def delivered(self):
        """Number of messages in the Maildir's new/."""
        return count_files(os.path.join(self.maildir, "new"))

    def queue_count(self):
        n = 0
        for sub in ("incoming", "active", "deferred", "hold", "maildrop"):
            for _root, _dirs, files in os.walk(os.path.join(self.queue_dir, sub)):
                n += len(files)
        return n

    def log_tail(self, n=40):
        try:
            with open(self.maillog, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return "(no maillog)"


def count_files(path):
    try:
        with os.scandir(path) as it:
            return sum(1 for _ in it)
    except FileNotFoundError:
        return 0


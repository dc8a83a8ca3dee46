#!/usr/bin/python3
"""relay_bench - `make bench-relay`: boxmaild's outgoing mail against Postfix, same machine, same run.

What it measures (see docs/benchmarks.md, "Outgoing mail"):
  * relaying: N x 1 KiB messages (default 10,000) from 10 concurrent SMTP
    sessions of a LAN client (127.0.0.1, in [relay] relay_networks /
    Postfix's mynetworks) to a remote domain, through boxmaild and then
    through a private Postfix, each to a fresh Postfix smtp-sink on
    127.0.0.2:25 (boxmaild: [relay] route = smarthost, smarthost_tls = none;
    Postfix: relayhost = [127.0.0.2]:25). Per server: end-to-end messages/s
    (the first submission to the last message counted by the sink), the
    server's CPU seconds per message (boxmaild: its process; Postfix: master,
    its live descendants and its reaped children) until its queue is empty,
    messages per outgoing connection (the sink's session counter), and
    boxmaild's read/written octets per message (/proc/PID/io);
  * memory with N messages waiting: boxmaild routes by MX (dnsmasq) to a
    host where nothing listens, retry_min 1 h; PSS/RSS (smaps_rollup) with
    the queue empty and with N queued, both after a restart (start-up scan
    only) and live (after the submissions and the failed attempts); bytes per
    queued message; and the start-up time (exec to greeting) with the queue
    empty and with N queued.

Everything runs in a private network namespace (the script re-executes itself
under `unshare -n`); DNS comes only from a dnsmasq on 127.0.0.1, every server
listens on 127.0.0.x, nothing can leave the machine. Results: a markdown
table on stdout and BUILD/bench/relay.json.

Usage: relay_bench.py --build DIR [--bin DIR] [--messages N] [--queued N] [--only boxmaild|postfix] [--keep]
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(SOURCE, "tests", "integration", "lib"))

import boxtest  # noqa: E402
import smtpload  # noqa: E402
from feed_bench import (Boxmaild, cpu_busy, ext4_journal, fmt, free_port, fs_of, proc_cpu,  # noqa: E402
                        proc_status, progress, ratio)
from postfix_instance import PostfixInstance  # noqa: E402
from smtpsink import Dnsmasq, port_open  # noqa: E402

NETNS_ENV = "BOXMAIL_RELAY_BENCH_NETNS"
SMTP_SINK = "/usr/sbin/smtp-sink"
SENDER = "bench@own.test"
RECIPIENT = "bench@dest.test"        # relayed: to the sink
WAITING = "bench@down.test"          # queued: its MX refuses connections
SINK_ADDR = "127.0.0.2"              # the sink (smarthost / relayhost / dest.test's MX)
DEAD_ADDR = "127.0.0.4"              # down.test's MX: nothing listens there
DNS_RECORDS = [
    "--mx-host=dest.test,mx.dest.test,10", f"--host-record=mx.dest.test,{SINK_ADDR}",
    "--mx-host=down.test,mx.down.test,10", f"--host-record=mx.down.test,{DEAD_ADDR}",
]


def ensure_netns():
    """Re-executes this script under `unshare -n` (loopback up) unless already inside."""
    if os.environ.get(NETNS_ENV) == "1":
        return
    if os.geteuid() != 0:
        sys.exit("relay_bench: needs root (unshare -n, a private Postfix, smtp-sink on port 25)")
    env = dict(os.environ, **{NETNS_ENV: "1"})
    args = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "relay_bench",
            sys.executable, os.path.abspath(__file__), *sys.argv[1:]]
    os.execvpe("unshare", args, env)


# -- the sink -----------------------------------------------------------------------
class CountingSink:
    """smtp-sink -c on ADDR:25: a thread reads its running counters
    ("sess=S quit=Q mesg=M", one update per session end, QUIT and end of
    data) and keeps the time (monotonic) the message count last grew."""

    def __init__(self, addr=SINK_ADDR, port=25):
        self.addr, self.port = addr, port
        self.proc = subprocess.Popen([SMTP_SINK, "-u", "nobody", "-c", f"{addr}:{port}", "256"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        self.messages = 0
        self.sessions = 0
        self.last_message = None
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        boxtest.poll(lambda: port_open(port, addr), timeout=10, what=f"smtp-sink on {addr}:{port}")

    def _read(self):
        fd = self.proc.stdout.fileno()
        pending = b""
        while True:
            data = os.read(fd, 4096)
            if not data:
                return
            now = time.monotonic()
            pending += data
            *updates, pending = pending.split(b"\r")
            for u in updates:
                f = dict(x.split(b"=", 1) for x in u.split() if b"=" in x)
                with self._lock:
                    m = int(f.get(b"mesg", self.messages))
                    if m > self.messages:
                        self.messages, self.last_message = m, now
                    self.sessions = int(f.get(b"sess", self.sessions))

    def state(self):
        with self._lock:
            return self.messages, self.sessions, self.last_message

    def wait(self, count, timeout):
        """Waits until the sink counted `count` messages (or timeout s); returns the count."""
        deadline = time.monotonic() + timeout
        while self.state()[0] < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.state()[0]

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# -- boxmaild --------------------------------------------------------------------
class RelayBox(Boxmaild):
    """boxmaild under BASE relaying for 127.0.0.1 (relay_networks); own.test is local.
    Its own INI and a timed start; pid, alive, stop and log_tail are feed_bench's.

    route: "smarthost" (127.0.0.2:25, no TLS) or "mx" (through dnsmasq).
    retry_min: seconds (the memory run makes messages wait with 3600)."""

    def __init__(self, build, base, dns_port, route="smarthost", retry_min=300):
        self.build = build
        self.base = base
        self.port = free_port()
        self.queue_dir = os.path.join(base, "spool", "queue")
        self.log_path = os.path.join(base, "boxmaild.log")
        self.ini = os.path.join(base, "boxmail.ini")
        self.proc = None
        os.makedirs(base, exist_ok=True)
        with open(self.ini, "w") as f:
            f.write(f"""[server]
hostname = boxmaild.bench.example
passwd_file = {base}/passwd
control_socket = {base}/control.sock
log = stderr

[smtp]
listen = 127.0.0.1:{self.port}
submission_listen =
submissions_listen =
accept_domains = own.test
max_connections = 1000
max_connections_per_ip = 1000

[pop3]
pop3s_listen =

[tls]
certificate = {base}/tls/cert.pem
key = {base}/tls/key.pem

[store]
mail_dir = {base}/mail
spool_dir = {base}/spool

[relay]
relay_networks = 127.0.0.1
local_domains = own.test
route = {route}
smarthost = {SINK_ADDR}:25
smarthost_tls = none
smarthost_credentials = {base}/smarthost-login
retry_min = {retry_min}
retry_max = {max(retry_min, 4 * 3600)}
delay_notice_after = 0
connect_timeout = 5

[dns]
servers = 127.0.0.1:{dns_port}
timeout = 2
attempts = 2
""")
        p = subprocess.run([os.path.join(build, "boxmailctl"), "-c", self.ini, "user", "add", "bench",
                            "--password-stdin"], input="bench-password\n", capture_output=True, text=True,
                           timeout=60)
        if p.returncode != 0:
            raise RuntimeError(f"boxmailctl user add bench failed ({p.returncode}): {p.stderr}")

    def start(self):
        """Starts boxmaild; returns the seconds from exec to its first 220 greeting."""
        self._log = open(self.log_path, "ab")
        boxtest.hand_over(self.base)
        t0 = time.monotonic()
        self.proc = subprocess.Popen([os.path.join(self.build, "boxmaild"), "-c", self.ini],
                                     stdout=self._log, stderr=self._log, stdin=subprocess.DEVNULL)
        wait_greeting_fast(self.port, self.proc)
        return time.monotonic() - t0

    def stop(self):
        super().stop()
        self.proc = None

    def queued(self):
        """Messages in the queue directory (their envelopes)."""
        try:
            return sum(1 for n in os.listdir(self.queue_dir) if n.endswith(".env"))
        except FileNotFoundError:
            return 0

    def unattempted(self):
        """Envelopes on disk whose recipients have no attempt recorded yet
        (the log line of an attempt comes before the entry's update)."""
        n = 0
        for name in os.listdir(self.queue_dir):
            if not name.endswith(".env"):
                continue
            try:
                with open(os.path.join(self.queue_dir, name)) as f:
                    for line in f:
                        if line.startswith("rcpt ") and line.split()[2] == "0":
                            n += 1
                            break
            except FileNotFoundError:
                pass
        return n

    def log_count(self, pattern):
        with open(self.log_path, errors="replace") as f:
            return len(re.findall(pattern, f.read()))


def wait_greeting_fast(port, proc, timeout=120.0):
    """Connects as soon as the port listens (every 2 ms) and waits for the
    220; the greeting comes once the daemon's loop runs, after the queue scan."""
    import socket
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"boxmaild exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.settimeout(timeout)
                if s.recv(512).startswith(b"220"):
                    s.sendall(b"QUIT\r\n")
                    return
        except OSError:
            time.sleep(0.002)
    raise RuntimeError(f"boxmaild did not greet on 127.0.0.1:{port}")


def proc_io(pid):
    """/proc/PID/io as a dict (rchar, wchar, syscr, syscw, read_bytes, write_bytes...)."""
    out = {}
    with open(f"/proc/{pid}/io") as f:
        for line in f:
            k, v = line.split(":")
            out[k] = int(v)
    return out


def smaps_rollup(pid):
    """Rss, Pss, Pss_Anon... of /proc/PID/smaps_rollup, in KiB."""
    out = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                out[parts[0].rstrip(":")] = int(parts[1])
    return out


# -- the relay run ------------------------------------------------------------------
def settle(seconds):
    """sync, then (ext4 without a journal) wait for the inodes freed by the
    previous run to age, so that its deletions do not slow the next run's
    file creation (docs/benchmarks.md, "File system")."""
    os.sync()
    if seconds > 0:
        progress(f"  sync, settle {seconds} s")
        time.sleep(seconds)


def relay_run(who, port, cpu, queue_empty, payloads, sessions, timeout, io=None):
    """Sends the payloads over `sessions` sessions to 127.0.0.1:port with a
    fresh sink on 127.0.0.2:25; returns the figures."""
    sink = CountingSink()
    try:
        cpu0 = cpu()
        io0 = io() if io else None
        t0 = time.monotonic()
        r = smtpload.feed(port, payloads, sessions, SENDER, RECIPIENT)
        t_client = time.monotonic()
        n = sink.wait(r["accepted"], timeout)
        got, conns, last = sink.state()
        deadline = time.monotonic() + 60
        while not queue_empty() and time.monotonic() < deadline:
            time.sleep(0.05)
        t_empty = time.monotonic()
        time.sleep(0.2)
        cpu1 = cpu()
        io1 = io() if io else None
    finally:
        sink.close()
    secs = (last - t0) if last else None
    out = {
        "messages": len(payloads), "accepted": r["accepted"], "refused": r["refused"], "at_sink": n,
        "seconds": secs, "msgs_per_s": r["accepted"] / secs if secs and n == r["accepted"] else None,
        "accept_seconds": t_client - t0, "accept_msgs_per_s": r["accepted"] / (t_client - t0),
        "queue_empty_seconds": t_empty - t0, "queue_empty": queue_empty(),
        "cpu_seconds": cpu1 - cpu0, "cpu_ms_per_msg": (cpu1 - cpu0) * 1000 / max(1, r["accepted"]),
        "sink_sessions": conns, "msgs_per_connection": got / conns if conns else None,
        "client_cpu_seconds": r["cpu_seconds"],
        "latency_p50_ms": round(smtpload.percentile(r["latencies"], 50) * 1000, 3) if r["latencies"] else None,
    }
    if io0:
        d = {k: io1[k] - io0[k] for k in io0}
        m = max(1, r["accepted"])
        out["io_per_msg"] = {"rchar": d["rchar"] / m, "wchar": d["wchar"] / m, "syscr": d["syscr"] / m,
                             "syscw": d["syscw"] / m}
    if r["errors"]:
        out["errors"] = r["errors"][:10]
    if r["refusals"]:
        out["refusals"] = r["refusals"][:10]
    if n != r["accepted"]:
        out["note"] = f"only {n} of {r['accepted']} messages reached the sink within {timeout} s"
    progress(f"  {who}: {fmt(out['msgs_per_s'])} msgs/s end to end ({fmt(out['accept_msgs_per_s'])} accepted), "
             f"{out['cpu_ms_per_msg']:.3f} ms CPU/msg, {fmt(out['msgs_per_connection'], '.1f')} msgs/connection")
    return out


def bench_box_relay(args, work, dns, payloads, timeout):
    box = RelayBox(args.bin or args.build, os.path.join(work, "relay-boxmaild"), dns.port, route=args.route)
    try:
        box.start()
        time.sleep(0.5)
        cpu = lambda: sum(proc_cpu(box.pid))  # noqa: E731
        r = relay_run("boxmaild", box.port, cpu, lambda: box.queued() == 0, payloads, args.sessions, timeout,
                      io=lambda: proc_io(box.pid))
        r["rss_after_kib"] = proc_status(box.pid, "VmRSS")
        r["hwm_kib"] = proc_status(box.pid, "VmHWM")
        r["deferred_attempts"] = box.log_count(r"status=deferred")
        if not box.alive():
            raise RuntimeError("boxmaild exited during the relay run:\n" + box.log_tail())
        return r
    except Exception:
        sys.stderr.write("---- boxmaild log tail ----\n" + box.log_tail() + "\n")
        raise
    finally:
        box.stop()


def bench_pf_relay(args, work, payloads, timeout):
    pf = PostfixInstance(os.path.join(work, "relay-postfix"), free_port(),
                         relayhost=f"[{SINK_ADDR}]:25")
    os.makedirs(pf.base, exist_ok=True)
    pf.setup()
    try:
        pf.start()
        time.sleep(1.0)
        r = relay_run("Postfix", pf.port, pf.cpu_seconds, lambda: pf.queue_count() == 0, payloads,
                      args.sessions, timeout)
        r["processes_after"] = len(pf.pids())
        return r
    except Exception:
        sys.stderr.write("---- postfix maillog tail ----\n" + pf.log_tail() + "\n")
        raise
    finally:
        pf.stop()


# -- the waiting queue ------------------------------------------------------------------
def bench_queue_memory(args, work, dns):
    """boxmaild with N messages waiting (down.test's MX refuses, retry_min 1 h)."""
    n = args.queued
    box = RelayBox(args.bin or args.build, os.path.join(work, "queue-boxmaild"), dns.port, route="mx",
                   retry_min=3600)
    out = {"queued": n}
    try:
        box.start()          # first start: makes the directories and the self-signed certificate
        box.stop()
        out["start_empty_seconds"] = box.start()
        time.sleep(1.0)
        out["empty"] = smaps_rollup(box.pid)
        out["empty_threads"] = proc_status(box.pid, "Threads")
        progress(f"  queue empty: PSS {out['empty']['Pss']} KiB, RSS {out['empty']['Rss']} KiB, "
                 f"start-up {out['start_empty_seconds'] * 1000:.0f} ms")
        payloads = [smtpload.synthetic_message(i, recipient=WAITING) for i in range(n)]
        t0 = time.monotonic()
        r = smtpload.feed(box.port, payloads, args.sessions, SENDER, WAITING)
        out["accept_seconds"] = time.monotonic() - t0
        out["accepted"] = r["accepted"]
        if r["errors"] or r["refused"]:
            out["errors"] = (r["errors"] + r["refusals"])[:10]
        # every message has had its first attempt (connection refused)
        deadline = time.monotonic() + max(600, n // 10)
        tried = 0
        while time.monotonic() < deadline:
            tried = box.log_count(r"status=deferred")
            if tried >= r["accepted"]:
                break
            time.sleep(0.5)
        out["first_attempts_seconds"] = time.monotonic() - t0
        out["deferred"] = tried
        # ...and recorded on disk: the runner logs an attempt before its file
        # thread updates the entry, and a stop drops updates not yet made
        # (those messages would be due again after the restart and be
        # measured in the middle of a retry round).
        while time.monotonic() < deadline and box.unattempted() > 0:
            time.sleep(0.5)
        out["updates_seconds"] = time.monotonic() - t0
        time.sleep(2.0)
        out["live"] = smaps_rollup(box.pid)
        out["queue_files"] = box.queued()
        progress(f"  {out['queue_files']} queued after the attempts ({out['first_attempts_seconds']:.1f} s): "
                 f"PSS {out['live']['Pss']} KiB, RSS {out['live']['Rss']} KiB")
        box.stop()
        os.sync()
        out["start_queued_seconds"] = box.start()
        time.sleep(1.0)
        out["restarted"] = smaps_rollup(box.pid)
        out["restarted_threads"] = proc_status(box.pid, "Threads")
        out["waiting_logged"] = box.log_count(r"queue: \d+ message\(s\) waiting")
        m = re.findall(r"queue: (\d+) message\(s\) waiting", open(box.log_path, errors="replace").read())
        out["scan_found"] = int(m[-1]) if m else None
        progress(f"  restarted with {out['scan_found']} queued: PSS {out['restarted']['Pss']} KiB, "
                 f"RSS {out['restarted']['Rss']} KiB, start-up {out['start_queued_seconds'] * 1000:.0f} ms")
        for k in ("restarted", "live"):
            for field in ("Anonymous", "Pss", "Rss"):
                out[f"{k}_{field.lower()}_bytes_per_msg"] = (out[k][field] - out["empty"][field]) * 1024 / n
        return out
    except Exception:
        sys.stderr.write("---- boxmaild log tail ----\n" + box.log_tail() + "\n")
        raise
    finally:
        box.stop()


# -- report ------------------------------------------------------------------------------
def print_report(res):
    rel = res.get("relay") or {}
    b, p = rel.get("boxmaild") or {}, rel.get("postfix") or {}
    print()
    print(f"### Relaying {res['messages']:,} x 1 KiB from {res['sessions']} sessions to smtp-sink "
          f"(boxmaild route = {res['route']}, Postfix relayhost)")
    print()
    print("| figure | boxmaild | Postfix | boxmaild / Postfix |")
    print("|---|---|---|---|")
    rows = [
        ("end to end, msgs/s (first submission to last message at the sink)", "msgs_per_s", ".0f", True),
        ("accepted, msgs/s (client done)", "accept_msgs_per_s", ".0f", True),
        ("seconds until the queue is empty", "queue_empty_seconds", ".1f", True),
        ("server CPU ms per message (usr+sys, all processes)", "cpu_ms_per_msg", ".3f", True),
        ("messages per outgoing connection", "msgs_per_connection", ".1f", False),
        ("acceptance latency p50, ms", "latency_p50_ms", ".2f", False),
        ("client CPU s", "client_cpu_seconds", ".1f", False),
    ]
    for label, key, spec, with_ratio in rows:
        rt = ratio(b.get(key), p.get(key)) if with_ratio else None
        print(f"| {label} | {fmt(b.get(key), spec)} | {fmt(p.get(key), spec)} | {fmt(rt, '.2f')} |")
    if b.get("io_per_msg"):
        io = b["io_per_msg"]
        print()
        print(f"boxmaild I/O per message relayed: read {io['rchar']:.0f} octets in {io['syscr']:.1f} calls, "
              f"wrote {io['wchar']:.0f} octets in {io['syscw']:.1f} calls; "
              f"RSS after {fmt(b.get('rss_after_kib'), 'd')} KiB, peak {fmt(b.get('hwm_kib'), 'd')} KiB")
    q = res.get("queue") or {}
    if q:
        print()
        print(f"### boxmaild with {q['queued']:,} messages waiting (MX refuses, retry_min 1 h)")
        print()
        print("| state | anonymous KiB | PSS KiB | RSS KiB | bytes / queued msg: anonymous, PSS, RSS | "
              "start-up to greeting, ms |")
        print("|---|---|---|---|---|---|")
        e = q["empty"]
        print(f"| queue empty, after a restart | {e['Anonymous']} | {e['Pss']} | {e['Rss']} | | "
              f"{q['start_empty_seconds'] * 1000:.0f} |")
        for k, label, start in (("restarted", f"{fmt(q.get('scan_found'), ',')} queued, after a restart (start-up scan)",
                                 f"{q['start_queued_seconds'] * 1000:.0f}"),
                                ("live", f"{q['queue_files']:,} queued, live (after the submissions and first attempts)",
                                 "")):
            r = q[k]
            print(f"| {label} | {r['Anonymous']} | {r['Pss']} | {r['Rss']} | "
                  f"{q[k + '_anonymous_bytes_per_msg']:.0f}, {q[k + '_pss_bytes_per_msg']:.0f}, "
                  f"{q[k + '_rss_bytes_per_msg']:.0f} | {start} |")
        print()
        anon = q["restarted_anonymous_bytes_per_msg"]
        print(f"Submission of the {q['accepted']:,}: {q['accept_seconds']:.1f} s; every first attempt done after "
              f"{q['first_attempts_seconds']:.1f} s, recorded on disk after {q.get('updates_seconds', 0):.1f} s. Target: under 200 bytes of RAM (anonymous memory: heap) per "
              f"queued message after a restart: {anon:.0f} ({'PASS' if anon < 200 else 'FAIL'}). PSS and RSS "
              "also count the program's file pages the scan touched once.")
    for who, r in (("boxmaild", b), ("postfix", p)):
        for k in ("note", "errors", "refusals"):
            if r.get(k):
                print(f"  {who}: {k}: {r[k]}")


# -- main -----------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build", help="build directory (boxmailctl, results)")
    ap.add_argument("--bin", help="directory of the boxmaild/boxmailctl to bench (default: --build)")
    ap.add_argument("--messages", type=int, default=10000, help="messages relayed per server (default 10000)")
    ap.add_argument("--sessions", type=int, default=10, help="concurrent client sessions (default 10)")
    ap.add_argument("--queued", type=int, default=10000, help="messages left waiting for the memory figure "
                    "(default 10000; 0 skips it)")
    ap.add_argument("--route", choices=("smarthost", "mx"), default="smarthost",
                    help="boxmaild's route to the sink (default smarthost, like Postfix's relayhost)")
    ap.add_argument("--only", choices=("boxmaild", "postfix"), help="relay through one server only")
    ap.add_argument("--workdir", help="parent of the data dirs (default BUILD/bench; must be a real disk)")
    ap.add_argument("--settle", type=int, default=65, help="seconds to wait after sync between runs on ext4 "
                    "without a journal (default 65)")
    ap.add_argument("--keep", action="store_true", help="keep the data dirs")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    if args.bin:
        args.bin = os.path.abspath(args.bin)

    if os.environ.get(NETNS_ENV) != "1":
        for b in ("boxmaild", "boxmailctl"):
            if not os.access(os.path.join(args.bin or args.build, b), os.X_OK):
                sys.exit(f"relay_bench: {os.path.join(args.bin or args.build, b)} missing: build first")
        for tool in (SMTP_SINK, "/usr/sbin/postfix", "/usr/sbin/dnsmasq"):
            if not os.access(tool, os.X_OK):
                sys.exit(f"relay_bench: {tool} missing: run `make deps`")
        ensure_netns()

    results_dir = os.path.join(args.build, "bench")
    os.makedirs(results_dir, exist_ok=True)
    parent = args.workdir or results_dir
    fs = fs_of(parent)
    if " tmpfs " in f" {fs} " or "ramfs" in fs:
        progress(f"warning: {parent} is on {fs}; using /var/tmp so fsync means the disk")
        parent = "/var/tmp"
        fs = fs_of(parent)
    work = tempfile.mkdtemp(prefix="relay-", dir=parent)
    os.chmod(work, 0o755)
    journal = ext4_journal(work)
    settle_s = args.settle if journal is False else 0
    res = {
        "when": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "host": {"cpus": os.cpu_count(), "kernel": platform.release(), "filesystem": fs, "ext4_journal": journal,
                 "postfix": subprocess.run(["/usr/sbin/postconf", "-d", "-h", "mail_version"],
                                           capture_output=True, text=True).stdout.strip()},
        "messages": args.messages, "sessions": args.sessions, "message_size": 1024, "route": args.route,
    }
    if settle_s:
        progress(f"ext4 without a journal: sync, then wait {settle_s} s for recently freed inodes to age")
        settle(settle_s)
    res["host"]["loadavg_start"] = os.getloadavg()
    busy = cpu_busy(1.0)
    res["host"]["cpu_busy_before"] = round(busy, 3)
    progress(f"work dir {work} on {fs}; CPUs {busy:.0%} busy before the bench")
    dns = None

    def on_term(*_):
        raise KeyboardInterrupt()

    signal.signal(signal.SIGTERM, on_term)
    try:
        dns = Dnsmasq(work, DNS_RECORDS)
        timeout = max(600, args.messages // 10)
        payloads = [smtpload.synthetic_message(i, recipient=RECIPIENT) for i in range(args.messages)]
        res["relay"] = {}
        if args.only != "postfix":
            progress(f"relay {args.messages} x 1 KiB, {args.sessions} sessions: boxmaild (route {args.route}) ...")
            res["relay"]["boxmaild"] = bench_box_relay(args, work, dns, payloads, timeout)
            if args.only is None:
                settle(settle_s)
        if args.only != "boxmaild":
            progress(f"relay {args.messages} x 1 KiB, {args.sessions} sessions: Postfix (relayhost) ...")
            res["relay"]["postfix"] = bench_pf_relay(args, work, payloads, timeout)
        if args.queued > 0 and args.only != "postfix":
            settle(settle_s)
            progress(f"boxmaild with {args.queued} messages waiting ...")
            res["queue"] = bench_queue_memory(args, work, dns)
    except KeyboardInterrupt:
        progress("interrupted")
        return 130
    finally:
        if dns:
            dns.close()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    res["host"]["loadavg_end"] = os.getloadavg()
    res["seconds"] = round(time.time() - START_WALL, 1)
    out = os.path.join(results_dir, "relay.json")
    with open(out, "w") as f:
        json.dump(res, f, indent=2)
    print_report(res)
    print()
    progress(f"results written to {out}" + (f"; data kept in {work}" if args.keep else ""))
    return 0


START_WALL = time.time()

if __name__ == "__main__":
    sys.exit(main())

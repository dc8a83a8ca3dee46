#!/usr/bin/python3
"""guess_bench - `make bench`: SMTP greeting latency while POP3 clients guess passwords.

Issue 8 measured on the old code: 50 POP3 clients guessing with long
passwords pushed the SMTP connect-to-greeting time to p90 27 ms and max
85 ms, because every SHA512-CRYPT check (about 5 ms, more for a long
password) ran on the event loop that also serves SMTP. boxmaild now checks
passwords on a worker thread (config/password_checker.hpp).

What it measures: the time from connect() to the whole "220 ..." greeting
on boxmaild's SMTP port, probed one connection at a time every 20 ms,
first with nothing else going on (idle), then while --guessers POP3 clients
(default 50, each from its own address 127.0.1.N, in a separate process)
send USER/PASS with wrong 256-octet passwords as fast as they are
answered (the longest password any build still hashes). The throttle is
set out of the way ([server] login_failures_per_address = 1000; [pop3]
login_delay = 0, login_failures = 100, connection limits 200) so every
build hashes as much as it can: this measures the hashing's effect on the
loop, not the throttle. Figures: p50, p90, p99 and max in ms, and the
guessers' replies (hashed failures; refusals without hashing when the
checker's queue, [server] login_check_queue, is full).

Runs inside a private network namespace (re-executes itself through
tests/netns-run). Results: a table on stdout and BUILD/bench/guess.json.
Usage: guess_bench.py --build DIR [--bin DIR] [--seconds S] [--guessers N]
  --bin: where boxmaild (and boxmailctl, else --build's) are, e.g. the
  static appliance build, or an old build to compare with.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE, "tests", "integration", "lib"))

import boxtest  # noqa: E402

NETNS_ENV = "BOXMAIL_BENCH_NETNS"
PASSWORD = "g" * 256


def guesser_process(port, count, seconds):
    """Child process: COUNT threads guessing on POP3 PORT for SECONDS; prints reply counts."""
    stop = time.monotonic() + seconds
    counts = {}
    lock = threading.Lock()

    def one(n):
        source = f"127.0.1.{n + 1}"
        while time.monotonic() < stop:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=30,
                                              source_address=(source, 0)) as s:
                    f = s.makefile("rb")
                    f.readline()
                    while time.monotonic() < stop:
                        s.sendall(b"USER alice\r\n")
                        f.readline()
                        s.sendall(b"PASS " + PASSWORD.encode() + b"\r\n")
                        line = f.readline()
                        if not line:
                            break
                        key = line.decode(errors="replace").strip()[:40]
                        with lock:
                            counts[key] = counts.get(key, 0) + 1
            except OSError:
                time.sleep(0.01)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps(counts))


def probe(port, seconds, interval=0.02):
    """Connect-to-greeting times (ms) on SMTP PORT for SECONDS."""
    out = []
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        t0 = time.perf_counter()
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            buf = b""
            while not buf.endswith(b"\r\n"):
                chunk = s.recv(512)
                if not chunk:
                    break
                buf += chunk
            out.append((time.perf_counter() - t0) * 1000)
            s.sendall(b"QUIT\r\n")
        time.sleep(interval)
    return out


def summary(ms):
    ms = sorted(ms)
    pick = lambda q: round(ms[min(len(ms) - 1, int(q * len(ms)))], 2)  # noqa: E731
    return {"n": len(ms), "p50": pick(0.50), "p90": pick(0.90), "p99": pick(0.99), "max": round(ms[-1], 2)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--bin")
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--guessers", type=int, default=50)
    ap.add_argument("--guess-child", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.guess_child:
        guesser_process(int(a.guess_child[0]), int(a.guess_child[1]), float(a.guess_child[2]))
        return
    if os.environ.get(NETNS_ENV) != "1":
        env = dict(os.environ, **{NETNS_ENV: "1"})
        os.execve(os.path.join(SOURCE, "tests", "netns-run"),
                  ["netns-run", sys.executable, os.path.abspath(__file__), *sys.argv[1:]], env)
    build = os.path.abspath(a.build)
    bindir = os.path.abspath(a.bin) if a.bin and os.path.exists(os.path.join(a.bin, "boxmaild")) else build
    boxtest.BOXMAILD = os.path.join(bindir, "boxmaild")
    ctl = os.path.join(bindir, "boxmailctl")
    boxtest.BOXMAILCTL = ctl if os.path.exists(ctl) else os.path.join(build, "boxmailctl")
    schema = subprocess.run([boxtest.BOXMAILD, "--print-schema"], capture_output=True, text=True).stdout
    cfg = {"pop3": {"login_delay": "0", "login_failures": "100", "max_connections": "200",
                    "max_connections_per_ip": "200"}}
    if "login_failures_per_address" in schema:
        cfg["server"] = {"login_failures_per_address": "1000"}
    result = {"bin": bindir, "guessers": a.guessers, "seconds": a.seconds, "password_octets": len(PASSWORD)}
    with boxtest.Box(config=cfg, users=("alice",), name="guessbench") as box:
        box.start()
        result["idle"] = summary(probe(box.port, min(5.0, a.seconds)))
        child = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--build", a.build,
                                  "--guess-child", str(box.pop3_port), str(a.guessers), str(a.seconds + 1)],
                                 stdout=subprocess.PIPE, text=True)
        time.sleep(1.0)   # let the guessers get going
        result["guessing"] = summary(probe(box.port, a.seconds - 1))
        out, _ = child.communicate(timeout=a.seconds + 60)
        result["guesser_replies"] = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
        box.stop()
    print(f"SMTP connect-to-greeting, ms ({bindir}; {a.guessers} POP3 guessers, "
          f"{len(PASSWORD)}-octet passwords)")
    print(f"{'':10} {'n':>6} {'p50':>8} {'p90':>8} {'p99':>8} {'max':>8}")
    for k in ("idle", "guessing"):
        r = result[k]
        print(f"{k:10} {r['n']:>6} {r['p50']:>8} {r['p90']:>8} {r['p99']:>8} {r['max']:>8}")
    print("guesser replies:", result["guesser_replies"])
    os.makedirs(os.path.join(a.build, "bench"), exist_ok=True)
    with open(os.path.join(a.build, "bench", "guess.json"), "w") as f:
        json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()

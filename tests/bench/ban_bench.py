#!/usr/bin/python3
"""ban_bench - what boxmaild's own checks at accept cost a client (issue 11).

boxmaild refuses banned clients itself at accept (one hash lookup in its
BanList: docs/firewall.md, "boxmaild refuses banned clients itself") and,
with [smtp] feed_servers set, checks that a feed-port client is a feed
server (smtp/feed_list.hpp). This measures connect() to the whole "220
..." line, one connection at a time from 127.0.0.2 (never banned, a feed
server when the list is set), with [firewall] enabled (the helper and its
nft table in a private network namespace, so the kernel's set lookups
count too) in four modes:

  bans=0                no bans
  bans=N                N bans (the table's maximum, 4096: firewall/ban_table.hpp
                        kMaxBans) of other addresses, in BanList and in banned4
  bans=0 feed           feed_servers = 127.0.0.2 192.0.2.0/24 198.51.100.7
  bans=N feed           both

in alternating blocks (bans by a restart with the state file written,
feed by a reload), so load on the shared machine hits each alike. Figures:
p50, p90, p99 in ms and the ratios to bans=0 of the medians and p90s.

Runs inside a private network namespace (re-executes itself through
tests/netns-run). Results: a table on stdout and BUILD/bench/ban.json.
Usage: ban_bench.py --build DIR [--bin DIR] [--rounds N] [--block N] [--bans N]
"""
import argparse
import json
import os
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE, "tests", "integration", "lib"))

import boxtest  # noqa: E402

NETNS_ENV = "BOXMAIL_BENCH_NETNS"
FEED = "127.0.0.2 192.0.2.0/24 198.51.100.7"


def greeting_ms(port, source):
    t0 = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=30, source_address=(source, 0)) as s:
        data = b""
        while not data.endswith(b"\r\n"):
            chunk = s.recv(512)
            if not chunk:
                break
            data += chunk
        ms = (time.perf_counter() - t0) * 1000
    assert data.startswith(b"220"), data
    return ms


def summary(ms):
    ms = sorted(ms)
    pick = lambda q: round(ms[min(len(ms) - 1, int(q * len(ms)))], 3)  # noqa: E731
    return {"n": len(ms), "p50": pick(0.50), "p90": pick(0.90), "p99": pick(0.99), "max": round(ms[-1], 3)}


def write_bans(box, n):
    """The state file with N bans of 10.x.y.z for an hour (read at start)."""
    end = int(time.time()) + 3600
    lines = ["boxmail-bans 1"]
    for i in range(n):
        lines.append(f"10.{i >> 8}.{i & 255}.7 {end} bench")
    fresh = not os.path.isdir(box.spool_dir)
    os.makedirs(box.spool_dir, exist_ok=True)
    path = os.path.join(box.spool_dir, "firewall-bans")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    boxtest.hand_over(*([box.spool_dir] if fresh else []), path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--bin")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--block", type=int, default=500, help="connections per mode and round")
    ap.add_argument("--bans", type=int, default=4096)
    a = ap.parse_args()
    if os.environ.get(NETNS_ENV) != "1":
        env = dict(os.environ, **{NETNS_ENV: "1"})
        os.execve(os.path.join(SOURCE, "tests", "netns-run"),
                  ["netns-run", sys.executable, os.path.abspath(__file__), *sys.argv[1:]], env)
    build = os.path.abspath(a.build)
    bindir = os.path.abspath(a.bin) if a.bin and os.path.exists(os.path.join(a.bin, "boxmaild")) else build
    boxtest.BOXMAILD = os.path.join(bindir, "boxmaild")
    ctl = os.path.join(bindir, "boxmailctl")
    boxtest.BOXMAILCTL = ctl if os.path.exists(ctl) else os.path.join(build, "boxmailctl")
    fw = os.path.join(bindir, "boxmail-fw")
    fw = fw if os.path.exists(fw) else os.path.join(build, "boxmail-fw")
    modes = [(0, False), (0, True), (a.bans, False), (a.bans, True)]
    name = lambda m: f"bans={m[0]}" + (" feed" if m[1] else "")  # noqa: E731
    samples = {name(m): [] for m in modes}
    config = {"firewall": {"enabled": "yes", "program": fw, "allow": "127.0.0.1"},
              "smtp": {"max_connections_per_ip": "100", "feed_servers": ""}}
    with boxtest.Box(config=config, users=("alice",), name="banbench") as box:
        for _ in range(a.rounds):
            for bans in (0, a.bans):
                write_bans(box, bans)
                box.write_config({"smtp": {"feed_servers": ""}})
                mark = len(box.log())
                box.start()
                box.wait_log(r"firewall: applied", start=mark)
                if bans:
                    box.wait_log(rf"{bans} ban\(s\) still running", start=mark)
                for _ in range(20):   # warm up
                    greeting_ms(box.port, "127.0.0.2")
                for feed in (False, True):
                    box.write_config({"smtp": {"feed_servers": FEED if feed else ""}})
                    reply = box.control("reload")
                    assert reply[0].startswith("ok"), reply
                    for _ in range(a.block):
                        samples[name((bans, feed))].append(greeting_ms(box.port, "127.0.0.2"))
                listed = box.ctl("bans").stdout
                assert listed.count("\tbench") == bans, (bans, listed.count("\tbench"))
                box.stop()
    result = {"bin": bindir, "rounds": a.rounds, "block": a.block, "bans": a.bans}
    for m in modes:
        result[name(m)] = summary(samples[name(m)])
    base = result[name(modes[0])]
    result["ratio"] = {name(m): {q: round(result[name(m)][q] / base[q], 2) for q in ("p50", "p90")} for m in modes[1:]}
    print(f"SMTP connect-to-greeting, ms ({bindir}); [firewall] enabled, client 127.0.0.2")
    print(f"{'':18} {'n':>6} {'p50':>8} {'p90':>8} {'p99':>8} {'max':>8}")
    for m in modes:
        r = result[name(m)]
        print(f"{name(m):18} {r['n']:>6} {r['p50']:>8} {r['p90']:>8} {r['p99']:>8} {r['max']:>8}")
    for k, r in result["ratio"].items():
        print(f"ratio {k} / bans=0: p50 {r['p50']}x, p90 {r['p90']}x")
    os.makedirs(os.path.join(a.build, "bench"), exist_ok=True)
    with open(os.path.join(a.build, "bench", "ban.json"), "w") as f:
        json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()

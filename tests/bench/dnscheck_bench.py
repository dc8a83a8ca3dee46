#!/usr/bin/python3
"""dnscheck_bench - `make bench`: what the checks at connection time cost a client.

Issue 11: boxmaild looks feed clients up in DNS block lists and checks
their reverse DNS (smtp/client_check.hpp). The lookups start at accept,
run beside the dialogue, and only the first RCPT waits for their verdict
(docs/abuse.md). This measures, against dnsmasq on loopback as the only
DNS server (answers cached there, so it is the daemon's own cost plus a
loopback round trip):

  greeting  connect() to the whole "220 ..." line;
  verdict   connect() to the reply of the first RCPT (EHLO, MAIL FROM and
            RCPT TO each sent after the previous reply), the reply that
            carries the verdict;

each one connection at a time, from 127.0.0.2 (not listed; its PTR
good.test resolves back), with the checks off and with one DNSBL zone and
reverse_dns = log, in alternating blocks on the same daemon (a reload
switches), so load on the shared machine hits both alike. It also times
a listed client (127.0.0.5: 554 at RCPT). Figures: p50, p90, p99 in ms,
and the ratios checks/off of the medians and p90s.

Runs inside a private network namespace (re-executes itself through
tests/netns-run). Results: a table on stdout and BUILD/bench/dnscheck.json.
Usage: dnscheck_bench.py --build DIR [--bin DIR] [--rounds N] [--block N]
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE, "tests", "integration", "lib"))

import boxtest  # noqa: E402

NETNS_ENV = "BOXMAIL_BENCH_NETNS"


def start_dnsmasq(directory):
    port = boxtest.free_port()
    proc = subprocess.Popen(
        ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
         "--listen-address=127.0.0.1", "--bind-interfaces", f"--port={port}", "--user=root",
         f"--pid-file={os.path.join(directory, 'dnsmasq.pid')}", "--local=/test/", "--local=/127.in-addr.arpa/",
         "--address=/5.0.0.127.bl.test/127.0.0.2", "--txt-record=5.0.0.127.bl.test,Listed by bl.test",
         "--host-record=good.test,127.0.0.2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, port


def one(port, source):
    """(greeting ms, first RCPT reply ms, its code) for one connection from SOURCE."""
    t0 = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=30, source_address=(source, 0)) as s:
        f = s.makefile("rb")

        def reply():
            while True:
                line = f.readline()
                if not line or line[3:4] != b"-":
                    return line

        reply()
        greeting = (time.perf_counter() - t0) * 1000
        s.sendall(b"EHLO bench.example\r\n")
        reply()
        s.sendall(b"MAIL FROM:<bench@example.org>\r\n")
        reply()
        s.sendall(b"RCPT TO:<alice@example.com>\r\n")
        line = reply()
        verdict = (time.perf_counter() - t0) * 1000
        s.sendall(b"QUIT\r\n")
        reply()
    return greeting, verdict, int(line[:3])


def summary(ms):
    ms = sorted(ms)
    pick = lambda q: round(ms[min(len(ms) - 1, int(q * len(ms)))], 3)  # noqa: E731
    return {"n": len(ms), "p50": pick(0.50), "p90": pick(0.90), "p99": pick(0.99), "max": round(ms[-1], 3)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--bin")
    ap.add_argument("--rounds", type=int, default=8, help="alternations of the two modes")
    ap.add_argument("--block", type=int, default=500, help="connections per mode and round")
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
    modes = {"off": {"dnsbl_zones": "", "reverse_dns": "off"},
             "checks": {"dnsbl_zones": "bl.test", "reverse_dns": "log"}}
    samples = {m: {"greeting": [], "verdict": []} for m in modes}
    listed = {"greeting": [], "verdict": []}
    dnsmasq = None
    with boxtest.Box(config={"smtp": {"accept_domains": "example.com", "max_connections_per_ip": "100"}},
                     users=("alice",), name="dnscheckbench") as box:
        dnsmasq, dns_port = start_dnsmasq(box.dir)
        try:
            box.write_config({"dns": {"servers": f"127.0.0.1:{dns_port}"}, "smtp": modes["off"]})
            box.start()
            for _ in range(20):   # warm up: dnsmasq, the daemon's allocations
                one(box.port, "127.0.0.2")
            for _ in range(a.rounds):
                for mode, keys in modes.items():
                    box.write_config({"smtp": keys})
                    reply = box.control("reload")
                    assert reply[0].startswith("ok"), reply
                    for _ in range(a.block):
                        g, v, code = one(box.port, "127.0.0.2")
                        assert code == 250, code
                        samples[mode]["greeting"].append(g)
                        samples[mode]["verdict"].append(v)
                    if mode == "checks":
                        for _ in range(a.block // 5):
                            g, v, code = one(box.port, "127.0.0.5")
                            assert code == 554, code
                            listed["greeting"].append(g)
                            listed["verdict"].append(v)
            log = box.log()
            assert "client=127.0.0.2 reverse_dns=pass confirmed good.test" in log, "the checks did not run"
            box.stop()
        finally:
            dnsmasq.terminate()
            dnsmasq.wait(timeout=10)
    result = {"bin": bindir, "rounds": a.rounds, "block": a.block}
    for mode in modes:
        result[mode] = {k: summary(v) for k, v in samples[mode].items()}
    result["checks_listed"] = {k: summary(v) for k, v in listed.items()}
    result["ratio"] = {k: {q: round(result["checks"][k][q] / result["off"][k][q], 2) for q in ("p50", "p90")}
                       for k in ("greeting", "verdict")}
    print(f"SMTP connect-to-reply, ms ({bindir}); checks: one DNSBL zone + reverse_dns = log, dnsmasq on loopback")
    print(f"{'':24} {'n':>6} {'p50':>8} {'p90':>8} {'p99':>8} {'max':>8}")
    for mode in ("off", "checks", "checks_listed"):
        for k in ("greeting", "verdict"):
            r = result[mode][k]
            print(f"{mode + ' ' + k:24} {r['n']:>6} {r['p50']:>8} {r['p90']:>8} {r['p99']:>8} {r['max']:>8}")
    for k in ("greeting", "verdict"):
        print(f"ratio checks/off {k}: p50 {result['ratio'][k]['p50']}x, p90 {result['ratio'][k]['p90']}x")
    os.makedirs(os.path.join(a.build, "bench"), exist_ok=True)
    with open(os.path.join(a.build, "bench", "dnscheck.json"), "w") as f:
        json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()

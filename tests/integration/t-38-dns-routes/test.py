"""t-38-dns-routes: dns::Resolver and the route for a domain (issue 10:
outgoing mail) against real name servers on loopback, through the test
tool boxmail-dnsq (tests/tools/boxmail-dnsq.cpp).

dnsmasq on 127.0.0.1 serves the zone "test" (--local=/test/: a name it
has no record for is NXDOMAIN) and forwards "py.test" to a small Python
responder in this file, which answers what dnsmasq cannot be made to: a
null MX (RFC 7505), an MX whose exchange is garbage, and SERVFAIL. Every
query goes to an explicit 127.0.0.1 server; ctest runs this inside a
private network namespace (tests/netns-run) where loopback is all there is.

  (1) MX at three preferences: hosts in preference order; the two of
      equal preference both appear, in both orders over several seeds.
  (2) MX lookups: wire records; A and AAAA; TXT with '_'; PTR; DNSBL
      (listed: 127.0.0.2; not listed: NXDOMAIN).
  (3) No MX, A and AAAA only: the implicit MX, IPv4 first by default,
      IPv6 first with --order 6, one family with 4only/6only.
  (4) NXDOMAIN: permanent 5.1.2; an MX host without address: 5.4.4; a
      domain without MX and address: 5.1.2.
  (5) Null MX: permanent 5.1.10 with the RFC 7505 text; a garbage
      exchange is not queried (the good one is used).
  (6) SERVFAIL: temporary 4.4.3, at once (not after the timeout).
  (7) A server that never answers: temporary 4.4.3 within
      timeout * (2^attempts - 1) seconds plus slack; with that dead server
      first and dnsmasq second the answer comes after about a second.
  (8) Malformed names are refused without a query (status badname at once;
      dnsmasq's query log never sees them).
  (9) Our own name among the MX hosts: it and the worse ones are dropped.
"""
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import boxtest  # noqa: E402
from dnsresponder import Responder, parse_question  # noqa: E402

DNSQ = os.path.join(boxtest.BUILD, "tests", "boxmail-dnsq")


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- the Python responder (py.test) ------------------------------------------

def encode_name(name):
    out = b""
    for label in name.rstrip(".").split(".") if name not in ("", ".") else []:
        raw = label.encode("latin-1")
        out += bytes([len(raw)]) + raw
    return out + b"\0"


def mx_rr(pref, exchange):
    rdata = struct.pack("!H", pref) + encode_name(exchange)
    return b"\xc0\x0c" + struct.pack("!HHIH", 15, 1, 60, len(rdata)) + rdata


def respond(packet):
    """The answer to one query (see the module comment)."""
    qid, = struct.unpack("!H", packet[:2])
    name, qtype, question = parse_question(packet)
    rcode, answers = 0, []
    if name.startswith("sf.") or name == "sf.py.test":
        rcode = 2   # SERVFAIL
    elif name == "nullmx.py.test" and qtype == 15:
        answers = [mx_rr(0, ".")]
    elif name == "garbage.py.test" and qtype == 15:
        answers = [mx_rr(5, "bad name.py.test"), mx_rr(10, "good.py.test")]
    elif name == "good.py.test" and qtype == 1:
        answers = [b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton("127.0.5.1")]
    elif name in ("nullmx.py.test", "garbage.py.test", "good.py.test"):
        pass   # NODATA
    else:
        rcode = 3
    flags = 0x8400 | 0x0100 | 0x0080 | rcode   # QR AA RD RA
    header = struct.pack("!HHHHHH", qid, flags, 1, len(answers), 0, 0)
    return header + question + b"".join(answers)


# ---- dnsmasq -----------------------------------------------------------------

def start_dnsmasq(directory, port, py_port):
    log = os.path.join(directory, "dnsmasq.log")
    args = [
        "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
        "--listen-address=127.0.0.1", "--bind-interfaces", f"--port={port}", "--user=root",
        f"--pid-file={os.path.join(directory, 'dnsmasq.pid')}", "--log-queries", f"--log-facility={log}",
        "--local=/test/", f"--server=/py.test/127.0.0.1#{py_port}",
        # (1) three preferences, two hosts at 20
        "--mx-host=multi.test,mx1.multi.test,10", "--mx-host=multi.test,mx2a.multi.test,20",
        "--mx-host=multi.test,mx2b.multi.test,20", "--mx-host=multi.test,mx3.multi.test,30",
        "--host-record=mx1.multi.test,127.0.1.1,fd00::1:1", "--host-record=mx2a.multi.test,127.0.1.2",
        "--host-record=mx2b.multi.test,127.0.1.3", "--host-record=mx3.multi.test,fd00::1:3",
        "--txt-record=_dmarc.multi.test,v=DMARC1; p=none",
        # (3) no MX, addresses only
        "--host-record=implicit.test,127.0.2.1,fd00::2:1",
        # (4) an MX host without addresses
        "--mx-host=noaddr.test,nothing.noaddr.test,10",
        # (2) DNSBL: 127.0.0.2 listed in bl.test
        "--host-record=2.0.0.127.bl.test,127.0.0.2",
        # (9) this host among the MX hosts
        "--mx-host=own.test,better.own.test,5", "--mx-host=own.test,box.own.test,10",
        "--mx-host=own.test,worse.own.test,20",
        "--host-record=better.own.test,127.0.3.1", "--host-record=box.own.test,127.0.3.2",
        "--host-record=worse.own.test,127.0.3.3",
    ]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return proc, log


def dnsq(server_args, *args, timeout=60):
    """Runs boxmail-dnsq; returns (lines without 'elapsed', elapsed seconds)."""
    start = time.monotonic()
    r = subprocess.run([DNSQ, *server_args, *args], capture_output=True, text=True, timeout=timeout)
    wall = time.monotonic() - start
    assert r.returncode == 0, f"boxmail-dnsq {args}: exit {r.returncode}: {r.stderr}"
    lines = [line for line in r.stdout.splitlines() if not line.startswith("elapsed ")]
    return lines, wall


def main():
    assert os.path.exists(DNSQ), f"{DNSQ} not built"
    responder = Responder(respond)
    responder.start()
    directory = tempfile.mkdtemp(prefix="t38-")
    port = free_udp_port()
    proc, log = start_dnsmasq(directory, port, responder.port)
    server = ["--server", f"127.0.0.1:{port}", "--timeout", "2", "--attempts", "2"]
    try:
        boxtest.poll(lambda: dnsq(server, "a", "mx1.multi.test")[0] == ["status ok", "address 127.0.1.1"],
                     timeout=10, what="dnsmasq answering")

        # (1) preference order; equal preferences in both orders over seeds.
        orders = set()
        for seed in range(1, 13):
            lines, _ = dnsq(server, "--seed", str(seed), "route", "multi.test")
            assert lines[0] == "route hosts", lines
            targets = [tuple(line.split()[1:]) for line in lines if line.startswith("target ")]
            hosts = [t[0] for t in targets]
            assert hosts[0] == "mx1.multi.test" and hosts[1] == "mx1.multi.test", hosts   # v4 then v6
            assert targets[0][1] == "127.0.1.1" and targets[1][1] == "fd00::1:1", targets
            assert sorted(hosts[2:4]) == ["mx2a.multi.test", "mx2b.multi.test"], hosts
            assert hosts[4:] == ["mx3.multi.test"] and targets[4][1] == "fd00::1:3", targets
            orders.add(tuple(hosts[2:4]))
        assert len(orders) == 2, f"equal preferences never swapped: {orders}"

        # (2) the single lookups.
        lines, _ = dnsq(server, "mx", "Multi.TEST.")
        assert lines[0] == "status ok", lines
        assert sorted(lines[1:]) == sorted(["mx 10 mx1.multi.test", "mx 20 mx2a.multi.test",
                                            "mx 20 mx2b.multi.test", "mx 30 mx3.multi.test"]), lines
        assert dnsq(server, "aaaa", "mx1.multi.test")[0] == ["status ok", "address fd00::1:1"]
        assert dnsq(server, "aaaa", "mx2a.multi.test")[0] == ["status nodata"]
        assert dnsq(server, "a", "nothing.multi.test")[0] == ["status nxdomain"]
        assert dnsq(server, "txt", "_dmarc.multi.test")[0] == ["status ok", "txt v=DMARC1; p=none"]
        assert dnsq(server, "ptr", "127.0.1.1")[0] == ["status ok", "ptr mx1.multi.test"]
        assert dnsq(server, "dnsbl", "127.0.0.2", "bl.test")[0] == ["status ok", "address 127.0.0.2"]
        assert dnsq(server, "dnsbl", "127.0.0.3", "bl.test")[0] == ["status nxdomain"]

        # (3) the implicit MX and the address order.
        lines, _ = dnsq(server, "route", "implicit.test")
        assert lines == ["route hosts implicit", "target implicit.test 127.0.2.1",
                         "target implicit.test fd00::2:1"], lines
        lines, _ = dnsq(server, "--order", "6", "route", "implicit.test")
        assert lines[1:] == ["target implicit.test fd00::2:1", "target implicit.test 127.0.2.1"], lines
        assert dnsq(server, "--order", "4only", "route", "implicit.test")[0][1:] == ["target implicit.test 127.0.2.1"]
        assert dnsq(server, "--order", "6only", "route", "implicit.test")[0][1:] == ["target implicit.test fd00::2:1"]

        # (4) permanent failures.
        lines, _ = dnsq(server, "route", "nx.test")
        assert lines == ["route permanent 5.1.2 nx.test does not exist (NXDOMAIN)"], lines
        lines, _ = dnsq(server, "route", "noaddr.test")
        assert lines[0] == "route permanent 5.4.4 no MX host of noaddr.test has an address", lines
        assert "note nothing.noaddr.test: no address" in lines, lines
        lines, _ = dnsq(server, "route", "nothing.multi.test")
        assert lines[0] == "route permanent 5.1.2 nothing.multi.test does not exist (NXDOMAIN)", lines

        # (5) null MX; a garbage exchange is dropped, never queried.
        lines, _ = dnsq(server, "route", "nullmx.py.test")
        assert lines == ["route permanent 5.1.10 nullmx.py.test has a null MX (RFC 7505): it accepts no mail"], lines
        lines, _ = dnsq(server, "route", "garbage.py.test")
        assert lines == ["route hosts", "target good.py.test 127.0.5.1"], lines
        assert not any("bad" in n for n in responder.names), responder.names

        # (6) SERVFAIL: temporary, without waiting for the timeout.
        lines, wall = dnsq(server, "route", "sf.py.test")
        assert lines[0].startswith("route temporary 4.4.3 the MX lookup of sf.py.test failed temporarily"), lines
        assert wall < 1.5, f"SERVFAIL took {wall:.1f} s"
        assert dnsq(server, "a", "sf.py.test")[0] == ["status tempfail"]

        # (7) a server that never answers: bounded by the configured timeout.
        silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        silent.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{silent.getsockname()[1]}"
        lines, wall = dnsq(["--server", dead, "--timeout", "1", "--attempts", "2"], "route", "multi.test")
        assert lines[0].startswith("route temporary 4.4.3"), lines
        assert 1.5 <= wall <= 5.0, f"1 s x 2 attempts took {wall:.1f} s (expected about 3)"
        lines, wall = dnsq(["--server", dead, "--timeout", "1", "--attempts", "1"], "a", "mx1.multi.test")
        assert lines == ["status tempfail"], lines
        assert wall <= 3.0, f"1 s x 1 attempt took {wall:.1f} s"
        assert len(silent.recv(4096)) > 12   # the query did reach it
        lines, wall = dnsq(["--server", dead, "--server", f"127.0.0.1:{port}", "--timeout", "2", "--attempts", "1"],
                           "a", "mx1.multi.test")
        assert lines == ["status ok", "address 127.0.1.1"], lines
        assert wall <= 3.5, f"fail-over to the second server took {wall:.1f} s"
        silent.close()

        # (8) malformed names: refused before any query.
        with open(log, errors="replace") as f:
            before = f.read().count("query[")
        for bad in ["exa mple.test", "a..b.test", "x" * 64 + ".test", ".".join(["abcd"] * 60), "-x.test",
                    "\u00fc.test", "a\\.b.test"]:
            lines, wall = dnsq(server, "a", bad)
            assert lines == ["status badname"], (bad, lines)
            assert wall < 1.5, (bad, wall)
            lines, _ = dnsq(server, "route", bad)
            assert lines[0].startswith("route permanent 5.1.2 '"), (bad, lines)
        with open(log, errors="replace") as f:
            after = f.read().count("query[")
        assert after == before, f"{after - before} malformed names reached dnsmasq"

        # (9) this host among the MX hosts: only the better one stays.
        lines, _ = dnsq(server, "--own", "box.own.test", "route", "own.test")
        assert lines == ["route hosts", "target better.own.test 127.0.3.1"], lines
        lines, _ = dnsq(server, "--own", "better.own.test", "route", "own.test")
        assert lines == ["route permanent 5.4.6 mail for own.test loops back to this host (it is the best MX)"], lines
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        out = proc.stdout.read().decode(errors="replace")
        if out.strip():
            print("dnsmasq:", out)
        responder.sock.close()


if __name__ == "__main__":
    boxtest.run(main)

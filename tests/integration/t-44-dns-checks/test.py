"""t-44-dns-checks: the checks at connection time (issue 11): DNS block
lists and forward-confirmed reverse DNS for clients of the feed port.

dnsmasq on 127.0.0.1 is boxmaild's only DNS server ([dns] servers). It
serves the zone "test" (unknown names NXDOMAIN) and 127.in-addr.arpa (no
PTR unless given), and forwards two zones elsewhere: "evil.test" and
8.0.0.127.in-addr.arpa to a Python responder in this file (hostile TXT
records, SERVFAIL), "dead.test" to a UDP socket that never answers.
Clients bind 127.0.0.x, so each address plays one role. The checks start
at accept; the verdict is given at RCPT (docs/abuse.md). Client sends /
boxmaild does:

  (1) DNSBL bl.test lists 127.0.0.5 (A 127.0.0.2, TXT reason): the
      greeting is the normal 220 at once; every RCPT gets 554 5.7.1
      "Service unavailable; Client host [127.0.0.5] blocked using bl.test;
      REASON"; DATA gets 554 5.5.1; the log names client, zone, answer and
      TXT. 127.0.0.2 (not listed) gets its mail through.
  (2) A list that refuses the query (127.255.255.254, RFC 5782) is no
      listing: 127.0.0.6 gets through, the log says so.
  (3) The attack: evil.test's TXT for 127.0.0.7 holds CR LF and a whole
      SMTP reply; for 127.0.0.9 it is 2,000 octets. The 554 stays one
      clean line of printable ASCII under 512 octets, and the next reply
      read is the next command's own.
  (4) Exempt clients are not looked up: 127.0.0.10 (listed, but in [relay]
      relay_networks) gets its mail through, with no check logged; so does
      127.0.0.11 (listed, but an address in [smtp] feed_servers, set by a
      reload for this step only: set, it restricts the feed port to the
      servers listed, t-47-feed-servers).
  (5) `stats` counts the blocked connections (blocked dnsbl=N).
  (6) A list that never answers (dead.test) or fails (SERVFAIL from the
      responder): the greeting still comes at once, the RCPT is answered
      after client_check_timeout (2 s) and the mail goes through; the log
      says "no answer within 2 s" and "tempfail".
  (7) reverse_dns = reject: no PTR (127.0.0.2) -> 550 5.7.25; a PTR whose
      name resolves elsewhere (127.0.0.3) -> 550 5.7.25 naming it; a
      confirmed name (127.0.0.4, good.test) -> accepted; the PTR lookup
      fails (127.0.0.8, SERVFAIL) -> 450 4.7.25; 127.0.0.10 (relay_networks)
      is not checked; `stats` counts blocked reverse_dns.
  (8) reverse_dns = log: 127.0.0.2 gets its mail through; the log says
      "reverse_dns=fail no PTR ... (reverse_dns = log: not refused)".
  (9) An IPv6 client (::1, on a second feed address [::1]:PORT) is asked
      by its 32 nibbles (RFC 5782 2.4): listed, it gets 554 5.7.1 naming
      [::1].
"""
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import boxtest  # noqa: E402
from boxtest import Box  # noqa: E402
from dnsresponder import Responder, parse_question, reply, rr  # noqa: E402

INJECTED = b"bad guy\r\n250 2.0.0 Ok: queued as FORGED\r\n\x1b[2J\x00end"
HUGE = [bytes([65 + i]) * 250 for i in range(8)]   # 8 character-strings: 2,000 octets
V6_NAME = "1." + "0." * 31 + "bl.test"   # ::1 by its 32 nibbles, reversed (RFC 5782 2.4)


# ---- the Python responder (evil.test, SERVFAIL; lib/dnsresponder.py) ------------

def txt_rdata(strings):
    return b"".join(bytes([len(s)]) + s for s in strings)


def respond(packet):
    name, qtype, question = parse_question(packet)
    rcode, answers = 0, []
    listed = {"7.0.0.127.evil.test": [INJECTED], "9.0.0.127.evil.test": HUGE}
    if name.endswith("in-addr.arpa") or name.endswith(".sf.test"):
        rcode = 2   # SERVFAIL
    elif name in listed and qtype == 1:
        answers = [rr(1, socket.inet_aton("127.0.0.2"))]
    elif name in listed and qtype == 16:
        answers = [rr(16, txt_rdata(listed[name]))]
    elif name in listed:
        pass   # NODATA
    else:
        rcode = 3
    return reply(packet, question, rcode, answers)


def start_dnsmasq(directory, py_port, dead_port):
    port = boxtest.free_port()
    log = os.path.join(directory, "dnsmasq.log")
    args = [
        "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
        "--listen-address=127.0.0.1", "--bind-interfaces", f"--port={port}", "--user=root",
        f"--pid-file={os.path.join(directory, 'dnsmasq.pid')}", "--log-queries", f"--log-facility={log}",
        "--local=/test/", "--local=/127.in-addr.arpa/",
        f"--server=/evil.test/127.0.0.1#{py_port}", f"--server=/sf.test/127.0.0.1#{py_port}",
        f"--server=/8.0.0.127.in-addr.arpa/127.0.0.1#{py_port}",
        f"--server=/dead.test/127.0.0.1#{dead_port}",
        # (1) bl.test lists 127.0.0.5 (--address: no PTR made for 127.0.0.2)
        "--address=/5.0.0.127.bl.test/127.0.0.2",
        "--txt-record=5.0.0.127.bl.test,Listed by bl.test: see http://bl.test/q?ip=127.0.0.5",
        # (2) the list refuses the query for 127.0.0.6
        "--address=/6.0.0.127.bl.test/127.255.255.254",
        # (4) listed, but exempt
        "--address=/10.0.0.127.bl.test/127.0.0.2", "--address=/11.0.0.127.bl.test/127.0.0.2",
        # (7) reverse DNS: 127.0.0.3 claims liar.test, which is elsewhere; 127.0.0.4 is good.test both ways
        "--ptr-record=3.0.0.127.in-addr.arpa,liar.test", "--address=/liar.test/127.0.0.99",
        "--host-record=good.test,127.0.0.4",
        # (9) ::1 listed by its nibbles
        "--address=/" + V6_NAME + "/127.0.0.3", "--txt-record=" + V6_NAME + ",IPv6 listed",
    ]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, port



def transaction(box, source, rcpts=("alice@example.com",), port=None, family=socket.AF_INET):
    """EHLO, MAIL, each RCPT, and DATA when one was taken, from SOURCE.
    Returns (greeting seconds, [RCPT replies as (code, text)], the DATA
    reply or the final reply, RCPT wait seconds)."""
    start = time.monotonic()
    if family == socket.AF_INET:
        d = boxtest.Dialogue(box.port, timeout=20, source=source)
    else:   # the harness's Dialogue speaks IPv4: the same object over an IPv6 socket
        d = boxtest.Dialogue.__new__(boxtest.Dialogue)
        d.sock = socket.create_connection((source, port), timeout=20)
        d.buf = b""
    try:
        d.expect(220)
        greeted = time.monotonic() - start
        d.send("EHLO client.example")
        d.expect(250)
        d.send("MAIL FROM:<sender@example.org>")
        d.expect(250, "2.1.0")
        replies = []
        t0 = time.monotonic()
        waited = None
        for r in rcpts:
            d.send(f"RCPT TO:<{r}>")
            code, lines = d.reply()
            if waited is None:
                waited = time.monotonic() - t0
            replies.append((code, lines[-1]))
        d.send("DATA")
        code, lines = d.reply()
        final = (code, lines[-1])
        if code == 354:
            d.send(boxtest.to_crlf_dotstuffed(b"Subject: t-44\n\nhello\n"), raw=True)
            code, lines = d.reply()
            final = (code, lines[-1])
        d.send("QUIT")
        d.expect(221)
        return greeted, replies, final, waited
    finally:
        d.close()


def stats(box):
    lines = box.control("stats")
    assert lines[0].startswith("ok"), lines
    blocked = [l for l in lines if l.startswith("blocked ")]
    assert len(blocked) == 1, lines
    return dict(kv.split("=") for kv in blocked[0].split()[1:])


def reload(box, smtp=None, relay=None):
    box.write_config({"smtp": smtp or {}, "relay": relay or {}})
    reply = box.control("reload")
    assert reply[0].startswith("ok"), reply


def main():
    responder = Responder(respond)
    responder.start()
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    box = None
    proc = None
    try:
        v6_port = boxtest.free_port()
        box = Box({"smtp": {"accept_domains": "example.com", "dnsbl_zones": "bl.test evil.test",
                            "reverse_dns": "off", "client_check_timeout": "2"},
                   "relay": {"relay_networks": "127.0.0.10"}},
                  name="t44")
        proc, dns_port = start_dnsmasq(box.dir, responder.port, silent.getsockname()[1])
        box.write_config({"dns": {"servers": f"127.0.0.1:{dns_port}", "timeout": "5", "attempts": "2"},
                          "smtp": {"listen": f"127.0.0.1:{box.port} [::1]:{v6_port}"}})
        box.start()

        # (1) listed: 554 5.7.1 with the reason at every RCPT; the greeting is not held back.
        mark = len(box.log())
        greeted, replies, final, _ = transaction(box, "127.0.0.5", ["alice@example.com", "bob@example.com"])
        assert greeted < 0.5, f"greeting took {greeted:.2f} s"
        want = ("Service unavailable; Client host [127.0.0.5] blocked using bl.test; "
                "Listed by bl.test: see http://bl.test/q?ip=127.0.0.5")
        assert replies == [(554, "5.7.1 " + want)] * 2, replies
        assert final[0] == 554 and final[1].startswith("5.5.1"), final
        box.wait_log(r"client=127\.0\.0\.5 dnsbl=bl\.test listed answer=127\.0\.0\.2 "
                     r"txt=\"Listed by bl\.test: see http://bl\.test/q\?ip=127\.0\.0\.5\"", start=mark)
        box.wait_log(r"client=127\.0\.0\.5 dnsbl=evil\.test not listed", start=mark)
        box.wait_log(r"client=127\.0\.0\.5 from=<sender@example\.org> rcpt=<alice@example\.com> "
                     r"refused: listed by bl\.test", start=mark)
        assert box.messages("alice") == [], "a listed client's mail was delivered"
        # not listed: delivered
        _, replies, final, _ = transaction(box, "127.0.0.2")
        assert replies == [(250, "2.1.5 Recipient ok")] and final[0] == 250, (replies, final)
        box.wait_log(r"client=127\.0\.0\.2 dnsbl=bl\.test not listed", start=mark)

        # (2) the list refuses the query: not a listing, logged.
        _, replies, final, _ = transaction(box, "127.0.0.6")
        assert replies[0][0] == 250 and final[0] == 250, (replies, final)
        box.wait_log(r"client=127\.0\.0\.6 dnsbl=bl\.test refused answer=127\.255\.255\.254: "
                     r"the list refuses our queries, client let through", start=mark)

        # (3) hostile TXT: one clean line; the next reply is the next command's.
        for source, expect_tail in (("127.0.0.7", "bad guy 250 2.0.0 Ok: queued as FORGED ?[2J?end"),
                                    ("127.0.0.9", "...")):
            d = boxtest.Dialogue(box.port, timeout=20, source=source)
            try:
                d.hello()
                d.send("MAIL FROM:<sender@example.org>")
                d.expect(250)
                d.send("RCPT TO:<alice@example.com>\r\nNOOP", raw=False)
                raw = d.raw_line()
                assert raw.startswith(b"554 5.7.1 Service unavailable; Client host [" + source.encode() +
                                      b"] blocked using evil.test; "), raw
                assert all(32 <= c < 127 for c in raw), raw
                assert len(raw) + 2 <= 512, len(raw)
                assert raw.decode().endswith(expect_tail), raw
                assert d.expect(250) == ["2.0.0 Ok"]   # the NOOP's own reply, nothing forged in between
                d.send("QUIT")
                d.expect(221)
            finally:
                d.close()
        log = box.log()[mark:]
        assert "FORGED\n" not in log and "\x1b" not in log, "the TXT reached the log raw"

        # (4) exempt clients are not checked (listed, yet delivered; nothing logged for them).
        for source in ("127.0.0.10", "127.0.0.11"):
            if source == "127.0.0.11":
                reload(box, {"feed_servers": "mx.isp.test 127.0.0.11"})
            _, replies, final, _ = transaction(box, source)
            assert replies[0][0] == 250 and final[0] == 250, (source, replies, final)
            assert f"client={source} dnsbl=" not in box.log()[mark:], source
        reload(box, {"feed_servers": ""})

        # (5) the counter: 127.0.0.5, .7, .9 blocked.
        assert stats(box) == {"dnsbl": "3", "reverse_dns": "0", "bans": "0"}, stats(box)

        # (6) a list that never answers, one that fails: through after the timeout.
        reload(box, {"dnsbl_zones": "dead.test sf.test"})
        mark = len(box.log())
        greeted, replies, final, waited = transaction(box, "127.0.0.2")
        assert greeted < 0.5, f"greeting took {greeted:.2f} s"
        assert replies[0][0] == 250 and final[0] == 250, (replies, final)
        assert 1.0 <= waited <= 4.0, f"RCPT answered after {waited:.2f} s (client_check_timeout 2 s)"
        box.wait_log(r"client=127\.0\.0\.2 dnsbl=dead\.test no answer within 2 s: not checked, client let through",
                     start=mark)
        box.wait_log(r"client=127\.0\.0\.2 dnsbl=sf\.test tempfail: not checked, client let through", start=mark)

        # (7) reverse_dns = reject.
        reload(box, {"dnsbl_zones": "", "reverse_dns": "reject"})
        mark = len(box.log())
        cases = [
            ("127.0.0.2", 550, "5.7.25 Client host rejected: cannot find your hostname, [127.0.0.2]",
             r"client=127\.0\.0\.2 reverse_dns=fail no PTR \(nxdomain\)"),
            ("127.0.0.3", 550, "5.7.25 Client host rejected: your hostname does not resolve to your address: "
                               "liar.test [127.0.0.3]",
             r"client=127\.0\.0\.3 reverse_dns=fail PTR liar\.test does not resolve to the client"),
            ("127.0.0.4", 250, "2.1.5 Recipient ok", r"client=127\.0\.0\.4 reverse_dns=pass confirmed good\.test"),
            ("127.0.0.8", 450, "4.7.25 Client host rejected: cannot find your hostname (DNS failed; try again later), "
                               "[127.0.0.8]",
             r"client=127\.0\.0\.8 reverse_dns=tempfail PTR lookup tempfail"),
        ]
        for source, code, text, logged in cases:
            _, replies, final, _ = transaction(box, source)
            assert replies == [(code, text)], (source, replies)
            assert final[0] == (250 if code == 250 else 554), (source, final)
            box.wait_log(logged, start=mark)
        _, replies, final, _ = transaction(box, "127.0.0.10")   # relay_networks: not looked up
        assert replies[0][0] == 250 and final[0] == 250, (replies, final)
        assert "client=127.0.0.10 reverse_dns" not in box.log()[mark:]
        assert stats(box) == {"dnsbl": "3", "reverse_dns": "3", "bans": "0"}, stats(box)

        # (8) reverse_dns = log: logged, never refused.
        reload(box, {"reverse_dns": "log"})
        mark = len(box.log())
        _, replies, final, _ = transaction(box, "127.0.0.2")
        assert replies[0][0] == 250 and final[0] == 250, (replies, final)
        box.wait_log(r"client=127\.0\.0\.2 reverse_dns=fail no PTR \(nxdomain\) \(reverse_dns = log: not refused\)",
                     start=mark)
        assert stats(box)["reverse_dns"] == "3"

        # (9) IPv6: the nibble name.
        reload(box, {"dnsbl_zones": "bl.test", "reverse_dns": "off"})
        mark = len(box.log())
        _, replies, final, _ = transaction(box, "::1", port=v6_port, family=socket.AF_INET6)
        assert replies == [(554, "5.7.1 Service unavailable; Client host [::1] blocked using bl.test; IPv6 listed")], \
            replies
        box.wait_log(r"client=::1 dnsbl=bl\.test listed answer=127\.0\.0\.3 txt=\"IPv6 listed\"", start=mark)
        box.stop()
    finally:
        if box:
            box.cleanup()
        if proc and proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)
        silent.close()


if __name__ == "__main__":
    boxtest.run(main)

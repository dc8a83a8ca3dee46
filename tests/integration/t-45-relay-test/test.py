"""t-45-relay-test: the test message (control verb relay-test, `boxmailctl
relay-test`; docs/relay.md "The test message") against real servers inside
the private network namespace: dnsmasq on 127.0.0.1 for the zone "test",
Postfix's smtp-sink on 127.0.0.x:25, another boxmaild as the smarthost.

Box "mx" (own.test, route mx):
  (1) to bob@far.test (smtp-sink on 127.0.0.2:25): "sent", exit 0; the
      transcript holds the dialogue with the sink's 250s and the reply to
      the final dot; the sink got the message (Subject: boxmail test
      message, MAIL FROM:<>); nothing was queued.
  (2) to bob@refuse.test (smtp-sink -f RCPT with a 550 carrying markup):
      "failed", exit 1, the 550 as the result and in the transcript as
      the server wrote it (escaping is the panel's job).
  (3) hostile recipients: the percent hack, a quoted local-part with '@',
      a bang path, an address literal, a trailing dot, a CR/LF injection
      on the raw control socket, a local address: refused before anything
      is sent; nothing reaches a sink, nothing is queued.
  (4) mail keeps flowing during a test: to bob@slow.test, whose server
      accepts the connection and never greets, the test waits (its 15 s
      greeting limit); meanwhile a second test is refused ("being sent
      already"), the control socket answers `status`, and a message to
      alice@own.test is delivered. Then the test ends "failed" with the
      timeout, well within the 30 s bound.
Box "none" (route none): refused, "no outgoing mail route is configured".
Box "lan" (route smarthost, STARTTLS required, pinned, login alice:pw-alice)
through box "smarthost" (far.test, AUTH after TLS):
  (5) from alice@own.test: "sent", the message is in the smarthost's bob
      Maildir with "with ESMTPSA"; the transcript shows the STARTTLS, the
      AUTH as "<credentials hidden>" and the 235, and holds neither the
      password nor any base64 form of it; nor does the log.
  (6) from the null sender (as failure notices go out): the smarthost
      takes <> from a logged-in client, the message arrives with
      Return-Path: <>.
"""
import base64
import os
import re
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import boxtest  # noqa: E402
from boxtest import Box  # noqa: E402
from smtpsink import Dnsmasq, LoopbackServer, Sink, isp_smarthost, lan_box_through  # noqa: E402

RECORDS = [
    "--mx-host=far.test,mx.far.test,10", "--host-record=mx.far.test,127.0.0.2",
    "--mx-host=refuse.test,mx.refuse.test,10", "--host-record=mx.refuse.test,127.0.0.3",
    "--mx-host=slow.test,mx.slow.test,10", "--host-record=mx.slow.test,127.0.0.4",
]
HOSTILE = "550 5.7.1 <script>alert('boxmail')</script> & \"no\""
SECRET = "pw-alice"


def relay_test(box, *args):
    """boxmailctl relay-test ARGS: (exit status, stdout, stderr)."""
    p = box.ctl("relay-test", *args, check=False)
    return p.returncode, p.stdout, p.stderr


def queue_empty(box):
    listing = box.control("queue list")
    return listing == ["ok 0 messages"], listing


def mx_scenarios(dns):
    mx = Box({"smtp": {"accept_domains": "own.test"},
              "relay": {"relay_networks": "127.0.0.1", "route": "mx", "connect_timeout": "2"},
              "dns": {"servers": dns.server(), "timeout": "1", "attempts": "2"}}, name="mx")
    far = Sink(host="127.0.0.2", port=25)
    refuse = Sink("-f", "RCPT", "-B", HOSTILE, host="127.0.0.3", port=25)
    silent = None
    try:
        mx.start()
        # -- (1) success --
        code, out, err = relay_test(mx, "bob@far.test")
        print(out)
        assert code == 0, (code, out, err)
        assert re.search(r"^sent: 250 2\.0\.0 Ok \(mx\.far\.test\[127\.0\.0\.2:25\]\)$", out, re.M), out
        lines = out.splitlines()
        assert "-- route mx" in lines, lines
        assert any(l.startswith("S: 220 ") for l in lines), lines
        assert "C: MAIL FROM:<>" in " ".join(lines) or any(l.startswith("C: MAIL FROM:<>") for l in lines), lines
        assert any(l.startswith("C: RCPT TO:<bob@far.test>") for l in lines), lines
        assert sum(1 for l in lines if l.startswith("S: 250")) >= 4, lines   # EHLO, MAIL, RCPT, the dot
        dumps = boxtest.poll(lambda: far.dumps() or None, timeout=10, what="the sink's copy")
        assert len(dumps) == 1 and b"Subject: boxmail test message" in dumps[0], dumps
        assert b"To: <bob@far.test>" in dumps[0] and b"From: \"boxmail on mx.test.example\"" in dumps[0], dumps[0][:600]
        mx.wait_log(r"relay-test: from=<> to=<bob@far\.test> relay=mx\.far\.test\[127\.0\.0\.2:25\] status=sent")
        ok, listing = queue_empty(mx)
        assert ok, listing
        # The same over the control socket, the angle brackets allowed.
        reply = mx.control("relay-test <bob@far.test>")
        assert reply[0].startswith("ok 250 ") and "result sent" in reply, reply
        print("ok (1) sent through MX: the transcript has the sink's 250s, the sink has the message, queue empty")

        # -- (2) a refusing server --
        code, out, err = relay_test(mx, "bob@refuse.test")
        print(out, err)
        assert code == 1, (code, out, err)
        assert err.strip() == "boxmailctl: failed: " + HOSTILE, err
        assert "S: " + HOSTILE in out.splitlines(), out
        assert not refuse.dumps()
        print("ok (2) a 550 at RCPT: failed, the server's reply as it wrote it")

        # -- (3) hostile recipients --
        before = len(far.dumps())
        for rcpt, why in [("bob%far.test@own.test", "delivered on this box|never relayed"),
                          ('"bob@far.test"@own.test', "delivered on this box|never relayed"),
                          ("far.test!bob@own.test", "delivered on this box|never relayed"),
                          ("bob@[127.0.0.2]", "never relayed"),
                          ("bob@far.test.", "not an e-mail address"),
                          ("alice@own.test", "delivered on this box"),
                          ("postmaster", "delivered on this box")]:
            code, out, err = relay_test(mx, rcpt)
            assert code in (1, 2) and re.search(why, err), (rcpt, code, out, err)
            print(f"   {rcpt}: {err.strip()}")
        for raw in (b"relay-test bob@far.test\r\nRCPT TO:<x@far.test>", b"relay-test bob@far.test\rx",
                    b"relay-test bob@far.test\x00"):
            reply = boxtest.control_exchange(mx.config["server"]["control_socket"], raw)
            assert reply[0].startswith("error "), (raw, reply)
        # smtp-sink itself refuses RCPT for the route-like forms only if they got there: they never do.
        time.sleep(0.5)
        assert len(far.dumps()) == before, "a refused test reached the sink"
        assert not mx.messages("alice"), "a test was delivered locally"
        ok, listing = queue_empty(mx)
        assert ok, listing
        print("ok (3) route-like forms, literals, CR/LF and local addresses refused before anything is sent")

        # -- (4) a server that never greets: bounded, and the loop runs on --
        silent = LoopbackServer(host="127.0.0.4", port=25)   # accepts and never says a word
        result = {}
        t0 = time.monotonic()

        def slow():
            result["r"] = relay_test(mx, "bob@slow.test")
            result["t"] = time.monotonic() - t0
        th = threading.Thread(target=slow)
        th.start()
        boxtest.poll(lambda: silent.conns or None, timeout=10, what="the test's connection")
        code, out, err = relay_test(mx, "bob@far.test")
        assert code == 1 and "being sent already" in err, (code, out, err)
        assert mx.control("status")[0] == "ok"
        mx.deliver("alice@own.test", b"Subject: during the test\r\n\r\nhello\r\n")
        got = mx.wait_messages("alice", 1, timeout=5)
        assert len(got) == 1, got
        during = time.monotonic() - t0
        assert "r" not in result, "the test ended too early"
        th.join(timeout=40)
        code, out, err = result["r"]
        print(out, err, f"({result['t']:.1f} s; local mail delivered after {during:.1f} s)")
        assert code == 1 and "failed:" in err and re.search(r"timed out|timeout|no reply", err + out, re.I), (code, out, err)
        assert 14 <= result["t"] <= 31, result["t"]
        print("ok (4) a silent server: the test waits at most its limits; mail, status and the refusal of a "
              "second test go on meanwhile")
    except BaseException:
        sys.stderr.write(f"---- {mx.dir} log ----\n" + mx.log()[-6000:] + "\n")
        raise
    finally:
        if silent:
            silent.close()
        far.close()
        refuse.close()
        mx.stop()
        mx.cleanup()


def route_none():
    box = Box({"smtp": {"accept_domains": "own.test"}}, name="none")
    try:
        box.start()
        code, out, err = relay_test(box, "bob@far.test")
        assert code == 1 and err.strip() == "boxmailctl: refused: no outgoing mail route is configured", (code, err)
        reply = box.control("relay-test bob@far.test")
        assert reply[0] == "error no outgoing mail route is configured" and "result refused" in reply, reply
        print("ok route none: refused, no outgoing mail route is configured")
    finally:
        box.stop()
        box.cleanup()


def smarthost_scenarios():
    smarthost = isp_smarthost()
    lan = None
    try:
        smarthost.start()
        lan, _ = lan_box_through(smarthost, f"alice:{SECRET}")
        lan.start()
        # -- (5) --
        code, out, err = relay_test(lan, "bob@far.test", "alice@own.test")
        print(out, err)
        assert code == 0, (code, out, err)
        lines = out.splitlines()
        assert "-- route smarthost" in lines, lines
        assert "C: STARTTLS" in lines and any(l.startswith("S: 220 ") for l in lines), lines
        assert "C: AUTH PLAIN <credentials hidden>" in lines, lines
        assert any(l.startswith("S: 235 ") for l in lines), lines
        assert "C: MAIL FROM:<alice@own.test>" in " ".join(lines) or \
            any(l.startswith("C: MAIL FROM:<alice@own.test>") for l in lines), lines
        assert re.search(r"^sent: 250 .*\(TLS\)\)$", out, re.M), out
        got = smarthost.wait_messages("bob", 1)
        data = boxtest.read(got[0])
        assert b"Subject: boxmail test message" in data and b"with ESMTPSA" in data, data[:800]
        secrets = [SECRET, base64.b64encode(f"\0alice\0{SECRET}".encode()).decode(),
                   base64.b64encode(SECRET.encode()).decode(), base64.b64encode(f"alice\0alice\0{SECRET}".encode()).decode()]
        reply = "\n".join(lan.control("relay-test bob@far.test alice@own.test"))
        assert "result sent" in reply, reply
        for s in secrets:
            assert s not in out and s not in err and s not in reply, s
            assert s not in lan.log(), f"{s} in the log"
        print("ok (5) through the smarthost with STARTTLS and AUTH: sent, the credentials hidden in the transcript")
        # -- (6) --
        code, out, err = relay_test(lan, "bob@far.test")
        print(out, err)
        assert code == 0 and re.search(r"^sent: 250 ", out, re.M), (code, out, err)
        assert any(l.startswith("C: MAIL FROM:<>") for l in out.splitlines()), out
        got = smarthost.wait_messages("bob", 3)
        assert boxtest.read(sorted(got, key=os.path.getmtime)[-1]).startswith(b"Return-Path: <>"), got
        print("ok (6) the null sender (how notices go out) through a smarthost with a login: sent")
    except BaseException:
        for b in (smarthost, lan):
            if b is not None:
                sys.stderr.write(f"---- {b.dir} log ----\n" + b.log()[-6000:] + "\n")
        raise
    finally:
        for b in (lan, smarthost):
            if b is not None:
                b.stop()
                b.cleanup()


def main():
    work = tempfile.mkdtemp(prefix="boxmail-t45-")
    try:
        with Dnsmasq(work, RECORDS) as dns:
            mx_scenarios(dns)
        route_none()
        smarthost_scenarios()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    boxtest.run(main)

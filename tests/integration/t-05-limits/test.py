"""t-05-limits: every SMTP limit with a small configured value and its exact reply.

Box "limits" (max_command_line=512, max_message_size=20000, max_recipients=3,
max_errors=3, max_hops=5, max_text_line=1000):
  - command line: 512 octets incl. CRLF ok; 513 and 600 -> 500 5.5.2, the
    session goes on (NOOP -> 250 2.0.0);
  - MAIL SIZE=20001 -> 552 5.3.4, SIZE=20000 -> 250 2.1.0; a 30,000-octet
    message without SIZE= -> read to its end, 552 5.3.4, nothing delivered;
    the same session then delivers a small message;
  - RCPT 1..3 -> 250 2.1.5, the 4th -> 452 4.5.3; the message goes to the 3;
  - errors 1..3 get their own replies (500 5.5.2); right after the 3rd
    (max_errors reached) 421 4.7.0 and the connection is closed;
  - 5 Received: headers -> delivered; 6 -> 554 5.4.6, nothing delivered;
  - a 1000-octet DATA line -> delivered; 1500 -> 554 5.6.0, nothing delivered.
Box "conns" (max_connections=3, max_connections_per_ip=2): two sessions from
  127.0.0.1 greet, the third from 127.0.0.1 -> 421 4.7.0 (per address) and
  closed; one from 127.0.0.2 greets (3 in all); one from 127.0.0.3 -> 421
  4.7.0 (total) and closed; once a session ends its slot is free again.
Box "timers" (idle_timeout=10, session_timeout=60, others default; runs in
  background threads while the rest goes on):
  - a session silent after EHLO gets 421 4.4.2 between 9 and 30 s and is closed;
  - so does one that stops in the middle of DATA; nothing is delivered;
  - a session sending NOOP every 3 s (never idle) gets 421 4.4.2 between
    59 and 80 s after it connected, and is closed;
  - a 48,677-octet line with the default max_text_line is stored intact.
"""
import os
import select
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from boxtest import (Box, Dialogue, poll, read, run, split_stored,  # noqa: E402
                     to_crlf_dotstuffed)


def tx(d, rcpts, payload, sender="sender@client.example"):
    return d.transaction(sender, rcpts, payload)


def command_line(box):
    d = Dialogue(box.port)
    d.hello()
    d.send("NOOP " + "x" * (512 - 7))          # 512 octets with CRLF
    d.expect(250, "2.0.0")
    d.send("NOOP " + "x" * (513 - 7))          # 513
    d.expect(500, "5.5.2")
    d.send("NOOP")
    d.expect(250, "2.0.0")
    d.send("NOOP " + "y" * (600 - 7))          # 600
    d.expect(500, "5.5.2")
    d.send("NOOP")
    d.expect(250, "2.0.0")
    d.send("QUIT")
    d.expect(221, "2.0.0")
    d.close()
    # a long MAIL line, given in pieces: refused as a whole, not parsed as MAIL
    # (a new session: each long line counts one error, and max_errors is 3)
    d = Dialogue(box.port)
    d.hello()
    line = b"MAIL FROM:<" + b"a" * 580 + b"@client.example>\r\n"
    for i in range(0, len(line), 100):
        d.send(line[i:i + 100], raw=True)
    d.expect(500, "5.5.2")
    d.send("MAIL FROM:<sender@client.example>")
    d.expect(250, "2.1.0")                     # so no MAIL was taken from it
    d.send("QUIT")
    d.expect(221, "2.0.0")
    d.close()


def message_size(box):
    d = Dialogue(box.port)
    d.hello()
    d.send("MAIL FROM:<sender@client.example> SIZE=20001")
    d.expect(552, "5.3.4")
    d.send("MAIL FROM:<sender@client.example> SIZE=20000")
    d.expect(250, "2.1.0")
    d.send("RSET")
    d.expect(250, "2.0.0")
    before = box.delivered()
    big = b"Subject: too big\n\n" + b"".join(b"%05d " % i + b"z" * 94 + b"\n" for i in range(300))
    assert len(big) > 30000
    code, lines = tx(d, ["bob@x.example"], to_crlf_dotstuffed(big))
    assert (code, lines[-1][:6]) == (552, "5.3.4 "), (code, lines)
    assert box.delivered() == before, "an oversized message was delivered"
    # the session is still usable
    small = b"Subject: small\n\nsmall enough\n"
    code, lines = tx(d, ["bob@x.example"], to_crlf_dotstuffed(small))
    assert (code, lines[-1][:6]) == (250, "2.0.0 "), (code, lines)
    d.send("QUIT")
    d.expect(221, "2.0.0")
    d.close()
    (b,) = box.messages("bob")
    assert split_stored(read(b))[1] == small


def recipients(box):
    before = {u: len(box.messages(u)) for u in ("alice", "bob", "carol", "dave")}
    d = Dialogue(box.port)
    d.hello()
    d.send("MAIL FROM:<sender@client.example>")
    d.expect(250, "2.1.0")
    for u in ("alice", "bob", "carol"):
        d.send(f"RCPT TO:<{u}@x.example>")
        d.expect(250, "2.1.5")
    d.send("RCPT TO:<dave@x.example>")
    d.expect(452, "4.5.3")
    d.send("DATA")
    d.expect(354)
    body = b"Subject: three recipients\n\nfor alice, bob and carol\n"
    d.send(to_crlf_dotstuffed(body), raw=True)
    d.expect(250, "2.0.0")
    d.send("QUIT")
    d.expect(221, "2.0.0")
    d.close()
    for u in ("alice", "bob", "carol"):
        assert len(box.messages(u)) == before[u] + 1, u
        assert any(read(p).endswith(body) for p in box.messages(u)), u
    assert len(box.messages("dave")) == before["dave"], "dave got the message"


def errors(box):
    d = Dialogue(box.port)
    d.hello()
    for i in range(3):
        d.send(f"XYZZY{i}")
        d.expect(500, "5.5.2")
        if i < 2:
            d.send("NOOP")            # not an error, counts nothing
            d.expect(250, "2.0.0")
    # the 3rd error is answered, then the budget is spent: 421 and close
    d.expect(421, "4.7.0", text="too many errors")
    assert d.closed(), "not closed after 421"
    assert d.buf == b"", d.buf
    d.close()


def hops(box):
    def message(n):
        received = b"".join(b"Received: from h%d.example by h%d.example; Mon, 1 Jan 2024 00:00:0%d +0000\n"
                            % (i, i + 1, i) for i in range(n))
        return received + b"Subject: %d hops\n\nbody\n" % n
    d = Dialogue(box.port)
    d.hello()
    before = len(box.messages("carol"))
    code, lines = tx(d, ["carol@x.example"], to_crlf_dotstuffed(message(5)))
    assert (code, lines[-1][:6]) == (250, "2.0.0 "), (code, lines)
    assert len(box.messages("carol")) == before + 1
    code, lines = tx(d, ["carol@x.example"], to_crlf_dotstuffed(message(6)))
    assert (code, lines[-1][:6]) == (554, "5.4.6 "), (code, lines)
    assert len(box.messages("carol")) == before + 1, "6 hops delivered"
    # a "Received:" line in the body is not a hop
    body_hops = b"Subject: hops in body\n\n" + message(8)
    code, lines = tx(d, ["carol@x.example"], to_crlf_dotstuffed(body_hops))
    assert (code, lines[-1][:6]) == (250, "2.0.0 "), (code, lines)
    d.send("QUIT")
    d.expect(221, "2.0.0")
    d.close()


def text_line(box):
    d = Dialogue(box.port)
    d.hello()
    before = len(box.messages("dave"))
    ok = b"Subject: 1000\n\n" + b"k" * 1000 + b"\nend\n"
    code, lines = tx(d, ["dave@x.example"], to_crlf_dotstuffed(ok))
    assert (code, lines[-1][:6]) == (250, "2.0.0 "), (code, lines)
    long = b"Subject: 1500\n\n" + b"L" * 1500 + b"\nend\n"
    code, lines = tx(d, ["dave@x.example"], to_crlf_dotstuffed(long))
    assert (code, lines[-1][:6]) == (554, "5.6.0 "), (code, lines)
    d.send("NOOP")
    d.expect(250, "2.0.0")
    d.send("QUIT")
    d.expect(221, "2.0.0")
    d.close()
    msgs = box.messages("dave")
    assert len(msgs) == before + 1, msgs
    assert any(split_stored(read(p))[1] == ok for p in msgs)


def connections():
    with Box(config={"smtp": {"max_connections": "3", "max_connections_per_ip": "2"}},
             name="conns") as box:
        box.start()
        a1 = Dialogue(box.port)
        a1.expect(220)
        a2 = Dialogue(box.port)
        a2.expect(220)
        a3 = Dialogue(box.port)
        a3.expect(421, "4.7.0", text="from your address")
        assert a3.closed()
        b1 = Dialogue(box.port, source="127.0.0.2")
        b1.expect(220)
        c1 = Dialogue(box.port, source="127.0.0.3")
        lines = c1.expect(421, "4.7.0", text="too many connections")
        assert "from your address" not in lines[-1], lines
        assert c1.closed()
        # the refused ones did not take a slot; ending a1 frees one
        a1.send("QUIT")
        a1.expect(221)
        assert a1.closed()

        def greeted():
            d = Dialogue(box.port)
            code, lines = d.reply()
            if code == 220:
                return d
            d.close()
            return None
        a4 = poll(greeted, 10, "a free connection slot after QUIT")
        for d in (a2, b1, a4):
            d.send("NOOP")
            d.expect(250, "2.0.0")
            d.close()
        for d in (a1, a3, c1):
            d.close()


class Timers:
    """The idle and session timeout checks, run in threads."""

    def __init__(self, box):
        self.box = box
        self.results = {}
        self.threads = [threading.Thread(target=self._guard, args=(name, fn), daemon=True)
                        for name, fn in self.checks()]

    def checks(self):
        return (("idle", self.idle), ("idle in DATA", self.idle_data), ("session", self.session))

    def start(self):
        for t in self.threads:
            t.start()

    def join(self):
        for t in self.threads:
            t.join(120)
        for name, _ in self.checks():
            if name not in self.results:
                raise AssertionError(f"{name} timeout check did not finish")
            r = self.results[name]
            if r is not None:
                raise AssertionError(f"{name} timeout check failed: {r}")

    def _guard(self, name, fn):
        try:
            fn()
            self.results[name] = None
        except BaseException as e:  # reported by join()
            import traceback
            self.results[name] = "".join(traceback.format_exception(e))

    def idle(self):
        d = Dialogue(self.box.port, timeout=60)
        d.hello()
        t0 = time.monotonic()
        d.expect(421, "4.4.2")
        waited = time.monotonic() - t0
        assert 9 <= waited <= 30, f"idle 421 after {waited:.1f} s"
        assert d.closed()
        d.close()

    def idle_data(self):
        d = Dialogue(self.box.port, timeout=60)
        d.hello()
        d.send("MAIL FROM:<slow@client.example>")
        d.expect(250, "2.1.0")
        d.send("RCPT TO:<bob@x.example>")
        d.expect(250, "2.1.5")
        d.send("DATA")
        d.expect(354)
        d.send(b"Subject: half a message\r\n\r\nand then silence", raw=True)
        t0 = time.monotonic()
        d.expect(421, "4.4.2")
        waited = time.monotonic() - t0
        assert 9 <= waited <= 30, f"idle 421 in DATA after {waited:.1f} s"
        assert d.closed()
        d.close()
        assert self.box.messages("bob") == [], "a half message was delivered"
        assert self.box.tmp_files() == [], self.box.tmp_files()

    def session(self):
        t0 = time.monotonic()
        d = Dialogue(self.box.port, timeout=10)
        d.hello()
        noops = 0
        while True:
            if time.monotonic() - t0 > 90:
                raise AssertionError("no session timeout after 90 s")
            readable, _, _ = select.select([d.sock], [], [], 3.0)
            if readable or d.buf:
                d.expect(421, "4.4.2")
                break
            d.send("NOOP")
            code, lines = d.reply()
            if code == 421:
                assert lines[-1].startswith("4.4.2 "), lines
                break
            assert (code, lines[-1][:6]) == (250, "2.0.0 "), (code, lines)
            noops += 1
        waited = time.monotonic() - t0
        assert 59 <= waited <= 80, f"session 421 after {waited:.1f} s ({noops} NOOPs)"
        assert noops >= 15, noops
        assert d.closed()
        d.close()


def long_line_default(box):
    d = Dialogue(box.port)
    d.hello()
    line = b"".join(b"%07d" % i for i in range(48677 // 7 + 1))[:48677]
    body = b"Subject: long line\n\n" + line + b"\nend\n"
    assert len(body.split(b"\n")[2]) == 48677
    code, lines = tx(d, ["alice@x.example"], to_crlf_dotstuffed(body))
    assert (code, lines[-1][:6]) == (250, "2.0.0 "), (code, lines)
    d.send("QUIT")
    d.expect(221)
    d.close()
    (a,) = box.messages("alice")
    assert split_stored(read(a))[1] == body


def main():
    timers_box = Box(config={"smtp": {"accept_domains": "*", "idle_timeout": "10",
                                      "session_timeout": "60"}}, name="timers")
    with timers_box:
        timers_box.start()
        timers = Timers(timers_box)
        timers.start()
        long_line_default(timers_box)

        with Box(config={"smtp": {"accept_domains": "*", "max_command_line": "512",
                                  "max_message_size": "20000", "max_recipients": "3",
                                  "max_errors": "3", "max_hops": "5",
                                  "max_text_line": "1000"}},
                 users=("alice", "bob", "carol", "dave"), name="limits") as box:
            box.start()
            command_line(box)
            message_size(box)
            recipients(box)
            errors(box)
            hops(box)
            text_line(box)
            assert box.tmp_files() == [], box.tmp_files()

        connections()
        timers.join()


run(main)

"""t-16-slow-clients: trickling clients cannot hold the SMTP feed or POP3 out.

A trickler sends one octet every 2 s and never completes anything: half of
them trickle a command line that never ends, half (SMTP) trickle message
data after DATA. 100 of them come from 5 source addresses (127.0.0.2 ..
127.0.0.6, 20 each: all of 127/8 is local on lo), filling max_connections
(100) and every per-address limit (20).

Box "evict" (smtp.evict_idle=3, smtp.idle_timeout=120; pop3.evict_idle=3,
pop3.max_connections=100, pop3.max_connections_per_ip=20):
  - with the 100 SMTP tricklers in, a normal client from 127.0.0.1 (smtplib,
    retrying every 0.5 s after a refusal as a feed would) gets its message
    accepted (250) and delivered within 20 s (evict_idle plus slack; far
    below idle_timeout, so it is the eviction that made room);
  - a trickler closed for it gets 421 4.4.2 and then EOF; the log names the
    eviction;
  - a 21st connection from an address with 20 tricklers still gets 421
    4.7.0 "from your address" (per-address limits stay);
  - the same for POP3: 100 tricklers of an unfinished USER line, then
    poplib USER/PASS/STAT from 127.0.0.1 succeeds within 20 s; an evicted
    trickler gets "-ERR Disconnected for inactivity ..." and EOF.
Box "idle" (smtp.idle_timeout=10):
  - 10 command-line tricklers and 10 DATA tricklers each get 421 4.4.2
    "timeout exceeded" and EOF between 9 and 40 s after their last complete
    command: trickled octets no longer move the idle deadline; nothing from
    them is delivered;
  - meanwhile an honest slow client sends a 16 KiB message at about
    1 KiB/s (above min_data_rate 500) for about 16 s, longer than
    idle_timeout, and gets 250: data at a real line's rate is progress.
On the code before this change both boxes fail: every octet moved the idle
deadline (tricklers live until session_timeout, 3600 s) and a full server
refused every new client with 421 4.7.0 / -ERR [SYS/TEMP].

The default bound (evict_idle 30 s) is documented in docs/reliability.md.
"""
import os
import poplib
import select
import smtplib
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from boxtest import Box, Dialogue, Pop3Dialogue, poll, run  # noqa: E402

SOURCES = [f"127.0.0.{i}" for i in range(2, 7)]
TRICKLE_EVERY = 2.0
BOUND = 20.0


class Trickler:
    """One raw connection that sends one octet per pump() and keeps what it reads."""

    def __init__(self, port, source, kind, proto):
        self.kind = kind
        self.source = source
        if proto == "smtp":
            d = Dialogue(port, source=source)
            d.expect(220)
            if kind == "data":
                d.send("EHLO trickle.example")
                d.expect(250)
                d.send("MAIL FROM:<t@trickle.example>")
                d.expect(250)
                d.send("RCPT TO:<alice@test.example>")
                d.expect(250)
                d.send("DATA")
                d.expect(354)
            self.payload = b"Subject: slow\r\n\r\n" + b"x" * 10000 if kind == "data" else b"EHLO " + b"y" * 2000
        else:
            d = Pop3Dialogue(port, source=source)
            d.expect("+OK")
            self.payload = b"USER " + b"z" * 400
        self.sock = d.sock
        self.sock.setblocking(False)
        self.buf = d.buf
        self.sent = 0
        self.eof = False
        self.started = time.monotonic()
        self.closed_at = None

    def pump(self):
        if self.eof:
            return
        try:
            self.sock.send(self.payload[self.sent:self.sent + 1])
            self.sent += 1
        except OSError:
            pass   # the server closed: read() sees EOF
        self.read()

    def read(self):
        while not self.eof:
            try:
                chunk = self.sock.recv(4096)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:
                self.eof = True
                self.closed_at = time.monotonic()
                return
            self.buf += chunk

    def lines(self):
        return self.buf.decode("utf-8", "replace").split("\r\n")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Pump:
    """Sends one octet on every trickler every TRICKLE_EVERY seconds (a thread)."""

    def __init__(self, tricklers):
        self.tricklers = tricklers
        self.stop_flag = threading.Event()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.stop_flag.is_set():
            with self.lock:
                for t in self.tricklers:
                    t.pump()
            # read promptly in between, so closing times are seen
            end = time.monotonic() + TRICKLE_EVERY
            while time.monotonic() < end and not self.stop_flag.is_set():
                socks = [t.sock for t in self.tricklers if not t.eof]
                if socks:
                    select.select(socks, [], [], 0.2)
                else:
                    time.sleep(0.2)
                with self.lock:
                    for t in self.tricklers:
                        t.read()

    def stop(self):
        self.stop_flag.set()
        self.thread.join()


def fill(port, proto, n=100):
    kinds = ["line", "data"] if proto == "smtp" else ["line"]
    return [Trickler(port, SOURCES[i % 5], kinds[i % len(kinds)], proto) for i in range(n)]


def smtp_send_retrying(port, subject, bound):
    """Delivers one message as a feed would, retrying after a refusal; returns seconds taken."""
    start = time.monotonic()
    refusals = 0
    while True:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
                s.ehlo("feed.isp.example")
                refused = s.sendmail("isp@isp.example", ["alice@test.example"],
                                     f"Subject: {subject}\r\n\r\nfeed mail\r\n")
                assert refused == {}, refused
                s.quit()
            return time.monotonic() - start, refusals
        except (smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected) as e:
            refusals += 1
            if time.monotonic() - start > bound:
                raise AssertionError(f"feed still refused after {bound} s ({refusals} tries): {e}")
            time.sleep(0.5)


def pop3_stat_retrying(port, bound):
    start = time.monotonic()
    refusals = 0
    while True:
        try:
            p = poplib.POP3("127.0.0.1", port, timeout=30)
            p.user("alice")
            p.pass_("pw-alice")
            count, size = p.stat()
            p.quit()
            return time.monotonic() - start, refusals, count
        except (poplib.error_proto, EOFError, ConnectionError) as e:
            refusals += 1
            if time.monotonic() - start > bound:
                raise AssertionError(f"POP3 still refused after {bound} s ({refusals} tries): {e}")
            time.sleep(0.5)


def evict_box():
    cfg = {"smtp": {"evict_idle": "3", "idle_timeout": "120", "max_connections": "100",
                    "max_connections_per_ip": "20"},
           "pop3": {"evict_idle": "3", "max_connections": "100", "max_connections_per_ip": "20"}}
    with Box(config=cfg, name="evict") as box:
        box.start()
        # ---- SMTP ------------------------------------------------------
        tricklers = fill(box.port, "smtp")
        pump = Pump(tricklers)
        try:
            # the feed tries as soon as every slot is taken
            took, refusals = smtp_send_retrying(box.port, "through the tricklers", BOUND)
            print(f"smtp: feed message accepted {took:.1f} s after the first try ({refusals} refusals)")
            # per-address limits stay, even with idle sessions to evict:
            # an address whose 20 tricklers are all still connected
            poll(lambda: any(t.eof for t in tricklers), 10, "an evicted trickler to be closed")
            with pump.lock:
                live = {src: sum(1 for t in tricklers if t.source == src and not t.eof) for src in SOURCES}
            full = [src for src, n in live.items() if n == 20]
            assert full, live
            d = Dialogue(box.port, source=full[0])
            d.expect(421, "4.7.0", "from your address")
            assert d.closed(), "per-address refusal not closed"
            d.close()
            assert len(box.wait_messages("alice", 1)) == 1, "feed message not delivered"
            poll(lambda: any(t.eof for t in tricklers), 10, "an evicted trickler to be closed")
        finally:
            pump.stop()
        evicted = [t for t in tricklers if t.eof]
        assert evicted, "no trickler was closed"
        for t in evicted:
            last = [l for l in t.lines() if l][-1]
            assert last.startswith("421 4.4.2 "), (t.kind, t.lines()[-3:])
            assert "make room" in last, last
        assert "connection slots taken: closing client=127.0.0." in box.log(), box.log()[-2000:]
        print(f"smtp: {len(evicted)} trickler(s) evicted with 421 4.4.2")
        for t in tricklers:
            t.close()
        # the trickled DATA was never acknowledged: only the feed's message is there
        poll(lambda: len(box.messages("alice")) == 1, 5, "exactly one message")

        # ---- POP3 ------------------------------------------------------
        tricklers = fill(box.pop3_port, "pop3")
        pump = Pump(tricklers)
        try:
            took, refusals, count = pop3_stat_retrying(box.pop3_port, BOUND)
            assert count == 1, count
            print(f"pop3: login+STAT succeeded {took:.1f} s after the first try ({refusals} refusals)")
            poll(lambda: any(t.eof for t in tricklers), 10, "an evicted POP3 trickler to be closed")
        finally:
            pump.stop()
        evicted = [t for t in tricklers if t.eof]
        for t in evicted:
            last = [l for l in t.lines() if l][-1]
            assert last == "-ERR Disconnected for inactivity to make room for another client", t.lines()[-3:]
        print(f"pop3: {len(evicted)} trickler(s) evicted")
        for t in tricklers:
            t.close()


def honest_slow_client(port, result):
    try:
        d = Dialogue(port, timeout=60)
        d.hello("slow.example")
        d.send("MAIL FROM:<slow@slow.example>")
        d.expect(250, "2.1.0")
        d.send("RCPT TO:<bob@test.example>")
        d.expect(250, "2.1.5")
        d.send("DATA")
        d.expect(354)
        body = b"Subject: honest and slow\r\n\r\n" + (b"z" * 62 + b"\r\n") * 256
        start = time.monotonic()
        for i in range(0, len(body), 1024):
            d.send(body[i:i + 1024], raw=True)
            time.sleep(1.0)
        d.send(b".\r\n", raw=True)
        code, lines = d.reply()
        result["reply"] = (code, lines, time.monotonic() - start)
        d.close()
    except Exception as e:   # noqa: BLE001 - reported by the main thread
        result["error"] = repr(e)


def idle_box():
    with Box(config={"smtp": {"idle_timeout": "10"}}, name="idle") as box:
        box.start()
        result = {}
        honest = threading.Thread(target=honest_slow_client, args=(box.port, result))
        honest.start()
        tricklers = fill(box.port, "smtp", n=20)
        pump = Pump(tricklers)
        try:
            poll(lambda: all(t.eof for t in tricklers), 45, "every trickler to be timed out")
        finally:
            pump.stop()
        for t in tricklers:
            last = [l for l in t.lines() if l][-1]
            assert last.startswith("421 4.4.2 ") and "timeout exceeded" in last, (t.kind, t.lines()[-3:])
            lived = t.closed_at - t.started
            assert 9 <= lived <= 40, f"{t.kind} trickler closed after {lived:.1f} s"
            t.close()
        print("idle: 20 tricklers timed out after %.1f..%.1f s" %
              (min(t.closed_at - t.started for t in tricklers), max(t.closed_at - t.started for t in tricklers)))
        honest.join(120)
        assert "error" not in result, result
        code, lines, took = result["reply"]
        assert code == 250, (code, lines)
        assert took > 10, took   # it really outlived idle_timeout
        print(f"idle: honest slow client (16 KiB at ~1 KiB/s, {took:.1f} s) got 250")
        poll(lambda: len(box.messages("bob")) == 1, 5, "the honest message")
        assert box.messages("alice") == [], "trickled DATA was delivered"


def main():
    evict_box()
    idle_box()


if __name__ == "__main__":
    run(main)

"""t-41-relay-more: outgoing mail (issue 10) end to end, the rest: the
smarthost, SIZE, the open-relay forms and the queue's lifetime, against
real servers inside the private network namespace (dnsmasq on 127.0.0.1
for the zone "test"; Postfix's smtp-sink and other boxmailds on 127.0.0.x).

Box "relay" (own.test, LAN 127.0.0.1, route mx, max_lifetime 60 s, the
minimum) and box "lan" (own.test, route smarthost) are the boxes under test.

  (5, started first, checked last) A recipient whose MX always answers 4xx at
      RCPT (smtp-sink -r RCPT): retried every 1-2 s until the message's
      lifetime (60 s) runs out, then alice gets a failure notice with
      Action: failed, Status: 5.4.7 and the last 4xx as Diagnostic-Code.
      The other scenarios run in the meantime.
  (4) Open relay: a client outside relay_networks, not logged in (source
      127.0.0.9), gets 550 5.7.1 (or 501) at RCPT for the percent hack, a
      quoted local-part with '@', a bang path, a source route to another
      domain, an address literal, a plain remote address and the same in
      upper case; its mail to a local user is accepted and delivered;
      nothing reaches the MX sink and nothing is queued. From the LAN (a
      relay client) the route-like forms and the address literal are
      refused too.
  (2) SIZE: a second boxmaild is big.test's MX (127.0.0.3:25) with
      max_message_size 1k: a small message gets through, a 3 KB one is not
      sent (no MAIL) and alice gets a failure notice with Status: 5.3.4.
  (1) Smarthost: a third boxmaild ("smarthost", far.test) is the ISP's
      relay; box "lan" sends through its submission port with STARTTLS
      required, the certificate pinned by its SHA-256 and the login
      alice:pw-alice from the credentials file (0600, the mail user's).
      The smarthost allows no login without TLS (and alice may send as
      alice@own.test there), and the message lands in
      its bob's Maildir with "with ESMTPSA". A wrong pin: the message stays
      queued (deferred, the log names the pin), nothing is delivered;
      then smarthost_tls = implicit against the submissions port (465-style)
      with the right pin delivers it (after a restart and `queue flush`).
      Against a server that offers AUTH but no STARTTLS (smarthost_tls =
      opportunistic), the password never crosses in the clear: the message
      is deferred (4.7.10) without a MAIL, and every octet the box sent is
      recorded and holds neither the password nor its base64 forms, nor an
      AUTH command.
  (6, alongside 5) Route switched off with mail waiting: box "stranded"
      queues a message for gone.test (its MX 127.0.0.6 refuses), then its
      INI says `route = none` and it reloads. The message still comes due:
      each attempt is deferred "no outgoing mail route is configured" (the
      queue shows why), and when the lifetime runs out alice gets a failure
      notice saying so; the queue ends empty (mail is not kept forever).
"""
import base64
import email
import email.policy
import os
import re
import shutil
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import boxtest  # noqa: E402
from boxtest import Box  # noqa: E402
from smtpsink import Dnsmasq, LoopbackServer, Sink, isp_smarthost, lan_box_through  # noqa: E402

RECORDS = [
    "--mx-host=far.test,mx.far.test,10", "--host-record=mx.far.test,127.0.0.2",
    "--mx-host=big.test,mx.big.test,10", "--host-record=mx.big.test,127.0.0.3",
    "--mx-host=later.test,mx.later.test,10", "--host-record=mx.later.test,127.0.0.5",
    "--mx-host=gone.test,mx.gone.test,10", "--host-record=mx.gone.test,127.0.0.6",
]
LIFETIME = 60   # [relay] max_lifetime's minimum


def message(sender, to, subject, body="Hello.\r\n"):
    return (f"From: <{sender}>\r\nTo: <{to}>\r\nSubject: {subject}\r\nMessage-ID: <{subject}@own.test>\r\n\r\n"
            + body).encode()


def send(box, sender, rcpts, msg, source=None):
    """One transaction on BOX's feed port; every step must succeed."""
    d = boxtest.Dialogue(box.port, source=source, timeout=20)
    try:
        d.hello("client.test")
        code, lines = d.transaction(sender, rcpts, boxtest.to_crlf_dotstuffed(msg.replace(b"\r\n", b"\n")))
        assert code == 250, (code, lines)
        d.send("QUIT")
        d.expect(221)
    finally:
        d.close()


def notice_for(box, user, subject, action="failed", timeout=30):
    """The notice in USER's Maildir about SUBJECT, and its per-recipient block."""
    def find():
        for path in box.messages(user):
            data = boxtest.read(path)
            if b"multipart/report" in data and subject.encode() in data and f"Action: {action}".encode() in data:
                return data
        return None
    data = boxtest.poll(find, timeout=timeout, what=f"a {action} notice about {subject}")
    msg = email.message_from_bytes(data, policy=email.policy.compat32)
    assert data.startswith(b"Return-Path: <>\n"), data[:80]
    parts = msg.get_payload()
    assert [p.get_content_type() for p in parts] == ["text/plain", "message/delivery-status",
                                                     "text/rfc822-headers"], [p.get_content_type() for p in parts]
    per = parts[1].get_payload()[1]
    assert per["Action"] == action, per["Action"]
    return per


def queue_ids(box):
    listing = box.control("queue list")
    assert listing[0].startswith("ok "), listing
    return listing[1:]


# -- (4) open relay ------------------------------------------------------------------
FORMS = ["user%far.test@own.test", '"user@far.test"@own.test', "far.test!user@own.test",
         "@own.test:user@far.test", "user@[127.0.0.2]", "user@far.test", "USER@FAR.TEST",
         "bob%far.test@own.test", "far.test!bob@own.test", "bob@far.test."]
LAN_FORMS = ["bob%far.test@own.test", '"bob@far.test"@own.test', "far.test!bob@own.test", "bob@[127.0.0.2]"]


def rcpt_refused(box, rcpts, source):
    """MAIL, then each RCPT in RCPTS must be refused (550 5.7.1, or 501 for
    what the parser refuses); then bob@own.test must be accepted and the
    message delivered. Returns the refusals."""
    d = boxtest.Dialogue(box.port, source=source, timeout=20)
    out = []
    try:
        d.hello("outsider.test")
        d.send("MAIL FROM:<mallory@outsider.test>")
        d.expect(250)
        for r in rcpts:
            d.send(f"RCPT TO:<{r}>")
            code, lines = d.reply()
            assert code in (550, 501), (r, code, lines)
            if code == 550:
                assert lines[-1].startswith("5.7.1 "), (r, lines)
            out.append((r, code, lines[-1]))
        d.send("RCPT TO:<bob@own.test>")
        d.expect(250, "2.1.5")
        d.send("DATA")
        d.expect(354)
        d.send(boxtest.to_crlf_dotstuffed(message("mallory@outsider.test", "bob@own.test",
                                                  f"t41-relay-{source}").replace(b"\r\n", b"\n")), raw=True)
        d.expect(250)
        d.send("QUIT")
        d.expect(221)
    finally:
        d.close()
    return out


# -- (1) a server that offers AUTH without STARTTLS and records everything -----------
class Recorder(LoopbackServer):
    """A tiny SMTP server on 127.0.0.1 offering AUTH PLAIN LOGIN and no
    STARTTLS; answers 451 to MAIL (the box keeps the message queued) and
    records every octet the client sends."""

    def __init__(self):
        self.seen = b""
        self.mails = 0
        super().__init__()

    def handle(self, c):
        c.settimeout(10)
        c.sendall(b"220 recorder.test ESMTP\r\n")
        buf = b""
        try:
            while True:
                chunk = c.recv(4096)
                if not chunk:
                    break
                self.seen += chunk
                buf += chunk
                while b"\r\n" in buf:
                    line, buf = buf.split(b"\r\n", 1)
                    verb = line[:4].upper()
                    if verb in (b"EHLO", b"HELO"):
                        c.sendall(b"250-recorder.test\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n")
                    elif verb == b"MAIL":
                        self.mails += 1
                        c.sendall(b"451 4.7.0 come back later\r\n")
                    elif verb == b"QUIT":
                        c.sendall(b"221 2.0.0 bye\r\n")
                    else:
                        c.sendall(b"503 5.5.1 no\r\n")
        except OSError:
            pass
        c.close()


def smarthost_scenario(work):
    # The ISP's relay takes far.test's mail and, as ISPs check the sender
    # against the account, knows own.test as alice's domain too.
    smarthost = isp_smarthost()
    lan = None
    recorder = None
    try:
        smarthost.start()
        lan, pin = lan_box_through(smarthost)
        lan.start()
        send(lan, "alice@own.test", ["bob@far.test"], message("alice@own.test", "bob@far.test", "t41-smarthost"))
        got = smarthost.wait_messages("bob", 1)
        assert len(got) == 1, (got, lan.log()[-3000:])
        data = boxtest.read(got[0])
        assert b"Subject: t41-smarthost" in data, data[:500]
        assert re.search(rb"^Received: from mx\.test\.example .*\n(?:[ \t].*\n)*?[ \t]*.*with ESMTPSA", data, re.M), \
            data[:600]
        lan.wait_log(r"to=<bob@far\.test> relay=127\.0\.0\.1\[127\.0\.0\.1:%d\] \(TLS\) status=sent"
                     % smarthost.submission_port)
        assert not lan.messages("bob"), "the remote recipient was delivered locally"
        print("ok (1) smarthost: STARTTLS, pinned certificate, AUTH from the credentials file; ESMTPSA")

        # A wrong pin: deferred, nothing delivered, the log says why.
        lan.stop()
        lan.write_config({"relay": {"smarthost_fingerprint": "00" * 32}})
        mark = len(lan.log())
        lan.start()
        send(lan, "alice@own.test", ["bob@far.test"], message("alice@own.test", "bob@far.test", "t41-pin"))
        m = lan.wait_log(r"to=<bob@far\.test> .*status=deferred.*$", timeout=20, start=mark)
        line = m.group(0)
        print("   wrong pin:", line)
        assert "4.7.5" in line and f"(SHA-256 {pin}) is not the pinned one" in line, line
        assert smarthost.log().count("authenticated") == 1, "a login was sent to an unpinned server"
        time.sleep(2)
        assert len(smarthost.messages("bob")) == 1, "delivered despite a wrong pin"
        ids = queue_ids(lan)
        assert len(ids) == 1 and "t41" not in ids[0] and "bob" in ids[0], ids
        print("ok (1) a wrong pin: kept in the queue, nothing delivered")

        # Implicit TLS (465-style) with the right pin takes the waiting message.
        lan.stop()
        lan.write_config({"relay": {"smarthost": f"127.0.0.1:{smarthost.submissions_port}",
                                    "smarthost_tls": "implicit", "smarthost_fingerprint": pin}})
        lan.start()
        assert lan.control("queue flush")[0].startswith("ok"), "queue flush"
        got = smarthost.wait_messages("bob", 2)
        assert len(got) == 2, (got, lan.log()[-3000:])
        assert any(b"Subject: t41-pin" in boxtest.read(p) for p in got)
        boxtest.poll(lambda: not queue_ids(lan), timeout=20, what="lan's queue empty")
        print("ok (1) implicit TLS on the submissions port delivers the waiting message")

        # No STARTTLS offered (opportunistic): the login never crosses in the clear.
        recorder = Recorder()
        lan.stop()
        lan.write_config({"relay": {"smarthost": f"127.0.0.1:{recorder.port}", "smarthost_tls": "opportunistic",
                                    "smarthost_fingerprint": ""}})
        mark = len(lan.log())   # before the send: the attempt may be logged before send() returns
        lan.start()
        send(lan, "alice@own.test", ["bob@far.test"], message("alice@own.test", "bob@far.test", "t41-clear"))
        line = lan.wait_log(r"to=<bob@far\.test> .*status=deferred.*$", timeout=20, start=mark).group(0)
        print("   no TLS offered:", line)
        assert "4.7.10" in line and "clear" in line, line
        time.sleep(0.5)
        seen = recorder.seen
        assert recorder.mails == 0, seen   # without the login the message waits
        assert b"EHLO" in seen, seen
        for secret in (b"pw-alice", base64.b64encode(b"\0alice\0pw-alice"), base64.b64encode(b"pw-alice"),
                       base64.b64encode(b"alice\0alice\0pw-alice")):
            assert secret not in seen, (secret, seen)
        assert not re.search(rb"^AUTH", seen, re.M | re.I), seen
        assert len(queue_ids(lan)) == 1
        print("ok (1) no TLS offered: no AUTH, the password never sent in the clear, the message waits")
    except BaseException:
        for b in (smarthost, lan):
            if b is not None:
                sys.stderr.write(f"---- {b.dir} log ----\n" + b.log()[-6000:] + "\n")
        raise
    finally:
        if recorder:
            recorder.close()
        for b in (lan, smarthost):
            if b is not None:
                b.stop()
                b.cleanup()


def main():
    work = tempfile.mkdtemp(prefix="boxmail-t41-")
    with Dnsmasq(work, RECORDS) as dns:
        sinks = {"far": Sink(host="127.0.0.2", port=25), "later": Sink("-r", "RCPT", host="127.0.0.5", port=25)}
        relay = Box({"smtp": {"accept_domains": "own.test"},
                     "relay": {"relay_networks": "127.0.0.1", "route": "mx", "retry_min": "1", "retry_max": "2",
                               "max_lifetime": str(LIFETIME), "delay_notice_after": "0", "connect_timeout": "2"},
                     "dns": {"servers": dns.server(), "timeout": "1", "attempts": "2"}}, name="relay")
        mx = Box({"server": {"hostname": "mx.big.test"},
                  "smtp": {"accept_domains": "big.test", "max_message_size": "1k"}}, name="mx")
        mx.write_config({"smtp": {"listen": f"127.0.0.1:{mx.port} 127.0.0.3:25"}})
        stranded = Box({"smtp": {"accept_domains": "own.test"},
                        "relay": {"relay_networks": "127.0.0.1", "route": "mx", "retry_min": "1", "retry_max": "2",
                                  "max_lifetime": str(LIFETIME), "delay_notice_after": "0", "connect_timeout": "2"},
                        "dns": {"servers": dns.server(), "timeout": "1", "attempts": "2"}}, name="stranded")
        try:
            relay.start()
            mx.start()
            stranded.start()
            # -- (5) start the clock: a recipient that is only ever deferred --
            t0 = time.monotonic()
            send(relay, "alice@own.test", ["gina@later.test"],
                 message("alice@own.test", "gina@later.test", "t41-expire"))
            relay.wait_log(r"to=<gina@later\.test> .*status=deferred", timeout=20)
            # -- (6) mail waiting, then the route switched off --
            send(stranded, "alice@own.test", ["ivan@gone.test"],
                 message("alice@own.test", "ivan@gone.test", "t41-stranded"))
            stranded.wait_log(r"to=<ivan@gone\.test> .*status=deferred .*127\.0\.0\.6", timeout=20)
            stranded.write_config({"relay": {"route": "none"}})
            reply = stranded.control("reload")
            assert reply[0].startswith("ok"), reply
            stranded.wait_log(r"to=<ivan@gone\.test> relay=none status=deferred "
                              r"\(4\.4\.1 no outgoing mail route is configured\)", timeout=20)
            # (the log line comes before the entry's update on disk)
            listing = boxtest.poll(lambda: [e for e in queue_ids(stranded)
                                            if "no outgoing mail route is configured" in urllib.parse.unquote(e)],
                                   timeout=10, what="the queue listing naming the missing route")
            assert len(listing) == 1, listing
            print("ok (6) route = none with mail waiting: deferred, the queue says why")

            # -- (4) open relay --
            refused = rcpt_refused(relay, FORMS, "127.0.0.9")
            for r, code, text in refused:
                print(f"   {r}: {code} {text}")
            relay.wait_messages("bob", 1)
            assert len(relay.messages("bob")) == 1, relay.messages("bob")
            refused = rcpt_refused(relay, LAN_FORMS, "127.0.0.1")
            relay.wait_messages("bob", 2)
            ids = queue_ids(relay)
            assert len(ids) == 1 and "later.test" in ids[0], ids
            time.sleep(1)
            assert not sinks["far"].dumps(), "something reached far.test's MX"
            subjects = sorted(re.search(rb"Subject: (\S+)", boxtest.read(p)).group(1) for p in relay.messages("bob"))
            assert subjects == [b"t41-relay-127.0.0.1", b"t41-relay-127.0.0.9"], subjects
            print("ok (4) every relay form refused at RCPT from outside and (route-like) from the LAN; "
                  "local mail accepted")

            # -- (2) SIZE --
            send(relay, "alice@own.test", ["bob@big.test"], message("alice@own.test", "bob@big.test", "t41-small"))
            got = mx.wait_messages("bob", 1)
            assert len(got) == 1 and b"t41-small" in boxtest.read(got[0]), (got, relay.log()[-2000:])
            big = message("alice@own.test", "bob@big.test", "t41-big", body=("x" * 76 + "\r\n") * 40)
            assert len(big) > 3000
            send(relay, "alice@own.test", ["bob@big.test"], big)
            per = notice_for(relay, "alice", "t41-big")
            assert per["Status"] == "5.3.4", per.items()
            assert per["Final-Recipient"].lower() == "rfc822; bob@big.test", per.items()
            relay.wait_log(r"to=<bob@big\.test> .*status=bounced.*SIZE 1024")
            time.sleep(0.5)
            assert len(mx.messages("bob")) == 1, "the large message reached the MX"
            assert not re.search(r"t41-big|MAIL FROM:<alice@own\.test> SIZE=3", mx.log()), mx.log()[-2000:]
            print("ok (2) SIZE 1024 announced: the larger message not sent, failure notice 5.3.4")

            # -- (1) the smarthost --
            smarthost_scenario(work)

            # -- (5) the lifetime runs out --
            left = LIFETIME + 40 - (time.monotonic() - t0)
            per = notice_for(relay, "alice", "t41-expire", timeout=max(left, 5))
            took = time.monotonic() - t0
            assert per["Status"] == "5.4.7", per.items()
            assert per["Diagnostic-Code"].startswith("smtp; 4"), per.items()
            assert took >= LIFETIME - 2, took
            attempts = len(re.findall(r"to=<gina@later\.test> ", relay.log()))
            boxtest.poll(lambda: not queue_ids(relay), timeout=10, what="the relay's queue empty")
            print(f"ok (5) after {took:.0f} s and {attempts} attempts: failure notice 5.4.7, queue empty")

            # -- (6) the lifetime ends without a route too --
            per = notice_for(stranded, "alice", "t41-stranded", timeout=30)
            assert per["Status"].startswith("5."), per.items()
            assert "no outgoing mail route is configured" in per["Diagnostic-Code"], per.items()
            boxtest.poll(lambda: not queue_ids(stranded), timeout=10, what="the stranded box's queue empty")
            print(f"ok (6) route = none: failure notice {per['Status']} naming the missing route, queue empty")
        except BaseException:
            for b in (relay, mx, stranded):
                sys.stderr.write(f"---- {b.dir} log ----\n" + b.log()[-6000:] + "\n")
            raise
        finally:
            for b in (relay, mx, stranded):
                b.stop()
                b.cleanup()
            for s in sinks.values():
                s.close()
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    boxtest.run(main)

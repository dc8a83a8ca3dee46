"""t-40-relay: outgoing mail through the queue, end to end.

boxmaild takes the feed (accept_domains = *) for its own domain own.test;
127.0.0.1 is its LAN (relay_networks), 127.0.0.9 stands for the ISP's feed.
dnsmasq on 127.0.0.1 serves the zone "test"; Postfix's smtp-sink listens on
127.0.0.x:25 as the remote MX hosts. Retries are shortened (retry_min 1 s).
Client sends / boxmaild does:

  (1) From the LAN: alice@own.test and bob@mx.dest.test in one message:
      alice's copy is local, bob's goes out by MX to mx1.dest.test
      (127.0.0.2, preference 10, not mx2 at 20), byte-exact, without our
      Return-Path: line, with our Received: header. From the feed client
      the same two recipients are both local (bob gets a copy here).
  (2) The first MX refuses connections (nothing on 127.0.0.4:25): the next
      one (127.0.0.3) takes it. No MX at all: the implicit MX, the
      domain's own address (127.0.0.3).
  (3) A domain that does not exist (NXDOMAIN): alice gets a failure notice
      (RFC 3464) in her Maildir: multipart/report, delivery-status with
      Reporting-MTA, Final-Recipient, Action: failed, Status: 5.1.2; the
      original headers; Auto-Submitted; the null Return-Path. A 5xx after
      DATA (smtp-sink -f DATA on 127.0.0.6): Status 5.x.x and a
      Diagnostic-Code: smtp; 5...
  (4) A 4xx at RCPT (smtp-sink -r RCPT on 127.0.0.5): deferred, a delay
      notice (Action: delayed, Will-Retry-Until) once delay_notice_after
      passed, then delivered once the server takes it (a plain sink on the
      same address), and the entry leaves the queue.
  (5) The queue on the control socket: `queue list` shows a waiting
      message with its recipient and last error; it survives a restart;
      `queue retry` after the server is back delivers it; `queue delete`
      removes another.
  (6) A bounce to an address at another domain goes out through the
      queue itself: the sink of the sender's domain gets the
      multipart/report.
  (7) A forwarding alias (fwd = friend@mx.dest.test): mail from the feed
      to fwd@own.test goes out by MX with its envelope sender kept (the
      sink's X-Mail-Args) and the original recipient in the queue.
"""
import email
import email.policy
import os
import re
import smtplib
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import boxtest  # noqa: E402
from boxtest import Box  # noqa: E402
from smtpsink import Dnsmasq, Sink  # noqa: E402

RECORDS = [
    # (1) two MX hosts
    "--mx-host=mx.dest.test,mx1.dest.test,10", "--mx-host=mx.dest.test,mx2.dest.test,20",
    "--host-record=mx1.dest.test,127.0.0.2", "--host-record=mx2.dest.test,127.0.0.3",
    # (2) the first MX refuses; no MX at all
    "--mx-host=down.test,dead.down.test,10", "--mx-host=down.test,up.down.test,20",
    "--host-record=dead.down.test,127.0.0.4", "--host-record=up.down.test,127.0.0.3",
    "--host-record=plain.test,127.0.0.3",
    # (3) 5xx after DATA; (4) 4xx at RCPT
    "--mx-host=refuse.test,mx.refuse.test,10", "--host-record=mx.refuse.test,127.0.0.6",
    "--mx-host=later.test,mx.later.test,10", "--host-record=mx.later.test,127.0.0.5",
    # (6) the sender's domain, for a bounce that goes out
    "--mx-host=senders.test,mx.senders.test,10", "--host-record=mx.senders.test,127.0.0.7",
]


def message(sender, to, subject, body="Hello.\r\n"):
    return (f"From: <{sender}>\r\nTo: <{to}>\r\nSubject: {subject}\r\nMessage-ID: <{subject}@own.test>\r\n\r\n"
            + body).encode()


def send(port, sender, rcpts, msg, source=None):
    with smtplib.SMTP("127.0.0.1", port, timeout=20, source_address=(source, 0) if source else None) as c:
        c.ehlo("client.test")
        refused = c.sendmail(sender, rcpts, msg)
        assert not refused, refused


def sink_with(sink, subject, timeout=30):
    return boxtest.poll(lambda: [d for d in sink.dumps() if subject.encode() in d], timeout=timeout,
                        what=f"{subject} at the sink")[0]


def notice_for(box, subject, action, timeout=30):
    """The notice in alice's Maildir about the message SUBJECT, parsed."""
    def find():
        for path in box.messages("alice"):
            data = boxtest.read(path)
            if b"multipart/report" in data and subject.encode() in data and f"Action: {action}".encode() in data:
                return data
        return None
    data = boxtest.poll(find, timeout=timeout, what=f"a {action} notice about {subject}")
    return data, email.message_from_bytes(data, policy=email.policy.compat32)


def check_notice(data, msg, action, status_prefix, rcpt):
    assert data.startswith(b"Return-Path: <>\n"), data[:80]
    assert msg.get_content_type() == "multipart/report", msg.get_content_type()
    assert msg.get_param("report-type") == "delivery-status"
    assert msg["Auto-Submitted"] == "auto-replied", msg["Auto-Submitted"]
    assert "<MAILER-DAEMON@mx.test.example>" in msg["From"], msg["From"]
    parts = msg.get_payload()
    assert [p.get_content_type() for p in parts] == ["text/plain", "message/delivery-status",
                                                     "text/rfc822-headers"], [p.get_content_type() for p in parts]
    blocks = parts[1].get_payload()
    assert blocks[0]["Reporting-MTA"] == "dns; mx.test.example", blocks[0]["Reporting-MTA"]
    per = blocks[1]
    assert per["Final-Recipient"].lower() == f"rfc822; {rcpt}", per["Final-Recipient"]
    assert per["Action"] == action, per["Action"]
    assert per["Status"].startswith(status_prefix), per["Status"]
    return per


def main():
    work = tempfile.mkdtemp(prefix="boxmail-t40-")
    with Dnsmasq(work, RECORDS) as dns:
        sinks = {
            "mx1": Sink(host="127.0.0.2", port=25),
            "mx2": Sink(host="127.0.0.3", port=25),
            "refuse": Sink("-f", "DATA", host="127.0.0.6", port=25),
            "later": Sink("-r", "RCPT", host="127.0.0.5", port=25),
            "senders": Sink(host="127.0.0.7", port=25),
        }
        box = Box({"smtp": {"accept_domains": "*"},
                   "relay": {"relay_networks": "127.0.0.1", "local_domains": "own.test", "route": "mx",
                             "retry_min": "1", "retry_max": "2", "delay_notice_after": "2",
                             "connect_timeout": "2"},
                   "dns": {"servers": dns.server(), "timeout": "1", "attempts": "2"},
                   "aliases": {"fwd": "friend@mx.dest.test"}})
        try:
            box.start()
            # -- (1) local and remote in one message; the feed keeps both local --
            m1 = message("alice@own.test", "bob@mx.dest.test", "t40-one")
            send(box.port, "alice@own.test", ["alice@own.test", "bob@mx.dest.test"], m1)
            got = sink_with(sinks["mx1"], "t40-one")
            assert b"Return-Path:" not in got, got[:200]
            assert b"Received: from client.test" in got, got[:300]
            assert m1.replace(b"\r\n", b"\n") in got, got
            assert not [d for d in sinks["mx2"].dumps() if b"t40-one" in d], "preference 20 was used"
            box.wait_messages("alice", 1)
            assert not box.messages("bob"), "the LAN's remote recipient was delivered locally"
            box.wait_log(r"to=<bob@mx\.dest\.test> relay=mx1\.dest\.test\[127\.0\.0\.2:25\].* status=sent")
            m1b = message("x@isp.test", "bob@mx.dest.test", "t40-feed")
            send(box.port, "x@isp.test", ["alice@own.test", "bob@mx.dest.test"], m1b, source="127.0.0.9")
            box.wait_messages("bob", 1)
            box.wait_messages("alice", 2)
            print("ok (1) LAN: local + MX by preference; feed: both local")

            # -- (2) first MX refuses; implicit MX --
            send(box.port, "alice@own.test", ["carol@down.test"], message("alice@own.test", "carol@down.test", "t40-down"))
            sink_with(sinks["mx2"], "t40-down")
            send(box.port, "alice@own.test", ["dave@plain.test"], message("alice@own.test", "dave@plain.test", "t40-plain"))
            sink_with(sinks["mx2"], "t40-plain")
            print("ok (2) the next MX after a refused one; the implicit MX")

            # -- (3) failure notices --
            send(box.port, "alice@own.test", ["eve@nosuch.test"], message("alice@own.test", "eve@nosuch.test", "t40-nx"))
            data, msg = notice_for(box, "t40-nx", "failed")
            check_notice(data, msg, "failed", "5.1.2", "eve@nosuch.test")
            assert b"Subject: t40-nx" in data
            send(box.port, "alice@own.test", ["frank@refuse.test"], message("alice@own.test", "frank@refuse.test", "t40-5xx"))
            data, msg = notice_for(box, "t40-5xx", "failed")
            per = check_notice(data, msg, "failed", "5.", "frank@refuse.test")
            assert per["Diagnostic-Code"].startswith("smtp; 5"), per["Diagnostic-Code"]
            assert "mx.refuse.test" in per["Remote-MTA"], per["Remote-MTA"]
            print("ok (3) failure notices: NXDOMAIN 5.1.2, 5xx after DATA with its Diagnostic-Code")

            # -- (4) deferred, a delay notice, then delivered --
            send(box.port, "alice@own.test", ["gina@later.test"], message("alice@own.test", "gina@later.test", "t40-later"))
            box.wait_log(r"to=<gina@later\.test> .*status=deferred")
            data, msg = notice_for(box, "t40-later", "delayed")
            per = check_notice(data, msg, "delayed", "4.", "gina@later.test")
            assert per["Will-Retry-Until"], per.items()
            # -- (5) the queue on the control socket; a restart keeps it --
            listing = box.control("queue list")
            assert listing[0] == "ok 1 message", listing
            assert "gina%40later.test" in listing[1] or "gina@later.test" in listing[1], listing
            box.stop()
            sinks["later"].close()
            box.start()
            listing = box.control("queue list")
            assert listing[0] == "ok 1 message", listing
            sinks["later"] = Sink(host="127.0.0.5", port=25)
            qid = listing[1].split()[0]
            assert box.control(f"queue retry {qid}")[0].startswith("ok"), "queue retry"
            sink_with(sinks["later"], "t40-later")
            boxtest.poll(lambda: box.control("queue list")[0] == "ok 0 messages", timeout=20,
                         what="the queue empty")
            print("ok (4)(5) deferred, delay notice, kept over a restart, retried on request, delivered")

            # -- (6) a bounce to another domain goes out through the queue --
            send(box.port, "someone@senders.test", ["henry@nosuch.test"],
                 message("someone@senders.test", "henry@nosuch.test", "t40-outbounce"))
            got = sink_with(sinks["senders"], "t40-outbounce")
            assert b"multipart/report" in got and b"Action: failed" in got, got[:400]
            print("ok (6) a bounce for a remote sender goes out by MX")

            # -- (7) a forwarding alias --
            send(box.port, "news@isp.test", ["fwd@own.test"], message("news@isp.test", "fwd@own.test", "t40-fwd"),
                 source="127.0.0.9")
            got = sink_with(sinks["mx1"], "t40-fwd")
            assert re.search(rb"(?m)^X-Mail-Args: <news@isp\.test>", got), got[:400]
            box.wait_log(r"to=<friend@mx\.dest\.test> relay=mx1\.dest\.test.* status=sent")
            print("ok (7) a forwarding alias goes out with the envelope sender kept")
        finally:
            box.stop()
            for s in sinks.values():
                s.close()
            box.cleanup()


if __name__ == "__main__":
    boxtest.run(main)

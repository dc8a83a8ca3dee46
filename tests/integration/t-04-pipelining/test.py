"""t-04-pipelining: RFC 2920 command pipelining.

1. One write: MAIL, RCPT alice, RCPT nobody1, RCPT bob, RCPT nobody2, DATA.
   Replies in order: 250 2.1.0, 250 2.1.5, 550 5.1.1, 250 2.1.5, 550 5.1.1, 354.
   Then one write: message + CRLF.CRLF + QUIT -> 250 2.0.0, 221 2.0.0, closed.
   One file, linked into alice's and bob's Maildirs.
2. One write holding three whole transactions (MAIL, RCPT, DATA, message,
   CRLF.CRLF, three times) and QUIT: replies 250, 250, 354, 250 (x3), 221,
   and three messages delivered, in order, each byte-exact.
3. 200 NOOPs and QUIT in one write get 200 x 250 2.0.0 and 221, in order.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from boxtest import Box, Dialogue, read, run, split_stored, to_crlf_dotstuffed  # noqa: E402


def mixed_recipients(box):
    d = Dialogue(box.port)
    d.hello()
    d.send(b"MAIL FROM:<sender@client.example>\r\n"
           b"RCPT TO:<alice@feed.example>\r\n"
           b"RCPT TO:<nobody1@feed.example>\r\n"
           b"RCPT TO:<bob@feed.example>\r\n"
           b"RCPT TO:<nobody2@feed.example>\r\n"
           b"DATA\r\n", raw=True)
    d.expect(250, "2.1.0")
    d.expect(250, "2.1.5")
    d.expect(550, "5.1.1")
    d.expect(250, "2.1.5")
    d.expect(550, "5.1.1")
    d.expect(354)
    body = b"Subject: pipelined\n\nOne message, two of four recipients.\n.dot line\n"
    d.send(to_crlf_dotstuffed(body) + b"QUIT\r\n", raw=True)
    d.expect(250, "2.0.0")
    d.expect(221, "2.0.0")
    assert d.closed()
    assert d.buf == b"", d.buf
    d.close()
    (a,) = box.messages("alice")
    (b,) = box.messages("bob")
    assert os.stat(a).st_ino == os.stat(b).st_ino
    assert split_stored(read(a))[1] == body
    assert set(box.delivered()) == {"alice", "bob"}, box.delivered()


def three_transactions(box):
    bodies = [f"Subject: batch {i}\n\nTransaction {i} of a pipelined batch.\n".encode()
              for i in range(3)]
    batch = b""
    for i, body in enumerate(bodies):
        batch += (f"MAIL FROM:<batch{i}@client.example>\r\n"
                  f"RCPT TO:<bob@feed.example>\r\n"
                  f"DATA\r\n").encode() + to_crlf_dotstuffed(body)
    before = len(box.messages("bob"))
    d = Dialogue(box.port)
    d.hello()
    d.send(batch + b"QUIT\r\n", raw=True)
    qids = []
    for i in range(3):
        d.expect(250, "2.1.0")
        d.expect(250, "2.1.5")
        d.expect(354)
        qids.append(d.expect(250, "2.0.0")[-1])
    d.expect(221, "2.0.0")
    assert d.closed()
    d.close()
    assert len(set(qids)) == 3, qids
    msgs = box.messages("bob")
    assert len(msgs) == before + 3, msgs
    got = sorted(split_stored(read(p))[1] for p in msgs)
    for i, body in enumerate(bodies):
        assert got.count(body) == 1, (i, got)
        p = [p for p in msgs if read(p).endswith(body)][0]
        assert read(p).startswith(f"Return-Path: <batch{i}@client.example>\n".encode())


def noop_flood(box):
    n = 200
    d = Dialogue(box.port)
    d.hello()
    d.send(b"NOOP\r\n" * n + b"QUIT\r\n", raw=True)
    for _ in range(n):
        d.expect(250, "2.0.0")
    d.expect(221, "2.0.0")
    assert d.closed()
    d.close()


def main():
    with Box(config={"smtp": {"accept_domains": "*"}}) as box:
        box.start()
        mixed_recipients(box)
        three_transactions(box)
        noop_flood(box)


run(main)

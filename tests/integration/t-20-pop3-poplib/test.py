"""t-20-pop3-poplib: Python's poplib against a real boxmaild.

Mail goes in over SMTP (the feed), comes out over POP3. Checks: STAT/LIST
sizes equal W= of the Maildir names and the octets RETR sends; RETR gives
the stored file byte for byte (poplib joins lines with LF); dot-stuffed
lines survive; TOP n gives the headers, the empty line and n body lines;
UIDL is the Maildir base name and stable across a restart and the new/ ->
cur/ move; DELE+QUIT removes, DELE+RSET keeps, a dropped connection keeps;
a retrieved message ends up in cur/ as NAME:2,S, the others as NAME:2,; a
message delivered during a session shows at the next login; login as
name@domain works.
"""
import os
import poplib
import re
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import boxtest  # noqa: E402

MESSAGES = [
    b"From: a@example.org\nTo: alice@example.com\nSubject: one\n\nline 1\nline 2\n",
    b"From: b@example.org\nSubject: dots\n\n.\n..\n.leading dot\nend.\n",
    b"From: c@example.org\nSubject: long\n\n" + b"".join(b"body line %d\n" % i for i in range(2000)),
]


def stored_files(box, user):
    d = box.delivered().get(user, [])
    return sorted(d)


def pop(box, user="alice", password="pw-alice"):
    p = poplib.POP3("127.0.0.1", box.pop3_port, timeout=20)
    p.user(user)
    p.pass_(password)
    return p


def retr_bytes(p, n):
    resp, lines, octets = p.retr(n)
    return b"\n".join(lines) + b"\n", octets


def main():
    with boxtest.Box(config={"pop3": {"login_delay": "0"}}) as box:
        box.start()
        for m in MESSAGES:
            box.deliver("alice@example.com", m)
        files = sorted(box.messages("alice"), key=lambda f: os.path.basename(f))
        assert len(files) == 3, files
        by_content = {boxtest.read(f): f for f in files}

        # -- sizes, RETR byte-exact, TOP, UIDL ------------------------------
        p = pop(box)
        count, total = p.stat()
        assert count == 3, count
        sizes = {}
        for f in files:
            s, w = boxtest.maildir_sizes(f)
            sizes[os.path.basename(f)] = w
        assert total == sum(sizes.values()), (total, sizes)
        resp, listing, _ = p.list()
        uidl = dict(l.decode().split() for l in p.uidl()[1])
        for line in listing:
            num, size = line.decode().split()
            stored, octets = retr_bytes(p, int(num))
            assert stored in by_content, f"RETR {num} does not match any stored file: {stored[:200]!r}"
            name = os.path.basename(by_content[stored])
            assert int(size) == sizes[name], (num, size, sizes[name])
            # poplib counts the octets of each line + CRLF, byte-stuffing removed
            assert octets == int(size) == len(stored) + stored.count(b"\n"), (octets, size)
            assert uidl[num] == name.split(":")[0], (uidl[num], name)
            _, body = boxtest.split_stored(stored)
            assert body in MESSAGES
        # TOP 2 1 on the dots message: headers, empty line, 1 body line
        dots = [n for n in range(1, 4) if b"Subject: dots" in retr_bytes(p, n)[0]][0]
        resp, top_lines, _ = p.top(dots, 1)
        text = b"\n".join(top_lines) + b"\n"
        assert text.endswith(b"Subject: dots\n\n.\n"), text
        resp, top0, _ = p.top(dots, 0)
        assert (b"\n".join(top0) + b"\n").endswith(b"Subject: dots\n\n"), top0
        p.quit()
        cur = sorted(os.listdir(os.path.join(box.maildir("alice"), "cur")))
        assert len(cur) == 3 and all(n.endswith(":2,S") for n in cur), cur
        assert box.messages("alice") == [], "new/ not emptied"

        # -- UIDL stable across restart and the move ------------------------
        assert box.stop() == 0
        box.start()
        p = pop(box, "Alice@Some.Example", "pw-alice")   # name@domain login
        uidl2 = dict(l.decode().split() for l in p.uidl()[1])
        assert uidl2 == uidl, (uidl, uidl2)

        # -- DELE + RSET keeps; a dropped connection keeps -------------------
        p.dele(1)
        p.rset()
        assert p.stat()[0] == 3
        p.quit()
        assert len(box.delivered()["alice"]) == 3
        p = pop(box)
        p.dele(1)
        p.dele(2)
        p.sock.shutdown(socket.SHUT_RDWR)   # drop without QUIT
        p.close()
        p = boxtest.poll(lambda: _try_login(box), what="the dropped session to release the mailbox")
        assert p.stat()[0] == 3, "a dropped connection deleted mail"

        # -- a message delivered during a session shows at the next login ---
        box.deliver("alice@example.com", b"Subject: late\n\nlate\n")
        assert p.stat()[0] == 3, "the snapshot changed during the session"
        p.quit()
        p = pop(box)
        assert p.stat()[0] == 4

        # -- DELE + QUIT removes ------------------------------------------------
        p.dele(1)
        p.dele(4)
        assert p.quit().startswith(b"+OK Logging out (2 messages left)")
        assert len(box.delivered()["alice"]) == 2
        p = pop(box)
        assert p.stat()[0] == 2
        p.quit()
        cur = sorted(os.listdir(os.path.join(box.maildir("alice"), "cur")))
        assert len(cur) == 2 and all(re.search(r":2,S?$", n) for n in cur), cur

        # -- bob's mailbox is empty and separate --------------------------------
        p = pop(box, "bob", "pw-bob")
        assert p.stat() == (0, 0)
        assert p.list()[1] == []
        p.quit()

        log = box.log()
        assert "pop3: client=127.0.0.1 user=alice login" in log, log[-2000:]
        assert box.stop() == 0


def _try_login(box):
    try:
        return pop(box)
    except poplib.error_proto as e:
        if b"IN-USE" in str(e).encode():
            return None
        raise


if __name__ == "__main__":
    boxtest.run(main)

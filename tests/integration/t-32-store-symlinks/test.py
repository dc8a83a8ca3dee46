"""t-32-store-symlinks: no symbolic link in the mail store is followed
(issue 8).

Whoever owns the store (the boxmail user: a compromised boxmaild, or
anyone who becomes that user) must not make boxmaild read, write or remove a
file outside the store by replacing a part of a Maildir with a symbolic
link. A private directory OUTSIDE the store (mode 0700) holds a
message-named file with "TOP SECRET" (mode 0600). It belongs to the mail
user, so that only the refusal to follow links stands between boxmaild and
it, not file permissions (boxmaild no longer runs as root, and with the
directory root's, the test could not fail); the store's parts the test makes
while boxmaild runs are the mail user's too, as the attacker's would be.

  (1) bob's new/ is a symbolic link to it: POP3 login as bob gets
      -ERR [SYS/TEMP] (the connection ends); an error line names bob's new/
      and says it is a symbolic link; the secret is never sent; the file is
      still there afterwards;
  (2) SMTP to bob with new/ a symbolic link: 451 4.3.0 and an error line
      naming the path; nothing is written in the outside directory; alice
      (a separate message) is still delivered;
  (3) bob's Maildir itself is a symbolic link to an outside Maildir-shaped
      directory: the same for POP3 and SMTP;
  (4) a message file in cur/ is a symbolic link to the outside file: it is
      listed (its name says its size), RETR refuses it with -ERR, DELE +
      QUIT removes the link only, never its target.
On the old code (1)-(3) fail: the links were followed (the secret was
listed and sent, deleted by DELE + QUIT, mail was written outside).
"""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import boxtest  # noqa: E402

SECRET_NAME = "1700000000.M1P1.x,S=10,W=11"
SECRET = b"TOP SECRET"


def tree(top):
    """Every path under TOP with its content (files) or None (dirs, links)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for d in dirnames:
            out[os.path.join(dirpath, d)] = None
        for f in filenames:
            p = os.path.join(dirpath, f)
            out[p] = boxtest.read(p) if not os.path.islink(p) else None
    return out


def make_outside(maildir_shaped):
    """A private directory outside the store with the secret, the mail
    user's (see the file comment); returns (directory, path of the secret)."""
    top = tempfile.mkdtemp(prefix="boxmail-outside-")
    os.chmod(top, 0o700)
    where = top
    if maildir_shaped:
        for sub in ("new", "cur", "tmp"):
            os.mkdir(os.path.join(top, sub), 0o700)
        where = os.path.join(top, "new")
    secret = os.path.join(where, SECRET_NAME)
    with open(secret, "wb") as f:
        f.write(SECRET)
    os.chmod(secret, 0o600)
    boxtest.hand_over(top)
    return top, secret


def pop3_as_bob_fails(box, start, pattern):
    """Logs in as bob: -ERR [SYS/TEMP]; should a listing appear anyway,
    RETR never returns the secret; DELE + QUIT are tried (the old code)."""
    p = box.pop3_dialogue()
    p.expect("+OK")
    p.send("USER bob")
    p.expect("+OK")
    p.send("PASS pw-bob")
    got = p.line()
    if got.startswith("+OK"):
        p.send("RETR 1")
        r = p.line()
        try:
            body = p.multiline() if r.startswith("+OK") else b""
        except EOFError:   # sent, but short of the final "."
            body = p.buf
        assert SECRET not in body, "the secret was sent through a symbolic link"
        p.send("DELE 1")
        p.line()
        p.send("QUIT")
        p.line()
        p.close()
        raise AssertionError(f"POP3 login through a symbolic link gave {got!r} (RETR: {r!r})")
    assert got == "-ERR [SYS/TEMP] Cannot open the mailbox", got
    p.close()
    box.wait_log(r"error: pop3: cannot list \S+/bob: " + pattern + r": .*\(a symbolic link: not followed\)",
                 start=start)


def smtp_to_bob_fails(box, start, pattern):
    d = box.dialogue()
    d.hello()
    code, lines = d.transaction("sender@example.org", ["bob@example.com"],
                                boxtest.to_crlf_dotstuffed(b"Subject: to bob\n\nhello bob\n"))
    d.close()
    assert (code, lines[-1]) == (451, "4.3.0 Error: local error in processing"), (code, lines)
    box.wait_log(r"error: \w+: cannot store the message for mailbox\(es\) bob: " + pattern +
                 r" \(a symbolic link: not followed\): Too many levels of symbolic links \(errno 40\)", start=start)


def link_refused(box, pattern, top, secret, before, alice_count):
    """With a link at PATTERN (bob's new/ or Maildir) to TOP: POP3 and SMTP
    for bob fail, the secret is intact, nothing is written in TOP, and a
    message to alice is still delivered (her ALICE_COUNT-th)."""
    pop3_as_bob_fails(box, len(box.log()), pattern)
    assert boxtest.read(secret) == SECRET
    smtp_to_bob_fails(box, len(box.log()), pattern)
    box.deliver("alice@example.com", f"Subject: to alice {alice_count}\n\nhello alice\n".encode())
    assert len(box.wait_messages("alice", alice_count)) == alice_count
    assert tree(top) == before, "something was written in the outside directory"


def main():
    with boxtest.Box(users=("alice", "bob")) as box:
        box.start()
        bob = box.maildir("bob")
        outsides = []
        try:
            # (1) + (2): bob's new/ is a link to the root-only directory
            top, secret = make_outside(False)
            outsides.append(top)
            before = tree(top)
            os.rmdir(os.path.join(bob, "new"))
            os.symlink(top, os.path.join(bob, "new"))
            boxtest.hand_over(os.path.join(bob, "new"))
            link_refused(box, r"\S+/bob/new", top, secret, before, 1)

            # (3): bob's Maildir itself is a link to an outside Maildir
            os.unlink(os.path.join(bob, "new"))
            shutil.rmtree(bob)
            top3, secret3 = make_outside(True)
            outsides.append(top3)
            before3 = tree(top3)
            os.symlink(top3, bob)
            boxtest.hand_over(bob)
            link_refused(box, r"\S+/bob", top3, secret3, before3, 2)

            # (4): a message file in cur/ is a link to the outside file
            os.unlink(bob)
            for sub in ("new", "cur", "tmp"):
                os.makedirs(os.path.join(bob, sub), 0o700)
            link = os.path.join(bob, "cur", SECRET_NAME + ":2,")
            os.symlink(secret, link)
            boxtest.hand_over(bob)
            start = len(box.log())
            p = box.pop3_dialogue()
            p.login("bob", "pw-bob")
            p.send("STAT")
            p.expect("+OK 1 11", exact=True)
            p.send("RETR 1")
            p.expect("-ERR [SYS/TEMP] Message 1 is no longer available", exact=True)
            p.send("TOP 1 0")
            p.expect("-ERR")
            box.wait_log(r"pop3: cannot open \S+/bob/cur/" + SECRET_NAME.replace(".", r"\.") +
                         r":2,: .*\(a symbolic link: not followed\)", start=start)
            p.send("DELE 1")
            p.expect("+OK")
            p.send("QUIT")
            p.expect("+OK")
            p.close()
            boxtest.poll(lambda: not os.path.lexists(link), what="the link removed")
            assert boxtest.read(secret) == SECRET, "the target of a linked message file was touched"
            assert tree(top) == before
        finally:
            for t in outsides:
                shutil.rmtree(t, ignore_errors=True)


if __name__ == "__main__":
    boxtest.run(main)
